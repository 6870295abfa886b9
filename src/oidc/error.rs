//! Why a provider check failed: one enum whose variants map to stable condition reasons, and
//! whose messages name what was fetched and what was expected.
//!
//! Errors are `Clone` because one failed fetch is cached and handed to every resource that uses
//! the same provider. The underlying transport error is kept as an `Arc`'d source for logs; the
//! message itself is complete without it, because it ends up in a status condition where no
//! source chain is printed.
//!
//! No variant holds a client secret or a token. Text that comes from the provider (an OAuth
//! `error_description`) is sanitised first, which also strips the secret should a provider echo
//! it back.

use crate::reasons::Reason;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use super::classify::classify;
pub(super) use super::kinds::Endpoint;
use super::kinds::TransportKind;
use super::message::{describe, expected_body, issuer_hint, transport_message};

/// A failed provider check. `reason()` is the condition reason; `Display` is the user-facing
/// message.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// A configured URL cannot be used.
    #[error("invalid {what} {url:?}: {problem}")]
    InvalidUrl {
        /// Which setting (for example "issuer URL").
        what: &'static str,
        /// The value as configured.
        url: String,
        /// Why it is unusable.
        problem: String,
    },

    /// The request itself is inconsistent (for example an empty response type).
    #[error("invalid check request: {problem}")]
    InvalidRequest {
        /// What is wrong.
        problem: String,
    },

    /// The configured CA bundle holds no usable certificate.
    #[error("the CA bundle for the provider cannot be used: {problem}")]
    InvalidCaBundle {
        /// Why it is unusable.
        problem: String,
    },

    /// The TLS client cannot be set up (for example, no system trust roots could be loaded).
    #[error("cannot set up TLS for the provider checks: {problem}")]
    TlsSetup {
        /// What failed.
        problem: String,
    },

    /// The request did not get an HTTP response.
    #[error("{}", transport_message(*endpoint, url, *kind, detail, *timeout))]
    Transport {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The URL requested.
        url: String,
        /// The failure class, from the source chain.
        kind: TransportKind,
        /// The most specific cause (for example "Connection refused (os error 111)").
        detail: String,
        /// The request timeout in force, for the message of a timeout.
        timeout: Option<Duration>,
        /// The original error, for logs.
        #[source]
        source: Option<Arc<dyn StdError + Send + Sync>>,
    },

    /// The endpoint answered with an HTTP status other than 200.
    #[error("the {endpoint} {url} answered HTTP {status}, expected 200 with {}", expected_body(*endpoint))]
    HttpStatus {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },

    /// The discovery response is not an OpenID Connect discovery document.
    #[error("the response from {url} is not a valid OpenID Connect discovery document: {problem}")]
    InvalidDiscoveryDocument {
        /// The discovery URL.
        url: String,
        /// What is wrong (a missing or malformed field, with its path).
        problem: String,
    },

    /// The discovery document names another issuer than the configured one.
    #[error(
        "the discovery document at {url} names issuer {found:?}, but the configured issuer is {expected:?}{}",
        issuer_hint(expected, found)
    )]
    IssuerMismatch {
        /// The discovery URL.
        url: String,
        /// The configured issuer.
        expected: String,
        /// The `issuer` of the document.
        found: String,
    },

    /// The JWKS response is not a JSON Web Key Set.
    #[error("the response from {url} is not a valid JSON Web Key Set: {problem}")]
    InvalidJwks {
        /// The JWKS URL.
        url: String,
        /// What is wrong.
        problem: String,
    },

    /// The JWKS holds no key that can verify the accepted signature algorithms.
    #[error(
        "the JWKS at {url} has {total_keys} key(s), none usable to verify {algorithms} signatures \
         (needed: an {key_types} public key with use \"sig\" or no use, and alg absent or one of {algorithms})"
    )]
    JwksEmpty {
        /// The JWKS URL.
        url: String,
        /// Keys in the set (after dropping entries openidconnect cannot parse).
        total_keys: usize,
        /// The accepted algorithms, comma-separated.
        algorithms: String,
        /// The key types those algorithms need, for example "RSA".
        key_types: String,
    },

    /// The configured response type is not in `response_types_supported`.
    #[error(
        "the provider does not offer response type {requested:?} (its response_types_supported: {supported:?})"
    )]
    UnsupportedResponseType {
        /// The configured response type.
        requested: String,
        /// The provider's `response_types_supported`.
        supported: Vec<String>,
    },

    /// The provider rejected the client's credentials: a client-authentication failure, where
    /// a deliberately wrong secret is rejected the same way.
    #[error(
        "the {endpoint} {url} rejected {client} ({answer}): the client id or secret is wrong, \
         or the client is not registered for {auth_method}"
    )]
    InvalidClient {
        /// Which endpoint answered.
        endpoint: Endpoint,
        /// Its URL.
        url: String,
        /// How the client is named (never a value read from a Secret).
        client: String,
        /// How the client authenticated (`client_secret_basic`, ...).
        auth_method: &'static str,
        /// The answer: status, error code and the provider's description, sanitised.
        answer: String,
    },

    /// The discovery document names a plain-http endpoint while `allowInsecureHttp` is off.
    #[error(
        "the discovery document at {discovery_url} names {field} {url}, which is not https: tokens, \
         secrets or keys would cross the network in clear text (set spec.provider.allowInsecureHttp \
         only for a test provider)"
    )]
    InsecureEndpoint {
        /// The discovery URL.
        discovery_url: String,
        /// The document's field (`jwks_uri`, `token_endpoint`, ...).
        field: &'static str,
        /// Its value.
        url: String,
    },

    /// The authorization endpoint showed an error page for the login request: the client id or
    /// the callback URL is not registered.
    #[error(
        "the authorization endpoint {url} answered HTTP {status} (an error page) to a login \
         request for {client} with redirect_uri {callback}{hint}: register {callback} as a \
         redirect URI of the client at the provider, or correct the client id or \
         spec.provider.callbackUrl"
    )]
    LoginNotRegistered {
        /// The authorization endpoint (or the provider page it sent the request to), without query.
        url: String,
        /// The HTTP status of the error page.
        status: u16,
        /// How the client is named.
        client: String,
        /// The callback URL sent.
        callback: String,
        /// What the page points at, if recognisable ("; the page mentions the redirect URI").
        hint: String,
    },

    /// The provider accepted the client and callback but sent the login back with `error=`.
    #[error(
        "the provider sent the login request for {client} back to the callback with error={error}{}: {what}",
        describe(description)
    )]
    LoginRefused {
        /// How the client is named.
        client: String,
        /// The OAuth error code.
        error: String,
        /// The provider's `error_description`, sanitised.
        description: Option<String>,
        /// Which setting the error points at.
        what: String,
    },

    /// The check itself ended without an answer (its task failed); it is tried again.
    #[error("the provider check was interrupted; it is retried")]
    Interrupted,

    /// An endpoint used to check the secret failed in a way that proves nothing about it (HTTP
    /// 5xx or 429); retried.
    #[error("the {endpoint} {url} could not answer: {problem}")]
    TokenEndpointError {
        /// Which endpoint.
        endpoint: Endpoint,
        /// Its URL.
        url: String,
        /// What happened (an OAuth error code and description, or why the response is unusable).
        problem: String,
    },
}

impl From<super::transport::TrustError> for CheckError {
    fn from(e: super::transport::TrustError) -> Self {
        match e {
            super::transport::TrustError::CaBundle(problem) => {
                CheckError::InvalidCaBundle { problem }
            }
            super::transport::TrustError::System(problem) => CheckError::TlsSetup { problem },
        }
    }
}

impl CheckError {
    /// The condition reason: CamelCase, stable, low-cardinality (usable as a metric label).
    pub fn reason(&self) -> Reason {
        match self {
            CheckError::InvalidUrl { .. } => Reason::InvalidUrl,
            CheckError::InvalidRequest { .. } => Reason::InvalidRequest,
            CheckError::InvalidCaBundle { .. } => Reason::InvalidCaBundle,
            CheckError::TlsSetup { .. } => Reason::TlsError,
            CheckError::Transport {
                endpoint: Endpoint::Jwks,
                ..
            } => Reason::JwksUnreachable,
            CheckError::Transport { kind, .. } => match kind {
                TransportKind::Connect | TransportKind::Other => Reason::Unreachable,
                TransportKind::Tls => Reason::TlsError,
                TransportKind::Timeout => Reason::Timeout,
                TransportKind::Redirect => Reason::RedirectNotFollowed,
                TransportKind::TooLarge => Reason::ResponseTooLarge,
                TransportKind::Refused => Reason::AddressRefused,
            },
            CheckError::HttpStatus { endpoint, .. } => match endpoint {
                Endpoint::Discovery => Reason::HttpStatus,
                Endpoint::Jwks => Reason::JwksUnreachable,
                Endpoint::Token
                | Endpoint::Introspection
                | Endpoint::Revocation
                | Endpoint::Authorization => Reason::TokenEndpointError,
            },
            CheckError::InvalidDiscoveryDocument { .. } => Reason::InvalidDiscoveryDocument,
            CheckError::IssuerMismatch { .. } => Reason::IssuerMismatch,
            CheckError::InvalidJwks { .. } => Reason::InvalidJwks,
            CheckError::JwksEmpty { .. } => Reason::JwksEmpty,
            CheckError::UnsupportedResponseType { .. } => Reason::UnsupportedResponseType,
            CheckError::InvalidClient { .. } => Reason::InvalidClient,
            CheckError::InsecureEndpoint { .. } => Reason::InsecureEndpoint,
            CheckError::LoginNotRegistered { .. } => Reason::NotRegistered,
            CheckError::LoginRefused { .. } => Reason::LoginRefused,
            CheckError::TokenEndpointError { .. } => Reason::TokenEndpointError,
            CheckError::Interrupted => Reason::CheckInterrupted,
        }
    }

    /// True when retrying later may help without a configuration change (network, TLS and
    /// HTTP 5xx/429 failures); the cache keeps these for the shorter failure TTL either way, but
    /// a controller can use this to requeue sooner.
    pub fn is_transient(&self) -> bool {
        match self {
            CheckError::Transport { kind, .. } => {
                matches!(
                    kind,
                    TransportKind::Connect | TransportKind::Timeout | TransportKind::Other
                )
            }
            CheckError::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            CheckError::Interrupted | CheckError::TokenEndpointError { .. } => true,
            _ => false,
        }
    }

    /// Builds a transport error from the HTTP adapter's error, classifying it by its source chain.
    pub(crate) fn transport(
        endpoint: Endpoint,
        url: &str,
        err: super::transport::HttpError,
        timeout: Duration,
    ) -> CheckError {
        let (kind, detail) = classify(&err);
        CheckError::Transport {
            endpoint,
            url: url.to_owned(),
            kind,
            detail,
            timeout: Some(timeout),
            source: Some(Arc::new(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_transport_failures_share_one_reason() {
        for kind in [
            TransportKind::Connect,
            TransportKind::Tls,
            TransportKind::Timeout,
        ] {
            let err = CheckError::Transport {
                endpoint: Endpoint::Jwks,
                url: "https://idp/jwks".into(),
                kind,
                detail: "x".into(),
                timeout: None,
                source: None,
            };
            assert_eq!(err.reason(), "JwksUnreachable");
        }
        let tls = CheckError::Transport {
            endpoint: Endpoint::Discovery,
            url: "https://idp/.well-known/openid-configuration".into(),
            kind: TransportKind::Tls,
            detail: "invalid peer certificate: UnknownIssuer".into(),
            timeout: None,
            source: None,
        };
        assert_eq!(tls.reason(), "TlsError");
        assert!(tls.to_string().contains("CA bundle"), "{tls}");
    }

    #[test]
    fn transient_classification() {
        let status = |status| CheckError::HttpStatus {
            endpoint: Endpoint::Discovery,
            url: "u".into(),
            status,
        };
        assert!(status(503).is_transient());
        assert!(!status(404).is_transient());
    }
}
