//! Configuration problems: what only a change by the user, or another object appearing, can fix.
//! One enum for every step that can find one (validation, the keys, the Secret names, the target
//! ownership), so each maps the same way to the kstatus conditions, the Warning Event and the
//! failure metric. What each means is documented once, on the [`Reason`] it is reported as.

use crate::reasons::Reason;

/// Why a configuration cannot be reconciled (a subset of the [`Reason`] vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemReason {
    /// [`Reason::InvalidSpec`].
    InvalidSpec,
    /// [`Reason::InsecureUrl`].
    InsecureUrl,
    /// [`Reason::CredentialsSecretNotFound`].
    CredentialsSecretNotFound,
    /// [`Reason::InvalidCredentials`].
    InvalidCredentials,
    /// [`Reason::ReferenceNotFound`].
    ReferenceNotFound,
    /// [`Reason::InvalidReference`].
    InvalidReference,
    /// [`Reason::InvalidKey`].
    InvalidKey,
    /// [`Reason::SecretNameConflict`].
    SecretNameConflict,
    /// [`Reason::TargetConflict`].
    TargetConflict,
}

impl ProblemReason {
    /// The reason it is reported as.
    pub fn reason(self) -> Reason {
        match self {
            ProblemReason::InvalidSpec => Reason::InvalidSpec,
            ProblemReason::InsecureUrl => Reason::InsecureUrl,
            ProblemReason::CredentialsSecretNotFound => Reason::CredentialsSecretNotFound,
            ProblemReason::InvalidCredentials => Reason::InvalidCredentials,
            ProblemReason::ReferenceNotFound => Reason::ReferenceNotFound,
            ProblemReason::InvalidReference => Reason::InvalidReference,
            ProblemReason::InvalidKey => Reason::InvalidKey,
            ProblemReason::SecretNameConflict => Reason::SecretNameConflict,
            ProblemReason::TargetConflict => Reason::TargetConflict,
        }
    }

    /// The CamelCase string, for conditions, Events and metric labels.
    pub fn as_str(self) -> &'static str {
        self.reason().as_str()
    }

    /// Whether it resolves once another object appears, without any edit of the resource: kstatus
    /// then calls the resource in progress (Reconciling), not stalled. A credentials Secret
    /// applied a moment after the resource is the usual GitOps order.
    pub fn waits_for_another_object(self) -> bool {
        matches!(
            self,
            ProblemReason::CredentialsSecretNotFound | ProblemReason::ReferenceNotFound
        )
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
            ProblemReason::TargetConflict,
        ] {
            assert!(!r.waits_for_another_object(), "{r:?}");
        }
    }

    #[test]
    fn each_problem_keeps_its_variant_name_as_its_reason() {
        for r in [
            ProblemReason::InvalidSpec,
            ProblemReason::InsecureUrl,
            ProblemReason::CredentialsSecretNotFound,
            ProblemReason::InvalidCredentials,
            ProblemReason::ReferenceNotFound,
            ProblemReason::InvalidReference,
            ProblemReason::InvalidKey,
            ProblemReason::SecretNameConflict,
            ProblemReason::TargetConflict,
        ] {
            assert_eq!(format!("{r:?}"), r.as_str());
        }
    }
}
