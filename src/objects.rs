//! The Kubernetes objects built from rendered payloads, shared by the controller (which applies
//! them) and the `render` preview (which prints them), so the preview shows what is applied.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::names::{OPERATOR, labels};
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
