//! A real Ory Hydra (v2.3.0, built from the Go module proxy by `scripts/oidc/build-hydra.sh`): an
//! OpenID provider of the kind OpenMetadata calls Custom OIDC, which enforces the token endpoint
//! authentication method each client is registered for.
//!
//! Started on 127.0.0.1 (public and admin ports) with an in-memory database in development mode
//! (plain HTTP); its login and consent UI URLs name a port nothing listens on: the operator's login
//! check stops at the first redirect to another origin and never follows it. It runs as a
//! [`ProcessGroup`]: it ends on drop and with the test process.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::json;

use crate::process_group::{
    ProcessGroup, SERVER_LOG, free_port, installed, on_a_free_port, server_log,
};

/// A running Hydra.
pub struct Hydra {
    port: u16,
    admin_port: u16,
    dir: tempfile::TempDir,
    _process: ProcessGroup,
}

/// A confidential client: id, secret, registered callbacks, and the token endpoint authentication
/// method it is registered for (`client_secret_basic` is Hydra's default).
pub struct HydraClient<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub redirect_uris: &'a [&'a str],
    pub auth_method: &'a str,
}

impl Hydra {
    /// Builds (once) and starts Hydra; waits until it serves discovery.
    pub async fn start() -> Result<Self> {
        let binary = installed("oidc/build-hydra.sh", &[])?;
        on_a_free_port(|port| Self::start_on(&binary, port)).await
    }

    async fn start_on(binary: &Path, port: u16) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("hydra-").tempdir()?;
        let admin_port = free_port()?;
        let nowhere = format!("http://127.0.0.1:{}", free_port()?);
        let config = json!({
            "dsn": "memory",
            "serve": {
                "public": {"host": "127.0.0.1", "port": port},
                "admin": {"host": "127.0.0.1", "port": admin_port},
            },
            "urls": {
                "self": {"issuer": format!("http://127.0.0.1:{port}/")},
                "login": format!("{nowhere}/login"),
                "consent": format!("{nowhere}/consent"),
                "error": format!("{nowhere}/error"),
            },
            "secrets": {"system": [crate::oidc::random_secret()]},
            "log": {"level": "warn"},
        });
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, config.to_string())?;
        let args = [
            "serve".to_string(),
            "all".into(),
            "--dev".into(),
            "--sqa-opt-out".into(),
            "--config".into(),
            config_path.display().to_string(),
        ];
        let process = ProcessGroup::start_serving(
            binary,
            &args,
            &[],
            &dir.path().join(SERVER_LOG),
            &format!("http://127.0.0.1:{port}/.well-known/openid-configuration"),
            Duration::from_secs(60),
        )
        .await
        .context("Hydra")?;
        Ok(Self {
            port,
            admin_port,
            dir,
            _process: process,
        })
    }

    /// `http://127.0.0.1:<port>/`, as Hydra names itself (with the trailing slash).
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Registers `client` through the admin API (the code flow, OpenMetadata's scopes).
    pub async fn register(&self, client: &HydraClient<'_>) -> Result<()> {
        let created = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/admin/clients",
                self.admin_port
            ))
            .json(&json!({
                "client_id": client.id,
                "client_secret": client.secret,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": client.redirect_uris,
                "scope": "openid email profile",
                "token_endpoint_auth_method": client.auth_method,
            }))
            .send()
            .await?;
        ensure!(
            created.status() == reqwest::StatusCode::CREATED,
            "registering client {}: HTTP {}",
            client.id,
            created.status()
        );
        Ok(())
    }

    /// Its log so far (for failure messages).
    pub fn log(&self) -> String {
        server_log(self.dir.path())
    }
}
