//! What to check: plain inputs the controller fills from the resource and its referenced
//! Secrets/ConfigMaps (no kube types, so the checks can run and be tested without a cluster).

use openidconnect::core::CoreJwsSigningAlgorithm;
use url::Url;

use super::error::CheckError;
use super::transport::{Timeouts, Trust};
use super::urls::{parse_http_url, well_known_url};
use crate::sensitive::Sensitive;

/// One provider check: discovery, JWKS, offered scopes and response type, and optionally the
/// client secret and the login request.
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
    /// When set, the client secret is checked with these credentials.
    pub client_credentials: Option<ClientCredentials>,
    /// When set, the authorization endpoint is asked for this login.
    pub login: Option<LoginRequest>,
    /// The tenant that replaces `{tenantid}` in a multi-tenant Entra ID discovery document's
    /// templated issuer before it is compared with `issuer`.
    pub tenant: Option<String>,
    /// Accept `http://` endpoints in the discovery document (a test provider).
    pub allow_insecure_http: bool,
    /// Connect and request timeouts. Not part of the cache key: requests that differ only here
    /// share one cached result.
    pub timeouts: Timeouts,
}

impl CheckRequest {
    /// A request with the defaults: discovery from the issuer, system roots, scope `openid`,
    /// response type `code`, RS256 keys, no credentials or login check; plain-http endpoints
    /// accepted only when the issuer itself is `http://`.
    pub fn new(issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        Self {
            allow_insecure_http: issuer.starts_with("http://"),
            issuer,
            discovery_url: None,
            jwks_url: None,
            trust: Trust::SystemRoots,
            scopes: vec!["openid".into()],
            response_type: "code".into(),
            signing_algorithms: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            client_credentials: None,
            login: None,
            tenant: None,
            timeouts: Timeouts::default(),
        }
    }

    /// Checks the login request `login` at the authorization endpoint.
    pub fn with_login(mut self, login: LoginRequest) -> Self {
        self.login = Some(login);
        self
    }

    /// Sets the tenant substituted into a templated multi-tenant issuer.
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Accepts `http://` endpoints in discovery.
    pub fn with_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
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

impl std::fmt::Debug for LoginRequest {
    // The client id may have been read from a Secret: the label stands for it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("client", &self.label)
            .field("redirect_uri", &self.redirect_uri)
            .field("pkce", &self.pkce)
            .field("nonce", &self.nonce)
            .field("extra", &self.extra)
            .finish()
    }
}

/// How the client authenticates at the provider's endpoints. `private_key_jwt` is not offered:
/// the operator does not hold the client's private key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TokenAuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749, section 2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A short-lived HS256 assertion signed with the secret (RFC 7523, OIDC Core section 9).
    ClientSecretJwt,
}

impl TokenAuthMethod {
    /// The registration name of the method.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::ClientSecretJwt => "client_secret_jwt",
        }
    }
}

/// How the secret is proved. Every method compares the answer to the real secret with the answer
/// to a deliberately wrong one, so an endpoint that does not authenticate the client proves
/// nothing either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CredentialsMethod {
    /// Introspection, then revocation (where discovery names them), then the token endpoint
    /// (client credentials when grant parameters are set, else a made-up authorization code).
    Auto,
    /// RFC 7662 introspection of a made-up token.
    Introspection,
    /// RFC 7009 revocation of a made-up token.
    Revocation,
    /// The authorization-code grant with a made-up code and the registered callback.
    AuthorizationCode,
    /// The client-credentials grant with [`GrantParams`].
    #[default]
    ClientCredentials,
}

/// Parameters of a client-credentials grant; which ones a provider needs differs (Entra ID a
/// `<resource>/.default` scope, Auth0 an `audience`, Okta a custom scope).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct GrantParams {
    /// `scope` values.
    pub scopes: Vec<String>,
    /// `audience`.
    pub audience: Option<String>,
    /// `resource` (RFC 8707).
    pub resource: Option<String>,
}

impl GrantParams {
    /// No parameter set.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.audience.is_none() && self.resource.is_none()
    }
}

/// A login request as the server makes it, minus the user: the authorization endpoint's answer
/// tells whether the client id, callback URL, scopes, response type and PKCE are accepted. The
/// scopes and response type are the request's own.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LoginRequest {
    /// The client id (may have been read from a Secret: never put in a message).
    pub client_id: String,
    /// How messages name the client.
    pub label: String,
    /// The callback URL (`redirect_uri`).
    pub redirect_uri: String,
    /// Send a PKCE challenge (the server's `usePkce`).
    pub pkce: bool,
    /// Send a nonce.
    pub nonce: bool,
    /// Further parameters the server adds (custom parameters, `prompt`, `max_age`, ...).
    pub extra: Vec<(String, String)>,
}

/// The client's credentials and how to prove them. `Debug` never shows the secret. The default
/// method is the client-credentials grant without parameters.
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
    /// How the secret is proved.
    pub method: CredentialsMethod,
    /// Parameters of a client-credentials grant.
    pub grant: GrantParams,
    /// The registered callback URL, sent with a made-up authorization code (a provider may
    /// check it before the code).
    pub redirect_uri: Option<String>,
}

impl ClientCredentials {
    /// Credentials sent with `client_secret_basic`, proved by a client-credentials grant.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        let client_id = client_id.into();
        Self {
            label: format!("client {client_id:?}"),
            client_id,
            client_secret: Sensitive::new(client_secret.into()),
            auth_method: TokenAuthMethod::default(),
            method: CredentialsMethod::default(),
            grant: GrantParams::default(),
            redirect_uri: None,
        }
    }

    /// Sets how the secret is proved.
    pub fn with_method(mut self, method: CredentialsMethod) -> Self {
        self.method = method;
        self
    }

    /// Sets the client-credentials grant's parameters.
    pub fn with_grant(mut self, grant: GrantParams) -> Self {
        self.grant = grant;
        self
    }

    /// Sets the callback URL sent with a made-up authorization code.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
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
