//! Plain classifications shared by the checks, their transport and their messages.

use std::fmt;

/// The provider URL a request went to. Decides the reason of transport failures: a JWKS that
/// cannot be fetched after a successful discovery is `JwksUnreachable`, not `Unreachable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The discovery document (`.well-known/openid-configuration` or the configured URL).
    Discovery,
    /// The JSON Web Key Set (`jwks_uri`, or the configured JWKS URL).
    Jwks,
    /// The token endpoint.
    Token,
    /// The introspection endpoint (RFC 7662).
    Introspection,
    /// The revocation endpoint (RFC 7009).
    Revocation,
    /// The authorization endpoint (the login).
    Authorization,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Discovery => "discovery endpoint",
            Endpoint::Jwks => "JWKS endpoint",
            Endpoint::Token => "token endpoint",
            Endpoint::Introspection => "introspection endpoint",
            Endpoint::Revocation => "revocation endpoint",
            Endpoint::Authorization => "authorization endpoint",
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
    /// The operator's address policy refuses the address (no connection was made).
    Refused,
    /// Anything else (a malformed response, a protocol error).
    Other,
}

/// What multi-tenant Entra ID documents (`/common`, `/organizations`) put in place of the tenant.
pub(crate) const TENANT_PLACEHOLDER: &str = "{tenantid}";
