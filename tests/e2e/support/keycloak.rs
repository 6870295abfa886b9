//! A real Keycloak (26.7, the Quarkus distribution from Maven Central, installed by
//! `scripts/oidc/install-keycloak.sh`) for the end-to-end test that the profiles in
//! `tests/oidc-provider` answer as the real server does.
//!
//! Started in development mode on 127.0.0.1 with an in-memory database, a throwaway admin and
//! no management interface; a realm with one confidential client is created through the admin
//! REST API. Keycloak runs in a process group of its own behind a small shell that ends the
//! group when its stdin closes: on drop, and also when the test process dies, so an aborted run
//! leaves no JVM behind.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

/// First start re-augments the distribution for development mode (about 40 s on two loaded
/// cores); later starts take about 15 s.
const READY_TIMEOUT: Duration = Duration::from_secs(240);

/// A running Keycloak with realm [`Keycloak::REALM`].
pub struct Keycloak {
    port: u16,
    log_path: PathBuf,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    admin_password: String,
}

impl Keycloak {
    /// The realm the test's client lives in.
    pub const REALM: &'static str = "om";

    /// Installs (once) and starts Keycloak; waits until it serves its master realm.
    pub async fn start() -> Result<Self> {
        let home = install()?;
        let port = free_port()?;
        // In cargo's scratch folder, not a temporary one: a Keycloak shared by a test binary's
        // tests lives in a static and is never dropped.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("keycloak");
        std::fs::create_dir_all(&dir)?;
        let log_path = dir.join(format!("keycloak-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let admin_password = super::oidc::random_secret();
        // The shell starts kc.sh in the background and, once its stdin reaches end of file,
        // terminates its whole process group (itself, kc.sh and the JVM).
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" </dev/null & while read -r _; do :; done; kill -TERM 0"#)
            .arg(home.join("bin/kc.sh"))
            .args([
                "start-dev",
                "--http-host=127.0.0.1",
                &format!("--http-port={port}"),
                "--db=dev-mem",
                "--health-enabled=false",
                "--metrics-enabled=false",
            ])
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", "admin")
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", &admin_password)
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .context("spawning Keycloak's kc.sh")?;
        let stdin = child.stdin.take();
        let mut keycloak = Self {
            port,
            log_path,
            child: Some(child),
            stdin,
            admin_password,
        };
        keycloak.wait_ready().await?;
        Ok(keycloak)
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

    async fn wait_ready(&mut self) -> Result<()> {
        let url = format!(
            "{}/realms/master/.well-known/openid-configuration",
            self.base_url()
        );
        let http = reqwest::Client::new();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "Keycloak exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "Keycloak not ready after {READY_TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
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

impl Drop for Keycloak {
    fn drop(&mut self) {
        // Closing stdin makes the shell terminate its group; wait for the JVM to go, and kill
        // what is left after 20 s (the group's id is the shell's PID, recorded at spawn).
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = child.wait();
            let alive = || signal_group("0", &group);
            let deadline = Instant::now() + Duration::from_secs(20);
            while alive() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
            if alive() {
                signal_group("KILL", &group);
            }
        }
    }
}

/// `kill -s <signal> -- -<pgid>`; true when the group exists (signal "0" only checks).
fn signal_group(signal: &str, group: &str) -> bool {
    Command::new("kill")
        .args(["-s", signal, "--", group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `application/x-www-form-urlencoded` text of `pairs`.
fn form_body(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `scripts/oidc/install-keycloak.sh`: installs once, prints the installation's directory.
fn install() -> Result<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/oidc/install-keycloak.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(
        output.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(PathBuf::from(
        String::from_utf8(output.stdout)?.trim().to_string(),
    ))
}

/// A port free on 127.0.0.1 right now (Keycloak binds it a few seconds later; a clash fails
/// the start loudly rather than silently).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
