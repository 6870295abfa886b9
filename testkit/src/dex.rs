//! A real Dex (v2.45.1, built from the Go module proxy by `scripts/oidc/build-dex.sh`) for the
//! end-to-end tests that compare it with its profile in `tests/oidc-provider` and run the
//! operator against it.
//!
//! Started on 127.0.0.1 with in-memory storage, static clients and the local password connector
//! (so `/auth` hands the login on to `/auth/local`, as a Dex with one connector does); no
//! telemetry or gRPC listener. It runs as a [`ProcessGroup`]: it ends on drop and with the test
//! process.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use crate::process_group::{ProcessGroup, installed, on_a_free_port, server_log};

/// A running Dex.
pub struct Dex {
    port: u16,
    dir: tempfile::TempDir,
    _process: ProcessGroup,
}

/// A static client: id, secret, registered callbacks.
pub struct DexClient<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub redirect_uris: &'a [&'a str],
}

impl Dex {
    /// Builds (once) and starts Dex with `clients`; waits until it serves discovery.
    pub async fn start(clients: &[DexClient<'_>]) -> Result<Self> {
        let binary = installed("oidc/build-dex.sh", &[])?;
        on_a_free_port(|port| Self::start_on(&binary, port, clients)).await
    }

    async fn start_on(binary: &Path, port: u16, clients: &[DexClient<'_>]) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("dex-").tempdir()?;
        let issuer = format!("http://127.0.0.1:{port}/dex");
        let config = json!({
            "issuer": issuer,
            "storage": {"type": "memory"},
            "web": {"http": format!("127.0.0.1:{port}")},
            "enablePasswordDB": true,
            "oauth2": {"skipApprovalScreen": true},
            "staticClients": clients.iter().map(|c| json!({
                "id": c.id,
                "name": c.id,
                "secret": c.secret,
                "redirectURIs": c.redirect_uris,
            })).collect::<Vec<_>>(),
        });
        let process = ProcessGroup::serve_config(
            binary,
            &config,
            dir.path(),
            &format!("{issuer}/.well-known/openid-configuration"),
            Duration::from_secs(30),
        )
        .await
        .context("Dex")?;
        Ok(Self {
            port,
            dir,
            _process: process,
        })
    }

    /// `http://127.0.0.1:<port>/dex`, as configured.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}/dex", self.port)
    }

    /// Its log so far (for failure messages).
    pub fn log(&self) -> String {
        server_log(self.dir.path())
    }
}
