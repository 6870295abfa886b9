//! The Kubernetes objects built from rendered payloads, shared by the controller (which applies
//! them) and the `render` preview (which prints them), so the preview shows what is applied.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{PodTemplateSpec, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::names::{OPERATOR, annotations, labels};
use crate::render::SecretPayload;

/// The owned Secret for `payload`. Labels are the operator's own, never copied from the
/// `OidcSsoConfig` (a GitOps tool would then see them as its own and prune or fight over them).
pub fn owned_secret(
    payload: &SecretPayload,
    role: &str,
    config_name: &str,
    namespace: &str,
    owner: Option<OwnerReference>,
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(payload.name.clone()),
            namespace: Some(namespace.to_string()),
            labels: Some(
                [
                    (labels::MANAGED_BY.to_string(), OPERATOR.to_string()),
                    (labels::CONFIG.to_string(), config_name.to_string()),
                    (labels::ROLE.to_string(), role.to_string()),
                ]
                .into(),
            ),
            owner_references: owner.map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".into()),
        data: Some(
            payload
                .data
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone())))
                .collect(),
        ),
        ..Secret::default()
    }
}

/// The config hash the operator last put on a pod template (what its pods consume), if any.
pub fn config_hash_on(template: &PodTemplateSpec) -> Option<&str> {
    template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(annotations::CONFIG_HASH)
        .map(String::as_str)
}
