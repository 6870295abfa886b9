//! The rendered settings in a real JVM, as OpenMetadata's server reads them: through Dropwizard's
//! environment substitution and Jackson YAML under a POSIX locale (non-ASCII survives), and with
//! the rendered `JDK_JAVA_OPTIONS` against a TLS server whose certificate comes from a private CA
//! (the JVM trusts it with them, and not without). The JVM programs are `tests/jvm/src`, built by
//! `scripts/jvm/build.sh` (Maven Central, cached).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::{JAVA_OPTIONS_VARIABLE, ProviderEndpoints, Rendered};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn classpath() -> String {
    crate::offline_cli::built("scripts/jvm/build.sh", "java and mvn")
}

/// A resource of the confidential fixture, with `edit` applied to its spec, rendered offline.
fn render(edit: impl FnOnce(&mut Value), extra: &[(&str, &str, &[u8])]) -> Rendered {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/confidential.yaml")).expect("fixture");
    let mut docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).expect("YAML");
    let cr = docs
        .iter_mut()
        .find(|d| d["kind"] == "OidcSsoConfig")
        .expect("an OidcSsoConfig");
    edit(&mut cr["spec"]);
    // The fixture brings its own key pair (tests/fixtures/test-keys.yaml).
    let keys = std::fs::read_to_string(root().join("tests/fixtures/test-keys.yaml")).expect("keys");
    let yaml: Vec<String> = docs
        .iter()
        .map(|doc| serde_saphyr::to_string(doc).expect("YAML"))
        .collect();
    let mut input = PreviewInput::from_documents(
        std::iter::once(("test-keys.yaml", keys.as_str()))
            .chain(yaml.iter().map(|y| ("fixture", y.as_str()))),
    )
    .expect("parse");
    for (kind, name, pem) in extra {
        input.objects.insert(
            (kind.to_string(), name.to_string()),
            BTreeMap::from([("ca.crt".to_string(), pem.to_vec())]),
        );
    }
    preview::render_preview(&input, &ProviderEndpoints::default())
        .expect("render")
        .0
}

fn settings(rendered: &Rendered) -> BTreeMap<String, String> {
    rendered
        .auth_env
        .data
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8(v.clone()).expect("UTF-8")))
        .collect()
}

/// `ConfigRoundTrip` on OpenMetadata's auth template with exactly `env` and `LANG=C`.
fn load_in_server_jvm(env: &BTreeMap<String, String>) -> Value {
    let template = root().join("tests/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml");
    let out = Command::new("java")
        .args(["-cp", &classpath(), "ConfigRoundTrip"])
        .arg(&template)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LANG", "C")
        .envs(env)
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the JVM")
}

#[test]
fn non_ascii_and_hostile_text_reach_the_server_unchanged_under_a_posix_locale() {
    let value =
        "${OIDC_CLIENT_ID:-x} \"q\" 'q'\n# not a comment: 🔑 Grüße \u{85}\u{2028}\u{feff}end";
    let rendered = render(
        |spec| {
            spec["provider"]["displayName"] = value.into();
            spec["provider"]["customParams"] = serde_json::json!({"hint": value});
            spec["authorizer"]["principalDomain"] = value.into();
        },
        &[],
    );
    let env = settings(&rendered);
    assert!(env.values().all(|v| v.is_ascii()), "rendered as ASCII");
    let conf = load_in_server_jvm(&env);
    let auth = &conf["authenticationConfiguration"];
    assert_eq!(auth["providerName"], value);
    assert_eq!(
        auth["oidcConfiguration"]["customParams"]["customParamKey1"],
        "hint"
    );
    assert_eq!(
        auth["oidcConfiguration"]["customParams"]["customParamValue1"],
        value
    );
    assert_eq!(conf["authorizerConfiguration"]["principalDomain"], value);

    // The control: the same text unescaped does not survive this JVM's locale, which is what the
    // escaping is for.
    let mut raw = env.clone();
    raw.insert(
        "CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME".into(),
        "\"Grüße\"".into(),
    );
    let conf = load_in_server_jvm(&raw);
    assert_ne!(conf["authenticationConfiguration"]["providerName"], "Grüße");
}

/// A private CA, a server certificate for 127.0.0.1 signed by it, and an HTTPS server on
/// 127.0.0.1 serving a JWKS with them; stopped by its PID on drop.
struct PrivateTlsServer {
    child: Child,
    port: u16,
    ca: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl PrivateTlsServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=private-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            d.join("ext"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext",
            "-out",
            "server.crt",
        ]);
        let script = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"keys": []}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain("server.crt", "server.key")
s.socket = c.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .current_dir(d)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        Self {
            port: line.trim().parse().expect("port number"),
            ca: std::fs::read(d.join("ca.crt")).expect("CA"),
            child,
            _dir: dir,
        }
    }
}

impl Drop for PrivateTlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fetch(url: &str, java_options: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new("java");
    cmd.args(["-cp", &classpath(), "FetchUrl", url])
        .env_remove("JDK_JAVA_OPTIONS")
        .env_remove("JAVA_TOOL_OPTIONS");
    if let Some(options) = java_options {
        cmd.env(JAVA_OPTIONS_VARIABLE, options);
    }
    let out = cmd.output().expect("java runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn write_files(dir: &Path, data: &BTreeMap<String, Vec<u8>>) {
    for (name, bytes) in data {
        std::fs::write(dir.join(name), bytes).expect("write key file");
    }
}

#[test]
fn the_server_jvm_trusts_a_private_provider_ca_with_the_rendered_options_only() {
    let server = PrivateTlsServer::start();
    let keys = tempfile::tempdir().expect("temp dir");
    let mount = keys.path().to_str().expect("UTF-8 path").to_string();
    let rendered = render(
        |spec| {
            spec["provider"]["caBundle"] =
                serde_json::json!({"configMapRef": {"name": "idp-ca", "key": "ca.crt"}});
            spec["server"]["trustProviderCa"] = true.into();
            spec["server"]["keyMountPath"] = mount.clone().into();
        },
        &[("ConfigMap", "idp-ca", &server.ca)],
    );
    // The key Secret's files as the pod sees them at the mount path.
    write_files(keys.path(), &rendered.jwt_keys.data);
    let options = settings(&rendered)
        .remove(JAVA_OPTIONS_VARIABLE)
        .expect("JDK_JAVA_OPTIONS rendered");
    let url = format!("https://127.0.0.1:{}/jwks", server.port);

    let (ok, out) = fetch(&url, Some(&options));
    assert!(ok, "with the rendered options: {out}");
    let (ok, out) = fetch(&url, None);
    assert!(!ok && out.contains("PKIX"), "without them: {out}");
}
