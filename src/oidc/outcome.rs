//! What a check returns: the provider result and the credentials result separately, because
//! they feed two conditions (`ProviderVerified`, `CredentialsValid`) that fail for different
//! reasons and are fixed by different people (the provider's admin, the Secret's owner).

use super::error::CheckError;
use super::evaluate::ProviderReport;

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

impl CheckOutcome {
    /// The outcome of a check whose background task ended without one (it panicked).
    pub(crate) fn interrupted() -> Self {
        Self {
            provider: Err(CheckError::Interrupted),
            credentials: CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable),
            cached: false,
        }
    }
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
