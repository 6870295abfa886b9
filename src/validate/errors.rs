//! User-facing validation errors: each names the field, carries a stable CamelCase reason (used
//! for the condition reason and the failure metric label) and never a secret value.

pub use crate::problem::ProblemReason;

/// One problem, tied to a field of the spec.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// Path of the field, for example `spec.provider.issuer`.
    pub field: String,
    /// Stable reason.
    pub reason: ProblemReason,
    /// What is wrong and how to fix it. Never a secret value.
    pub message: String,
}

impl ValidationError {
    pub(crate) fn new(
        field: impl Into<String>,
        reason: ProblemReason,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }
}

/// Every problem found, in spec order. Never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.summary())]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// The reason of the first problem: what a condition shows.
    pub fn reason(&self) -> ProblemReason {
        self.0
            .first()
            .map_or(ProblemReason::InvalidSpec, |e| e.reason)
    }

    /// All problems on one line, `; `-separated, for a condition message.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}
