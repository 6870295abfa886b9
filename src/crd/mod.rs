//! The `OidcSsoConfig` custom resource (group `oidcsso.io`, version `v1alpha1`).
//!
//! The spec records what the user wrote: optional fields stay `None` and their defaults are
//! applied in [`crate::validate`], so the CRD schema carries no `default`s and a GitOps tool sees
//! no drift between Git and the live object. Rules across fields are CEL `x-kubernetes-validations`
//! the apiserver enforces; everything the schema cannot express (the referenced Secrets, URL
//! schemes that depend on another field) is checked again by `validate` with a message naming the
//! field.

// KubeSchema derives a private copy of each type, which `unreachable_pub` then reports.
#![allow(unreachable_pub)]

mod provider;
mod settings;
mod status;

use kube::{CustomResource, CustomResourceExt, KubeSchema};
use serde::{Deserialize, Serialize};

pub use provider::*;
pub use settings::*;
pub use status::*;

/// A Kubernetes object name (RFC 1123 subdomain): what Secret, ConfigMap, Deployment and
/// StatefulSet names must look like. Checked by the schema so that no name reaches a request path
/// unchecked (a `/` would address another resource).
pub const OBJECT_NAME_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A key of a Secret's or ConfigMap's data.
pub const DATA_KEY_PATTERN: &str = r"^[-._a-zA-Z0-9]+$";
/// Longest resource name: it becomes the value of the `oidcsso.io/config` label on the owned
/// Secrets, and label values have at most 63 characters.
pub const MAX_NAME_LENGTH: usize = 63;

// clippy sees the repeated `printcolumn(...)` arguments of the derive as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
/// Declares one OpenMetadata (or compatible) server's Custom OIDC SSO configuration: the provider,
/// the authorizer, OpenMetadata's own JWT signing keys, the ingestion `workflowConfig`, and the
/// workloads to roll when what they consume changes.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "oidcsso.io",
    version = "v1alpha1",
    kind = "OidcSsoConfig",
    namespaced,
    doc = "One OpenMetadata server's Custom OIDC SSO configuration, rendered into Secrets the operator owns and rolled out to the target workloads.",
    status = "OidcSsoConfigStatus",
    shortname = "oidcsso",
    category = "oidcsso",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#
    ),
    printcolumn(name = "Issuer", type_ = "string", json_path = ".spec.provider.issuer"),
    printcolumn(name = "Key ID", type_ = "string", json_path = ".status.keys.keyId"),
    printcolumn(name = "Rolled", type_ = "string", json_path = ".status.rolled"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    validation = Rule::new("size(self.metadata.name) <= 63")
        .message("metadata.name: at most 63 characters (it is a label value on the Secrets the operator writes)")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new(concat!(
        "[has(self.spec.output) && has(self.spec.output.authEnvSecretName) ? self.spec.output.authEnvSecretName : self.metadata.name + '-auth-env', ",
        "has(self.spec.output) && has(self.spec.output.jwtKeysSecretName) ? self.spec.output.jwtKeysSecretName : self.metadata.name + '-jwt-keys', ",
        "has(self.spec.output) && has(self.spec.output.ingestionSecretName) ? self.spec.output.ingestionSecretName : self.metadata.name + '-ingestion']",
        ".all(n, [has(self.spec.output) && has(self.spec.output.authEnvSecretName) ? self.spec.output.authEnvSecretName : self.metadata.name + '-auth-env', ",
        "has(self.spec.output) && has(self.spec.output.jwtKeysSecretName) ? self.spec.output.jwtKeysSecretName : self.metadata.name + '-jwt-keys', ",
        "has(self.spec.output) && has(self.spec.output.ingestionSecretName) ? self.spec.output.ingestionSecretName : self.metadata.name + '-ingestion']",
        ".exists_one(m, m == n))"
    ))
        .message("spec.output: the settings, keys and ingestion Secrets need three different names (one Secret cannot hold two of them)")
        .field_path(".spec.output")
        .reason(Reason::FieldValueInvalid)
)]
#[x_kube(validation = Rule::new(
    "!has(self.ingestion) || !has(self.ingestion.authProvider) || self.ingestion.authProvider != 'custom-oidc' || has(self.provider.credentialsSecretRef)"
)
.message("spec.ingestion.authProvider custom-oidc needs spec.provider.credentialsSecretRef (the legacy form carries the client secret)")
.reason(Reason::FieldValueRequired))]
#[x_kube(validation = Rule::new(
    "!has(self.server.trustProviderCa) || !self.server.trustProviderCa || has(self.provider.caBundle)"
)
.message("spec.server.trustProviderCa needs spec.provider.caBundle (the CA the server should trust)")
.reason(Reason::FieldValueRequired))]
#[serde(rename_all = "camelCase")]
pub struct OidcSsoConfigSpec {
    /// The OIDC provider (Keycloak, Okta, Dex, ...) and the client the server logs users in with.
    pub provider: ProviderSpec,
    /// Who may administer the server and which users may sign in.
    pub authorizer: AuthorizerSpec,
    /// The server's own JWT signing keys (bot and session tokens). Generated by the operator unless
    /// `keySecretRef` brings your own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtSpec>,
    /// Where the server is reached and how it loads the rendered settings.
    pub server: ServerSpec,
    /// The ingestion `workflowConfig` rendered for ingestion jobs you run yourself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingestion: Option<IngestionSpec>,
    /// Workloads that consume the rendered Secrets. Each gets the pod-template annotation
    /// `oidcsso.io/config-hash`, so it rolls exactly when what it consumes changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["kind".into(), "name".into()]))]
    #[schemars(length(max = 32))]
    pub targets: Vec<TargetRef>,
    /// Names of the Secrets the operator writes. Defaults: `<name>-auth-env`, `<name>-jwt-keys`,
    /// `<name>-ingestion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputSpec>,
    /// Stop reconciling: nothing is written and no workload is rolled until this is false again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// The CRD as YAML, exactly as `crds/oidcssoconfig.yaml` holds it.
pub fn crd_yaml() -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(&OidcSsoConfig::crd())
}
