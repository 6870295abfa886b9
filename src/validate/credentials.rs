//! The OIDC client credentials from the user's Secret: separate keys, or one JSON document in
//! the shapes providers hand out (flat, or nested under `web` / `installed` as Google does).
//!
//! Messages name the Secret and key, never a value; JSON errors report only line and column,
//! because serde_json's messages can quote the offending input.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ObjectData, ProblemReason, ValidationError};
use crate::crd::ProviderSpec;
use crate::sensitive::Sensitive;

const FIELD: &str = "spec.provider.credentialsSecretRef";
const DEFAULT_ID_KEY: &str = "clientId";
const DEFAULT_SECRET_KEY: &str = "clientSecret";

/// The client id and, when the Secret holds one, the client secret.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientCredentials {
    /// The client id (not secret, but only ever rendered into owned Secrets).
    pub client_id: String,
    /// How messages name the client: the id itself when the spec gives it, else where it is
    /// read from. A value read from a Secret is never echoed (a Secret the author cannot read
    /// could otherwise be read through the status).
    pub client_label: String,
    /// Where the client id is read from (`Secret "oidc" (key "clientId")`) when a Secret holds
    /// it: messages name it so wherever a provider echoes the id.
    pub client_id_source: Option<String>,
    /// The client secret.
    pub client_secret: Option<Sensitive<String>>,
}

/// Why the secret is needed, for the message when it is missing; `None` when it is optional.
pub(super) type SecretNeed = Option<&'static str>;

pub(super) fn resolve(
    spec: &ProviderSpec,
    data: &ObjectData,
    need_secret: SecretNeed,
    errors: &mut Vec<ValidationError>,
) -> Option<ClientCredentials> {
    let spec_id = spec.client_id.clone();
    let Some(reference) = &spec.credentials_secret_ref else {
        let Some(client_id) = spec_id else {
            errors.push(ValidationError::new(
                "spec.provider.clientId",
                ProblemReason::InvalidSpec,
                "is required when spec.provider.credentialsSecretRef is not set",
            ));
            return None;
        };
        if let Some(why) = need_secret {
            errors.push(ValidationError::new(
                FIELD,
                ProblemReason::InvalidSpec,
                format!("is required: {why} needs the client secret"),
            ));
        }
        return Some(ClientCredentials {
            client_label: format!("client {client_id:?}"),
            client_id_source: None,
            client_id,
            client_secret: None,
        });
    };
    let name = &reference.name;
    let Some(data) = data else {
        errors.push(ValidationError::new(
            format!("{FIELD}.name"),
            ProblemReason::CredentialsSecretNotFound,
            format!("Secret {name:?} was not found in this namespace"),
        ));
        return None;
    };
    let found = match &reference.json_key {
        Some(key) => from_json_document(name, key, data),
        None => from_keys(reference, data),
    };
    let (secret_id, secret) = match found {
        Ok(found) => found,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let from_secret = spec_id.is_none();
    let client_id = match (spec_id, secret_id) {
        (Some(a), Some(b)) if a != b => {
            errors.push(ValidationError::new(
                "spec.provider.clientId",
                ProblemReason::InvalidCredentials,
                format!("differs from the client id in Secret {name:?}; remove one of them"),
            ));
            return None;
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            let key = reference.client_id_key.as_deref().unwrap_or(DEFAULT_ID_KEY);
            let place = match &reference.json_key {
                Some(k) => format!("the JSON document in key {k:?} has no client_id"),
                None => format!("key {key:?} is missing"),
            };
            errors.push(ValidationError::new(
                FIELD,
                ProblemReason::InvalidCredentials,
                format!("Secret {name:?}: {place} and spec.provider.clientId is not set"),
            ));
            return None;
        }
    };
    if secret.is_none()
        && let Some(why) = need_secret
    {
        let key = reference.json_key.as_deref().map_or_else(
            || {
                format!(
                    "key {:?}",
                    reference
                        .client_secret_key
                        .as_deref()
                        .unwrap_or(DEFAULT_SECRET_KEY)
                )
            },
            |k| format!("the JSON document in key {k:?}"),
        );
        errors.push(ValidationError::new(
            FIELD,
            ProblemReason::InvalidCredentials,
            format!("Secret {name:?} has no client secret ({key}); {why} needs it"),
        ));
        return None;
    }
    let client_id_source = from_secret.then(|| {
        let key = match &reference.json_key {
            Some(k) => k.as_str(),
            None => reference.client_id_key.as_deref().unwrap_or(DEFAULT_ID_KEY),
        };
        format!("Secret {name:?} (key {key:?})")
    });
    let client_label = match &client_id_source {
        Some(source) => format!("the client whose id is in {source}"),
        None => format!("client {client_id:?}"),
    };
    Some(ClientCredentials {
        client_id,
        client_label,
        client_id_source,
        client_secret: secret,
    })
}

type Found = (Option<String>, Option<Sensitive<String>>);

fn from_keys(
    reference: &crate::crd::CredentialsSecretRef,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Found, ValidationError> {
    let name = &reference.name;
    let id_key = reference.client_id_key.as_deref().unwrap_or(DEFAULT_ID_KEY);
    let secret_key = reference
        .client_secret_key
        .as_deref()
        .unwrap_or(DEFAULT_SECRET_KEY);
    // A key named explicitly must exist; the default keys are optional (the id may come from the
    // spec, the secret may not be needed).
    if reference.client_id_key.is_some() && !data.contains_key(id_key) {
        return Err(missing_key(name, id_key, "clientIdKey"));
    }
    if reference.client_secret_key.is_some() && !data.contains_key(secret_key) {
        return Err(missing_key(name, secret_key, "clientSecretKey"));
    }
    let id = data
        .get(id_key)
        .map(|v| text(name, id_key, v))
        .transpose()?;
    let secret = data
        .get(secret_key)
        .map(|v| text(name, secret_key, v))
        .transpose()?;
    if let Some(id) = &id {
        check_client_id(name, id_key, id)?;
    }
    Ok((id, secret.map(Sensitive::new)))
}

fn from_json_document(
    name: &str,
    key: &str,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Found, ValidationError> {
    let bytes = data
        .get(key)
        .ok_or_else(|| missing_key(name, key, "jsonKey"))?;
    let invalid = |what: String| {
        ValidationError::new(
            format!("{FIELD}.jsonKey"),
            ProblemReason::InvalidCredentials,
            format!("Secret {name:?} key {key:?} {what}"),
        )
    };
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!(
            "is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(top) = doc else {
        return Err(invalid("is not a JSON object".into()));
    };
    // Google's downloads nest the client under "web" or "installed"; other providers are flat.
    let client = ["web", "installed"]
        .iter()
        .find_map(|k| top.get(*k).and_then(Value::as_object))
        .unwrap_or(&top);
    let field = |names: [&str; 2]| -> Result<Option<String>, ValidationError> {
        match names.iter().find_map(|n| client.get(*n)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => {
                Err(invalid(format!("has an empty {}", names[0])))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(format!("has a {} that is not a string", names[0]))),
        }
    };
    let id = field(["client_id", "clientId"])?;
    let secret = field(["client_secret", "clientSecret"])?;
    if id.is_none() && secret.is_none() {
        return Err(invalid(recognised_shapes(client)));
    }
    if let Some(id) = &id {
        check_client_id(name, key, id)?;
    }
    Ok((id, secret.map(Sensitive::new)))
}

fn recognised_shapes(client: &Map<String, Value>) -> String {
    let mut keys: Vec<&str> = client.keys().map(String::as_str).take(8).collect();
    keys.sort_unstable();
    format!(
        "has neither client_id nor client_secret (top-level, or under \"web\" or \"installed\"); found keys {keys:?}"
    )
}

fn missing_key(name: &str, key: &str, field: &str) -> ValidationError {
    ValidationError::new(
        format!("{FIELD}.{field}"),
        ProblemReason::InvalidCredentials,
        format!("Secret {name:?} has no key {key:?}"),
    )
}

/// A Secret value as text. A trailing newline (left by `kubectl create secret --from-file` on a
/// file written by an editor) is dropped; any other whitespace is kept as part of the value.
fn text(name: &str, key: &str, bytes: &[u8]) -> Result<String, ValidationError> {
    let s = std::str::from_utf8(bytes).map_err(|_| {
        ValidationError::new(
            FIELD,
            ProblemReason::InvalidCredentials,
            format!("Secret {name:?} key {key:?} is not UTF-8 text"),
        )
    })?;
    let s = s
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(s);
    if s.is_empty() {
        return Err(ValidationError::new(
            FIELD,
            ProblemReason::InvalidCredentials,
            format!("Secret {name:?} key {key:?} is empty"),
        ));
    }
    Ok(s.to_string())
}

fn check_client_id(name: &str, key: &str, id: &str) -> Result<(), ValidationError> {
    if id.chars().any(char::is_control) {
        return Err(ValidationError::new(
            FIELD,
            ProblemReason::InvalidCredentials,
            format!("Secret {name:?} key {key:?}: the client id contains control characters"),
        ));
    }
    Ok(())
}
