//! Configuration problems: what only a change by the user, or another object appearing, can fix.
//! One type for every step that can find one, so each maps the same way to the kstatus
//! conditions, the Warning Event and the failure metric.

use crate::validate::{self, ValidationErrors};

/// Why a configuration cannot be reconciled. Bounded: used as condition reason, Event reason and
/// metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum ProblemReason {
    /// A value has the wrong form.
    InvalidSpec,
    /// A provider URL is not https and `allowInsecureHttp` is not set.
    InsecureUrl,
    /// The credentials Secret does not exist (yet).
    CredentialsSecretNotFound,
    /// The credentials Secret lacks a key or holds an unusable value.
    InvalidCredentials,
    /// Another referenced Secret or ConfigMap does not exist (yet).
    ReferenceNotFound,
    /// A referenced Secret or ConfigMap lacks the key or holds an unusable value.
    InvalidReference,
    /// The key in `spec.jwt.keySecretRef` is unusable.
    InvalidKey,
    /// An output name is taken by a Secret this resource does not own.
    SecretNameConflict,
    /// A target is rolled by an older resource.
    TargetConflict,
}

impl ProblemReason {
    /// The CamelCase reason.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ProblemReason::InvalidSpec => "InvalidSpec",
            ProblemReason::InsecureUrl => "InsecureUrl",
            ProblemReason::CredentialsSecretNotFound => "CredentialsSecretNotFound",
            ProblemReason::InvalidCredentials => "InvalidCredentials",
            ProblemReason::ReferenceNotFound => "ReferenceNotFound",
            ProblemReason::InvalidReference => "InvalidReference",
            ProblemReason::InvalidKey => "InvalidKey",
            ProblemReason::SecretNameConflict => "SecretNameConflict",
            ProblemReason::TargetConflict => "TargetConflict",
        }
    }

    /// Whether it resolves once another object appears, without any edit of the resource: kstatus
    /// then calls the resource in progress (Reconciling), not stalled. A credentials Secret
    /// applied a moment after the resource is the usual GitOps order.
    pub(super) fn waits_for_another_object(self) -> bool {
        matches!(
            self,
            ProblemReason::CredentialsSecretNotFound | ProblemReason::ReferenceNotFound
        )
    }
}

impl From<validate::Reason> for ProblemReason {
    fn from(r: validate::Reason) -> Self {
        match r {
            validate::Reason::InvalidSpec => ProblemReason::InvalidSpec,
            validate::Reason::InsecureUrl => ProblemReason::InsecureUrl,
            validate::Reason::CredentialsSecretNotFound => ProblemReason::CredentialsSecretNotFound,
            validate::Reason::InvalidCredentials => ProblemReason::InvalidCredentials,
            validate::Reason::ReferenceNotFound => ProblemReason::ReferenceNotFound,
            validate::Reason::InvalidReference => ProblemReason::InvalidReference,
        }
    }
}

/// A configuration problem with a message that names the field, never a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Problem {
    /// Why.
    pub reason: ProblemReason,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    /// A problem.
    pub(super) fn new(reason: ProblemReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

impl From<ValidationErrors> for Problem {
    fn from(errors: ValidationErrors) -> Self {
        Self::new(errors.reason().into(), errors.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_objects_wait_for_another_object() {
        assert!(ProblemReason::CredentialsSecretNotFound.waits_for_another_object());
        assert!(ProblemReason::ReferenceNotFound.waits_for_another_object());
        for r in [
            ProblemReason::InvalidSpec,
            ProblemReason::InvalidCredentials,
            ProblemReason::SecretNameConflict,
            ProblemReason::InvalidKey,
        ] {
            assert!(!r.waits_for_another_object(), "{r:?}");
        }
    }

    #[test]
    fn validation_reasons_keep_their_names() {
        for r in [
            validate::Reason::InvalidSpec,
            validate::Reason::InsecureUrl,
            validate::Reason::CredentialsSecretNotFound,
            validate::Reason::InvalidCredentials,
            validate::Reason::ReferenceNotFound,
            validate::Reason::InvalidReference,
        ] {
            assert_eq!(ProblemReason::from(r).as_str(), r.as_str());
        }
    }
}
