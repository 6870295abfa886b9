//! Names the spec gives: object names and data keys (checked again here for the offline preview,
//! which never met the schema), and the owned Secrets' names, which must differ from each other
//! and from every Secret the spec reads.

use super::{OutputNames, ProblemReason, ValidationError};
use crate::crd::{MAX_NAME_LENGTH, OidcSsoConfigSpec};
use crate::references::{DataKind, References};

/// Whether `name` is a Kubernetes object name (an RFC 1123 subdomain).
pub(crate) fn is_object_name(name: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    !name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok)
}

/// Whether `key` may be a key of a Secret's or ConfigMap's data.
pub(crate) fn is_data_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// The resource's own name: short enough for the label the owned Secrets carry.
pub(super) fn resource_name(name: &str, errors: &mut Vec<ValidationError>) {
    if name.len() > MAX_NAME_LENGTH {
        errors.push(ValidationError::new(
            "metadata.name",
            ProblemReason::InvalidSpec,
            format!(
                "is {} characters long; at most {MAX_NAME_LENGTH} (it is a label value on the Secrets the operator writes)",
                name.len()
            ),
        ));
    }
}

/// Every object name and data key the spec references.
pub(super) fn referenced(spec: &OidcSsoConfigSpec, errors: &mut Vec<ValidationError>) {
    let mut name = |field: &str, value: &str| {
        if !is_object_name(value) {
            errors.push(ValidationError::new(
                field,
                ProblemReason::InvalidSpec,
                format!("{value:?} is not a Kubernetes object name (lowercase letters, digits, '-' and '.')"),
            ));
        }
    };
    let p = &spec.provider;
    if let Some(r) = &p.credentials_secret_ref {
        name("spec.provider.credentialsSecretRef.name", &r.name);
    }
    if let Some(c) = &p.ca_bundle {
        if let Some(r) = &c.config_map_ref {
            name("spec.provider.caBundle.configMapRef.name", &r.name);
        }
        if let Some(r) = &c.secret_ref {
            name("spec.provider.caBundle.secretRef.name", &r.name);
        }
    }
    if let Some(r) = spec
        .ingestion
        .as_ref()
        .and_then(|i| i.bot_token_secret_ref.as_ref())
    {
        name("spec.ingestion.botTokenSecretRef.name", &r.name);
    }
    if let Some(r) = spec.jwt.as_ref().and_then(|j| j.key_secret_ref.as_ref()) {
        name("spec.jwt.keySecretRef.name", &r.name);
    }
    for (i, t) in spec.targets.iter().enumerate() {
        name(&format!("spec.targets[{i}].name"), &t.name);
    }
    let mut key = |field: &str, value: Option<&String>| {
        if let Some(value) = value.filter(|k| !is_data_key(k)) {
            errors.push(ValidationError::new(
                field,
                ProblemReason::InvalidSpec,
                format!("{value:?} is not a data key (letters, digits, '-', '_' and '.')"),
            ));
        }
    };
    if let Some(r) = &p.credentials_secret_ref {
        key(
            "spec.provider.credentialsSecretRef.clientIdKey",
            r.client_id_key.as_ref(),
        );
        key(
            "spec.provider.credentialsSecretRef.clientSecretKey",
            r.client_secret_key.as_ref(),
        );
        key(
            "spec.provider.credentialsSecretRef.jsonKey",
            r.json_key.as_ref(),
        );
    }
}

/// The owned Secrets' names: valid, three different ones, and none of them a Secret the spec
/// reads (writing it would replace the user's data, or the operator's own input, on every
/// reconcile).
pub(super) fn outputs(
    spec: &OidcSsoConfigSpec,
    names: &OutputNames,
    errors: &mut Vec<ValidationError>,
) {
    let outputs = [
        ("spec.output.authEnvSecretName", &names.auth_env),
        ("spec.output.jwtKeysSecretName", &names.jwt_keys),
        ("spec.output.ingestionSecretName", &names.ingestion),
    ];
    for (i, (field, name)) in outputs.iter().enumerate() {
        if !is_object_name(name) {
            errors.push(ValidationError::new(
                *field,
                ProblemReason::InvalidSpec,
                format!("{name:?} is not a Kubernetes object name"),
            ));
        }
        if let Some((other, _)) = outputs[..i].iter().find(|(_, n)| n == name) {
            errors.push(ValidationError::new(
                *field,
                ProblemReason::InvalidSpec,
                format!("{name:?} is also {other}; each owned Secret needs its own name"),
            ));
        }
    }
    let references = References::of(spec);
    for (field, name) in outputs {
        if references.reads(DataKind::Secret, name) {
            errors.push(ValidationError::new(
                field,
                ProblemReason::InvalidSpec,
                format!("{name:?} is a Secret this resource reads; the operator's output needs its own name"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_rfc_1123_subdomains() {
        for ok in ["om", "om-oidc-client", "a.b-c.d", "0x"] {
            assert!(is_object_name(ok), "{ok}");
        }
        for bad in [
            "",
            "?",
            "om/status",
            "Om",
            "-om",
            "om-",
            "a..b",
            &"a".repeat(254),
        ] {
            assert!(!is_object_name(bad), "{bad}");
        }
    }

    #[test]
    fn data_keys_allow_dots_and_underscores_but_no_slashes() {
        assert!(is_data_key("credentials.json"));
        assert!(is_data_key("client_secret-2"));
        assert!(!is_data_key("a/b"));
        assert!(!is_data_key(""));
    }
}
