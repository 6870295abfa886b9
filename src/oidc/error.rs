//! Why a provider check failed: one enum whose variants map to stable condition reasons, and
//! whose messages name what was fetched and what was expected.
//!
//! Errors are `Clone` because one failed fetch is cached and handed to every resource that uses
//! the same provider. The underlying transport error is kept as an `Arc`'d source for logs; the
//! message itself is complete without it, because it ends up in a status condition where no
//! source chain is printed.
//!
//! No variant holds a client secret or a token. Text that comes from the provider (an OAuth
//! `error_description`) passes through [`sanitize_provider_text`], which also strips the secret
//! should a provider echo it back.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The provider URL a request went to. Decides the reason of transport failures: a JWKS that
/// cannot be fetched after a successful discovery is `JwksUnreachable`, not `Unreachable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The discovery document (`.well-known/openid-configuration` or the configured URL).
    Discovery,
    /// The JSON Web Key Set (`jwks_uri`, or the configured JWKS URL).
    Jwks,
    /// The token endpoint (client-credentials grant).
    Token,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Discovery => "discovery endpoint",
            Endpoint::Jwks => "JWKS endpoint",
            Endpoint::Token => "token endpoint",
        })
    }
}

/// What went wrong below HTTP, found by walking the error's source chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No TCP connection: refused, reset, DNS failure, host unreachable, connection closed.
    Connect,
    /// The TLS handshake failed: unknown CA, wrong host name, expired certificate, or TLS spoken
    /// to a plain HTTP server.
    Tls,
    /// Connect or request timeout.
    Timeout,
    /// A redirect that was not followed (to another scheme, host or port, or too many hops).
    Redirect,
    /// The response body is larger than the check accepts.
    TooLarge,
    /// Anything else (a malformed response, a protocol error).
    Other,
}

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

    /// The provider advertises `scopes_supported` and some configured scopes are not in it.
    #[error(
        "the provider does not offer scope(s) {missing:?} (its scopes_supported: {supported:?})"
    )]
    UnsupportedScopes {
        /// Configured scopes the provider does not list.
        missing: Vec<String>,
        /// The provider's `scopes_supported`.
        supported: Vec<String>,
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

    /// The discovery document has no token endpoint, so credentials cannot be checked.
    #[error(
        "the discovery document at {url} has no token_endpoint, so the client credentials cannot be checked"
    )]
    NoTokenEndpoint {
        /// The discovery URL.
        url: String,
    },

    /// The token endpoint rejected the client's credentials (`invalid_client`).
    #[error(
        "the token endpoint {url} rejected client {client_id:?} with invalid_client{}: the client id or secret is wrong, \
         or the client is not registered for {auth_method}",
        describe(description)
    )]
    InvalidClient {
        /// The token endpoint.
        url: String,
        /// The client id (not a secret).
        client_id: String,
        /// How the client authenticated (`client_secret_basic` or `client_secret_post`).
        auth_method: &'static str,
        /// The provider's `error_description`, sanitised.
        description: Option<String>,
    },

    /// The client authenticated but may not use the client-credentials grant.
    #[error(
        "the token endpoint {url} refused the client_credentials grant for client {client_id:?} ({error}{}); \
         the credentials may be right, but the client is not allowed this grant",
        describe(description)
    )]
    UnauthorizedClient {
        /// The token endpoint.
        url: String,
        /// The client id.
        client_id: String,
        /// The OAuth error code (`unauthorized_client` or `unsupported_grant_type`).
        error: String,
        /// The provider's `error_description`, sanitised.
        description: Option<String>,
    },

    /// Any other failure of the token request.
    #[error("the token endpoint {url} did not issue a token: {problem}")]
    TokenEndpointError {
        /// The token endpoint.
        url: String,
        /// What happened (an OAuth error code and description, or why the response is unusable).
        problem: String,
    },
}

impl CheckError {
    /// The condition reason: CamelCase, stable, low-cardinality (usable as a metric label).
    pub fn reason(&self) -> &'static str {
        match self {
            CheckError::InvalidUrl { .. } => "InvalidUrl",
            CheckError::InvalidRequest { .. } => "InvalidRequest",
            CheckError::InvalidCaBundle { .. } => "InvalidCaBundle",
            CheckError::TlsSetup { .. } => "TlsError",
            CheckError::Transport {
                endpoint: Endpoint::Jwks,
                ..
            } => "JwksUnreachable",
            CheckError::Transport { kind, .. } => match kind {
                TransportKind::Connect | TransportKind::Other => "Unreachable",
                TransportKind::Tls => "TlsError",
                TransportKind::Timeout => "Timeout",
                TransportKind::Redirect => "RedirectNotFollowed",
                TransportKind::TooLarge => "ResponseTooLarge",
            },
            CheckError::HttpStatus { endpoint, .. } => match endpoint {
                Endpoint::Discovery => "HttpStatus",
                Endpoint::Jwks => "JwksUnreachable",
                Endpoint::Token => "TokenEndpointError",
            },
            CheckError::InvalidDiscoveryDocument { .. } => "InvalidDiscoveryDocument",
            CheckError::IssuerMismatch { .. } => "IssuerMismatch",
            CheckError::InvalidJwks { .. } => "InvalidJwks",
            CheckError::JwksEmpty { .. } => "JwksEmpty",
            CheckError::UnsupportedScopes { .. } => "UnsupportedScopes",
            CheckError::UnsupportedResponseType { .. } => "UnsupportedResponseType",
            CheckError::NoTokenEndpoint { .. } => "NoTokenEndpoint",
            CheckError::InvalidClient { .. } => "InvalidClient",
            CheckError::UnauthorizedClient { .. } => "UnauthorizedClient",
            CheckError::TokenEndpointError { .. } => "TokenEndpointError",
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
            _ => false,
        }
    }

    /// Builds a transport error from the HTTP adapter's error, classifying it by its source chain.
    pub(crate) fn transport(
        endpoint: Endpoint,
        url: &str,
        err: super::http::HttpError,
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

fn transport_message(
    endpoint: Endpoint,
    url: &str,
    kind: TransportKind,
    detail: &str,
    timeout: Option<Duration>,
) -> String {
    match kind {
        TransportKind::Connect | TransportKind::Other => {
            format!("cannot reach the {endpoint} {url}: {detail}")
        }
        TransportKind::Tls => {
            let hint = if detail.contains("UnknownIssuer") {
                " (the certificate's issuer is not in the trusted roots: set the provider's CA bundle)"
            } else if detail.contains("NotValidForName") {
                " (the certificate does not name this host)"
            } else {
                ""
            };
            format!("TLS handshake with the {endpoint} {url} failed: {detail}{hint}")
        }
        TransportKind::Timeout => match timeout {
            Some(t) => format!(
                "the {endpoint} {url} did not answer within {}s: {detail}",
                t.as_secs_f32()
            ),
            None => format!("the {endpoint} {url} did not answer in time: {detail}"),
        },
        TransportKind::Redirect => format!(
            "the {endpoint} {url} redirected ({detail}), which was not followed: only a few redirects within \
             the same scheme, host and port are; configure the final URL instead"
        ),
        TransportKind::TooLarge => {
            format!("the response from the {endpoint} {url} is too large: {detail}")
        }
    }
}

fn expected_body(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Discovery => "the discovery document",
        Endpoint::Jwks => "the JSON Web Key Set",
        Endpoint::Token => "a token response",
    }
}

fn issuer_hint(expected: &str, found: &str) -> &'static str {
    if expected.trim_end_matches('/') == found.trim_end_matches('/') {
        " (they differ only by a trailing slash; the issuer must match exactly, as in the tokens' iss claim)"
    } else {
        ""
    }
}

fn describe(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(": {d}"),
        _ => String::new(),
    }
}

/// Makes provider-supplied text safe for a status message: drops control characters, caps the
/// length, and replaces any occurrence of the secret (should a provider echo the request back).
pub(crate) fn sanitize_provider_text(text: &str, secret: Option<&str>) -> String {
    const MAX: usize = 200;
    let mut clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        clean = clean.replace(secret, "<redacted>");
    }
    if clean.chars().count() > MAX {
        clean = clean.chars().take(MAX).collect::<String>() + "…";
    }
    clean
}

/// Classifies a transport failure by walking its source chain, and returns the most specific
/// message found.
///
/// `std::io::Error::source()` skips the error it wraps (it returns the *inner error's* source),
/// and hyper-rustls reports handshake failures as an `io::Error` wrapping a `rustls::Error`, so
/// the walk looks inside `io::Error`s explicitly; otherwise a TLS failure would look like a
/// generic connection error.
pub(crate) fn classify(err: &(dyn StdError + 'static)) -> (TransportKind, String) {
    let mut kind = None;
    let mut innermost = err.to_string();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        innermost = e.to_string();
        if let Some(http) = e.downcast_ref::<super::http::HttpError>() {
            match http {
                super::http::HttpError::Redirect { .. } => {
                    return (TransportKind::Redirect, http.to_string());
                }
                super::http::HttpError::TooLarge { .. } => {
                    return (TransportKind::TooLarge, http.to_string());
                }
                _ => {}
            }
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return (TransportKind::Tls, tls.to_string());
        }
        if let Some(req) = e.downcast_ref::<reqwest::Error>()
            && req.is_timeout()
        {
            kind = Some(TransportKind::Timeout);
        }
        let mut next = e.source();
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return (TransportKind::Tls, tls.to_string());
                }
                let inner: &(dyn StdError + 'static) = inner;
                next = Some(inner);
            }
            use std::io::ErrorKind as K;
            match io.kind() {
                K::TimedOut => kind = Some(TransportKind::Timeout),
                K::ConnectionRefused
                | K::ConnectionReset
                | K::ConnectionAborted
                | K::NotConnected
                | K::AddrNotAvailable
                | K::HostUnreachable
                | K::NetworkUnreachable
                | K::UnexpectedEof => {
                    kind.get_or_insert(TransportKind::Connect);
                }
                _ => {}
            }
        }
        current = next;
    }
    if kind.is_none()
        && let Some(req) = err.downcast_ref::<reqwest::Error>()
        && req.is_connect()
    {
        kind = Some(TransportKind::Connect);
    }
    if kind.is_none() && chain_mentions(err, &["connection closed", "dns error", "connect"]) {
        kind = Some(TransportKind::Connect);
    }
    (kind.unwrap_or(TransportKind::Other), innermost)
}

fn chain_mentions(err: &(dyn StdError + 'static), needles: &[&str]) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string().to_lowercase();
        if needles.iter().any(|n| text.contains(n)) {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn tls_error_inside_io_error_is_found() {
        let rustls_err = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_err);
        let (kind, detail) = classify(&Outer(io));
        assert_eq!(kind, TransportKind::Tls);
        assert!(detail.contains("UnknownIssuer"), "{detail}");
    }

    #[test]
    fn refused_connection_is_connect() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let (kind, _) = classify(&Outer(io));
        assert_eq!(kind, TransportKind::Connect);
    }

    #[test]
    fn timed_out_io_is_timeout() {
        let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(classify(&Outer(io)).0, TransportKind::Timeout);
    }

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
    fn issuer_mismatch_names_both_values_and_hints_at_trailing_slash() {
        let err = CheckError::IssuerMismatch {
            url: "https://idp/.well-known/openid-configuration".into(),
            expected: "https://idp/realms/a".into(),
            found: "https://idp/realms/a/".into(),
        };
        let msg = err.to_string();
        assert!(
            msg.contains("\"https://idp/realms/a\"") && msg.contains("\"https://idp/realms/a/\""),
            "{msg}"
        );
        assert!(msg.contains("trailing slash"), "{msg}");
        assert_eq!(err.reason(), "IssuerMismatch");
    }

    #[test]
    fn provider_text_is_sanitized() {
        let text = "bad secret s3cr3t\nsent";
        let clean = sanitize_provider_text(text, Some("s3cr3t"));
        assert_eq!(clean, "bad secret <redacted>sent");
        assert!(
            sanitize_provider_text(&"x".repeat(500), None)
                .chars()
                .count()
                <= 201
        );
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
