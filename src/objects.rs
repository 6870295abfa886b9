//! The Kubernetes objects built from rendered payloads, shared by the controller (which applies
//! them) and the `render` preview (which prints them), so the preview shows what is applied.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::render::SecretPayload;

/// `app.kubernetes.io/managed-by` on every owned object; the controller caches only Secrets with
/// this label.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "oidc-sso-operator";
/// Name of the `OidcSsoConfig` an owned object belongs to.
pub const CONFIG_LABEL: &str = "oidcsso.io/config";
/// Which output an owned Secret is: `auth-env`, `jwt-keys` or `ingestion`.
pub const ROLE_LABEL: &str = "oidcsso.io/role";
/// [`ROLE_LABEL`] of the settings Secret.
pub const AUTH_ENV_ROLE: &str = "auth-env";
/// [`ROLE_LABEL`] of the keys Secret.
pub const JWT_KEYS_ROLE: &str = "jwt-keys";
/// [`ROLE_LABEL`] of the ingestion `workflowConfig` Secret.
pub const INGESTION_ROLE: &str = "ingestion";

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
                    (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
                    (CONFIG_LABEL.to_string(), config_name.to_string()),
                    (ROLE_LABEL.to_string(), role.to_string()),
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
