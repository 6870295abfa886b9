//! What to check: plain inputs the controller fills from the resource and its referenced
//! Secrets/ConfigMaps (no kube types, so the checks can run and be tested without a cluster).

use std::time::Duration;

use openidconnect::core::CoreJwsSigningAlgorithm;
use url::Url;

use super::error::CheckError;
use super::urls::{parse_http_url, well_known_url};
use crate::sensitive::Sensitive;

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
    /// `SSL_CERT_DIR` or the distribution's default paths, via rustls-platform-verifier). They
    /// are loaded each time a fetch starts, so a changed trust store is seen without a restart.
    SystemRoots,
    /// A PEM bundle (one or more `CERTIFICATE` blocks), alone or added to the system roots.
    CaBundle {
        /// The PEM text.
        pem: Vec<u8>,
        /// Also trust the system roots. `false` trusts the bundle's CAs only, so a certificate
        /// from any other CA (public ones included) is refused; `true` trusts both, for a
        /// provider whose certificate may move between a private and a public CA.
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
    /// How messages name the client (by default `client "<id>"`; the controller names where the
    /// id is read from instead when it comes from a Secret, so a value read from a Secret never
    /// reaches a status).
    pub label: String,
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
        let client_id = client_id.into();
        Self {
            label: format!("client {client_id:?}"),
            client_id,
            client_secret: Sensitive::new(client_secret.into()),
            auth_method: TokenAuthMethod::default(),
            scopes: Vec::new(),
        }
    }

    /// Sets how messages name the client.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the authentication method.
    pub fn with_auth_method(mut self, method: TokenAuthMethod) -> Self {
        self.auth_method = method;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
