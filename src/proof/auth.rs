//! Does a server pod run the authentication settings we rendered? Read from its unauthenticated
//! `GET /api/v1/system/config/auth`. Pure.
//!
//! The endpoint shows a subset of the pod's `authenticationConfiguration` (openmetadata-server-
//! behaviour.md §3.1): on 1.10 to 2.0.x the in-memory copy of the database row, so a field that
//! differs from the rendered environment is the database copy winning. Which fields it shows
//! depends on the release:
//! - always `provider`, `providerName`, `clientType`, `clientId` (the public client's),
//!   `authority`, `callbackUrl`, `enableSelfSignup`, `jwtPrincipalClaims`,
//!   `jwtPrincipalClaimsMapping`; later releases add `enableAutoRedirect`;
//! - `responseType`, `publicKeyUrls` and `tokenValidationAlgorithm` only with OpenMetadata PR
//!   #31516: before it the endpoint drops them and they serialise as the schema defaults
//!   (`"id_token"`, `[]`, `"RS256"`). The rendered `AUTHENTICATION_PUBLIC_KEYS` is never empty
//!   (it lists the server's own JWKS URL), so an empty `publicKeyUrls` marks a release without the
//!   fix, and the three are then not compared;
//! - never the confidential client (`oidcConfiguration`: its id, secret, discovery URI, callback)
//!   nor the authorizer: the proof cannot see those, and says so.
//!
//! Each expected value is what the server makes of the rendered variable: the template
//! substitutes it textually into `openmetadata.yaml` and the YAML parser reads it, so it is read
//! here as YAML too. Only variables the rendering sets are compared. A difference is named by its
//! field, never its value.

use std::collections::BTreeMap;

use serde_json::Value;

/// Each field the endpoint may show and the variable that sets it in `openmetadata.yaml`.
const FIELDS: [(&str, &str); 13] = [
    ("provider", "AUTHENTICATION_PROVIDER"),
    ("providerName", "CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME"),
    ("clientType", "AUTHENTICATION_CLIENT_TYPE"),
    ("clientId", "AUTHENTICATION_CLIENT_ID"),
    ("authority", "AUTHENTICATION_AUTHORITY"),
    ("callbackUrl", "AUTHENTICATION_CALLBACK_URL"),
    ("enableSelfSignup", "AUTHENTICATION_ENABLE_SELF_SIGNUP"),
    ("jwtPrincipalClaims", "AUTHENTICATION_JWT_PRINCIPAL_CLAIMS"),
    (
        "jwtPrincipalClaimsMapping",
        "AUTHENTICATION_JWT_PRINCIPAL_CLAIMS_MAPPING",
    ),
    ("enableAutoRedirect", "AUTHENTICATION_ENABLE_AUTO_REDIRECT"),
    ("responseType", "AUTHENTICATION_RESPONSE_TYPE"),
    ("publicKeyUrls", "AUTHENTICATION_PUBLIC_KEYS"),
    (
        "tokenValidationAlgorithm",
        "AUTHENTICATION_TOKEN_VALIDATION_ALGORITHM",
    ),
];

/// The fields releases before OpenMetadata PR #31516 drop from the answer.
const DROPPED_BEFORE_31516: [&str; 3] =
    ["responseType", "publicKeyUrls", "tokenValidationAlgorithm"];

/// What the auth endpoint of one pod proves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthProof {
    /// Fields shown and equal to the rendering.
    pub equal: Vec<&'static str>,
    /// Fields shown and different from the rendering (the server runs other settings).
    pub differs: Vec<&'static str>,
    /// Rendered fields this answer does not show (this release drops or never shows them).
    pub not_shown: Vec<&'static str>,
}

impl AuthProof {
    /// Every shown field equals the rendering.
    pub fn holds(&self) -> bool {
        self.differs.is_empty() && !self.equal.is_empty()
    }
}

/// Why an answer proves nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// Not a JSON object.
    #[error("the answer is not a JSON object")]
    NotAnObject,
}

/// Judges the body of a pod's `/api/v1/system/config/auth` answer against the rendered settings
/// (`auth_env`: the settings Secret's entries).
pub fn check(body: &[u8], auth_env: &BTreeMap<String, Vec<u8>>) -> Result<AuthProof, Unreadable> {
    let Ok(Value::Object(shown)) = serde_json::from_slice::<Value>(body) else {
        return Err(Unreadable::NotAnObject);
    };
    let fixed = shown
        .get("publicKeyUrls")
        .and_then(Value::as_array)
        .is_some_and(|urls| !urls.is_empty());
    let mut proof = AuthProof::default();
    for (field, variable) in FIELDS {
        let Some(rendered) = auth_env.get(variable) else {
            continue;
        };
        let value = shown.get(field).filter(|v| !v.is_null());
        match value {
            Some(_) if !fixed && DROPPED_BEFORE_31516.contains(&field) => {
                proof.not_shown.push(field);
            }
            Some(value) if *value == expected(rendered) => proof.equal.push(field),
            Some(_) => proof.differs.push(field),
            None => proof.not_shown.push(field),
        }
    }
    Ok(proof)
}

/// What the server makes of a rendered variable: the text read as YAML (as the substituted
/// template is), or the text itself when it is no YAML value.
fn expected(rendered: &[u8]) -> Value {
    let text = String::from_utf8_lossy(rendered);
    serde_saphyr::from_str::<Value>(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
}

#[cfg(test)]
mod tests;
