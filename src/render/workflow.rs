//! The ingestion `workflowConfig` for jobs run with `metadata ingest -c` (openmetadata-auth.md §6,
//! §11), written by hand so every scalar goes through [`quoted`]: the ingestion client runs
//! `os.path.expandvars` on the file before parsing it, and only the bot-token reference may
//! contain a live `$`.

use super::syntax::quoted;
use crate::crd::IngestionAuthProvider;
use crate::validate::{BotToken, ValidatedConfig, ValidatedIngestion};

/// Key of the rendered file in the ingestion Secret.
pub const WORKFLOW_CONFIG_KEY: &str = "workflowConfig.yaml";

/// The `workflowConfig` YAML document.
pub fn workflow_config(
    config: &ValidatedConfig,
    ingestion: &ValidatedIngestion,
    token_endpoint: Option<&str>,
) -> String {
    let mut out = String::from("workflowConfig:\n  openMetadataServerConfig:\n");
    out.push_str(&format!(
        "    hostPort: {}\n",
        quoted(ingestion.host_port.trim_end_matches('/'))
    ));
    match ingestion.auth_provider {
        IngestionAuthProvider::OpenMetadata => {
            out.push_str("    authProvider: openmetadata\n    securityConfig:\n");
            let token = match &ingestion.bot_token {
                BotToken::Value(token) => quoted(token.expose()),
                // The `$` stays live for the client's expandvars; the name is escaped like every
                // other value (validation allows only [A-Za-z_][A-Za-z0-9_]*, where escaping
                // changes nothing), so no name can add a line even if validation were skipped.
                BotToken::EnvVar(name) => {
                    let name = quoted(name);
                    format!("\"${{{}}}\"", &name[1..name.len() - 1])
                }
            };
            out.push_str(&format!("      jwtToken: {token}\n"));
        }
        IngestionAuthProvider::CustomOidc => {
            // The legacy client-credentials form of the original Custom OIDC guide.
            let credentials = &config.provider.credentials;
            let secret = credentials
                .client_secret
                .as_ref()
                .map_or("", |s| s.expose().as_str());
            out.push_str("    authProvider: custom-oidc\n    securityConfig:\n");
            out.push_str(&format!(
                "      clientId: {}\n",
                quoted(&credentials.client_id)
            ));
            out.push_str(&format!("      secretKey: {}\n", quoted(secret)));
            out.push_str(&format!(
                "      domain: {}\n",
                quoted(&config.provider.issuer)
            ));
            if let (true, Some(endpoint)) = (ingestion.legacy_token_endpoint, token_endpoint) {
                out.push_str(&format!("      tokenEndpoint: {}\n", quoted(endpoint)));
            }
        }
    }
    out
}
