//! URL and reference checks shared by the validate steps.

use url::Url;

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
            Reason::ReferenceNotFound,
            format!("{kind} {:?} was not found in this namespace", key_ref.name),
        ));
        return None;
    };
    let value = data.get(&key_ref.key).cloned();
    if value.is_none() {
        errors.push(ValidationError::new(
            format!("{field}.key"),
            Reason::InvalidReference,
            format!("{kind} {:?} has no key {:?}", key_ref.name, key_ref.key),
        ));
    }
    value
}

/// An absolute http(s) URL without credentials or fragment, returned as written.
pub(super) fn url(field: &str, text: &str, errors: &mut Vec<ValidationError>) -> Option<String> {
    let parsed = match Url::parse(text) {
        Ok(u) => u,
        Err(e) => {
            errors.push(ValidationError::new(
                field,
                Reason::InvalidSpec,
                format!("{text:?} is not a URL ({e})"),
            ));
            return None;
        }
    };
    let problem = if !matches!(parsed.scheme(), "http" | "https") {
        Some("must use http or https")
    } else if parsed.host_str().is_none_or(str::is_empty) {
        Some("has no host")
    } else if !parsed.username().is_empty() || parsed.password().is_some() {
        Some("must not carry credentials")
    } else if parsed.fragment().is_some() {
        Some("must not have a #fragment")
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.push(ValidationError::new(
            field,
            Reason::InvalidSpec,
            format!("{text:?} {problem}"),
        ));
        return None;
    }
    Some(text.to_string())
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
            Reason::InsecureUrl,
            format!("{text:?} is not https; set spec.provider.allowInsecureHttp: true only for a test provider"),
        ));
        return None;
    }
    Some(u)
}

/// `<issuer>/.well-known/openid-configuration`: the issuer with any trailing slash removed, then
/// the well-known path (OpenID Connect Discovery §4). `Url::join` would instead drop the issuer's
/// last path segment when it has no trailing slash (`/realms/data` → `/realms/.well-known/...`).
pub fn well_known(issuer: &str) -> String {
    join(issuer, ".well-known/openid-configuration")
}

pub(super) fn join(base: &str, tail: &str) -> String {
    format!("{}/{tail}", base.trim_end_matches('/'))
}
