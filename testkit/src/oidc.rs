//! A real OpenID Connect provider for end-to-end tests: `tests/oidc-provider/provider.mjs`
//! (panva's oidc-provider 8.8.1 on Node), started on 127.0.0.1 with a throwaway CA when HTTPS
//! is wanted.
//!
//! Use from a test crate with `mod support_oidc;`. Needs `node` (18 or later), `npm` (first run
//! only, for `npm ci`) and `openssl` (HTTPS only) on the PATH.
//!
//! ```ignore
//! let mut idp = TestProvider::start(ProviderOptions::https())?;
//! let issuer = idp.issuer();           // https://127.0.0.1:<port>
//! let ca = idp.ca_pem();               // Some(PEM of the test CA)
//! idp.stop()?;                         // outage
//! idp.start()?;                        // back, same port and issuer
//!
//! // A profile that answers like a real provider (see tests/oidc-provider/provider.mjs):
//! let client = TestClient::new("om", &random_secret())
//!     .with_redirect_uris(["https://om.example/callback"])
//!     .with_audiences(["https://om.example/api"]);
//! let idp = TestProvider::start_with(ProviderOptions::https().with_profile(Profile::Auth0).with_clients([client]))?;
//! idp.issuer();                        // https://127.0.0.1:<port>/ (with the slash)
//! idp.discovery_url();                 // https://127.0.0.1:<port>/.well-known/openid-configuration
//! idp.authorization_endpoint();        // https://127.0.0.1:<port>/authorize
//! ```
//!
//! The child is killed by its PID on drop, and also exits by itself when the test process dies
//! (it watches its stdin pipe), so an aborted run leaves no provider behind.
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long to wait for the `ready` line (Node start-up plus RSA key generation; a few hundred
/// milliseconds normally, more on a loaded two-core CI machine).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A client registered at the test provider.
#[derive(Clone, Debug)]
pub struct TestClient {
    /// `client_id`.
    pub id: String,
    /// `client_secret`.
    pub secret: String,
    /// `token_endpoint_auth_method` (oidc-provider default here: `client_secret_basic`; profiles
    /// accept `client_secret_basic` and `client_secret_post` from every client).
    pub auth_method: Option<String>,
    /// `grant_types` (default: `authorization_code` and `client_credentials`, registered at
    /// `https://om.example.com/callback` unless `redirect_uris` say otherwise; with a profile:
    /// `client_credentials` only, unless redirect URIs are given).
    pub grant_types: Option<Vec<String>>,
    /// Registered callbacks (the authorization endpoint compares them exactly).
    pub redirect_uris: Vec<String>,
    /// With a profile, the non-standard scopes the client may ask for: Keycloak client scopes,
    /// Entra `<resource>/.default` values, Okta custom scopes, Cognito resource-server scopes.
    pub scopes: Vec<String>,
    /// Auth0: the APIs (`audience` values) the client has a client-grant for.
    pub audiences: Vec<String>,
    /// The authorization endpoint refuses a request without `code_challenge`.
    pub require_pkce: bool,
}

impl TestClient {
    /// A confidential client (see [`TestClient::grant_types`] for its defaults).
    pub fn new(id: &str, secret: &str) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            auth_method: None,
            grant_types: None,
            redirect_uris: Vec::new(),
            scopes: Vec::new(),
            audiences: Vec::new(),
            require_pkce: false,
        }
    }

    /// Registers these callbacks.
    pub fn with_redirect_uris<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        uris: I,
    ) -> Self {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Allows exactly these grants.
    pub fn with_grants<I: IntoIterator<Item = S>, S: Into<String>>(mut self, grants: I) -> Self {
        self.grant_types = Some(grants.into_iter().map(Into::into).collect());
        self
    }

    /// The profile-specific scopes the client may ask for (see [`TestClient::scopes`]).
    pub fn with_scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Auth0 audiences the client has a client-grant for.
    pub fn with_audiences<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        audiences: I,
    ) -> Self {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }
}

/// A provider the test provider can behave like (`profile` in tests/oidc-provider/provider.mjs,
/// which documents what each one answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Keycloak 26: `/realms/<realm>`.
    Keycloak,
    /// Entra ID v2, single tenant: `/<tenant>/v2.0`.
    Entra,
    /// Entra ID v2, multi-tenant `common` discovery announcing `/{tenantid}/v2.0`.
    EntraCommon,
    /// Okta custom authorization server `/oauth2/default`.
    Okta,
    /// Auth0: issuer with a trailing slash.
    Auth0,
    /// Google: issuer without a path.
    Google,
    /// Cognito user pool: `/<region>_<pool>`.
    Cognito,
    /// Dex v2.45.1: `/dex`.
    Dex,
}

/// Keycloak profile: the realm.
pub const KEYCLOAK_REALM: &str = "test";
/// The callback URL the suites' clients register: the standard scenario's server
/// (`server.externalUrl: https://om.example.com`) at OpenMetadata's callback path.
pub const CALLBACK: &str = "https://om.example.com/callback";
/// The client id the suites' OpenMetadata signs in with.
pub const CLIENT: &str = "openmetadata";
/// Entra profiles: the tenant id.
pub const ENTRA_TENANT: &str = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490";
/// Okta profile: the custom authorization server id.
pub const OKTA_AUTH_SERVER: &str = "default";
/// Cognito profile: the user pool id.
pub const COGNITO_USER_POOL: &str = "eu-west-1_LocalPool";

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 8] = [
        Profile::Keycloak,
        Profile::Entra,
        Profile::EntraCommon,
        Profile::Okta,
        Profile::Auth0,
        Profile::Google,
        Profile::Cognito,
        Profile::Dex,
    ];

    /// The name provider.mjs knows it by.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Keycloak => "keycloak",
            Profile::Entra => "entra",
            Profile::EntraCommon => "entra-common",
            Profile::Okta => "okta",
            Profile::Auth0 => "auth0",
            Profile::Google => "google",
            Profile::Cognito => "cognito",
            Profile::Dex => "dex",
        }
    }

    /// The issuer its discovery document announces, given the listen URL.
    pub fn issuer(self, base: &str) -> String {
        match self {
            Profile::Keycloak => format!("{base}/realms/{KEYCLOAK_REALM}"),
            Profile::Entra => format!("{base}/{ENTRA_TENANT}/v2.0"),
            Profile::EntraCommon => format!("{base}/{{tenantid}}/v2.0"),
            Profile::Okta => format!("{base}/oauth2/{OKTA_AUTH_SERVER}"),
            Profile::Auth0 => format!("{base}/"),
            Profile::Google => base.to_owned(),
            Profile::Cognito => format!("{base}/{COGNITO_USER_POOL}"),
            Profile::Dex => format!("{base}/dex"),
        }
    }

    /// What a user configures as the issuer/authority: where `/.well-known/openid-configuration`
    /// is appended. Equal to [`Profile::issuer`] except for `common`, whose announced issuer is a
    /// template.
    pub fn authority(self, base: &str) -> String {
        match self {
            Profile::EntraCommon => format!("{base}/common/v2.0"),
            _ => self.issuer(base),
        }
    }

    /// Path of an endpoint named in the profile's discovery document (relative to the listen
    /// URL), or `None` where the document names none.
    fn endpoint_path(self, endpoint: Endpoint) -> Option<String> {
        use Endpoint::*;
        let kc = format!("/realms/{KEYCLOAK_REALM}/protocol/openid-connect");
        let okta = format!("/oauth2/{OKTA_AUTH_SERVER}/v1");
        let entra = |segment: &str, p: &str| format!("/{segment}{p}");
        let seg = if self == Profile::EntraCommon {
            "common"
        } else {
            ENTRA_TENANT
        };
        Some(match (self, endpoint) {
            (Profile::Keycloak, Authorization) => format!("{kc}/auth"),
            (Profile::Keycloak, Token) => format!("{kc}/token"),
            (Profile::Keycloak, Jwks) => format!("{kc}/certs"),
            (Profile::Keycloak, Introspection) => format!("{kc}/token/introspect"),
            (Profile::Keycloak, Revocation) => format!("{kc}/revoke"),
            (Profile::Entra | Profile::EntraCommon, Authorization) => {
                entra(seg, "/oauth2/v2.0/authorize")
            }
            (Profile::Entra | Profile::EntraCommon, Token) => entra(seg, "/oauth2/v2.0/token"),
            (Profile::Entra | Profile::EntraCommon, Jwks) => entra(seg, "/discovery/v2.0/keys"),
            (Profile::Okta, Authorization) => format!("{okta}/authorize"),
            (Profile::Okta, Token) => format!("{okta}/token"),
            (Profile::Okta, Jwks) => format!("{okta}/keys"),
            (Profile::Okta, Introspection) => format!("{okta}/introspect"),
            (Profile::Okta, Revocation) => format!("{okta}/revoke"),
            (Profile::Auth0, Authorization) => "/authorize".into(),
            (Profile::Auth0, Token) => "/oauth/token".into(),
            (Profile::Auth0, Jwks) => "/.well-known/jwks.json".into(),
            (Profile::Auth0, Revocation) => "/oauth/revoke".into(),
            (Profile::Google, Authorization) => "/o/oauth2/v2/auth".into(),
            (Profile::Google, Token) => "/token".into(),
            (Profile::Google, Jwks) => "/oauth2/v3/certs".into(),
            (Profile::Google, Revocation) => "/revoke".into(),
            (Profile::Cognito, Authorization) => "/oauth2/authorize".into(),
            (Profile::Cognito, Token) => "/oauth2/token".into(),
            (Profile::Cognito, Jwks) => format!("/{COGNITO_USER_POOL}/.well-known/jwks.json"),
            (Profile::Cognito, Revocation) => "/oauth2/revoke".into(),
            (Profile::Dex, Authorization) => "/dex/auth".into(),
            (Profile::Dex, Token) => "/dex/token".into(),
            (Profile::Dex, Jwks) => "/dex/keys".into(),
            (Profile::Dex, Introspection) => "/dex/token/introspect".into(),
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Authorization,
    Token,
    Jwks,
    Introspection,
    Revocation,
}

/// How to run the provider.
#[derive(Clone, Debug)]
pub struct ProviderOptions {
    /// Serve HTTPS with a certificate for 127.0.0.1 and localhost from a fresh test CA.
    pub https: bool,
    /// The issuer the provider announces; `{listen}` is replaced by its listen URL. Default: the
    /// listen URL itself. Use e.g. `"{listen}/realms/other"` to simulate an issuer mismatch.
    pub issuer: Option<String>,
    /// Registered clients (default: one, `operator` / a random secret).
    pub clients: Vec<TestClient>,
    /// `scopes_supported` (default: openid offline_access email profile).
    pub scopes: Option<Vec<String>>,
    /// `response_types_supported` (default: oidc-provider's).
    pub response_types: Option<Vec<String>>,
    /// Served verbatim as the key set instead of the real keys (for broken-JWKS tests).
    pub jwks_override: Option<serde_json::Value>,
    /// Behave like a real provider (default: oidc-provider's own behaviour).
    pub profile: Option<Profile>,
    /// Discovery names `http://` endpoints although the issuer is `https://` (a downgrade).
    pub http_endpoints: bool,
}

impl ProviderOptions {
    /// Plain HTTP with the defaults.
    pub fn http() -> Self {
        Self {
            https: false,
            issuer: None,
            clients: vec![TestClient::new("operator", &random_secret())],
            scopes: None,
            response_types: None,
            jwks_override: None,
            profile: None,
            http_endpoints: false,
        }
    }

    /// The same options with `profile`.
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The same options with exactly these clients.
    pub fn with_clients<I: IntoIterator<Item = TestClient>>(mut self, clients: I) -> Self {
        self.clients = clients.into_iter().collect();
        self
    }

    /// HTTPS with a throwaway CA.
    pub fn https() -> Self {
        Self {
            https: true,
            ..Self::http()
        }
    }

    fn config_json(&self, port: u16, tls: Option<&TlsFiles>) -> serde_json::Value {
        let clients: Vec<serde_json::Value> = self
            .clients
            .iter()
            .map(|c| {
                let mut v = serde_json::json!({"client_id": c.id, "client_secret": c.secret});
                if let Some(m) = &c.auth_method {
                    v["token_endpoint_auth_method"] = m.clone().into();
                }
                if let Some(g) = &c.grant_types {
                    v["grant_types"] = g.clone().into();
                }
                if !c.redirect_uris.is_empty() {
                    v["redirect_uris"] = c.redirect_uris.clone().into();
                }
                if !c.scopes.is_empty() {
                    v["scopes"] = c.scopes.clone().into();
                }
                if !c.audiences.is_empty() {
                    v["audiences"] = c.audiences.clone().into();
                }
                if c.require_pkce {
                    v["require_pkce"] = true.into();
                }
                v
            })
            .collect();
        let mut config = serde_json::json!({
            "port": port,
            "clients": clients,
            "exitWithParent": true,
        });
        if let Some(issuer) = &self.issuer {
            config["issuer"] = issuer.clone().into();
        }
        if let Some(tls) = tls {
            config["tls"] = serde_json::json!({"cert": tls.cert, "key": tls.key});
        }
        if let Some(scopes) = &self.scopes {
            config["scopes"] = scopes.clone().into();
        }
        if let Some(rt) = &self.response_types {
            config["responseTypes"] = rt.clone().into();
        }
        if let Some(jwks) = &self.jwks_override {
            config["jwksOverride"] = jwks.clone();
        }
        if let Some(profile) = self.profile {
            config["profile"] = profile.name().into();
        }
        if self.http_endpoints {
            config["httpEndpoints"] = true.into();
        }
        config
    }
}

struct TlsFiles {
    ca_pem: Vec<u8>,
    cert: PathBuf,
    key: PathBuf,
}

/// A running (or stopped) test provider.
pub struct TestProvider {
    options: ProviderOptions,
    dir: tempfile::TempDir,
    tls: Option<TlsFiles>,
    port: u16,
    listen_url: String,
    child: Option<Child>,
    // Held so the provider sees EOF (and exits) when this process dies.
    stdin: Option<ChildStdin>,
}

impl TestProvider {
    /// Installs the npm dependencies if needed, creates the test CA (HTTPS), and starts the
    /// provider on a free port.
    pub fn start_with(options: ProviderOptions) -> Result<Self> {
        ensure_npm_deps()?;
        let dir = tempfile::Builder::new()
            .prefix("oidc-test-provider-")
            .tempdir()?;
        let tls = if options.https {
            Some(
                make_tls(dir.path())
                    .context("creating the test CA and server certificate with openssl")?,
            )
        } else {
            None
        };
        let mut provider = Self {
            options,
            dir,
            tls,
            port: 0,
            listen_url: String::new(),
            child: None,
            stdin: None,
        };
        provider.start()?;
        Ok(provider)
    }

    /// Plain HTTP with the defaults.
    pub fn http() -> Result<Self> {
        Self::start_with(ProviderOptions::http())
    }

    /// HTTPS with a throwaway CA.
    pub fn https() -> Result<Self> {
        Self::start_with(ProviderOptions::https())
    }

    /// (Re)starts the provider. The first start picks a free port; later starts reuse it, so
    /// the issuer and every URL stay the same across an outage.
    pub fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let config = self.options.config_json(self.port, self.tls.as_ref());
        let log_path = self.dir.path().join("provider.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let mut child = Command::new("node")
            .arg(provider_dir().join("provider.mjs"))
            .arg(config.to_string())
            .current_dir(provider_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .context("spawning `node provider.mjs` (is Node.js installed?)")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("no stdout pipe")?;

        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the provider never blocks on a full pipe.
            for _ in lines {}
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Some(status) = child.try_wait()? {
                        bail!(
                            "the provider exited with {status} before it was ready:\n{}",
                            self.log()
                        );
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!(
                        "the provider did not print `ready` within {READY_TIMEOUT:?}:\n{}",
                        self.log()
                    );
                }
            }
        };
        let Some(url) = line.strip_prefix("ready ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "unexpected first line from the provider: {line:?}\n{}",
                self.log()
            );
        };
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .with_context(|| format!("no port in {url:?}"))?;
        self.port = port;
        self.listen_url = url.to_owned();
        self.child = Some(child);
        self.stdin = stdin;
        Ok(())
    }

    /// Stops the provider (SIGTERM by PID, SIGKILL after two seconds) and waits until it is
    /// gone, so the port refuses connections when this returns.
    pub fn stop(&mut self) -> Result<()> {
        self.stdin = None;
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// The issuer the provider announces in its discovery document (for
    /// [`Profile::EntraCommon`] the literal `{tenantid}` template).
    pub fn issuer(&self) -> String {
        match (&self.options.issuer, self.options.profile) {
            (Some(issuer), _) => issuer.replace("{listen}", &self.listen_url),
            (None, Some(profile)) => profile.issuer(&self.listen_url),
            (None, None) => self.listen_url.clone(),
        }
    }

    /// The profile, if any.
    pub fn profile(&self) -> Option<Profile> {
        self.options.profile
    }

    /// What a user configures as the issuer (the URL discovery is found under): the announced
    /// issuer, except for [`Profile::EntraCommon`] (`<listen>/common/v2.0`).
    pub fn authority(&self) -> String {
        match self.options.profile {
            Some(profile) => profile.authority(&self.listen_url),
            None => self.issuer(),
        }
    }

    /// The issuer of one tenant for the Entra profiles (what tokens carry, also after `common`
    /// discovery), otherwise [`TestProvider::issuer`].
    pub fn tenant_issuer(&self) -> String {
        match self.options.profile {
            Some(Profile::Entra | Profile::EntraCommon) => {
                format!("{}/{ENTRA_TENANT}/v2.0", self.listen_url)
            }
            _ => self.issuer(),
        }
    }

    /// Where it listens (`http(s)://127.0.0.1:<port>`); equal to `issuer()` unless an issuer
    /// was configured or a profile announces another one.
    pub fn base_url(&self) -> &str {
        &self.listen_url
    }

    /// The listen port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The discovery URL: `<authority>/.well-known/openid-configuration` with a profile (one
    /// slash between them, also for Auth0), the listen address's without one.
    pub fn discovery_url(&self) -> String {
        match self.options.profile {
            Some(profile) => format!(
                "{}/.well-known/openid-configuration",
                profile.authority(&self.listen_url).trim_end_matches('/')
            ),
            None => format!("{}/.well-known/openid-configuration", self.listen_url),
        }
    }

    fn endpoint(&self, endpoint: Endpoint) -> Option<String> {
        let path = match self.options.profile {
            Some(profile) => profile.endpoint_path(endpoint)?,
            // oidc-provider's default routes.
            None => match endpoint {
                Endpoint::Authorization => "/auth".into(),
                Endpoint::Token => "/token".into(),
                Endpoint::Jwks => "/jwks".into(),
                Endpoint::Introspection | Endpoint::Revocation => return None,
            },
        };
        Some(format!("{}{path}", self.listen_url))
    }

    /// The `authorization_endpoint` discovery names (always on the listen URL, also with
    /// `http_endpoints`).
    pub fn authorization_endpoint(&self) -> String {
        self.endpoint(Endpoint::Authorization).unwrap_or_default()
    }

    /// The `token_endpoint` discovery names.
    pub fn token_endpoint(&self) -> String {
        self.endpoint(Endpoint::Token).unwrap_or_default()
    }

    /// The `jwks_uri` discovery names.
    pub fn jwks_uri(&self) -> String {
        self.endpoint(Endpoint::Jwks).unwrap_or_default()
    }

    /// The `introspection_endpoint` discovery names, if any.
    pub fn introspection_endpoint(&self) -> Option<String> {
        self.endpoint(Endpoint::Introspection)
    }

    /// The `revocation_endpoint` discovery names, if any.
    pub fn revocation_endpoint(&self) -> Option<String> {
        self.endpoint(Endpoint::Revocation)
    }

    /// PEM of the test CA that signed the server certificate (HTTPS only).
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.tls.as_ref().map(|t| t.ca_pem.clone())
    }

    /// The first registered client's id.
    pub fn client_id(&self) -> &str {
        self.options.clients.first().map_or("", |c| c.id.as_str())
    }

    /// The first registered client's secret.
    pub fn client_secret(&self) -> &str {
        self.options
            .clients
            .first()
            .map_or("", |c| c.secret.as_str())
    }

    /// All registered clients.
    pub fn clients(&self) -> &[TestClient] {
        &self.options.clients
    }

    /// The provider's stderr so far (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("provider.log")).unwrap_or_default()
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            // Child::kill signals this child's PID only.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `tests/oidc-provider` in this checkout.
pub fn provider_dir() -> PathBuf {
    crate::tools::repo_root()
        .join("tests")
        .join("oidc-provider")
}

/// Runs `scripts/oidc/install-provider.sh` once per test process (it is a no-op when
/// node_modules matches the lock file, and serialises concurrent installs with a lock).
pub fn ensure_npm_deps() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let script = crate::tools::repo_root().join("scripts/oidc/install-provider.sh");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({}):\n{}",
                script.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

/// A throwaway CA and a server certificate for 127.0.0.1 and localhost, valid for a day.
#[rustfmt::skip]
fn make_tls(dir: &Path) -> Result<TlsFiles> {
    let ca_key = dir.join("ca.key");
    let ca_pem = dir.join("ca.pem");
    let key = dir.join("server.key");
    let csr = dir.join("server.csr");
    let cert = dir.join("server.pem");
    let ext = dir.join("server.ext");
    let p = |p: &Path| p.to_string_lossy().into_owned();
    // P-256 keys: generated in milliseconds, unlike RSA.
    openssl(&[
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", &p(&ca_key), "-out", &p(&ca_pem), "-days", "1",
        "-subj", "/CN=oidc-sso-operator test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ])?;
    openssl(&[
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", &p(&key), "-out", &p(&csr), "-subj", "/CN=127.0.0.1",
    ])?;
    fs::write(
        &ext,
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )?;
    openssl(&[
        "x509", "-req", "-in", &p(&csr), "-CA", &p(&ca_pem), "-CAkey", &p(&ca_key),
        "-CAcreateserial", "-out", &p(&cert), "-days", "1", "-sha256", "-extfile", &p(&ext),
    ])?;
    Ok(TlsFiles {
        ca_pem: fs::read(&ca_pem)?,
        cert,
        key,
    })
}

fn openssl(args: &[&str]) -> Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .context("running openssl (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "openssl {} failed:\n{}",
            args[..2].join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A random client secret per provider, so a leaked secret in an assertion message is easy to
/// spot and never matches another test's.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 18];
    if let Ok(mut urandom) = fs::File::open("/dev/urandom") {
        let _ = urandom.read_exact(&mut bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("secret-{}-{nanos:x}", hex::encode(bytes))
}
