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
    /// Bytes fetched (both bodies), what the cache weighs the documents by.
    pub(crate) bytes: usize,
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
    let metadata = parse_discovery(&discovery_url, &req.issuer, &response)?;

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
        bytes,
    })
}

/// Checks status, JSON, issuer and shape of a discovery response, in that order: an issuer
/// mismatch is reported even if the document also lacks fields, because it usually means the
/// URL points at another provider (or realm) and that is the thing to fix first.
pub(crate) fn parse_discovery(
    url: &Url,
    expected_issuer: &str,
    response: &HttpResponse,
) -> Result<CoreProviderMetadata, CheckError> {
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
        Some(serde_json::Value::String(found)) if found != expected_issuer => {
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
    serde_path_to_error::deserialize::<_, CoreProviderMetadata>(value)
        .map_err(|e| invalid(at_path(&e)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::testutil::{doc, response, url};

    #[test]
    fn matching_document_parses() {
        let meta = parse_discovery(
            &url(),
            "https://idp",
            &response(200, &doc("https://idp").to_string()),
        )
        .unwrap();
        assert_eq!(meta.issuer().as_str(), "https://idp");
    }

    #[test]
    fn issuer_compared_exactly() {
        let err = parse_discovery(
            &url(),
            "https://idp",
            &response(200, &doc("https://idp/").to_string()),
        )
        .unwrap_err();
        assert_eq!(err.reason(), "IssuerMismatch");
    }

    #[test]
    fn issuer_mismatch_wins_over_missing_fields() {
        let body = serde_json::json!({"issuer": "https://elsewhere"}).to_string();
        let err = parse_discovery(&url(), "https://idp", &response(200, &body)).unwrap_err();
        assert_eq!(err.reason(), "IssuerMismatch");
    }

    #[test]
    fn missing_field_is_named() {
        let mut d = doc("https://idp");
        d.as_object_mut().unwrap().remove("jwks_uri");
        let err =
            parse_discovery(&url(), "https://idp", &response(200, &d.to_string())).unwrap_err();
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
        let err = parse_discovery(&url(), "https://idp", &resp).unwrap_err();
        assert_eq!(err.reason(), "InvalidDiscoveryDocument");
        assert!(err.to_string().contains("text/html"), "{err}");
    }

    #[test]
    fn non_200_is_http_status() {
        let err = parse_discovery(&url(), "https://idp", &response(404, "{}")).unwrap_err();
        assert_eq!(err.reason(), "HttpStatus");
        assert!(err.to_string().contains("404"));
    }
}
