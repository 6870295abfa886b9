//! Render: a [`ValidatedConfig`], the key material and what discovery found → the Secrets the
//! operator owns and the content hash the targets carry.
//!
//! Pure, no I/O: the same inputs always give the same bytes and hash, which is what makes
//! "exactly one rollout per effective change" testable here rather than on a cluster.

mod hash;
pub mod settings;
pub mod syntax;
pub mod truststore;
pub mod workflow;

use std::collections::{BTreeMap, BTreeSet};

pub use hash::content_hash;
pub use settings::{OWN_JWKS_PATH, ServerSettings, server_settings};
pub use workflow::{WORKFLOW_CONFIG_KEY, workflow_config};

use crate::keys::KeyMaterial;
use crate::keys::retired::{RETIRED_JWKS, RetiredKeys};
use crate::validate::ValidatedConfig;

/// What provider discovery found that the rendering uses.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProviderEndpoints {
    /// `jwks_uri` of the discovery document.
    pub jwks_uri: Option<String>,
    /// `token_endpoint` of the discovery document.
    pub token_endpoint: Option<String>,
}

/// The data of one owned Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretPayload {
    /// Name of the Secret.
    pub name: String,
    /// Its data.
    pub data: BTreeMap<String, Vec<u8>>,
    /// Keys whose values are secret (redacted in previews). Every value is stored in a Secret
    /// either way; this only marks what a preview must not print.
    pub sensitive: BTreeSet<String>,
}

impl std::fmt::Debug for SecretPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretPayload")
            .field("name", &self.name)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Everything the operator writes for one `OidcSsoConfig`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Server settings, one key per environment variable.
    pub auth_env: SecretPayload,
    /// JWT key files.
    pub jwt_keys: SecretPayload,
    /// Ingestion `workflowConfig`, when enabled.
    pub ingestion: Option<SecretPayload>,
    /// Digest of what the server pods consume (settings and key files): the value of their
    /// `oidcsso.io/config-hash` annotation.
    pub config_hash: String,
}

/// Why nothing could be rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    /// Neither a configured JWKS URL nor a discovered one.
    #[error(
        "spec.provider.jwksUrl is not set and the provider's discovery document was not fetched; set it or enable discovery"
    )]
    MissingJwksUrl,
    /// The CA bundle cannot be made into the server's truststore.
    #[error("spec.provider.caBundle: {0}")]
    Truststore(#[from] truststore::TruststoreError),
    /// The legacy ingestion form asks for the token endpoint, and discovery did not provide one.
    #[error(
        "spec.ingestion.legacyTokenEndpoint needs the provider's token_endpoint, which discovery has not provided"
    )]
    MissingTokenEndpoint,
}

/// Renders the owned Secrets. The JWKS URL configured in the spec wins over the discovered one.
pub fn render(
    config: &ValidatedConfig,
    keys: &KeyMaterial,
    endpoints: &ProviderEndpoints,
) -> Result<Rendered, RenderError> {
    let jwks_url = config
        .provider
        .jwks_url
        .as_deref()
        .or(endpoints.jwks_uri.as_deref())
        .ok_or(RenderError::MissingJwksUrl)?;
    let mut settings = server_settings(config, jwks_url, keys.key_id());
    let mut key_files = keys.to_secret_data();
    // No key retired yet; the controller puts in the keys still in their grace window
    // (`Rendered::with_retired`).
    key_files.insert(RETIRED_JWKS.to_string(), RetiredKeys::default().to_entry());
    if config.server.trust_provider_ca
        && let Some(bundle) = &config.provider.ca_bundle
    {
        key_files.insert(
            truststore::TRUSTSTORE_FILE.to_string(),
            truststore::truststore(bundle)?,
        );
        settings.variables.insert(
            JAVA_OPTIONS_VARIABLE.to_string(),
            java_trust_options(&config.server.key_mount_path),
        );
    }
    let auth_env = SecretPayload {
        name: config.output.auth_env.clone(),
        data: settings
            .variables
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect(),
        sensitive: settings.sensitive,
    };
    let jwt_keys = SecretPayload {
        name: config.output.jwt_keys.clone(),
        data: key_files,
        sensitive: [crate::keys::PRIVATE_KEY_DER, crate::keys::PRIVATE_KEY_PEM]
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    };
    let legacy_token_endpoint = config.ingestion.as_ref().is_some_and(|i| {
        i.auth_provider == crate::crd::IngestionAuthProvider::CustomOidc && i.legacy_token_endpoint
    });
    if legacy_token_endpoint && endpoints.token_endpoint.is_none() {
        return Err(RenderError::MissingTokenEndpoint);
    }
    let ingestion = config.ingestion.as_ref().map(|ingestion| {
        let mut data = BTreeMap::new();
        let workflow = workflow_config(config, ingestion, endpoints.token_endpoint.as_deref());
        data.insert(WORKFLOW_CONFIG_KEY.to_string(), workflow.into_bytes());
        SecretPayload {
            name: config.output.ingestion.clone(),
            data,
            // Secret only when it carries the bot token or the client secret itself.
            sensitive: if carries_secret(ingestion) {
                [WORKFLOW_CONFIG_KEY.to_string()].into()
            } else {
                BTreeSet::new()
            },
        }
    });
    let config_hash = rollout_hash(&auth_env, &jwt_keys);
    Ok(Rendered {
        auth_env,
        jwt_keys,
        ingestion,
        config_hash,
    })
}

/// The digest the targets roll on: every entry of both Secrets but the retired keys, which the
/// kubelet updates in the mounted file in place (a key leaving the grace window must not roll
/// the servers; a rotation, which adds one, rolls them for the new key anyway).
fn rollout_hash(auth_env: &SecretPayload, jwt_keys: &SecretPayload) -> String {
    let mut key_files = jwt_keys.data.clone();
    key_files.remove(RETIRED_JWKS);
    content_hash(&[("auth-env", &auth_env.data), ("jwt-keys", &key_files)])
}

impl Rendered {
    /// The rendering with `retired` as the keys Secret's retired keys; the rollout hash does not
    /// change.
    pub fn with_retired(mut self, retired: &RetiredKeys) -> Self {
        self.jwt_keys
            .data
            .insert(RETIRED_JWKS.to_string(), retired.to_entry());
        self
    }
}

/// The variable the `java` launcher (JDK 9+) adds to its command line: read for the server, its
/// migrations and its jobs alike (`openmetadata-ops.sh` reads no `*_OPTS` variable), and not one
/// users usually set themselves (`JAVA_TOOL_OPTIONS`, `OPENMETADATA_OPTS`).
pub const JAVA_OPTIONS_VARIABLE: &str = "JDK_JAVA_OPTIONS";

/// The JVM options that make the server trust the truststore in the key mount. Not YAML: the
/// launcher reads this variable directly and splits it at spaces (the mount path has none).
fn java_trust_options(key_mount_path: &str) -> String {
    format!(
        "-Djavax.net.ssl.trustStore={key_mount_path}/{} -Djavax.net.ssl.trustStoreType=JKS -Djavax.net.ssl.trustStorePassword={}",
        truststore::TRUSTSTORE_FILE,
        truststore::TRUSTSTORE_PASSWORD
    )
}

fn carries_secret(ingestion: &crate::validate::ValidatedIngestion) -> bool {
    ingestion.auth_provider == crate::crd::IngestionAuthProvider::CustomOidc
        || matches!(ingestion.bot_token, crate::validate::BotToken::Value(_))
}

#[cfg(test)]
mod tests;
