//! The OpenMetadata stand-in (`scripts/image/omserver`, built on the host by
//! `scripts/image/build-om-standin.sh --binary`) against a real PostgreSQL
//! (`scripts/node/postgres.sh`, one server per test in its own folder on 127.0.0.1), started as a
//! host process with the settings exactly as the operator renders them (the confidential
//! fixture), and read through the operator's own proof (`proof::ask` asks it over HTTP,
//! `proof::verdict` judges): per release family, where the server takes its authentication
//! settings from, what `remove-security-config` changes, and what a pod whose key files did not
//! load serves.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use oidc_sso_operator::keys::KeyMaterial;
use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::proof::ask::{PodAnswers, PodAsker, judge};
use oidc_sso_operator::proof::jwks::{self, ExpectedKey, KeyProof};
use oidc_sso_operator::proof::verdict::{Expected, PodProof};
use oidc_sso_operator::proof::version::{Family, Release};
use oidc_sso_operator::render::ProviderEndpoints;
use oidc_sso_operator::render::syntax::quoted;
use serde_json::Value;
use tempfile::TempDir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The stand-in's host binary, built once per test process (the script locks and skips an
/// up-to-date build, so parallel test processes share it too).
fn standin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new(root().join("scripts/image/build-om-standin.sh"))
            .arg("--binary")
            .output()
            .expect("build-om-standin.sh runs");
        assert!(
            out.status.success(),
            "build-om-standin.sh --binary failed (it needs go and the Go module proxy): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// OpenMetadata's auth template (the same text as shared/fixtures, kept in the repository).
fn template() -> PathBuf {
    root().join("tests/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A folder the `postgres` user can traverse (PostgreSQL runs as it when the tests run as root).
fn shared_tempdir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The confidential fixture rendered by the operator: the settings Secret's entries and the
/// fixture's own key pair.
fn rendered() -> (BTreeMap<String, String>, KeyMaterial) {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/confidential.yaml")).expect("fixture");
    let keys = std::fs::read_to_string(root().join("tests/fixtures/test-keys.yaml")).unwrap();
    let input = PreviewInput::from_documents([
        ("test-keys.yaml", keys.as_str()),
        ("confidential.yaml", text.as_str()),
    ])
    .expect("resource");
    let (rendered, keys, _) =
        preview::render_preview(&input, &ProviderEndpoints::default()).expect("render");
    let env = rendered
        .auth_env
        .data
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8(v.clone()).unwrap()))
        .collect();
    (env, keys)
}

/// The rendered settings with the key files written to `dir` and named there, as a pod with
/// the keys Secret mounted sees them; and the key they hold.
fn settings_with_keys(dir: &Path) -> (BTreeMap<String, String>, KeyMaterial) {
    let (mut env, keys) = rendered();
    let private = dir.join("private_key.der");
    let public = dir.join("public_key.der");
    std::fs::write(&private, keys.private_pkcs8_der()).unwrap();
    std::fs::write(&public, keys.public_spki_der()).unwrap();
    env.insert(
        "RSA_PRIVATE_KEY_FILE_PATH".into(),
        quoted(private.to_str().unwrap()),
    );
    env.insert(
        "RSA_PUBLIC_KEY_FILE_PATH".into(),
        quoted(public.to_str().unwrap()),
    );
    (env, keys)
}

/// The settings without the 2.1 config-source variables (as rendered for releases before 2.1).
fn without_config_source(mut env: BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.remove("SECURITY_CONFIG_SOURCE");
    env.remove("SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE");
    env
}

fn with(env: &BTreeMap<String, String>, pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env = env.clone();
    for (k, v) in pairs {
        env.insert((*k).to_string(), (*v).to_string());
    }
    env
}

/// A PostgreSQL server of scripts/node/postgres.sh in its own folder and port; stopped (by the
/// PID in its pid file) when dropped, also when the test panics.
struct Postgres {
    dir: TempDir,
    port: u16,
}

impl Postgres {
    fn start() -> Self {
        let pg = Postgres {
            dir: shared_tempdir(),
            port: free_port(),
        };
        let out = pg.script("start");
        assert!(
            out.status.success(),
            "postgres.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }

    fn script(&self, action: &str) -> Output {
        Command::new(root().join("scripts/node/postgres.sh"))
            .arg(action)
            .env("PG_DIR", self.dir.path().join("pg"))
            .env("PG_PORT", self.port.to_string())
            .output()
            .expect("postgres.sh runs")
    }

    /// DB_HOST, DB_PORT, DB_USER, DB_USER_PASSWORD, OM_DATABASE, DB_SCHEME, DB_DRIVER_CLASS,
    /// DB_PARAMS: the variables openmetadata.yaml's database block reads.
    fn env(&self) -> BTreeMap<String, String> {
        let out = self.script("env");
        assert!(out.status.success(), "postgres.sh env");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.starts_with("DB_") || *k == "OM_DATABASE")
            .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
            .collect()
    }

    fn stop(&self) {
        let out = self.script("stop");
        assert!(
            out.status.success(),
            "postgres.sh stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// A running stand-in; killed (by its PID) when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn standin_command(program: &Path, release: &str, env: &BTreeMap<String, String>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OM_STANDIN_VERSION", release)
        .env("OM_STANDIN_CONFIG", template())
        .envs(env);
    cmd
}

/// Starts the stand-in playing `release` with exactly `env` (and its listen address); returns
/// it once it answers, or what it logged when it exited instead.
fn start(release: &str, env: &BTreeMap<String, String>, logs: &Path) -> Result<Server, String> {
    let port = free_port();
    let log = logs.join(format!("standin-{port}.log"));
    let child = standin_command(standin(), release, env)
        .env("OM_STANDIN_ADDR", format!("127.0.0.1:{port}"))
        .env("OM_STANDIN_ADMIN_ADDR", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the stand-in starts");
    let mut server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return Err(format!(
                "exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        if get(port, "/api/v1/system/health").is_some_and(|(status, _)| status == 200) {
            return Ok(server);
        }
        assert!(
            Instant::now() < deadline,
            "the stand-in did not answer in 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1: status and body.
fn get(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, raw[split + 4..].to_vec()))
}

impl Server {
    /// The three answers the operator's proof asks each pod for, asked by the proof's asker.
    fn answers(&self) -> PodAnswers {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let asker = PodAsker::new(Duration::from_secs(10)).unwrap();
        runtime.block_on(asker.ask(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port))
    }

    fn auth(&self) -> Value {
        serde_json::from_slice(&self.answers().auth.expect("an auth answer")).unwrap()
    }
}

/// What the proof makes of a pod's answers against the rendering `env` and `keys`.
fn proof(answers: &PodAnswers, env: &BTreeMap<String, String>, keys: &KeyMaterial) -> PodProof {
    let auth_env: BTreeMap<String, Vec<u8>> = env
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    let key = ExpectedKey::of(keys);
    let (proof, _) = judge(
        answers,
        Expected {
            key: &key,
            auth_env: &auth_env,
            reset_in_template: true,
        },
    );
    proof
}

/// Runs the operations CLI as a pod runs it: `<dir>/bootstrap/openmetadata-ops.sh ARGS`, the
/// binary linked there and the template at `<dir>/conf/openmetadata.yaml`, as in the image.
fn ops(
    dir: &Path,
    release: &str,
    env: &BTreeMap<String, String>,
    args: &[&str],
    stdin: &str,
) -> Output {
    let script = dir.join("om/bootstrap/openmetadata-ops.sh");
    if !script.exists() {
        std::fs::create_dir_all(dir.join("om/bootstrap")).unwrap();
        std::fs::create_dir_all(dir.join("om/conf")).unwrap();
        std::os::unix::fs::symlink(standin(), &script).unwrap();
        std::fs::copy(template(), dir.join("om/conf/openmetadata.yaml")).unwrap();
    }
    let mut child = standin_command(&script, release, env)
        .env_remove("OM_STANDIN_CONFIG")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openmetadata-ops.sh runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn logged(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn migrate(dir: &Path, release: &str, env: &BTreeMap<String, String>) {
    let out = ops(dir, release, env, &["-d", "migrate"], "");
    assert!(out.status.success(), "migrate: {}", logged(&out));
}

#[test]
fn release_1_13_keeps_the_database_copy_until_remove_security_config_runs() {
    let pg = Postgres::start();
    let dir = shared_tempdir();
    let (settings, keys) = settings_with_keys(dir.path());
    let env: BTreeMap<_, _> = without_config_source(settings)
        .into_iter()
        .chain(pg.env())
        .collect();

    // Like OpenMetadata, the server does not start on a database `migrate` has not prepared.
    let unmigrated = start("1.13.1", &env, dir.path()).map(|_| ()).unwrap_err();
    assert!(unmigrated.contains("not migrated"), "{unmigrated}");
    migrate(dir.path(), "1.13.1", &env);

    // First start: the rows are seeded from the rendered settings, and the pod proves them.
    let first = start("1.13.1", &env, dir.path()).unwrap();
    let answers = first.answers();
    assert_eq!(
        Release::from_version_body(answers.version.as_deref().unwrap()),
        Release::parse("1.13.1")
    );
    assert_eq!(proof(&answers, &env, &keys), PodProof::Proven);
    let served = first.auth();
    assert_eq!(served["clientId"], "openmetadata");
    // Before OpenMetadata PR #31516 the endpoint drops these three: schema defaults.
    assert_eq!(served["responseType"], "id_token");
    assert_eq!(served["publicKeyUrls"], Value::Array(vec![]));
    assert_eq!(served["tokenValidationAlgorithm"], "RS256");
    assert!(served.get("oidcConfiguration").is_none());
    drop(first);

    // A changed client id: the new pod still serves the database copy, and the proof says so.
    let changed = with(
        &env,
        &[("AUTHENTICATION_CLIENT_ID", &quoted("another-client"))],
    );
    let stale = start("1.13.1", &changed, dir.path()).unwrap();
    assert_eq!(stale.auth()["clientId"], "openmetadata");
    assert_eq!(
        proof(&stale.answers(), &changed, &keys),
        PodProof::SettingsDiffer {
            fields: vec!["clientId"],
            by_database: true
        }
    );
    drop(stale);

    // Without --force the command wants DELETE on its standard input.
    let cancelled = ops(
        dir.path(),
        "1.13.1",
        &changed,
        &["remove-security-config"],
        "no\n",
    );
    assert!(cancelled.status.success(), "{}", logged(&cancelled));
    assert!(logged(&cancelled).contains("Operation cancelled."));
    let no_answer = ops(
        dir.path(),
        "1.13.1",
        &changed,
        &["remove-security-config"],
        "",
    );
    assert_eq!(no_answer.status.code(), Some(1), "{}", logged(&no_answer));

    // The reset, as the chart's init container runs it; the next start seeds the new settings.
    let reset = ops(
        dir.path(),
        "1.13.1",
        &changed,
        &["remove-security-config", "--force"],
        "",
    );
    assert!(reset.status.success(), "{}", logged(&reset));
    assert!(logged(&reset).contains("Removed authenticationConfiguration from database."));
    assert!(logged(&reset).contains("Removed authorizerConfiguration from database."));
    let fresh = start("1.13.1", &changed, dir.path()).unwrap();
    assert_eq!(fresh.auth()["clientId"], "another-client");
    assert_eq!(proof(&fresh.answers(), &changed, &keys), PodProof::Proven);
    drop(fresh);

    // With OpenMetadata PR #31516 the three dropped fields are shown, and equal the rendering.
    let fixed_env = with(&changed, &[("OM_STANDIN_FIX_31516", "true")]);
    let fixed = start("1.13.1", &fixed_env, dir.path()).unwrap();
    let served = fixed.auth();
    assert_eq!(served["responseType"], "code");
    // The retired keys' file, the provider's JWKS, the server's own, the extra one.
    assert_eq!(served["publicKeyUrls"].as_array().map(Vec::len), Some(4));
    assert_eq!(proof(&fixed.answers(), &changed, &keys), PodProof::Proven);
    drop(fixed);

    // The database gone: the reset still exits 0 (its failures are only logged at debug level),
    // and the server does not start.
    pg.stop();
    let blind = ops(
        dir.path(),
        "1.13.1",
        &changed,
        &["remove-security-config", "--force"],
        "",
    );
    assert!(blind.status.success(), "{}", logged(&blind));
    assert!(logged(&blind).contains("Security configuration removal completed."));
    assert!(!logged(&blind).contains("Removed authenticationConfiguration"));
    let down = start("1.13.1", &changed, dir.path())
        .map(|_| ())
        .unwrap_err();
    assert!(down.contains("cannot connect to the database"), "{down}");
}

#[test]
fn release_1_9_reads_the_environment_at_every_start() {
    let dir = shared_tempdir();
    let (settings, keys) = settings_with_keys(dir.path());
    // No database at all: up to 1.9 the settings come from openmetadata.yaml only.
    let env = without_config_source(settings);
    let first = start("1.9.4", &env, dir.path()).unwrap();
    let answers = first.answers();
    let release = Release::from_version_body(answers.version.as_deref().unwrap()).unwrap();
    assert_eq!(release.family(), Family::ReadsEnvironment);
    assert_eq!(proof(&answers, &env, &keys), PodProof::Proven);
    drop(first);

    let changed = with(
        &env,
        &[("AUTHENTICATION_CLIENT_ID", &quoted("another-client"))],
    );
    let second = start("1.9.4", &changed, dir.path()).unwrap();
    assert_eq!(second.auth()["clientId"], "another-client");
    assert_eq!(proof(&second.answers(), &changed, &keys), PodProof::Proven);
}

#[test]
fn release_2_1_with_security_config_source_env_applies_the_environment() {
    let pg = Postgres::start();
    let dir = shared_tempdir();
    let (settings, keys) = settings_with_keys(dir.path());
    let env: BTreeMap<_, _> = settings.into_iter().chain(pg.env()).collect();
    assert_eq!(env["SECURITY_CONFIG_SOURCE"], quoted("ENV"));
    migrate(dir.path(), "2.1.0", &env);

    // A provider stored by an earlier start in AUTO mode (standing for one set in the UI).
    let auto = with(&env, &[("SECURITY_CONFIG_SOURCE", &quoted("AUTO"))]);
    let first = start("2.1.0", &auto, dir.path()).unwrap();
    assert_eq!(first.auth()["clientId"], "openmetadata");
    drop(first);

    // The first ENV start that would replace it with another client is refused, unconfirmed.
    let other = with(
        &env,
        &[
            ("AUTHENTICATION_CLIENT_ID", &quoted("another-client")),
            ("OIDC_CLIENT_ID", &quoted("another-client")),
        ],
    );
    let unconfirmed = with(
        &other,
        &[("SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE", "false")],
    );
    let refused = start("2.1.0", &unconfirmed, dir.path())
        .map(|_| ())
        .unwrap_err();
    assert!(
        refused.contains(
            "authenticationConfiguration cannot be applied from the deployment configuration: \
             SECURITY_CONFIG_SOURCE=ENV would replace the identity provider configured in the UI"
        ),
        "{refused}"
    );

    // Confirmed (as the fixture renders it), the environment wins over the stored value.
    let applied = start("2.1.0", &other, dir.path()).unwrap();
    assert_eq!(applied.auth()["clientId"], "another-client");
    let answers = applied.answers();
    let release = Release::from_version_body(answers.version.as_deref().unwrap()).unwrap();
    assert_eq!(release.family(), Family::ConfigSource);
    assert_eq!(proof(&answers, &other, &keys), PodProof::Proven);
    drop(applied);

    // Already in ENV mode: a later change applies without confirmation.
    let third = with(
        &unconfirmed,
        &[
            ("AUTHENTICATION_CLIENT_ID", &quoted("third-client")),
            ("OIDC_CLIENT_ID", &quoted("third-client")),
        ],
    );
    let later = start("2.1.0", &third, dir.path()).unwrap();
    assert_eq!(later.auth()["clientId"], "third-client");
    assert_eq!(proof(&later.answers(), &third, &keys), PodProof::Proven);
}

#[test]
fn a_server_whose_key_files_did_not_load_serves_a_key_without_kid() {
    let dir = shared_tempdir();
    let (settings, keys) = settings_with_keys(dir.path());
    let env = with(
        &without_config_source(settings),
        &[(
            "RSA_PUBLIC_KEY_FILE_PATH",
            &quoted(dir.path().join("absent.der").to_str().unwrap()),
        )],
    );
    let server = start("1.9.4", &env, dir.path()).unwrap();
    let answers = server.answers();
    let body: Value = serde_json::from_slice(answers.jwks.as_deref().unwrap()).unwrap();
    assert_eq!(body["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["keys"][0]["kid"], Value::Null);
    assert_eq!(body["keys"][0]["alg"], "RS256");
    assert_eq!(
        jwks::check(answers.jwks.as_deref().unwrap(), &ExpectedKey::of(&keys)),
        KeyProof::NotLoaded
    );
    assert_eq!(proof(&answers, &env, &keys), PodProof::KeyNotLoaded);
}
