//! Judging fetched provider documents against one request: usable signing keys, response type,
//! scopes. Pure, so one cached fetch serves requests that differ in these settings.

use openidconnect::JsonWebKey;
use openidconnect::core::CoreJsonWebKey;

use super::discovery::ProviderDocs;
use super::error::CheckError;
use super::keys::{alg_name, kty_name, usable_for_any};
use super::request::CheckRequest;

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

/// How the configured scopes compare with `scopes_supported`. Never a failure: the list is only
/// RECOMMENDED (OpenID Connect Discovery 1.0, section 3) and providers leave scopes out of it
/// (Okta's non-public custom scopes, Entra ID's `/.default`, Auth0's API permissions), so a scope
/// it lacks is a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeSupport {
    /// Every configured scope is in `scopes_supported`.
    AllAdvertised,
    /// The provider does not publish `scopes_supported`, so nothing could be compared.
    NotAdvertised,
    /// These configured scopes are not in `scopes_supported`.
    SomeNotAdvertised(Vec<String>),
}

/// Evaluates the fetched documents against one request: usable signing keys first (without them
/// no token can be verified, whatever else is configured), then response type, then scopes.
/// (Plain-http endpoints are refused before the key set is fetched: [`super::discovery::refuse_plain_http`].)
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
            .filter_map(openidconnect::JwsSigningAlgorithm::key_type)
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
        .map(|rt| {
            rt.iter()
                .map(std::convert::AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(" ")
        })
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
    let scopes = check_scopes(&req.scopes, supported_scopes.as_deref());

    Ok(ProviderReport {
        issuer: meta.issuer().to_string(),
        discovery_url: docs.discovery_url.to_string(),
        authorization_endpoint: meta.authorization_endpoint().to_string(),
        token_endpoint: meta.token_endpoint().map(std::string::ToString::to_string),
        userinfo_endpoint: meta
            .userinfo_endpoint()
            .map(std::string::ToString::to_string),
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
pub(crate) fn check_scopes(requested: &[String], supported: Option<&[String]>) -> ScopeSupport {
    let Some(supported) = supported else {
        return ScopeSupport::NotAdvertised;
    };
    let mut missing: Vec<String> = requested
        .iter()
        .filter(|s| !supported.iter().any(|t| t == *s))
        .cloned()
        .collect();
    missing.dedup();
    if missing.is_empty() {
        ScopeSupport::AllAdvertised
    } else {
        ScopeSupport::SomeNotAdvertised(missing)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::testutil::{docs_with_keys, rsa_key};

    #[test]
    fn scopes_missing_from_scopes_supported_are_named_not_failed() {
        let supported = vec!["openid".to_string(), "email".to_string()];
        assert_eq!(
            check_scopes(&["openid".into(), "email".into()], Some(&supported)),
            ScopeSupport::AllAdvertised
        );
        assert_eq!(
            check_scopes(&["openid".into(), "groups".into()], Some(&supported)),
            ScopeSupport::SomeNotAdvertised(vec!["groups".into()])
        );
        assert_eq!(
            check_scopes(&["anything".into()], None),
            ScopeSupport::NotAdvertised
        );
        // Scope tokens are case-sensitive.
        assert_eq!(
            check_scopes(&["OpenID".into()], Some(&supported)),
            ScopeSupport::SomeNotAdvertised(vec!["OpenID".into()])
        );
    }

    #[test]
    fn plain_http_endpoints_are_named() {
        let mut docs = docs_with_keys(serde_json::json!([rsa_key(serde_json::json!({}))]));
        let check = |docs: &ProviderDocs| {
            crate::oidc::discovery::refuse_plain_http(
                &docs.discovery_url,
                &docs.metadata,
                &docs.extra,
            )
        };
        assert!(check(&docs).is_ok());
        docs.extra.revocation_endpoint = Some("http://idp/revoke".into());
        let err = check(&docs).unwrap_err();
        assert_eq!(err.reason(), "InsecureEndpoint");
        assert!(
            err.to_string()
                .contains("revocation_endpoint http://idp/revoke"),
            "{err}"
        );
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
