//! User-facing validation errors: each names the field, carries a stable CamelCase reason (used
//! for the condition reason and the failure metric label) and never a secret value.

/// Why a spec or its inputs were rejected. Bounded set: used as condition reason and metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A value has the wrong form (bad URL, unknown enum value, bad duration).
    InvalidSpec,
    /// A provider URL is not https and `allowInsecureHttp` is not set.
    InsecureUrl,
    /// The credentials Secret does not exist.
    CredentialsSecretNotFound,
    /// The credentials Secret exists but lacks a key or holds an unusable value.
    InvalidCredentials,
    /// A referenced Secret or ConfigMap other than the credentials does not exist.
    ReferenceNotFound,
    /// A referenced Secret or ConfigMap lacks the key or holds an unusable value.
    InvalidReference,
}

impl Reason {
    /// The CamelCase name, for conditions, Events and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidSpec => "InvalidSpec",
            Reason::InsecureUrl => "InsecureUrl",
            Reason::CredentialsSecretNotFound => "CredentialsSecretNotFound",
            Reason::InvalidCredentials => "InvalidCredentials",
            Reason::ReferenceNotFound => "ReferenceNotFound",
            Reason::InvalidReference => "InvalidReference",
        }
    }

    /// Whether fixing it needs only another object to appear (so the controller should keep
    /// watching rather than call the resource stalled).
    pub fn awaits_other_object(self) -> bool {
        matches!(
            self,
            Reason::CredentialsSecretNotFound | Reason::ReferenceNotFound
        )
    }
}

/// One problem, tied to a field of the spec.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// Path of the field, for example `spec.provider.issuer`.
    pub field: String,
    /// Stable reason.
    pub reason: Reason,
    /// What is wrong and how to fix it. Never a secret value.
    pub message: String,
}

impl ValidationError {
    pub(crate) fn new(
        field: impl Into<String>,
        reason: Reason,
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
    pub fn reason(&self) -> Reason {
        self.0.first().map_or(Reason::InvalidSpec, |e| e.reason)
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
