//! `spec.authorizer`, `spec.jwt`, `spec.server`, `spec.ingestion`, `spec.targets`, `spec.output`.

// KubeSchema derives a private copy of each type, which `unreachable_pub` then reports.
#![allow(unreachable_pub)]

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// OpenMetadata's authorizer: administrators and who may sign in.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerSpec {
    /// User names (the part of the email before `@`) made administrators
    /// (`AUTHORIZER_ADMIN_PRINCIPALS`). At least one.
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(length(min = 1, max = 64), inner(length(min = 1, max = 256)))]
    pub admin_principals: Vec<String>,
    /// Email domain of the principals (`AUTHORIZER_PRINCIPAL_DOMAIN`). Default: `open-metadata.org`,
    /// OpenMetadata's own default; set your domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub principal_domain: Option<String>,
    /// Only let users of `principalDomain` or `allowedDomains` sign in
    /// (`AUTHORIZER_ENFORCE_PRINCIPAL_DOMAIN`). Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_principal_domain: Option<bool>,
    /// More email domains allowed to sign in (`AUTHORIZER_ALLOWED_DOMAINS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(length(max = 64), inner(length(min = 1, max = 253)))]
    pub allowed_domains: Option<Vec<String>>,
    /// Email domains allowed to self-register (`AUTHORIZER_ALLOWED_REGISTRATION_DOMAIN`).
    /// Default: `[all]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(length(min = 1, max = 64), inner(length(min = 1, max = 253)))]
    pub allowed_email_registration_domains: Option<Vec<String>>,
    /// Create a user on first login (`AUTHENTICATION_ENABLE_SELF_SIGNUP`). Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_self_signup: Option<bool>,
    /// Token claims tried in order to find the user (`AUTHENTICATION_JWT_PRINCIPAL_CLAIMS`).
    /// Default: `[email, preferred_username, sub]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(length(min = 1, max = 16), inner(length(min = 1, max = 128)))]
    pub jwt_principal_claims: Option<Vec<String>>,
    /// Map of OpenMetadata user fields to token claims (`AUTHENTICATION_JWT_PRINCIPAL_CLAIMS_MAPPING`),
    /// for example `{username: preferred_username, email: email}`. When set, both `username` and
    /// `email` are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 8))]
    pub jwt_principal_claims_mapping: Option<BTreeMap<String, String>>,
    /// Take roles from the token's `roles` claim (`AUTHORIZER_USE_ROLES_FROM_PROVIDER`).
    /// Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_roles_from_provider: Option<bool>,
    /// Require a secure WebSocket connection (`AUTHORIZER_ENABLE_SECURE_SOCKET`). Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_secure_socket_connection: Option<bool>,
}

/// The server's own JWT signing keys.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct JwtSpec {
    /// `iss` of the tokens the server issues (`JWT_ISSUER`). Default: the host of
    /// `server.externalUrl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub issuer: Option<String>,
    /// Key id (`JWT_KEY_ID`). Default: the RFC 7638 thumbprint of the public key, so the id
    /// changes whenever the key does. A fixed id keeps the same value across rotations, which
    /// lets old tokens be looked up under the new key: avoid it unless a client needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9._:-]+$"))]
    pub key_id: Option<String>,
    /// Bring your own key pair instead of letting the operator generate one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_secret_ref: Option<KeySecretRef>,
    /// What happens to the keys Secret when this resource is deleted. `Retain` (default) keeps it,
    /// as cert-manager keeps private keys: the key pair is the only copy, every token the server
    /// issued depends on it, and a resource re-created under the same name (a GitOps re-sync, a
    /// reinstalled CRD) takes it up again. `Delete` lets it be garbage-collected with the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<KeysDeletionPolicy>,
    /// Automatic rotation of generated keys. Annotating the resource with
    /// `oidcsso.io/rotate-jwt-keys=<any new value>` rotates once, on request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationSpec>,
}

// What happens to the keys Secret when its resource is deleted. (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[allow(missing_docs)]
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeysDeletionPolicy {
    /// Keep the keys Secret.
    Retain,
    /// Delete it with the resource (through its owner reference).
    Delete,
}

/// A Secret with your own RSA key pair (PEM or DER).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeySecretRef {
    /// Name of the Secret, in the resource's namespace.
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub name: String,
    /// Key holding the private key: PKCS#8 or PKCS#1, PEM or DER. Default: `private_key.der`,
    /// then `private_key.pem`, then `tls.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::DATA_KEY_PATTERN))]
    pub private_key_key: Option<String>,
}

/// When generated keys are replaced.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RotationSpec {
    /// Rotate after this long, for example `2160h` (90 days). Units: `s`, `m`, `h`, `d`;
    /// at least one hour. Every rotation invalidates the tokens the server issued (bot tokens
    /// must be regenerated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+[smhd])+$"), length(max = 32))]
    pub every: Option<String>,
    /// How long the previous public key stays valid after any rotation (scheduled, by
    /// annotation, or a replaced `keySecretRef` key), so that the tokens it signed (bots,
    /// pipelines, personal access tokens, sessions) keep working while they are renewed. The keys
    /// Secret holds the retired public keys (`retired_jwks.json`), which the server reads through
    /// the `file:` URL the settings list in `AUTHENTICATION_PUBLIC_KEYS`; a key leaves the file
    /// when its window ends, without a rollout. `0s` keeps none (a compromised key). Default:
    /// `72h`, long enough to renew bot tokens and redeploy pipelines over a weekend, short enough
    /// that a retired key does not linger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+[smhd])+$"), length(max = 32))]
    pub grace_period: Option<String>,
    /// After a rotation, renew what the previous key signed the server's own way: once every
    /// server pod proves the new key (the server proof must be on), a Job runs
    /// `openmetadata-ops.sh regenerate-bot-tokens` (every JWT bot gets a token signed by the new
    /// key) and, once the servers' bot-token cache (2 minutes) let go of the old tokens, another
    /// runs `deploy-pipelines` (the ingestion pipelines pin the new ingestion-bot token), with
    /// the server container's image, environment and volumes from the first target's pod
    /// template. Once per key; needs OpenMetadata 1.13 or later (the command's
    /// first release). Personal access tokens and sessions are not renewed. Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_bot_tokens: Option<bool>,
}

/// Where OpenMetadata runs and how it loads what the operator renders.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerSpec {
    /// The server's external base URL, as users reach it (`OIDC_SERVER_URL`), for example
    /// `https://openmetadata.example.com`.
    #[schemars(url, length(max = 2048))]
    pub external_url: String,
    /// The base URL at which the server's pods reach the server itself, for its own JWKS URL
    /// (`<internalUrl>/api/v1/system/config/jwks` in `AUTHENTICATION_PUBLIC_KEYS`). Default:
    /// `http://localhost:8585`, which every server pod reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, length(max = 2048))]
    pub internal_url: Option<String>,
    /// `SECURITY_CONFIG_SOURCE` (OpenMetadata 2.1+): `Env` makes the rendered settings win over
    /// the copy stored in the database. `Omit` renders nothing, for older servers. Default: `Env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_source: Option<ConfigSource>,
    /// Allow the first start in `Env` mode to replace an identity provider configured in the UI
    /// (`SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE`). Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_provider_change: Option<bool>,
    /// Make the server's JVM trust `spec.provider.caBundle` too: the server fetches the provider's
    /// discovery document and JWKS itself, and without this fails with a PKIX error on a private
    /// CA while the operator's own checks pass. The keys Secret then also holds `truststore.jks`
    /// (the bundle plus the public roots, so other outbound TLS keeps working), and the settings
    /// set `JDK_JAVA_OPTIONS` to use it (the `java` launcher reads it for the server, its database
    /// migrations and its jobs; your `JAVA_TOOL_OPTIONS` and `OPENMETADATA_OPTS` stay yours).
    /// Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_provider_ca: Option<bool>,
    /// Directory where the pods mount the JWT keys Secret; `RSA_*_FILE_PATH` point into it.
    /// Default: `/etc/openmetadata/jwtkeys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[^\x00]*$"), length(max = 1024))]
    pub key_mount_path: Option<String>,
    /// The proof that every server pod runs the rendering: after each rollout, and whenever the
    /// resource is reconciled, the operator asks each ready pod of each target (its IP, this
    /// port) for OpenMetadata's unauthenticated `/api/v1/system/version`, `/config/jwks` and
    /// `/config/auth`, and `Ready` waits until every pod serves the rendered key and settings
    /// (condition `ServerConfirmed`). Default: on, port 8585.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ProofSpec>,
}

/// How the operator proves that the server pods run what it rendered.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProofSpec {
    /// Ask the server pods. `false` for a server the operator cannot reach (a NetworkPolicy, a
    /// sidecar that answers for it): `ServerConfirmed` is then `Unknown` (reason `ProofOff`) and
    /// `Ready` means only that the Secrets are written and every pod was rolled onto them.
    /// Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The port the server answers on in each pod (OpenMetadata's application port). Default:
    /// 8585.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

// Source of truth for the server's security settings (OpenMetadata 2.1+). (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ConfigSource {
    /// The rendered settings are authoritative (`ENV`).
    Env,
    /// A value changed here applies unless changed in the UI since (`AUTO`).
    Auto,
    /// The database is authoritative (`DB`).
    Db,
    /// Render no `SECURITY_CONFIG_SOURCE`, for servers older than 2.1.
    Omit,
}

/// The ingestion `workflowConfig` for ingestion jobs you run yourself.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct IngestionSpec {
    /// Render the ingestion Secret. Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The server's API URL as the ingestion jobs reach it. Default: `<server.internalUrl>/api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, length(max = 2048))]
    pub host_port: Option<String>,
    /// `openmetadata` (a bot's JWT; what current servers accept) or `custom-oidc` (the legacy
    /// `clientId`/`secretKey`/`domain` form of the original Custom OIDC guide). Default: `openmetadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<IngestionAuthProvider>,
    /// The bot's JWT, from a Secret. The server only accepts the token it stored for the bot, so
    /// the operator cannot mint one. Without this, the rendered config reads the token from the
    /// environment variable `botTokenEnvVar` when the job runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token_secret_ref: Option<super::KeyRef>,
    /// Environment variable the rendered config reads the bot token from when
    /// `botTokenSecretRef` is not set. Default: `OPENMETADATA_JWT_TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"), length(max = 128))]
    pub bot_token_env_var: Option<String>,
    /// In the legacy `custom-oidc` form, also write the provider's token endpoint (from
    /// discovery) as `tokenEndpoint`: servers before about 1.3 validate ingestion against
    /// `customOidcSSOClientConfig`, which requires it. Default: false (the form of the original
    /// guide: `clientId`, `secretKey`, `domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_token_endpoint: Option<bool>,
}

// How ingestion jobs authenticate to the server. (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum IngestionAuthProvider {
    /// A bot JWT (`securityConfig.jwtToken`).
    #[serde(rename = "openmetadata")]
    OpenMetadata,
    /// The legacy client-credentials form (`clientId`, `secretKey`, `domain`).
    #[serde(rename = "custom-oidc")]
    CustomOidc,
}

/// A workload that consumes the rendered Secrets.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    /// `Deployment` or `StatefulSet`.
    pub kind: TargetKind,
    /// Name of the workload, in the resource's namespace.
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub name: String,
}

/// How messages name a target: `Deployment om`.
impl std::fmt::Display for TargetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}", self.kind, self.name)
    }
}

/// Kinds of workload the operator rolls.
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub enum TargetKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
}

/// Names of the Secrets the operator writes.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OutputSpec {
    /// The server settings, one key per environment variable (load with `envFrom`).
    /// Default: `<name>-auth-env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub auth_env_secret_name: Option<String>,
    /// The JWT key files (mount at `server.keyMountPath`). Default: `<name>-jwt-keys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub jwt_keys_secret_name: Option<String>,
    /// The ingestion `workflowConfig`. Default: `<name>-ingestion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub ingestion_secret_name: Option<String>,
}
