//! What to check: plain inputs the controller fills from the resource and its referenced
//! Secrets/ConfigMaps (no kube types, so the checks can run and be tested without a cluster).

use std::time::Duration;

use openidconnect::IssuerUrl;
use openidconnect::core::CoreJwsSigningAlgorithm;
use url::Url;

use super::error::CheckError;
use crate::sensitive::Sensitive;

/// The path every OpenID provider serves its discovery document under, relative to the issuer.
pub const WELL_KNOWN_SUFFIX: &str = ".well-known/openid-configuration";

/// One provider check: discovery, JWKS, offered scopes and response type, and optionally a
/// client-credentials grant.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    /// The issuer, exactly as tokens carry it in `iss`; compared to the document's `issuer`
    /// character for character (OpenID Connect Discovery 1.0, section 4.3).
    pub issuer: String,
    /// Where to fetch the discovery document instead of `<issuer>/.well-known/openid-configuration`.
    pub discovery_url: Option<String>,
    /// Where to fetch the JWKS instead of the document's `jwks_uri`.
    pub jwks_url: Option<String>,
    /// Which certificate authorities to trust for `https` URLs.
    pub trust: Trust,
    /// Scopes the login requests; each must be in `scopes_supported` when the provider lists it.
    pub scopes: Vec<String>,
    /// The OAuth response type (for example `code` or `id_token`); must be in
    /// `response_types_supported`. Multi-valued types (`code id_token`) match in any order.
    pub response_type: String,
    /// Algorithms the token consumer accepts; the JWKS must hold at least one key usable with one
    /// of them.
    pub signing_algorithms: Vec<CoreJwsSigningAlgorithm>,
    /// When set, a client-credentials grant is made with these credentials.
    pub client_credentials: Option<ClientCredentials>,
    /// Connect and request timeouts. Not part of the cache key: requests that differ only here
    /// share one cached result.
    pub timeouts: Timeouts,
}

impl CheckRequest {
    /// A request with the defaults: discovery from the issuer, system roots, scope `openid`,
    /// response type `code`, RS256 keys, no credentials grant.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            discovery_url: None,
            jwks_url: None,
            trust: Trust::SystemRoots,
            scopes: vec!["openid".into()],
            response_type: "code".into(),
            signing_algorithms: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            client_credentials: None,
            timeouts: Timeouts::default(),
        }
    }

    /// Sets the scopes.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the response type.
    pub fn with_response_type(mut self, response_type: impl Into<String>) -> Self {
        self.response_type = response_type.into();
        self
    }

    /// Sets the trust roots.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// Overrides the discovery URL.
    pub fn with_discovery_url(mut self, url: impl Into<String>) -> Self {
        self.discovery_url = Some(url.into());
        self
    }

    /// Adds a client-credentials grant.
    pub fn with_client_credentials(mut self, credentials: ClientCredentials) -> Self {
        self.client_credentials = Some(credentials);
        self
    }

    /// Sets the timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The discovery URL this request fetches: the override, or the well-known URL of the issuer.
    pub fn effective_discovery_url(&self) -> Result<Url, CheckError> {
        match &self.discovery_url {
            Some(url) => parse_http_url("discovery URL", url),
            None => well_known_url(&self.issuer),
        }
    }
}

/// Which certificate authorities the checks trust.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system's roots (on Linux: the OpenSSL-style bundle found through `SSL_CERT_FILE` /
    /// `SSL_CERT_DIR` or the distribution's default paths, via rustls-platform-verifier).
    SystemRoots,
    /// A PEM bundle (one or more `CERTIFICATE` blocks), alone or added to the system roots.
    CaBundle {
        /// The PEM text.
        pem: Vec<u8>,
        /// Also trust the system roots. `false` pins the provider to the bundle's CAs, so a
        /// certificate from any public CA is refused.
        also_system_roots: bool,
    },
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::SystemRoots => f.write_str("SystemRoots"),
            Trust::CaBundle {
                pem,
                also_system_roots,
            } => f
                .debug_struct("CaBundle")
                .field("pem_bytes", &pem.len())
                .field("also_system_roots", also_system_roots)
                .finish(),
        }
    }
}

/// Timeouts for each HTTP request of a check (a check makes two or three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// The whole request, from sending to the last body byte.
    pub request: Duration,
}

impl Default for Timeouts {
    /// Short enough that a reconcile is not held up for long by a dead provider, long enough for
    /// a provider on another continent.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(10),
        }
    }
}

/// How the client authenticates at the token endpoint. The JWT-based methods
/// (`client_secret_jwt`, `private_key_jwt`) are not offered: the oauth2 crate under
/// openidconnect cannot send client assertions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TokenAuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749, section 2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl TokenAuthMethod {
    /// The registration name of the method.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

/// Credentials for the client-credentials grant. `Debug` never shows the secret.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Sensitive<String>,
    /// How to send them.
    pub auth_method: TokenAuthMethod,
    /// Scopes to request with the grant. Usually empty: `openid` means nothing without a user,
    /// and some providers reject it for this grant.
    pub scopes: Vec<String>,
}

impl ClientCredentials {
    /// Credentials sent with `client_secret_basic`, no scopes.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Sensitive::new(client_secret.into()),
            auth_method: TokenAuthMethod::default(),
            scopes: Vec::new(),
        }
    }

    /// Sets the authentication method.
    pub fn with_auth_method(mut self, method: TokenAuthMethod) -> Self {
        self.auth_method = method;
        self
    }
}

/// `<issuer>/.well-known/openid-configuration`, by string concatenation and not `Url::join`:
/// `join` would replace the issuer's last path segment when it has no trailing slash
/// (`https://idp/realms/data` + `.well-known/...` gives `https://idp/realms/.well-known/...`).
/// openidconnect's `IssuerUrl::join` does exactly this concatenation.
pub fn well_known_url(issuer: &str) -> Result<Url, CheckError> {
    let parsed = parse_http_url("issuer URL", issuer)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(CheckError::InvalidUrl {
            what: "issuer URL",
            url: issuer.to_owned(),
            problem: "an issuer has no query or fragment".into(),
        });
    }
    let issuer_url =
        IssuerUrl::new(issuer.to_owned()).map_err(|e| invalid("issuer URL", issuer, e))?;
    issuer_url
        .join(WELL_KNOWN_SUFFIX)
        .map_err(|e| invalid("issuer URL", issuer, e))
}

/// Parses a URL that must be absolute `http` or `https` with a host.
pub(crate) fn parse_http_url(what: &'static str, url: &str) -> Result<Url, CheckError> {
    let parsed = Url::parse(url).map_err(|e| invalid(what, url, e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CheckError::InvalidUrl {
            what,
            url: url.to_owned(),
            problem: format!("scheme {:?} is not http or https", parsed.scheme()),
        });
    }
    if parsed.host().is_none() {
        return Err(CheckError::InvalidUrl {
            what,
            url: url.to_owned(),
            problem: "no host".into(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in a URL would end up in status messages and logs.
        return Err(CheckError::InvalidUrl {
            what,
            url: "<url with credentials>".into(),
            problem: "URLs must not embed a user name or password".into(),
        });
    }
    Ok(parsed)
}

fn invalid(what: &'static str, url: &str, e: impl std::fmt::Display) -> CheckError {
    CheckError::InvalidUrl {
        what,
        url: url.to_owned(),
        problem: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_url_keeps_the_last_path_segment_without_trailing_slash() {
        let url = well_known_url("https://idp.example.com/realms/data").unwrap();
        assert_eq!(
            url.as_str(),
            "https://idp.example.com/realms/data/.well-known/openid-configuration"
        );
    }

    #[test]
    fn well_known_url_with_trailing_slash_has_no_double_slash() {
        let url = well_known_url("https://idp.example.com/realms/data/").unwrap();
        assert_eq!(
            url.as_str(),
            "https://idp.example.com/realms/data/.well-known/openid-configuration"
        );
    }

    #[test]
    fn well_known_url_of_a_bare_host() {
        assert_eq!(
            well_known_url("https://idp.example.com").unwrap().as_str(),
            "https://idp.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            well_known_url("http://127.0.0.1:8080/").unwrap().as_str(),
            "http://127.0.0.1:8080/.well-known/openid-configuration"
        );
    }

    #[test]
    fn url_join_pitfall_is_real() {
        // Documents why well_known_url does not use Url::join.
        let joined = Url::parse("https://idp/realms/data")
            .unwrap()
            .join(WELL_KNOWN_SUFFIX)
            .unwrap();
        assert_eq!(
            joined.as_str(),
            "https://idp/realms/.well-known/openid-configuration"
        );
    }

    #[test]
    fn bad_issuers_are_invalid_url() {
        for issuer in [
            "idp.example.com",
            "ftp://idp.example.com",
            "https://idp.example.com/?x=1",
            "https://idp.example.com/#f",
            "https://user:pw@idp.example.com",
        ] {
            let err = well_known_url(issuer).unwrap_err();
            assert_eq!(err.reason(), "InvalidUrl", "{issuer}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn discovery_override_wins() {
        let req =
            CheckRequest::new("https://idp/realms/a").with_discovery_url("https://other/doc.json");
        assert_eq!(
            req.effective_discovery_url().unwrap().as_str(),
            "https://other/doc.json"
        );
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let creds = ClientCredentials::new("client", "s3cr3t-value");
        let req = CheckRequest::new("https://idp").with_client_credentials(creds);
        let debug = format!("{req:?}");
        assert!(!debug.contains("s3cr3t-value"), "{debug}");
        assert!(debug.contains("client"));
    }
}
