//! `render -f cr.yaml`: an offline preview of every object the operator would write.
//!
//! Reads the `OidcSsoConfig` and any Secrets it references from YAML documents, validates and
//! renders exactly as the controller does, and prints the owned Secrets. Secret values are
//! replaced by a short digest unless `show_secrets` is set.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::crd::OidcSsoConfig;
use crate::keys::KeyMaterial;
use crate::names::labels::{ROLE_AUTH_ENV, ROLE_INGESTION, ROLE_JWT_KEYS};
use crate::references::References;
use crate::render::{ProviderEndpoints, Rendered, SecretPayload};
use crate::sensitive::Sensitive;
use crate::validate::{self, Inputs, ValidationErrors};

/// Why a preview failed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The YAML could not be parsed.
    #[error("failed to parse {what} as YAML: {message}")]
    Yaml {
        /// The file.
        what: String,
        /// The parser's message.
        message: String,
    },
    /// A document is not a valid `OidcSsoConfig`.
    #[error("invalid OidcSsoConfig: {path}: {message}")]
    Spec {
        /// Path of the offending field.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The apiserver would refuse the `OidcSsoConfig` (its CRD's schema or CEL rules).
    #[error(
        "{what}: the apiserver would refuse this OidcSsoConfig (the CRD's schema and rules):\n  - {}",
        refusals.join("\n  - ")
    )]
    Refused {
        /// The file.
        what: String,
        /// Each refusal, naming its field.
        refusals: Vec<String>,
    },
    /// No `OidcSsoConfig` in the input, or more than one.
    #[error("{0}")]
    Input(String),
    /// The spec or its inputs are invalid.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Key material could not be generated or read.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// Nothing could be rendered.
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
}

/// A parsed preview input: the resource and the Secrets/ConfigMaps found beside it, by name.
pub struct PreviewInput {
    /// The resource.
    pub resource: OidcSsoConfig,
    /// Secret and ConfigMap data by (kind, name).
    pub objects: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
}

impl PreviewInput {
    /// The input in `documents`, pairs of a name (for messages) and YAML text: exactly one
    /// `OidcSsoConfig` among them, with the Secrets and ConfigMaps of all of them.
    pub fn from_documents<'a>(
        documents: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, PreviewError> {
        let mut input = None;
        let mut objects = Vec::new();
        let mut names = Vec::new();
        for (what, text) in documents {
            parse_documents(what, text, &mut input, &mut objects)?;
            names.push(what);
        }
        let mut input = input.ok_or_else(|| {
            PreviewError::Input(format!("no OidcSsoConfig in {}", names.join(", ")))
        })?;
        input.objects = index_objects(&objects);
        Ok(input)
    }
}

/// Parses YAML documents (`---`-separated): exactly one `OidcSsoConfig`, any number of Secrets
/// and ConfigMaps.
pub fn parse_documents(
    what: &str,
    text: &str,
    input: &mut Option<PreviewInput>,
    objects: &mut Vec<Value>,
) -> Result<(), PreviewError> {
    let docs: Vec<Value> =
        serde_saphyr::from_str_multiple(text).map_err(|e| PreviewError::Yaml {
            what: what.to_string(),
            message: e.to_string(),
        })?;
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        if doc.get("kind").and_then(Value::as_str) == Some("OidcSsoConfig") {
            // What the cluster would refuse is refused here too, before anything is rendered.
            let refusals = validate::admission::refusals(&doc);
            if !refusals.is_empty() {
                return Err(PreviewError::Refused {
                    what: what.to_string(),
                    refusals,
                });
            }
            let resource: OidcSsoConfig =
                serde_path_to_error::deserialize(doc).map_err(|e| PreviewError::Spec {
                    path: e.path().to_string(),
                    message: e.inner().to_string(),
                })?;
            if input.is_some() {
                return Err(PreviewError::Input(format!(
                    "{what}: more than one OidcSsoConfig; preview one at a time"
                )));
            }
            *input = Some(PreviewInput {
                resource,
                objects: BTreeMap::new(),
            });
        } else {
            objects.push(doc);
        }
    }
    Ok(())
}

/// Indexes Secrets and ConfigMaps by (kind, name); `stringData` overrides `data` as the apiserver
/// does.
pub fn index_objects(objects: &[Value]) -> BTreeMap<(String, String), BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for o in objects {
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind != "Secret" && kind != "ConfigMap" {
            continue;
        }
        let Some(name) = o.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let mut data = BTreeMap::new();
        let engine = base64::engine::general_purpose::STANDARD;
        if let Some(Value::Object(m)) = o.get(if kind == "Secret" {
            "data"
        } else {
            "binaryData"
        }) {
            for (k, v) in m {
                if let Some(bytes) = v.as_str().and_then(|s| engine.decode(s).ok()) {
                    data.insert(k.clone(), bytes);
                }
            }
        }
        if let Some(Value::Object(m)) = o.get(if kind == "Secret" {
            "stringData"
        } else {
            "data"
        }) {
            for (k, v) in m {
                if let Some(s) = v.as_str() {
                    data.insert(k.clone(), s.as_bytes().to_vec());
                }
            }
        }
        out.insert((kind.to_string(), name.to_string()), data);
    }
    out
}

/// The inputs the spec references, looked up among the given objects.
pub fn inputs_for(
    resource: &OidcSsoConfig,
    objects: &BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
) -> Inputs {
    let references = References::of(&resource.spec);
    Inputs::gather(&references, |r| {
        objects
            .get(&(r.kind.as_str().to_string(), r.name.clone()))
            .cloned()
    })
}

/// Validates and renders; keys are generated for the preview unless the spec brings its own.
pub fn render_preview(
    input: &PreviewInput,
    endpoints: &ProviderEndpoints,
) -> Result<(Rendered, KeyMaterial, bool), PreviewError> {
    let inputs = inputs_for(&input.resource, &input.objects);
    let config = validate::validate(&input.resource, &inputs)?;
    let key_id = config.jwt.key_id.clone();
    let (keys, generated) = match &config.jwt.own_private_key {
        Some(bytes) => (
            KeyMaterial::from_private_key(bytes.expose(), key_id)?,
            false,
        ),
        None => (KeyMaterial::generate(key_id)?, true),
    };
    let rendered = crate::render::render(&config, &keys, endpoints)?;
    Ok((rendered, keys, generated))
}

/// The preview as a YAML stream: a comment header, then one Secret manifest per owned Secret.
pub fn format_preview(
    resource: &OidcSsoConfig,
    rendered: &Rendered,
    keys: &KeyMaterial,
    generated: bool,
    show_secrets: bool,
) -> String {
    let namespace = resource
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = resource.metadata.name.clone().unwrap_or_default();
    let mut out = String::new();
    out.push_str(&format!("# OidcSsoConfig {namespace}/{name}\n"));
    out.push_str(&format!(
        "# config hash (oidcsso.io/config-hash on each target): {}\n",
        rendered.config_hash
    ));
    out.push_str(&format!(
        "# JWT key id: {}  fingerprint: {}\n",
        keys.key_id(),
        keys.fingerprint()
    ));
    if generated {
        out.push_str("# JWT keys: generated for this preview only; the operator generates its own once and keeps them\n");
    }
    if !show_secrets {
        out.push_str(
            "# secret values are redacted (shown as a digest); pass --show-secrets to print them\n",
        );
    }
    let mut payloads = vec![
        (ROLE_AUTH_ENV, &rendered.auth_env),
        (ROLE_JWT_KEYS, &rendered.jwt_keys),
    ];
    if let Some(i) = &rendered.ingestion {
        payloads.push((ROLE_INGESTION, i));
    }
    for (role, payload) in payloads {
        out.push_str("---\n");
        out.push_str(&secret_yaml(payload, role, &name, &namespace, show_secrets));
    }
    out
}

fn secret_yaml(
    payload: &SecretPayload,
    role: &str,
    config_name: &str,
    namespace: &str,
    show_secrets: bool,
) -> String {
    let secret = crate::objects::owned_secret(payload, role, config_name, namespace, None);
    let mut string_data = serde_json::Map::new();
    let mut data = serde_json::Map::new();
    for (k, v) in &payload.data {
        if payload.sensitive.contains(k) && !show_secrets {
            string_data.insert(
                k.clone(),
                json!(format!("<redacted {}>", Sensitive::new(v).digest())),
            );
        } else if let Ok(text) = std::str::from_utf8(v) {
            string_data.insert(k.clone(), json!(text));
        } else {
            data.insert(
                k.clone(),
                json!(base64::engine::general_purpose::STANDARD.encode(v)),
            );
        }
    }
    let mut manifest = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": secret.metadata,
        "type": "Opaque",
    });
    if !data.is_empty() {
        manifest["data"] = Value::Object(data);
    }
    if !string_data.is_empty() {
        manifest["stringData"] = Value::Object(string_data);
    }
    serde_saphyr::to_string(&manifest).unwrap_or_else(|e| format!("# failed to format: {e}\n"))
}

/// Adds the `--credentials` file: a Secret manifest (used whatever its name: it stands for the
/// referenced Secret), or the provider's JSON credentials document (stored under the reference's
/// `jsonKey`, or split into its client id and secret keys).
pub fn add_credentials(
    input: &mut PreviewInput,
    what: &str,
    text: &str,
) -> Result<(), PreviewError> {
    let Some(reference) = input.resource.spec.provider.credentials_secret_ref.clone() else {
        return Err(PreviewError::Input(format!(
            "{what}: the OidcSsoConfig has no spec.provider.credentialsSecretRef to fill"
        )));
    };
    let key = ("Secret".to_string(), reference.name.clone());
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| PreviewError::Yaml {
        what: what.to_string(),
        message: e.to_string(),
    })?;
    if doc.get("kind").and_then(Value::as_str) == Some("Secret") {
        let mut found = index_objects(&[doc]);
        let data = found.pop_first().map(|(_, d)| d).unwrap_or_default();
        input.objects.insert(key, data);
        return Ok(());
    }
    let mut data = BTreeMap::new();
    match &reference.json_key {
        Some(json_key) => {
            data.insert(json_key.clone(), text.as_bytes().to_vec());
        }
        None => {
            // Same shapes validate accepts under jsonKey: flat, or under "web"/"installed".
            let client = ["web", "installed"]
                .iter()
                .find_map(|k| doc.get(*k))
                .unwrap_or(&doc);
            for (from, to) in [
                (
                    "client_id",
                    reference.client_id_key.as_deref().unwrap_or("clientId"),
                ),
                (
                    "client_secret",
                    reference
                        .client_secret_key
                        .as_deref()
                        .unwrap_or("clientSecret"),
                ),
            ] {
                if let Some(v) = client.get(from).and_then(Value::as_str) {
                    data.insert(to.to_string(), v.as_bytes().to_vec());
                }
            }
        }
    }
    input.objects.insert(key, data);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Confidential resource with everything else defaulted (also used by `offline`'s tests).
    pub(crate) const CR: &str = r#"
apiVersion: oidcsso.io/v1alpha1
kind: OidcSsoConfig
metadata: {name: om, namespace: data}
spec:
  provider:
    issuer: https://idp.example.com
    jwksUrl: https://idp.example.com/keys
    clientType: Confidential
    credentialsSecretRef: {name: creds}
  authorizer: {adminPrincipals: [alice]}
  server: {externalUrl: https://om.example.com}
"#;

    /// The resource and objects in `text`.
    pub(crate) fn parse(text: &str) -> Result<PreviewInput, PreviewError> {
        PreviewInput::from_documents([("test", text)])
    }

    #[test]
    fn an_unknown_enum_value_names_the_field() {
        let err = parse(&CR.replace("Confidential", "Secretive"))
            .err()
            .expect("rejected");
        let msg = err.to_string();
        assert!(
            msg.contains("spec.provider.clientType") && msg.contains("Secretive"),
            "{msg}"
        );
    }

    #[test]
    fn a_credentials_json_document_fills_the_referenced_secret() {
        let mut input = parse(CR).unwrap();
        add_credentials(
            &mut input,
            "creds.json",
            r#"{"web": {"client_id": "om", "client_secret": "hunter2"}}"#,
        )
        .unwrap();
        let (rendered, keys, generated) =
            render_preview(&input, &ProviderEndpoints::default()).unwrap();
        assert!(generated);
        let text = format_preview(&input.resource, &rendered, &keys, generated, false);
        assert!(text.contains("OIDC_CLIENT_ID"), "{text}");
        assert!(
            !text.contains("hunter2"),
            "secret values are redacted by default"
        );
        assert!(
            !text.contains(
                &base64::engine::general_purpose::STANDARD.encode(keys.private_pkcs8_der())
            )
        );
        assert!(text.contains("<redacted sha256:"));
        let shown = format_preview(&input.resource, &rendered, &keys, generated, true);
        assert!(shown.contains("hunter2"), "--show-secrets prints them");
    }

    #[test]
    fn secrets_next_to_the_resource_are_used_and_validation_errors_surface() {
        let with_secret = format!(
            "{CR}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{clientId: om, clientSecret: s}}\n"
        );
        assert!(
            render_preview(&parse(&with_secret).unwrap(), &ProviderEndpoints::default()).is_ok()
        );
        let err = render_preview(&parse(CR).unwrap(), &ProviderEndpoints::default())
            .expect_err("no credentials");
        assert!(
            err.to_string()
                .contains("spec.provider.credentialsSecretRef.name"),
            "{err}"
        );
    }

    #[test]
    fn two_resources_in_one_file_are_refused() {
        let err = parse(&format!("{CR}---{CR}")).err().expect("refused");
        assert!(
            err.to_string().contains("more than one OidcSsoConfig"),
            "{err}"
        );
    }
}
