//! Validate: the spec plus the inputs it references → a [`ValidatedConfig`] with every default
//! resolved, or [`ValidationErrors`] whose messages name the field.
//!
//! Pure: the inputs were fetched before (the controller's fetch step, or files for `render`). The
//! apiserver's schema already rejects most malformed specs; this step checks again (a `render -f`
//! preview never met the schema) and checks what the schema cannot see: the referenced Secrets and
//! URLs whose allowed scheme depends on another field.

mod credentials;
mod duration;
mod errors;
mod provider;
mod resolve;
mod urls;

use std::collections::BTreeMap;

pub use credentials::ClientCredentials;
pub use duration::parse_duration;
pub use errors::{Reason, ValidationError, ValidationErrors};
pub use resolve::validate;
pub use urls::well_known;

use crate::crd::{
    ClientAuthMethod, ClientType, ConfigSource, IngestionAuthProvider, Prompt, ResponseType,
    TargetRef, TokenAlgorithm,
};
use crate::sensitive::Sensitive;

/// The data of a Secret (or ConfigMap) the spec references, or `None` when it does not exist.
pub type ObjectData = Option<BTreeMap<String, Vec<u8>>>;

/// Everything the spec references, fetched beforehand. A reference the spec does not make is
/// `None` and ignored.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// `spec.provider.credentialsSecretRef`.
    pub credentials: ObjectData,
    /// `spec.provider.caBundle`.
    pub ca_bundle: ObjectData,
    /// `spec.ingestion.botTokenSecretRef`.
    pub bot_token: ObjectData,
    /// `spec.jwt.keySecretRef`.
    pub own_keys: ObjectData,
}

/// The spec with every default applied and every reference resolved. URLs are kept as the user
/// wrote them (validated, not normalised): an issuer must match the provider's byte for byte, and
/// `Url` would add a trailing slash to `https://accounts.google.com`.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedConfig {
    /// Name of the `OidcSsoConfig`.
    pub name: String,
    /// Namespace of the `OidcSsoConfig` and everything it references.
    pub namespace: String,
    /// The provider and client.
    pub provider: ValidatedProvider,
    /// The authorizer.
    pub authorizer: ValidatedAuthorizer,
    /// The server's own JWT settings.
    pub jwt: ValidatedJwt,
    /// Server URLs and how it loads the settings.
    pub server: ValidatedServer,
    /// The ingestion config, when enabled.
    pub ingestion: Option<ValidatedIngestion>,
    /// Workloads to roll, sorted and unique.
    pub targets: Vec<TargetRef>,
    /// Names of the owned Secrets.
    pub output: OutputNames,
    /// Reconciling is suspended.
    pub suspend: bool,
}

/// `spec.provider`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedProvider {
    pub display_name: Option<String>,
    pub oidc_type: String,
    pub issuer: String,
    pub discovery_url: String,
    /// Configured JWKS URL; `None` means "use the discovered `jwks_uri`".
    pub jwks_url: Option<String>,
    pub client_type: ClientType,
    pub credentials: ClientCredentials,
    pub scopes: Vec<String>,
    pub response_type: ResponseType,
    pub callback_url: String,
    pub extra_public_key_urls: Vec<String>,
    pub token_validation_algorithm: TokenAlgorithm,
    pub client_authentication_method: ClientAuthMethod,
    pub use_pkce: bool,
    pub use_nonce: bool,
    pub custom_params: BTreeMap<String, String>,
    pub max_clock_skew_seconds: Option<i64>,
    pub token_validity_seconds: i64,
    pub max_age_seconds: Option<i64>,
    pub prompt: Option<Prompt>,
    pub session_expiry_seconds: Option<i64>,
    /// PEM bundle to trust for the provider's TLS.
    pub ca_bundle: Option<Vec<u8>>,
    pub verify_discovery: bool,
    pub verify_client_credentials: bool,
}

/// `spec.authorizer`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedAuthorizer {
    pub admin_principals: Vec<String>,
    pub principal_domain: String,
    pub enforce_principal_domain: bool,
    pub allowed_domains: Vec<String>,
    pub allowed_email_registration_domains: Vec<String>,
    pub enable_self_signup: bool,
    pub jwt_principal_claims: Vec<String>,
    pub jwt_principal_claims_mapping: BTreeMap<String, String>,
    pub use_roles_from_provider: bool,
    pub enable_secure_socket_connection: bool,
}

/// `spec.jwt`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedJwt {
    pub issuer: String,
    pub key_id: Option<String>,
    /// Bring-your-own private key (PEM or DER bytes), when `keySecretRef` is set.
    pub own_private_key: Option<Sensitive<Vec<u8>>>,
    pub rotate_every: Option<std::time::Duration>,
}

/// `spec.server`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedServer {
    pub external_url: String,
    pub internal_url: String,
    pub config_source: ConfigSource,
    pub confirm_provider_change: bool,
    pub key_mount_path: String,
}

/// `spec.ingestion`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedIngestion {
    pub host_port: String,
    pub auth_provider: IngestionAuthProvider,
    pub bot_token: BotToken,
    /// Add `tokenEndpoint` to the legacy form.
    pub legacy_token_endpoint: bool,
}

/// Where the ingestion config gets the bot's JWT.
#[derive(Clone, Debug, PartialEq)]
pub enum BotToken {
    /// The token itself, from `botTokenSecretRef`.
    Value(Sensitive<String>),
    /// Read from this environment variable when the job runs (the ingestion client expands
    /// `${VAR}` in its config file).
    EnvVar(String),
}

/// Names of the owned Secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputNames {
    pub auth_env: String,
    pub jwt_keys: String,
    pub ingestion: String,
}

#[cfg(test)]
pub(crate) mod tests;
