//! The checks themselves: fetch (discovery document, JWKS, token grant) and evaluate (issuer,
//! keys, scopes, response type). Fetching is IO; evaluating is pure, so one cached fetch serves
//! every request with other scopes or response types.
//!
//! Discovery does not call `CoreProviderMetadata::discover_async`, although the document is
//! parsed into openidconnect's `CoreProviderMetadata`: `discover_async` cannot take a discovery
//! URL override, reports an issuer mismatch only as a formatted string, and fetches the JWKS in
//! the same call so a JWKS failure is indistinguishable from a discovery failure. The JWKS fetch
//! (`CoreJsonWebKeySet::fetch_async`) and the client-credentials grant (`CoreClient`) are
//! openidconnect's own.

use std::sync::atomic::Ordering;

use openidconnect::core::{
    CoreClient, CoreErrorResponseType, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use openidconnect::http::{Method, StatusCode};
use openidconnect::{
    AsyncHttpClient, AuthType, ClientId, ClientSecret, DiscoveryError, HttpResponse, JsonWebKey,
    JsonWebKeyAlgorithm, JsonWebKeySetUrl, JsonWebKeyUse, JwsSigningAlgorithm, RequestTokenError,
    Scope,
};
use url::Url;

use super::cache::Counters;
use super::error::{CheckError, Endpoint, sanitize_provider_text};
use super::http::HttpClient;
use super::request::{
    CheckRequest, ClientCredentials, TokenAuthMethod, parse_http_url, well_known_url,
};

/// What one fetch brings back: the parsed discovery document and key set, shared (through the
/// cache) by every request for the same provider.
#[derive(Debug)]
pub(crate) struct ProviderDocs {
    pub discovery_url: Url,
    pub metadata: CoreProviderMetadata,
    pub jwks_url: String,
    pub jwks: CoreJsonWebKeySet,
}

/// The provider as found, for `ProviderVerified=True` and the status' provider metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderReport {
    /// The document's `issuer` (equal to the configured issuer).
    pub issuer: String,
    /// The URL the document was fetched from.
    pub discovery_url: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`, if advertised.
    pub token_endpoint: Option<String>,
    /// `userinfo_endpoint`, if advertised.
    pub userinfo_endpoint: Option<String>,
    /// `jwks_uri` as advertised.
    pub jwks_uri: String,
    /// The URL the JWKS was fetched from (`jwks_uri` unless overridden).
    pub jwks_url: String,
    /// Keys in the set that openidconnect could parse.
    pub jwks_keys: usize,
    /// Keys usable to verify one of the accepted algorithms (RSA/EC/OKP public keys with use
    /// `sig` or no use, alg absent or accepted, key material present).
    pub usable_signing_keys: usize,
    /// The `kid`s of the usable keys (keys without a `kid` are counted but not listed).
    pub usable_key_ids: Vec<String>,
    /// Whether the scope check could compare against `scopes_supported`.
    pub scopes: ScopeSupport,
    /// `response_types_supported`, each as its space-separated string.
    pub response_types_supported: Vec<String>,
    /// `id_token_signing_alg_values_supported` (names openidconnect knows).
    pub id_token_signing_algs: Vec<String>,
    /// `grant_types_supported`, if advertised.
    pub grant_types_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`, if advertised.
    pub token_endpoint_auth_methods: Option<Vec<String>>,
}

/// How the configured scopes were checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeSupport {
    /// Every configured scope is in `scopes_supported`.
    AllAdvertised,
    /// The provider does not publish `scopes_supported` (it is only RECOMMENDED), so nothing
    /// could be checked; the check passes.
    NotAdvertised,
}

/// Fetches the discovery document and the JWKS.
pub(crate) async fn fetch_provider(
    req: &CheckRequest,
    counters: &Counters,
) -> Result<ProviderDocs, CheckError> {
    // Validate the issuer even when the discovery URL is overridden: it is what gets compared.
    well_known_url(&req.issuer)?;
    let discovery_url = req.effective_discovery_url()?;
    let client = HttpClient::new(&req.trust, &req.timeouts, counters.http_requests.clone())?;

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

    Ok(ProviderDocs {
        discovery_url,
        metadata,
        jwks_url,
        jwks,
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
fn at_path(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    if path == "." {
        e.inner().to_string()
    } else {
        format!("field `{path}`: {}", e.inner())
    }
}

fn jwks_error(
    url: &str,
    err: DiscoveryError<super::http::HttpError>,
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

/// Evaluates the fetched documents against one request: usable signing keys first (without them
/// no token can be verified, whatever else is configured), then response type, then scopes.
pub(crate) fn evaluate(
    req: &CheckRequest,
    docs: &ProviderDocs,
) -> Result<ProviderReport, CheckError> {
    if req.signing_algorithms.is_empty() {
        return Err(CheckError::InvalidRequest {
            problem: "no accepted signing algorithm".into(),
        });
    }
    let meta = &docs.metadata;
    let usable: Vec<&CoreJsonWebKey> = docs
        .jwks
        .keys()
        .iter()
        .filter(|key| usable_for_any(key, &req.signing_algorithms))
        .collect();
    if usable.is_empty() {
        let algorithms: Vec<String> = req.signing_algorithms.iter().map(alg_name).collect();
        let mut key_types: Vec<String> = req
            .signing_algorithms
            .iter()
            .filter_map(|a| a.key_type())
            .map(|kty| kty_name(&kty))
            .collect();
        key_types.dedup();
        return Err(CheckError::JwksEmpty {
            url: docs.jwks_url.clone(),
            total_keys: docs.jwks.keys().len(),
            algorithms: algorithms.join(", "),
            key_types: key_types.join(" or "),
        });
    }

    let response_types_supported: Vec<String> = meta
        .response_types_supported()
        .iter()
        .map(|rt| rt.iter().map(|t| t.as_ref()).collect::<Vec<_>>().join(" "))
        .collect();
    if !response_type_offered(&req.response_type, &response_types_supported)? {
        return Err(CheckError::UnsupportedResponseType {
            requested: req.response_type.clone(),
            supported: response_types_supported,
        });
    }

    let supported_scopes: Option<Vec<String>> = meta
        .scopes_supported()
        .map(|scopes| scopes.iter().map(|s| s.to_string()).collect());
    let scopes = check_scopes(&req.scopes, supported_scopes.as_deref())?;

    Ok(ProviderReport {
        issuer: meta.issuer().to_string(),
        discovery_url: docs.discovery_url.to_string(),
        authorization_endpoint: meta.authorization_endpoint().to_string(),
        token_endpoint: meta.token_endpoint().map(|u| u.to_string()),
        userinfo_endpoint: meta.userinfo_endpoint().map(|u| u.to_string()),
        jwks_uri: meta.jwks_uri().to_string(),
        jwks_url: docs.jwks_url.clone(),
        jwks_keys: docs.jwks.keys().len(),
        usable_signing_keys: usable.len(),
        usable_key_ids: usable
            .iter()
            .filter_map(|k| k.key_id())
            .map(|id| id.to_string())
            .collect(),
        scopes,
        response_types_supported,
        id_token_signing_algs: meta
            .id_token_signing_alg_values_supported()
            .iter()
            .map(alg_name)
            .collect(),
        grant_types_supported: meta
            .grant_types_supported()
            .map(|g| g.iter().map(|g| g.as_ref().to_owned()).collect()),
        token_endpoint_auth_methods: meta
            .token_endpoint_auth_methods_supported()
            .map(|m| m.iter().map(|m| m.as_ref().to_owned()).collect()),
    })
}

/// Configured scopes against `scopes_supported`. Case-sensitive, as scope tokens are (RFC 6749,
/// section 3.3).
pub(crate) fn check_scopes(
    requested: &[String],
    supported: Option<&[String]>,
) -> Result<ScopeSupport, CheckError> {
    let Some(supported) = supported else {
        return Ok(ScopeSupport::NotAdvertised);
    };
    let mut missing: Vec<String> = requested
        .iter()
        .filter(|s| !supported.iter().any(|t| t == *s))
        .cloned()
        .collect();
    missing.dedup();
    if missing.is_empty() {
        Ok(ScopeSupport::AllAdvertised)
    } else {
        Err(CheckError::UnsupportedScopes {
            missing,
            supported: supported.to_vec(),
        })
    }
}

/// Whether `requested` (space-separated, any order) is one of `supported`.
pub(crate) fn response_type_offered(
    requested: &str,
    supported: &[String],
) -> Result<bool, CheckError> {
    let mut want: Vec<&str> = requested.split_whitespace().collect();
    if want.is_empty() {
        return Err(CheckError::InvalidRequest {
            problem: "empty response type".into(),
        });
    }
    want.sort_unstable();
    want.dedup();
    Ok(supported.iter().any(|s| {
        let mut have: Vec<&str> = s.split_whitespace().collect();
        have.sort_unstable();
        have.dedup();
        have == want
    }))
}

/// A key can verify `alg` signatures: use `sig` or absent, the key type `alg` needs, `alg`
/// absent or equal (the same rule openidconnect applies when verifying a token), and the public
/// key material present (openidconnect parses a key with missing members and would only fail
/// when verifying).
pub(crate) fn usable_for_any(key: &CoreJsonWebKey, algorithms: &[CoreJwsSigningAlgorithm]) -> bool {
    if key.key_use().is_some_and(|u| !u.allows_signature()) {
        return false;
    }
    let type_and_alg_match = algorithms.iter().any(|alg| {
        !alg.uses_shared_secret()
            && alg.key_type().as_ref() == Some(key.key_type())
            && match key.signing_alg() {
                JsonWebKeyAlgorithm::Unspecified => true,
                JsonWebKeyAlgorithm::Algorithm(key_alg) => key_alg == alg,
                JsonWebKeyAlgorithm::Unsupported => false,
            }
    });
    type_and_alg_match && has_public_material(key)
}

fn has_public_material(key: &CoreJsonWebKey) -> bool {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(key) else {
        return false;
    };
    let has = |name: &str| {
        fields
            .get(name)
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    };
    match fields.get("kty").and_then(|v| v.as_str()) {
        Some("RSA") => has("n") && has("e"),
        Some("EC") => has("crv") && has("x") && has("y"),
        Some("OKP") => has("crv") && has("x"),
        _ => false,
    }
}

/// The JOSE name of an algorithm (`RS256`), from its serde representation.
pub(crate) fn alg_name(alg: &CoreJwsSigningAlgorithm) -> String {
    match serde_json::to_value(alg) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{alg:?}"),
    }
}

fn kty_name(kty: &openidconnect::core::CoreJsonWebKeyType) -> String {
    match serde_json::to_value(kty) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kty:?}"),
    }
}

/// Runs a client-credentials grant. The token, if one is issued, is dropped unread.
pub(crate) async fn grant(
    req: &CheckRequest,
    docs: &ProviderDocs,
    creds: &ClientCredentials,
    counters: &Counters,
) -> Result<(), CheckError> {
    let Some(token_url) = docs.metadata.token_endpoint().map(|u| u.to_string()) else {
        return Err(CheckError::NoTokenEndpoint {
            url: docs.discovery_url.to_string(),
        });
    };
    let http = HttpClient::new(&req.trust, &req.timeouts, counters.http_requests.clone())?;
    let auth_type = match creds.auth_method {
        TokenAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
        TokenAuthMethod::ClientSecretPost => AuthType::RequestBody,
    };
    let secret = creds.client_secret.expose();
    let client = CoreClient::from_provider_metadata(
        docs.metadata.clone(),
        ClientId::new(creds.client_id.clone()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_auth_type(auth_type);
    let mut request =
        client
            .exchange_client_credentials()
            .map_err(|_| CheckError::NoTokenEndpoint {
                url: docs.discovery_url.to_string(),
            })?;
    for scope in &creds.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    counters.token_requests.fetch_add(1, Ordering::Relaxed);
    match request.request_async(&http).await {
        Ok(_token) => Ok(()),
        Err(RequestTokenError::ServerResponse(response)) => {
            let description = response
                .error_description()
                .map(|d| sanitize_provider_text(d, Some(secret)));
            match response.error() {
                CoreErrorResponseType::InvalidClient => Err(CheckError::InvalidClient {
                    url: token_url,
                    client_id: creds.client_id.clone(),
                    auth_method: creds.auth_method.as_str(),
                    description,
                }),
                CoreErrorResponseType::UnauthorizedClient
                | CoreErrorResponseType::UnsupportedGrantType => {
                    Err(CheckError::UnauthorizedClient {
                        url: token_url,
                        client_id: creds.client_id.clone(),
                        error: response.error().as_ref().to_owned(),
                        description,
                    })
                }
                other => Err(CheckError::TokenEndpointError {
                    url: token_url,
                    problem: match description {
                        Some(d) => format!("{}: {d}", other.as_ref()),
                        None => other.as_ref().to_owned(),
                    },
                }),
            }
        }
        Err(RequestTokenError::Request(e)) => Err(CheckError::transport(
            Endpoint::Token,
            &token_url,
            e,
            req.timeouts.request,
        )),
        // Never include the body: on a 200 it would hold the access token.
        Err(RequestTokenError::Parse(e, _body)) => Err(CheckError::TokenEndpointError {
            url: token_url,
            problem: format!(
                "the response is not a token or OAuth error response ({})",
                at_path(&e)
            ),
        }),
        Err(RequestTokenError::Other(message)) => Err(CheckError::TokenEndpointError {
            url: token_url,
            problem: sanitize_provider_text(&message, Some(secret)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> HttpResponse {
        openidconnect::http::Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    fn doc(issuer: &str) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
        })
    }

    fn url() -> Url {
        Url::parse("https://idp/.well-known/openid-configuration").unwrap()
    }

    fn docs_with_keys(keys: serde_json::Value) -> ProviderDocs {
        let meta = parse_discovery(
            &url(),
            "https://idp",
            &response(200, &doc("https://idp").to_string()),
        )
        .unwrap();
        ProviderDocs {
            discovery_url: url(),
            metadata: meta,
            jwks_url: "https://idp/jwks".into(),
            jwks: serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap(),
        }
    }

    fn rsa_key(extra: serde_json::Value) -> serde_json::Value {
        let mut key = serde_json::json!({"kty": "RSA", "kid": "k1", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"});
        if let (Some(k), Some(e)) = (key.as_object_mut(), extra.as_object()) {
            k.extend(e.clone());
        }
        key
    }

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

    #[test]
    fn scopes_checked_against_supported() {
        let supported = vec!["openid".to_string(), "email".to_string()];
        assert_eq!(
            check_scopes(&["openid".into(), "email".into()], Some(&supported)).unwrap(),
            ScopeSupport::AllAdvertised
        );
        let err = check_scopes(&["openid".into(), "groups".into()], Some(&supported)).unwrap_err();
        assert_eq!(err.reason(), "UnsupportedScopes");
        assert!(err.to_string().contains("groups"));
        assert_eq!(
            check_scopes(&["anything".into()], None).unwrap(),
            ScopeSupport::NotAdvertised
        );
        // Scope tokens are case-sensitive.
        assert!(check_scopes(&["OpenID".into()], Some(&supported)).is_err());
    }

    #[test]
    fn response_types_match_in_any_order() {
        let supported = vec!["code".to_string(), "code id_token".to_string()];
        assert!(response_type_offered("code", &supported).unwrap());
        assert!(response_type_offered("id_token  code", &supported).unwrap());
        assert!(!response_type_offered("id_token", &supported).unwrap());
        assert_eq!(
            response_type_offered(" ", &supported).unwrap_err().reason(),
            "InvalidRequest"
        );
    }

    #[test]
    fn usable_keys_follow_use_type_and_alg() {
        let rs256 = [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256];
        let docs = docs_with_keys(serde_json::json!([
            rsa_key(serde_json::json!({"use": "sig", "alg": "RS256"})),
            rsa_key(serde_json::json!({"kid": "no-use"})),
            rsa_key(serde_json::json!({"kid": "enc", "use": "enc"})),
            rsa_key(serde_json::json!({"kid": "ps", "alg": "PS256"})),
            {"kty": "RSA", "kid": "no-material", "use": "sig"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]));
        let usable: Vec<_> = docs
            .jwks
            .keys()
            .iter()
            .filter(|k| usable_for_any(k, &rs256))
            .filter_map(|k| k.key_id().map(|id| id.to_string()))
            .collect();
        assert_eq!(usable, vec!["k1", "no-use"]);
    }

    #[test]
    fn no_usable_key_is_jwks_empty() {
        let req = CheckRequest::new("https://idp");
        let docs = docs_with_keys(serde_json::json!([rsa_key(
            serde_json::json!({"use": "enc"})
        )]));
        let err = evaluate(&req, &docs).unwrap_err();
        assert_eq!(err.reason(), "JwksEmpty");
        assert!(
            err.to_string().contains("1 key(s)") && err.to_string().contains("RS256"),
            "{err}"
        );
        let empty = docs_with_keys(serde_json::json!([]));
        assert_eq!(evaluate(&req, &empty).unwrap_err().reason(), "JwksEmpty");
    }

    #[test]
    fn evaluate_reports_endpoints() {
        let req = CheckRequest::new("https://idp").with_scopes(["openid", "email"]);
        let docs = docs_with_keys(serde_json::json!([rsa_key(serde_json::json!({}))]));
        let report = evaluate(&req, &docs).unwrap();
        assert_eq!(report.token_endpoint.as_deref(), Some("https://idp/token"));
        assert_eq!(report.jwks_uri, "https://idp/jwks");
        assert_eq!(report.usable_signing_keys, 1);
        assert_eq!(report.id_token_signing_algs, vec!["RS256"]);
        let err = evaluate(&req.clone().with_response_type("token"), &docs).unwrap_err();
        assert_eq!(err.reason(), "UnsupportedResponseType");
    }
}
