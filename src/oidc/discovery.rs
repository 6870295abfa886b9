//! Fetching a provider's documents: the discovery document (parsed into openidconnect's
//! `CoreProviderMetadata`) and the JWKS (fetched by openidconnect's `CoreJsonWebKeySet`).
//!
//! Discovery does not call `CoreProviderMetadata::discover_async`: it cannot take a discovery
//! URL override, reports an issuer mismatch only as a formatted string, and fetches the JWKS in
//! the same call, so a JWKS failure would be indistinguishable from a discovery failure and none
//! of them would map to a precise condition reason. The document is fetched here and validated
//! with openidconnect's types instead.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use openidconnect::http::{Method, StatusCode};
use openidconnect::{AsyncHttpClient, DiscoveryError, HttpResponse, JsonWebKeySetUrl};
use url::Url;

use super::error::{CheckError, Endpoint};
use super::kinds::TENANT_PLACEHOLDER;
use super::policy::AddressPolicy;
use super::request::CheckRequest;
use super::stats::Counters;
use super::transport::HttpClient;
use super::urls::{parse_http_url, well_known_url};

/// What one fetch brings back: the parsed discovery document and key set, shared (through the
/// cache) by every request for the same provider.
#[derive(Debug)]
pub(crate) struct ProviderDocs {
    pub(crate) discovery_url: Url,
    pub(crate) metadata: CoreProviderMetadata,
    pub(crate) jwks_url: String,
    pub(crate) jwks: CoreJsonWebKeySet,
    /// Fields openidconnect's metadata type does not keep.
    pub(crate) extra: DiscoveryExtras,
    /// Bytes fetched (both bodies), what the cache weighs the documents by.
    pub(crate) bytes: usize,
}

/// Discovery fields the checks use that `CoreProviderMetadata` does not hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DiscoveryExtras {
    /// `introspection_endpoint` (RFC 8414 / RFC 7662).
    pub(crate) introspection_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 8414 / RFC 7009).
    pub(crate) revocation_endpoint: Option<String>,
    /// `code_challenge_methods_supported`, when listed.
    pub(crate) code_challenge_methods: Option<Vec<String>>,
}

/// Fetches the discovery document and the JWKS.
pub(crate) async fn fetch_provider(
    req: &CheckRequest,
    counters: &Counters,
    policy: &Arc<AddressPolicy>,
) -> Result<ProviderDocs, CheckError> {
    // Validate the issuer even when the discovery URL is overridden: it is what gets compared.
    well_known_url(&req.issuer)?;
    let discovery_url = req.effective_discovery_url()?;
    let client = HttpClient::new(
        &req.trust,
        &req.timeouts,
        counters.http_requests.clone(),
        policy.clone(),
    )?;

    let request = openidconnect::http::Request::builder()
        .method(Method::GET)
        .uri(discovery_url.as_str())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(Vec::new())
        .map_err(|e| CheckError::InvalidUrl {
            what: "discovery URL",
            url: discovery_url.to_string(),
            problem: e.to_string(),
        })?;
    counters.discovery_fetches.fetch_add(1, Ordering::Relaxed);
    let response = client.call(request).await.map_err(|e| {
        CheckError::transport(
            Endpoint::Discovery,
            discovery_url.as_str(),
            e,
            req.timeouts.request,
        )
    })?;
    let (metadata, extra) = parse_discovery(
        &discovery_url,
        &req.issuer,
        req.tenant.as_deref(),
        &response,
    )?;
    // Before the key set is fetched from it: the document itself may be the downgrade.
    if !req.allow_insecure_http {
        refuse_plain_http(&discovery_url, &metadata, &extra)?;
    }

    let jwks_url = match &req.jwks_url {
        Some(url) => parse_http_url("JWKS URL", url)?.to_string(),
        None => metadata.jwks_uri().to_string(),
    };
    let jwks_set_url =
        JsonWebKeySetUrl::new(jwks_url.clone()).map_err(|e| CheckError::InvalidUrl {
            what: "JWKS URL",
            url: jwks_url.clone(),
            problem: e.to_string(),
        })?;
    counters.jwks_fetches.fetch_add(1, Ordering::Relaxed);
    let jwks = CoreJsonWebKeySet::fetch_async(&jwks_set_url, &client)
        .await
        .map_err(|e| jwks_error(&jwks_url, e, req))?;

    let bytes = response.body().len() + serde_json::to_vec(&jwks).map_or(0, |b| b.len());
    Ok(ProviderDocs {
        discovery_url,
        metadata,
        jwks_url,
        jwks,
        extra,
        bytes,
    })
}

/// Checks status, JSON, issuer and shape of a discovery response, in that order: an issuer
/// mismatch is reported even if the document also lacks fields, because it usually means the
/// URL points at another provider (or realm) and that is the thing to fix first.
///
/// A multi-tenant Entra ID document names the templated issuer
/// `https://login.microsoftonline.com/{tenantid}/v2.0`, which no configured issuer equals; with
/// `tenant` set, the template with `{tenantid}` replaced by it must equal the configured issuer
/// (`.../organizations/v2.0` with tenant `organizations`), which is how such an issuer is accepted.
pub(crate) fn parse_discovery(
    url: &Url,
    expected_issuer: &str,
    tenant: Option<&str>,
    response: &HttpResponse,
) -> Result<(CoreProviderMetadata, DiscoveryExtras), CheckError> {
    let url_text = url.to_string();
    if response.status() != StatusCode::OK {
        return Err(CheckError::HttpStatus {
            endpoint: Endpoint::Discovery,
            url: url_text,
            status: response.status().as_u16(),
        });
    }
    let invalid = |problem: String| CheckError::InvalidDiscoveryDocument {
        url: url_text.clone(),
        problem,
    };
    let value: serde_json::Value = serde_json::from_slice(response.body()).map_err(|e| {
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        invalid(format!(
            "the body is not JSON (Content-Type {content_type:?}; {e})"
        ))
    })?;
    let Some(object) = value.as_object() else {
        return Err(invalid("the body is JSON but not an object".into()));
    };
    match object.get("issuer") {
        Some(serde_json::Value::String(found))
            if !issuer_matches(found, expected_issuer, tenant) =>
        {
            return Err(CheckError::IssuerMismatch {
                url: url_text,
                expected: expected_issuer.to_owned(),
                found: found.clone(),
            });
        }
        Some(serde_json::Value::String(_)) => {}
        Some(_) => return Err(invalid("`issuer` is not a string".into())),
        None => return Err(invalid("missing field `issuer`".into())),
    }
    let text = |name: &str| object.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let extra = DiscoveryExtras {
        introspection_endpoint: text("introspection_endpoint"),
        revocation_endpoint: text("revocation_endpoint"),
        code_challenge_methods: object
            .get("code_challenge_methods_supported")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect()
            }),
    };
    let mut value = value;
    // openidconnect parses the issuer as a URL, which the braces of a template are not.
    if let Some(issuer) = value.get_mut("issuer")
        && issuer
            .as_str()
            .is_some_and(|i| i.contains(TENANT_PLACEHOLDER))
    {
        *issuer = serde_json::Value::String(expected_issuer.to_owned());
    }
    let metadata = serde_path_to_error::deserialize::<_, CoreProviderMetadata>(value)
        .map_err(|e| invalid(at_path(&e)))?;
    Ok((metadata, extra))
}

/// The document's issuer is the configured one, exactly, or a multi-tenant template that becomes
/// it with the configured tenant.
fn issuer_matches(found: &str, expected: &str, tenant: Option<&str>) -> bool {
    found == expected
        || tenant.is_some_and(|t| {
            found.contains(TENANT_PLACEHOLDER) && found.replace(TENANT_PLACEHOLDER, t) == expected
        })
}

/// A serde error with the path of the offending field, when it is not the document root.
pub(crate) fn at_path(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    if path == "." {
        e.inner().to_string()
    } else {
        format!("field `{path}`: {}", e.inner())
    }
}

fn jwks_error(
    url: &str,
    err: DiscoveryError<super::transport::HttpError>,
    req: &CheckRequest,
) -> CheckError {
    match err {
        DiscoveryError::Request(e) => {
            CheckError::transport(Endpoint::Jwks, url, e, req.timeouts.request)
        }
        DiscoveryError::Response(status, _, _) if status != StatusCode::OK => {
            CheckError::HttpStatus {
                endpoint: Endpoint::Jwks,
                url: url.to_owned(),
                status: status.as_u16(),
            }
        }
        // A 200 with an unexpected Content-Type; the message is openidconnect's and names it.
        DiscoveryError::Response(_, _, message) => CheckError::InvalidJwks {
            url: url.to_owned(),
            problem: message,
        },
        DiscoveryError::Parse(e) => CheckError::InvalidJwks {
            url: url.to_owned(),
            problem: at_path(&e),
        },
        other => CheckError::InvalidJwks {
            url: url.to_owned(),
            problem: other.to_string(),
        },
    }
}

/// The endpoints the server or the checks send secrets, codes or tokens to, or take keys from,
/// must be https when the settings do not allow plain http. Called on the discovery document
/// before anything else is fetched from it.
pub(crate) fn refuse_plain_http(
    discovery_url: &url::Url,
    meta: &openidconnect::core::CoreProviderMetadata,
    extra: &DiscoveryExtras,
) -> Result<(), CheckError> {
    let fields: [(&'static str, Option<String>); 6] = [
        ("jwks_uri", Some(meta.jwks_uri().to_string())),
        (
            "token_endpoint",
            meta.token_endpoint().map(ToString::to_string),
        ),
        (
            "authorization_endpoint",
            Some(meta.authorization_endpoint().to_string()),
        ),
        (
            "userinfo_endpoint",
            meta.userinfo_endpoint().map(ToString::to_string),
        ),
        (
            "introspection_endpoint",
            extra.introspection_endpoint.clone(),
        ),
        ("revocation_endpoint", extra.revocation_endpoint.clone()),
    ];
    for (field, url) in fields {
        if let Some(url) = url
            && !url.starts_with("https://")
        {
            return Err(CheckError::InsecureEndpoint {
                discovery_url: discovery_url.to_string(),
                field,
                url: crate::urls::redacted(&url),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::testutil::{doc, response, url};

    #[test]
    fn matching_document_parses() {
        let (meta, extra) = parse_discovery(
            &url(),
            "https://idp",
            None,
            &response(200, &doc("https://idp").to_string()),
        )
        .unwrap();
        assert_eq!(meta.issuer().as_str(), "https://idp");
        assert_eq!(extra, DiscoveryExtras::default());
    }

    #[test]
    fn issuer_compared_exactly() {
        let err = parse_discovery(
            &url(),
            "https://idp",
            None,
            &response(200, &doc("https://idp/").to_string()),
        )
        .unwrap_err();
        assert_eq!(err.reason(), "IssuerMismatch");
    }

    #[test]
    fn a_templated_multi_tenant_issuer_is_accepted_only_with_its_tenant() {
        let entra = "https://login.microsoftonline.com";
        let mut d = doc(&format!("{entra}/{{tenantid}}/v2.0"));
        d["introspection_endpoint"] = "https://idp/introspect".into();
        d["code_challenge_methods_supported"] = serde_json::json!(["S256"]);
        let body = response(200, &d.to_string());
        let configured = format!("{entra}/organizations/v2.0");
        let (meta, extra) =
            parse_discovery(&url(), &configured, Some("organizations"), &body).unwrap();
        assert_eq!(meta.issuer().as_str(), configured);
        assert_eq!(
            extra.introspection_endpoint.as_deref(),
            Some("https://idp/introspect")
        );
        assert_eq!(extra.code_challenge_methods, Some(vec!["S256".to_string()]));
        for tenant in [None, Some("common")] {
            let err = parse_discovery(&url(), &configured, tenant, &body).unwrap_err();
            assert_eq!(err.reason(), "IssuerMismatch");
            assert!(err.to_string().contains("spec.provider.tenant"), "{err}");
        }
    }

    #[test]
    fn issuer_mismatch_wins_over_missing_fields() {
        let body = serde_json::json!({"issuer": "https://elsewhere"}).to_string();
        let err = parse_discovery(&url(), "https://idp", None, &response(200, &body)).unwrap_err();
        assert_eq!(err.reason(), "IssuerMismatch");
    }

    #[test]
    fn missing_field_is_named() {
        let mut d = doc("https://idp");
        d.as_object_mut().unwrap().remove("jwks_uri");
        let err = parse_discovery(&url(), "https://idp", None, &response(200, &d.to_string()))
            .unwrap_err();
        assert_eq!(err.reason(), "InvalidDiscoveryDocument");
        assert!(err.to_string().contains("jwks_uri"), "{err}");
    }

    #[test]
    fn html_body_is_invalid_document() {
        let resp = openidconnect::http::Response::builder()
            .status(200)
            .header(CONTENT_TYPE, "text/html")
            .body(b"<html>login</html>".to_vec())
            .unwrap();
        let err = parse_discovery(&url(), "https://idp", None, &resp).unwrap_err();
        assert_eq!(err.reason(), "InvalidDiscoveryDocument");
        assert!(err.to_string().contains("text/html"), "{err}");
    }

    #[test]
    fn non_200_is_http_status() {
        let err = parse_discovery(&url(), "https://idp", None, &response(404, "{}")).unwrap_err();
        assert_eq!(err.reason(), "HttpStatus");
        assert!(err.to_string().contains("404"));
    }
}
