//! OIDC provider verification: before the operator rolls OpenMetadata onto a configuration, it
//! checks that the provider the configuration names really works.
//!
//! What is checked (with the `openidconnect` crate's types, over reqwest + rustls):
//! - the discovery document (`<issuer>/.well-known/openid-configuration`, or a configured URL)
//!   is served, parses as OpenID Connect discovery metadata, and its `issuer` equals the
//!   configured issuer exactly (tokens carry that string in `iss`, and the server compares it);
//! - the JWKS is served and holds at least one key that can verify the algorithms the server
//!   accepts (otherwise no login can ever be validated);
//! - every endpoint the document names is https (unless plain http is allowed);
//! - the response type is offered; scopes missing from `scopes_supported` are reported, not failed
//!   (the list is optional and often partial);
//! - the client secret, where an endpoint can prove it (`credentials`: introspection, revocation,
//!   the token endpoint, each compared with a deliberately wrong secret), which tells a wrong
//!   secret (`InvalidClient`) apart from an unreachable provider and from "cannot tell";
//! - the login request at the authorization endpoint (`login`): an unregistered callback URL or
//!   client id is caught before a user meets it.
//!
//! They feed `ProviderVerified`, `CredentialsValid` and `LoginAccepted`; [`CheckOutcome`] keeps
//! them apart. Failures are [`CheckError`]s with a stable [`CheckError::reason`] and a
//! message that names the URL fetched and what was expected, and never a secret or token.
//!
//! Transport rules: trust roots are exactly what [`Trust`] says (system roots, a CA bundle, or
//! both); connect and request timeouts are enforced per request; redirects are followed only
//! within the same scheme, host and port (at most five), never to another origin.
//!
//! [`ProviderChecker`] caches results with a TTL (failures with a shorter one) and coalesces
//! concurrent checks of one provider into one fetch, so many resources that use one provider
//! cost one discovery + JWKS fetch per TTL.

// Inputs and outputs (leaves: they depend on nothing else here).
mod kinds;
mod outcome;
mod policy;
mod request;
mod urls;
// Transport and failures: kinds ← message ← error; transport ← classify ← error.
mod classify;
mod error;
mod message;
mod transport;
// The checks: fetch, then judge.
mod credentials;
mod discovery;
mod evaluate;
mod keys;
mod login;
mod probe;
// Sharing results: the checker uses everything above.
mod cache_key;
mod checker;
mod singleflight;
mod stats;
#[cfg(test)]
mod testutil;

/// How provider text names the client secret it echoed (cut out, never shown).
pub const SECRET_PLACEHOLDER: &str = "<client secret>";
/// How provider text names the client id it echoed: the checks' outcomes are cached and shared
/// between resources, and the id may have been read from a Secret, so the checks cut it out
/// everywhere; the resource's own status then names where its id is read from.
pub const CLIENT_ID_PLACEHOLDER: &str = "<client id>";

pub use checker::{CheckerConfig, ProviderChecker};
pub use error::CheckError;
pub use evaluate::{ProviderReport, ScopeSupport};
pub use kinds::{Endpoint, TransportKind};
pub use outcome::{CheckOutcome, CredentialsOutcome, LoginOutcome, SkipReason};
pub use policy::{AddressPolicy, Network, Refusal};
pub use request::{
    CheckRequest, ClientCredentials, CredentialsMethod, GrantParams, LoginRequest, TokenAuthMethod,
};
pub use stats::CheckerStats;
pub use transport::{MAX_RESPONSE_BYTES, Timeouts, Trust};
