//! What a check returns: the provider result and the credentials result separately, because
//! they feed two conditions (`ProviderVerified`, `CredentialsValid`) that fail for different
//! reasons and are fixed by different people (the provider's admin, the Secret's owner).

use std::collections::BTreeMap;

use futures::future::BoxFuture;

use super::cache::ProviderChecker;
use super::error::CheckError;
use super::evaluate::ProviderReport;
use super::request::CheckRequest;

/// The result of one check: the two condition inputs, separately.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// Discovery, issuer, JWKS, scopes and response type: `ProviderVerified`.
    pub provider: Result<ProviderReport, CheckError>,
    /// The client-credentials grant: `CredentialsValid`.
    pub credentials: CredentialsOutcome,
    /// Whether the provider documents came from the cache rather than a fetch by this call.
    pub cached: bool,
}

/// The client-credentials grant result.
#[derive(Clone, Debug)]
pub enum CredentialsOutcome {
    /// The token endpoint issued a token for these credentials.
    Valid,
    /// The grant was not attempted.
    Skipped(SkipReason),
    /// The grant failed: `InvalidClient` (wrong id/secret), `UnauthorizedClient`, a transport
    /// reason (`Unreachable`, `TlsError`, `Timeout`) or `TokenEndpointError`.
    Failed(CheckError),
}

impl CredentialsOutcome {
    /// A condition reason: `Valid`, `NotRequested`, `ProviderUnavailable`, or the error's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            CredentialsOutcome::Valid => "Valid",
            CredentialsOutcome::Skipped(SkipReason::NotRequested) => "NotRequested",
            CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable) => "ProviderUnavailable",
            CredentialsOutcome::Failed(e) => e.reason(),
        }
    }
}

/// Why the grant was not attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The request has no client credentials.
    NotRequested,
    /// The discovery document could not be obtained, so there is no token endpoint to call.
    ProviderUnavailable,
}

/// Counters since the checker was created, for tests and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckerStats {
    /// HTTP requests sent: discovery, JWKS and token requests (a followed same-origin redirect
    /// counts as part of its request).
    pub http_requests: u64,
    /// Discovery documents fetched (attempts, failed ones included).
    pub discovery_fetches: u64,
    /// JWKS fetched (attempts).
    pub jwks_fetches: u64,
    /// Client-credentials grants attempted.
    pub token_requests: u64,
    /// `check` calls answered from cached provider documents.
    pub cache_hits: u64,
    /// `check` calls by provider result reason (`Verified` or the error reason).
    pub provider_results: BTreeMap<&'static str, u64>,
    /// `check` calls by credentials result reason.
    pub credentials_results: BTreeMap<&'static str, u64>,
}

/// The check as the controller calls it, so reconcile tests can substitute a fake provider
/// (house style: the OIDC client sits behind a small trait).
pub trait ProviderVerifier: Send + Sync {
    /// Checks the provider (and credentials) for `req`; see [`ProviderChecker::check`].
    fn verify<'a>(&'a self, req: &'a CheckRequest) -> BoxFuture<'a, CheckOutcome>;
}

impl ProviderVerifier for ProviderChecker {
    fn verify<'a>(&'a self, req: &'a CheckRequest) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(self.check(req))
    }
}
