//! URL and reference checks shared by the validate steps.

pub(super) use crate::urls::{join, well_known};

use super::*;

pub(super) fn referenced_key(
    field: &str,
    kind: &str,
    key_ref: &crate::crd::KeyRef,
    data: &ObjectData,
    errors: &mut Vec<ValidationError>,
) -> Option<Vec<u8>> {
    let Some(data) = data else {
        errors.push(ValidationError::new(
            format!("{field}.name"),
            ProblemReason::ReferenceNotFound,
            format!("{kind} {:?} was not found in this namespace", key_ref.name),
        ));
        return None;
    };
    let value = data.get(&key_ref.key).cloned();
    if value.is_none() {
        errors.push(ValidationError::new(
            format!("{field}.key"),
            ProblemReason::InvalidReference,
            format!("{kind} {:?} has no key {:?}", key_ref.name, key_ref.key),
        ));
    }
    value
}

/// An absolute http(s) URL without credentials or fragment, returned as written.
pub(super) fn url(field: &str, text: &str, errors: &mut Vec<ValidationError>) -> Option<String> {
    match crate::urls::http_url(text) {
        Ok(_) => Some(text.to_string()),
        Err(problem) => {
            errors.push(ValidationError::new(
                field,
                ProblemReason::InvalidSpec,
                format!("{:?} {problem}", crate::urls::redacted(text)),
            ));
            None
        }
    }
}

/// A URL the server or the operator fetches keys or metadata from: https unless allowed.
pub(super) fn provider_url(
    field: &str,
    text: &str,
    insecure_ok: bool,
    errors: &mut Vec<ValidationError>,
) -> Option<String> {
    let u = url(field, text, errors)?;
    if !u.starts_with("https://") && !insecure_ok {
        errors.push(ValidationError::new(
            field,
            ProblemReason::InsecureUrl,
            format!("{text:?} is not https; set spec.provider.allowInsecureHttp: true only for a test provider"),
        ));
        return None;
    }
    Some(u)
}
