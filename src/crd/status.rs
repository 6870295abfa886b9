//! `status`: what the operator observed and did, readable by kubectl, Argo CD and Flux.
//!
//! Never holds a secret value; only hashes, key ids and fingerprints. Holds no timestamp or counter
//! that changes on every resync, so an unchanged resource gets no status write.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TargetKind;

/// Observed state of an `OidcSsoConfig`.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OidcSsoConfigStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Reconciling` and `Stalled` (read by kstatus, Flux and Argo CD) and the detail
    /// conditions `ProviderVerified`, `CredentialsValid`, `LoginAccepted`, `SecretsRendered`,
    /// `KeysReady`, `WorkloadsUpdated`, `SettingsLoaded`, `ServerConfirmed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// What the provider's discovery document says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderStatus>,
    /// The JWT signing key in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeyStatus>,
    /// Digest of everything the targets consume; the value of their `oidcsso.io/config-hash`
    /// annotation once rolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// The Secrets the operator writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretNames>,
    /// Rollout progress per target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetStatus>,
    /// Targets rolled out on the current hash, out of all targets, for example `1/1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled: Option<String>,
}

/// Provider endpoints found by discovery.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// `issuer` of the discovery document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `jwks_uri` of the discovery document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `token_endpoint` of the discovery document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// `authorization_endpoint` of the discovery document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Usable signing keys found in the JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_keys: Option<i64>,
}

/// The JWT signing key in use. Public facts only.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatus {
    /// `JWT_KEY_ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// SHA-256 fingerprint of the public key (SubjectPublicKeyInfo DER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// `Generated` by the operator or `Provided` through `spec.jwt.keySecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the key was generated; its age is now minus this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,
    /// When `spec.jwt.rotation.every` replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_at: Option<Time>,
    /// Public keys of earlier pairs the server still accepts (`spec.jwt.rotation.gracePeriod`),
    /// oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<RetiredKeyStatus>,
    /// The key whose bot tokens the last renewal Job regenerated
    /// (`spec.jwt.rotation.renewBotTokens`): equal to `keyId` once renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_tokens_renewed_for: Option<String>,
}

/// A retired public key, still valid until its window ends.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RetiredKeyStatus {
    /// Its key id: the `kid` of the tokens it signed.
    pub key_id: String,
    /// When the server stops accepting it (it leaves `retired_jwks.json`; the server may accept
    /// it a little longer from its key cache, see docs/rotating-keys.md).
    pub expires_at: Time,
    /// Its window ends within a day (or within half the grace period, when that is shorter):
    /// renew what it signed now (announced once, with the Event `RetiredKeyExpiring`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expiring_soon: bool,
}

/// Names of the owned Secrets.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecretNames {
    /// Server settings, for `envFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_env: Option<String>,
    /// JWT key files, to mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_keys: Option<String>,
    /// Ingestion `workflowConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingestion: Option<String>,
}

/// Rollout progress of one target.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// Kind of the workload.
    pub kind: TargetKind,
    /// Name of the workload.
    pub name: String,
    /// Where its rollout stands.
    pub phase: TargetPhase,
    /// Config hash on the workload's pod template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Replicas running the current pod template, out of the desired replicas, for example `2/2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// Pods that proved they run the rendering (they serve the rendered signing key and every
    /// authentication field their release shows equals it), out of the ready pods of the current
    /// revision asked, for example `2/2`. Absent while the proof is off or has not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven: Option<String>,
    /// The OpenMetadata release the pods said they run (`/api/v1/system/version`; the newest when
    /// they differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

// Rollout phase of one target. (A plain comment: on a field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TargetPhase {
    /// The workload does not exist (it is rolled once it appears).
    Missing,
    /// Its pod template carries another configuration, or replicas still run an older one.
    Rolling,
    /// Every replica runs the current configuration.
    RolledOut,
    /// Not rolled onto a configuration the provider checks rejected.
    Pending,
}

impl TargetStatus {
    /// The `updated` text for `updated` of `desired` replicas, for example `1/2`.
    pub fn replicas_text(updated: i32, desired: i32) -> String {
        format!("{updated}/{desired}")
    }
}
