//! What a check returns: the provider, the credentials and the login results separately, because
//! they feed three conditions (`ProviderVerified`, `CredentialsValid`, `LoginAccepted`) that fail
//! for different reasons and are fixed by different people (the provider's admin, the Secret's
//! owner, whoever registers the client).

use super::error::CheckError;
use super::evaluate::ProviderReport;
use crate::reasons::Reason;

/// The result of one check: the condition inputs, separately.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// Discovery, issuer, endpoints, JWKS, scopes and response type: `ProviderVerified`.
    pub provider: Result<ProviderReport, CheckError>,
    /// The client secret: `CredentialsValid`.
    pub credentials: CredentialsOutcome,
    /// The login request at the authorization endpoint: `LoginAccepted`.
    pub login: LoginOutcome,
    /// Whether the provider documents came from the cache rather than a fetch by this call.
    pub cached: bool,
}

/// What the credentials check established.
#[derive(Clone, Debug)]
pub enum CredentialsOutcome {
    /// The provider accepted the secret (and, where that alone proves nothing, rejected a wrong
    /// one).
    Valid {
        /// Which endpoint proved it, and how.
        proof: String,
    },
    /// The check was not attempted.
    Skipped(SkipReason),
    /// The secret is wrong (`InvalidClient`), or the provider could not answer (a transport
    /// reason, `TokenEndpointError`).
    Failed(CheckError),
    /// No endpoint could tell a right secret from a wrong one (grants refused, endpoints that
    /// authenticate no one); not a failure.
    Inconclusive {
        /// What each endpoint answered and what to change.
        message: String,
    },
}

/// What the login-redirect check established.
#[derive(Clone, Debug)]
pub enum LoginOutcome {
    /// The provider would show its login page.
    Accepted {
        /// How it answered.
        how: String,
    },
    /// The provider refused the login (`NotRegistered`, `LoginRefused`).
    Refused(CheckError),
    /// The answer tells nothing (the endpoint is down, an unexpected status); not a failure.
    Inconclusive(CheckError),
    /// The check was not attempted.
    Skipped(SkipReason),
}

impl CheckOutcome {
    /// The outcome of a check whose background task ended without one (it panicked).
    pub(crate) fn interrupted() -> Self {
        Self {
            provider: Err(CheckError::Interrupted),
            credentials: CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable),
            login: LoginOutcome::Skipped(SkipReason::ProviderUnavailable),
            cached: false,
        }
    }
}

impl CredentialsOutcome {
    /// A condition reason: `Valid`, `Inconclusive`, `NotRequested`, `ProviderUnavailable`, or
    /// the error's reason.
    pub fn reason(&self) -> Reason {
        match self {
            CredentialsOutcome::Valid { .. } => Reason::Valid,
            CredentialsOutcome::Inconclusive { .. } => Reason::Inconclusive,
            CredentialsOutcome::Skipped(reason) => reason.reason(),
            CredentialsOutcome::Failed(e) => e.reason(),
        }
    }
}

impl LoginOutcome {
    /// A condition reason: `Accepted`, the refusal's or the inconclusive error's reason, or why
    /// it was skipped.
    pub fn reason(&self) -> Reason {
        match self {
            LoginOutcome::Accepted { .. } => Reason::Accepted,
            LoginOutcome::Refused(e) | LoginOutcome::Inconclusive(e) => e.reason(),
            LoginOutcome::Skipped(reason) => reason.reason(),
        }
    }
}

/// Why a check was not attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The request does not ask for it.
    NotRequested,
    /// The discovery document could not be obtained, so there is no endpoint to ask.
    ProviderUnavailable,
}

impl SkipReason {
    /// The condition reason.
    pub fn reason(self) -> Reason {
        match self {
            SkipReason::NotRequested => Reason::NotRequested,
            SkipReason::ProviderUnavailable => Reason::ProviderUnavailable,
        }
    }
}
