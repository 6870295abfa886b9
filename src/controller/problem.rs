//! Configuration problems: what only a change by the user, or another object appearing, can fix.
//! One type for every step that can find one, so each maps the same way to the kstatus
//! conditions, the Warning Event and the failure metric.

pub(super) use crate::problem::ProblemReason;
use crate::validate::ValidationErrors;

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
        Self::new(errors.reason(), errors.summary())
    }
}
