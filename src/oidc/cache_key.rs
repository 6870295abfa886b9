//! Cache keys. The provider key holds what decides which documents are fetched and how; the
//! credentials key adds what decides a grant's result, with a hash of the secret in place of the
//! secret, so the secret is never a map key (and never in a key's `Debug`).

use sha2::{Digest, Sha256};

use super::request::{CheckRequest, CredentialsMethod, GrantParams, LoginRequest, TokenAuthMethod};
use super::transport::Trust;

/// What decides which provider documents are fetched, and how.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ProviderKey {
    pub(crate) issuer: String,
    discovery_url: Option<String>,
    jwks_url: Option<String>,
    /// Decides whether a templated multi-tenant issuer is accepted, at fetch time.
    tenant: Option<String>,
    /// Decides whether plain-http endpoints are refused, at fetch time.
    allow_insecure_http: bool,
    trust: TrustKey,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TrustKey {
    System,
    Bundle {
        sha256: [u8; 32],
        also_system_roots: bool,
    },
}

impl ProviderKey {
    pub(crate) fn of(req: &CheckRequest) -> Self {
        Self {
            issuer: req.issuer.clone(),
            discovery_url: req.discovery_url.clone(),
            jwks_url: req.jwks_url.clone(),
            tenant: req.tenant.clone(),
            allow_insecure_http: req.allow_insecure_http,
            trust: match &req.trust {
                Trust::SystemRoots => TrustKey::System,
                Trust::CaBundle {
                    pem,
                    also_system_roots,
                } => TrustKey::Bundle {
                    sha256: Sha256::digest(pem).into(),
                    also_system_roots: *also_system_roots,
                },
            },
        }
    }
}

/// What decides a grant's result. Holds a hash of the secret, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CredentialsKey {
    pub(crate) provider: ProviderKey,
    client_id: String,
    /// Messages name the client by its label (its id, or the Secret it is read from): resources
    /// that name one client differently must not read each other's wording.
    label: String,
    secret_sha256: [u8; 32],
    auth_method: TokenAuthMethod,
    method: CredentialsMethod,
    grant: GrantParams,
    redirect_uri: Option<String>,
}

impl CredentialsKey {
    pub(crate) fn of(req: &CheckRequest) -> Option<Self> {
        let creds = req.client_credentials.as_ref()?;
        let mut hasher = Sha256::new();
        // Domain separation, so this digest is not the plain SHA-256 of the secret that
        // `Sensitive::digest` might print elsewhere.
        hasher.update(b"oidc-sso-operator/credentials-cache-key\0");
        hasher.update(creds.client_secret.expose().as_bytes());
        let mut grant = creds.grant.clone();
        grant.scopes.sort();
        grant.scopes.dedup();
        Some(Self {
            provider: ProviderKey::of(req),
            client_id: creds.client_id.clone(),
            label: creds.label.clone(),
            secret_sha256: hasher.finalize().into(),
            auth_method: creds.auth_method,
            method: creds.method,
            grant,
            redirect_uri: creds.redirect_uri.clone(),
        })
    }
}

/// A whole check: the provider, the credentials and what the documents are judged against. Two
/// resources with equal keys get the same outcome.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RequestKey {
    provider: ProviderKey,
    credentials: Option<CredentialsKey>,
    scopes: Vec<String>,
    response_type: String,
    algorithms: Vec<String>,
    login: Option<LoginRequest>,
}

impl RequestKey {
    pub(crate) fn of(req: &CheckRequest) -> Self {
        Self {
            provider: ProviderKey::of(req),
            credentials: CredentialsKey::of(req),
            scopes: req.scopes.clone(),
            response_type: req.response_type.clone(),
            algorithms: req
                .signing_algorithms
                .iter()
                .map(|a| format!("{a:?}"))
                .collect(),
            login: req.login.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::request::ClientCredentials;

    #[test]
    fn provider_key_ignores_scopes_and_credentials_but_not_trust() {
        let base = CheckRequest::new("https://idp");
        let other_scopes = base
            .clone()
            .with_scopes(["openid", "email"])
            .with_response_type("id_token");
        assert_eq!(ProviderKey::of(&base), ProviderKey::of(&other_scopes));
        let with_ca = base.clone().with_trust(Trust::CaBundle {
            pem: b"pem".to_vec(),
            also_system_roots: true,
        });
        assert_ne!(ProviderKey::of(&base), ProviderKey::of(&with_ca));
        assert_ne!(
            ProviderKey::of(&base),
            ProviderKey::of(&base.clone().with_discovery_url("https://idp/x"))
        );
    }

    #[test]
    fn credentials_key_hashes_the_secret() {
        let req = |secret: &str| {
            CheckRequest::new("https://idp")
                .with_client_credentials(ClientCredentials::new("client", secret))
        };
        let a = CredentialsKey::of(&req("first-secret")).unwrap();
        let b = CredentialsKey::of(&req("second-secret")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a, CredentialsKey::of(&req("first-secret")).unwrap());
        let debug = format!("{a:?}");
        assert!(!debug.contains("first-secret"), "{debug}");
        assert!(CredentialsKey::of(&CheckRequest::new("https://idp")).is_none());
        let relabelled = CheckRequest::new("https://idp").with_client_credentials(
            ClientCredentials::new("client", "first-secret")
                .with_label("the client whose id is in Secret \"oidc\" (key \"clientId\")"),
        );
        assert_ne!(
            a,
            CredentialsKey::of(&relabelled).unwrap(),
            "a message names the client by its label: one resource's label never reaches another's status"
        );
    }
}
