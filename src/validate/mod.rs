//! Validate: the spec plus the inputs it references → a [`ValidatedConfig`] with every default
//! resolved, or [`ValidationErrors`] whose messages name the field.
//!
//! Pure: the inputs were fetched before (the controller's fetch step, or files for `render`). The
//! apiserver's schema already rejects most malformed specs; this step checks again (a `render -f`
//! preview never met the schema) and checks what the schema cannot see: the referenced Secrets and
//! URLs whose allowed scheme depends on another field.

pub mod admission;
mod credentials;
mod duration;
mod errors;
mod names;
mod provider;
mod resolve;
mod urls;

use std::collections::BTreeMap;

pub use credentials::ClientCredentials;
pub use duration::parse_duration;
pub use errors::{ProblemReason, ValidationError, ValidationErrors};
pub use resolve::validate;

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
    /// `spec.provider.displayName`, with its default applied.
    pub display_name: Option<String>,
    /// `spec.provider.oidcType`, with its default applied (`azure` and `google` in lower case).
    pub oidc_type: String,
    /// `spec.provider.tenant`.
    pub tenant: Option<String>,
    /// `spec.provider.issuer`, with its default applied.
    pub issuer: String,
    /// `spec.provider.discoveryUrl`, with its default applied.
    pub discovery_url: String,
    /// Configured JWKS URL; `None` means "use the discovered `jwks_uri`".
    pub jwks_url: Option<String>,
    /// `spec.provider.clientType`, with its default applied.
    pub client_type: ClientType,
    /// The client id and secret, from `spec.provider.clientId` and `credentialsSecretRef`.
    pub credentials: ClientCredentials,
    /// `spec.provider.scopes`, with its default applied.
    pub scopes: Vec<String>,
    /// `spec.provider.responseType`, with its default applied.
    pub response_type: ResponseType,
    /// `spec.provider.callbackUrl`, with its default applied.
    pub callback_url: String,
    /// `spec.provider.extraPublicKeyUrls`, with its default applied.
    pub extra_public_key_urls: Vec<String>,
    /// `spec.provider.tokenValidationAlgorithm`, with its default applied.
    pub token_validation_algorithm: TokenAlgorithm,
    /// `spec.provider.clientAuthenticationMethod`, with its default applied.
    pub client_authentication_method: ClientAuthMethod,
    /// `spec.provider.usePkce`, with its default applied.
    pub use_pkce: bool,
    /// `spec.provider.useNonce`, with its default applied.
    pub use_nonce: bool,
    /// `spec.provider.customParams`, with its default applied.
    pub custom_params: BTreeMap<String, String>,
    /// `spec.provider.maxClockSkewSeconds`, with its default applied.
    pub max_clock_skew_seconds: Option<i64>,
    /// `spec.provider.tokenValiditySeconds`, with its default applied.
    pub token_validity_seconds: i64,
    /// `spec.provider.maxAgeSeconds`, with its default applied.
    pub max_age_seconds: Option<i64>,
    /// `spec.provider.prompt`, with its default applied.
    pub prompt: Option<Prompt>,
    /// `spec.provider.sessionExpirySeconds`, with its default applied.
    pub session_expiry_seconds: Option<i64>,
    /// PEM bundle to trust for the provider's TLS.
    pub ca_bundle: Option<Vec<u8>>,
    /// `spec.provider.allowInsecureHttp`, with its default applied.
    pub allow_insecure_http: bool,
    /// `spec.provider.verify.discovery`, with its default applied.
    pub verify_discovery: bool,
    /// How the client secret is checked at the provider (`spec.provider.verify.credentials`,
    /// or the deprecated `clientCredentials`, with the defaults applied); `None`: not checked.
    pub verify_credentials: Option<CredentialsCheck>,
    /// `spec.provider.verify.loginRedirect`, with its default applied.
    pub verify_login: bool,
}

/// `spec.provider.verify.credentials`, resolved (never `Disabled`: that is `None` above).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsCheck {
    /// The method; `Auto` tries several.
    pub method: crate::crd::CredentialsMethod,
    /// `scope` values of a client-credentials grant.
    pub scopes: Vec<String>,
    /// `audience` of a client-credentials grant.
    pub audience: Option<String>,
    /// `resource` of a client-credentials grant.
    pub resource: Option<String>,
}

/// `spec.authorizer`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedAuthorizer {
    /// `spec.authorizer.adminPrincipals`, with its default applied.
    pub admin_principals: Vec<String>,
    /// `spec.authorizer.principalDomain`, with its default applied.
    pub principal_domain: String,
    /// `spec.authorizer.enforcePrincipalDomain`, with its default applied.
    pub enforce_principal_domain: bool,
    /// `spec.authorizer.allowedDomains`, with its default applied.
    pub allowed_domains: Vec<String>,
    /// `spec.authorizer.allowedEmailRegistrationDomains`, with its default applied.
    pub allowed_email_registration_domains: Vec<String>,
    /// `spec.authorizer.enableSelfSignup`, with its default applied.
    pub enable_self_signup: bool,
    /// `spec.authorizer.jwtPrincipalClaims`, with its default applied.
    pub jwt_principal_claims: Vec<String>,
    /// `spec.authorizer.jwtPrincipalClaimsMapping`, with its default applied.
    pub jwt_principal_claims_mapping: BTreeMap<String, String>,
    /// `spec.authorizer.useRolesFromProvider`, with its default applied.
    pub use_roles_from_provider: bool,
    /// `spec.authorizer.enableSecureSocketConnection`, with its default applied.
    pub enable_secure_socket_connection: bool,
}

/// `spec.jwt`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedJwt {
    /// `spec.jwt.issuer`, with its default applied.
    pub issuer: String,
    /// `spec.jwt.keyId`; `None`: the key's RFC 7638 thumbprint.
    pub key_id: Option<String>,
    /// Bring-your-own private key (PEM or DER bytes), when `keySecretRef` is set.
    pub own_private_key: Option<Sensitive<Vec<u8>>>,
    /// `spec.jwt.rotation.every`, parsed.
    pub rotate_every: Option<std::time::Duration>,
    /// `spec.jwt.rotation.gracePeriod`, parsed, with its default applied: how long a retired
    /// public key stays valid (zero: none is kept).
    pub grace_period: std::time::Duration,
    /// `spec.jwt.rotation.renewBotTokens`.
    pub renew_bot_tokens: bool,
    /// `spec.jwt.deletionPolicy` is `Retain` (the default): the keys Secret has no owner
    /// reference, so it outlives the resource.
    pub retain_keys: bool,
}

/// `spec.server`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedServer {
    /// `spec.server.externalUrl`, with its default applied.
    pub external_url: String,
    /// `spec.server.internalUrl`, with its default applied.
    pub internal_url: String,
    /// `spec.server.configSource`, with its default applied.
    pub config_source: ConfigSource,
    /// `spec.server.confirmProviderChange`, with its default applied.
    pub confirm_provider_change: bool,
    /// `spec.server.keyMountPath`, with its default applied.
    pub key_mount_path: String,
    /// `spec.server.trustProviderCa`: render a truststore with the provider's CA for the JVM.
    pub trust_provider_ca: bool,
    /// `spec.server.proof`: the port the proof asks each server pod on; `None` when it is off.
    pub proof_port: Option<u16>,
}

/// `spec.ingestion`, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedIngestion {
    /// `spec.ingestion.hostPort`, with its default applied.
    pub host_port: String,
    /// `spec.ingestion.authProvider`, with its default applied.
    pub auth_provider: IngestionAuthProvider,
    /// The bot token or the variable it is read from.
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
    /// `spec.output.authEnvSecretName`, or its default.
    pub auth_env: String,
    /// `spec.output.jwtKeysSecretName`, or its default.
    pub jwt_keys: String,
    /// `spec.output.ingestionSecretName`, or its default.
    pub ingestion: String,
}

#[cfg(test)]
pub(crate) mod tests;
