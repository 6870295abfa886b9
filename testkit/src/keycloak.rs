//! A real Keycloak (26.7, the Quarkus distribution from Maven Central, installed by
//! `scripts/oidc/install-keycloak.sh`) for the end-to-end test that the profiles in
//! `tests/oidc-provider` answer as the real server does.
//!
//! Started in development mode on 127.0.0.1 with an in-memory database, a throwaway admin and
//! no management interface; a realm with one confidential client is created through the admin
//! REST API. Keycloak (kc.sh and its JVM) runs as a [`ProcessGroup`]: it ends on drop and with
//! the test process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::http::form_body;
use crate::process_group::{ProcessGroup, installed, on_a_free_port};

/// First start re-augments the distribution for development mode (about 40 s on two loaded
/// cores); later starts take about 15 s.
const READY_TIMEOUT: Duration = Duration::from_secs(240);

/// A running Keycloak with realm [`Keycloak::REALM`].
pub struct Keycloak {
    port: u16,
    log_path: PathBuf,
    _process: ProcessGroup,
    admin_password: String,
}

impl Keycloak {
    /// The realm the test's client lives in.
    pub const REALM: &'static str = "om";

    /// Installs (once) and starts Keycloak; waits until it serves its master realm.
    pub async fn start() -> Result<Self> {
        let home = installed("oidc/install-keycloak.sh", &[])?;
        on_a_free_port(|port| Self::start_on(&home, port)).await
    }

    async fn start_on(home: &Path, port: u16) -> Result<Self> {
        // In cargo's scratch folder, not a temporary one: a Keycloak shared by a test binary's
        // tests lives in a static and is never dropped.
        let dir = crate::tools::target_tmpdir().join("keycloak");
        std::fs::create_dir_all(&dir)?;
        let log_path = dir.join(format!("keycloak-{port}.log"));
        let admin_password = crate::oidc::random_secret();
        let args = [
            "start-dev".to_string(),
            "--http-host=127.0.0.1".into(),
            format!("--http-port={port}"),
            "--db=dev-mem".into(),
            "--health-enabled=false".into(),
            "--metrics-enabled=false".into(),
        ];
        let ready =
            format!("http://127.0.0.1:{port}/realms/master/.well-known/openid-configuration");
        let process = ProcessGroup::start_serving(
            &home.join("bin/kc.sh"),
            &args,
            &[
                ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
                ("KC_BOOTSTRAP_ADMIN_PASSWORD", &admin_password),
            ],
            &log_path,
            &ready,
            READY_TIMEOUT,
        )
        .await
        .context("Keycloak")?;
        Ok(Self {
            port,
            log_path,
            _process: process,
            admin_password,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The realm's issuer, as its discovery document states it.
    pub fn issuer(&self) -> String {
        format!("{}/realms/{}", self.base_url(), Self::REALM)
    }

    /// Its log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Creates realm [`Keycloak::REALM`] with `clients` (Keycloak's client representations, see
    /// [`login_client`] and [`service_client`]).
    pub async fn create_realm(&self, clients: Vec<Value>) -> Result<()> {
        let realm = json!({"realm": Self::REALM, "enabled": true, "clients": clients});
        let http = reqwest::Client::new();
        let token: Value = http
            .post(format!(
                "{}/realms/master/protocol/openid-connect/token",
                self.base_url()
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "admin"),
                ("password", self.admin_password.as_str()),
            ]))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = token["access_token"]
            .as_str()
            .context("no admin access token")?;
        let created = http
            .post(format!("{}/admin/realms", self.base_url()))
            .bearer_auth(token)
            .json(&realm)
            .send()
            .await?;
        ensure!(
            created.status() == reqwest::StatusCode::CREATED,
            "creating realm {}: HTTP {}",
            Self::REALM,
            created.status()
        );
        Ok(())
    }
}

/// A confidential login client, as OpenMetadata's is registered: the standard (code) flow with
/// `redirect_uri` as its one callback, a client secret, no service account.
pub fn login_client(id: &str, secret: &str, redirect_uri: &str) -> Value {
    confidential(
        id,
        secret,
        json!({"redirectUris": [redirect_uri], "standardFlowEnabled": true, "serviceAccountsEnabled": false}),
    )
}

/// A confidential client with a service account (the client credentials grant) and no login.
pub fn service_client(id: &str, secret: &str) -> Value {
    confidential(
        id,
        secret,
        json!({"standardFlowEnabled": false, "serviceAccountsEnabled": true}),
    )
}

fn confidential(id: &str, secret: &str, flows: Value) -> Value {
    let mut client = json!({
        "clientId": id,
        "enabled": true,
        "publicClient": false,
        "clientAuthenticatorType": "client-secret",
        "secret": secret,
    });
    for (k, v) in flows.as_object().into_iter().flatten() {
        client[k] = v.clone();
    }
    client
}
