//! docs/security.md's promises against a provider that replays what it is sent, an environment
//! with proxies, and a resource the apiserver would refuse, played through `render --verify`,
//! which runs the operator's own verify step (the same checks, scrubbing and messages that reach
//! the resource's status and Events). The replaying provider is a real HTTP server on 127.0.0.1,
//! in this process: every value it receives (form fields, query parameters, HTTP Basic
//! credentials) it sends back in every field it answers with, in every encoding below.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::offline_cli::run_render;

/// Every character class an encoding treats specially.
const SECRET: &str = "s3cr et+/=&<>\"'é~!*()x";
const CLIENT_ID: &str = "tenant app/42é";
const CALLBACK: &str = "https://om.example.com/callback";

/// `value` in every form a server could echo it in (computed here, apart from src/scrub.rs).
fn encodings(value: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let pct20 = form.replace('+', "%20");
    let lower = |s: &str| {
        let mut out = String::new();
        let mut hex = 0;
        for c in s.chars() {
            if c == '%' {
                hex = 2;
                out.push(c);
            } else if hex > 0 {
                hex -= 1;
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    };
    let json = serde_json::to_string(value).unwrap();
    let json = json.trim_matches('"').to_owned();
    let html = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let mut out = vec![
        value.to_owned(),
        lower(&form),
        lower(&pct20),
        form,
        pct20,
        json.replace('/', "\\/"),
        json,
        html,
    ];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(value));
    }
    out
}

/// The forms that must never be printed: of the secret, of the client id (a Secret holds it),
/// and of the HTTP Basic pair.
fn forbidden() -> Vec<String> {
    let form = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut out = encodings(SECRET);
    out.extend(encodings(CLIENT_ID));
    for pair in [
        format!("{CLIENT_ID}:{SECRET}"),
        format!("{}:{}", form(CLIENT_ID), form(SECRET)),
    ] {
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            out.push(engine.encode(&pair));
        }
    }
    out
}

/// What a request carried: its decoded form fields, query parameters and Basic credentials, and
/// with `raw`, its query, body and `Authorization` header as they came (whose encodings are
/// encodings of encodings).
fn received(path: &str, headers: &BTreeMap<String, String>, body: &str, raw: bool) -> Vec<String> {
    let (_, query) = path.split_once('?').unwrap_or((path, ""));
    let mut values: Vec<String> = Vec::new();
    if raw {
        values.extend([query.to_owned(), body.to_owned()]);
        values.extend(headers.get("authorization").cloned());
    }
    for text in [query, body] {
        for (_, v) in url::form_urlencoded::parse(text.as_bytes()) {
            values.push(v.into_owned());
        }
    }
    if let Some(pair) = headers
        .get("authorization")
        .and_then(|auth| auth.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
    {
        for part in pair.split(':') {
            let decoded: String = url::form_urlencoded::parse(format!("x={part}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect();
            values.push(decoded);
        }
        values.push(pair);
    }
    values.retain(|v| !v.is_empty());
    values
}

/// Everything received, in every encoding, joined; the last value received (the secret, in a
/// form body or a Basic header) first, so it is within what a message shows.
fn replay(values: &[String]) -> String {
    values
        .iter()
        .rev()
        .flat_map(|v| encodings(v))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The replaying provider: discovery and keys as a provider serves them, and every other answer
/// made of what it received. Issuer `http://127.0.0.1:PORT/<login>-<echo>`: login `callback`
/// sends the login back to the callback with the replay in `error` and `error_description`;
/// `page` sends it to its own error page, the client id in the path; echo `values` replays the
/// values received, `raw` also the query, body and header as they came.
struct ReplayingProvider {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl ReplayingProvider {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let keys = oidc_sso_operator::keys::KeyMaterial::generate(None).unwrap();
        let jwks = keys.to_secret_data()[oidc_sso_operator::keys::JWKS_JSON].clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::Relaxed);
                let jwks = jwks.clone();
                std::thread::spawn(move || serve(stream, port, &jwks));
            }
        });
        Self { port, requests }
    }

    fn issuer(&self, mode: &str) -> String {
        format!("http://127.0.0.1:{}/{mode}", self.port)
    }
}

fn serve(stream: TcpStream, port: u16, jwks: &[u8]) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("/").to_owned(),
    );
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    let (mode, rest) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("", ""));
    let issuer = format!("http://127.0.0.1:{port}/{mode}");
    let values = received(&path, &headers, &body, mode.ends_with("-raw"));
    let echo = replay(&values);
    let endpoint = rest.split('?').next().unwrap_or("");
    let (status, extra, text) = match (method, endpoint) {
        ("GET", ".well-known/openid-configuration") => (200, String::new(), discovery(&issuer)),
        ("GET", "jwks") => (
            200,
            String::new(),
            String::from_utf8_lossy(jwks).into_owned(),
        ),
        ("POST", "token") => (401, String::new(), error("invalid_client", &echo)),
        // The answers a verdict cannot classify carry the replay in `error` too.
        ("POST", "introspect") => (400, String::new(), error(&echo, &echo)),
        ("POST", "revoke") => (400, String::new(), error("invalid_request", &echo)),
        ("GET", "userinfo") => (401, String::new(), error("invalid_token", &echo)),
        ("GET", "auth") => {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("error", &echo)
                .append_pair("error_description", &echo)
                .finish();
            let location = if mode.starts_with("page") {
                let query = path.split_once('?').map_or("", |(_, q)| q);
                let id: String = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "client_id")
                    .map(|(_, v)| url::form_urlencoded::byte_serialize(v.as_bytes()).collect())
                    .unwrap_or_default();
                format!("{issuer}/error/{id}/{}?{q}", echo.len())
            } else {
                format!("{CALLBACK}?{q}")
            };
            (302, format!("Location: {location}\r\n"), echo.clone())
        }
        _ => (404, String::new(), error("not_found", &echo)),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn error(code: &str, description: &str) -> String {
    json!({"error": code, "error_description": description}).to_string()
}

fn discovery(issuer: &str) -> String {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    })
    .to_string()
}

/// A resource for `issuer` whose client id and secret a Secret holds, checked with `method`
/// and `auth`, in `dir/cr.yaml`.
fn resource(dir: &Path, issuer: &str, method: &str, auth: &str) -> PathBuf {
    let cr = json!({
        "apiVersion": "oidcsso.io/v1alpha1",
        "kind": "OidcSsoConfig",
        "metadata": {"name": "om", "namespace": "data"},
        "spec": {
            "provider": {
                "issuer": issuer,
                "allowInsecureHttp": true,
                "clientType": "Confidential",
                "clientAuthenticationMethod": auth,
                "credentialsSecretRef": {"name": "oidc"},
                "verify": {"credentials": {"method": method}},
            },
            "authorizer": {"adminPrincipals": ["alice"]},
            "server": {"externalUrl": "https://om.example.com"},
        },
    });
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "oidc"},
        "stringData": {"clientId": CLIENT_ID, "clientSecret": SECRET},
    });
    let path = dir.join("cr.yaml");
    let text = format!(
        "{}---\n{}",
        serde_saphyr::to_string(&cr).unwrap(),
        serde_saphyr::to_string(&secret).unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn verify(cr: &Path, extra: &[&str]) -> String {
    let out = run_render(&[&["-f", cr.to_str().unwrap(), "--verify"][..], extra].concat());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Promise 2 against a provider that replays every value sent into every field it answers
/// with (token, introspection, revocation, the login redirect's query, its own error page's
/// path), through each credentials method and both client authentications: nothing sent is
/// printed in any encoding; each failed check is named, and what the provider echoed is named
/// by what it is.
#[test]
fn a_provider_that_replays_what_it_is_sent_never_gets_it_printed() {
    let idp = ReplayingProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let forbidden = forbidden();
    let (mut named, mut withheld) = (String::new(), String::new());
    for mode in ["callback-values", "page-values", "callback-raw", "page-raw"] {
        for method in [
            "Introspection",
            "Revocation",
            "AuthorizationCode",
            "ClientCredentials",
        ] {
            for auth in ["client_secret_post", "client_secret_basic"] {
                let cr = resource(dir.path(), &idp.issuer(mode), method, auth);
                let printed = verify(&cr, &["--provider-allowed-networks", "127.0.0.0/8"]);
                for form in &forbidden {
                    assert!(
                        !printed.contains(form.as_str()),
                        "{mode}/{method}/{auth} printed a form of a sent value ({} bytes): {printed}",
                        form.len()
                    );
                }
                assert!(printed.contains("ProviderVerified=True"), "{printed}");
                assert!(printed.contains("CredentialsValid="), "{printed}");
                assert!(printed.contains("LoginAccepted=False"), "{printed}");
                if mode.ends_with("raw") {
                    withheld.push_str(&printed);
                } else {
                    named.push_str(&printed);
                }
            }
        }
    }
    assert!(
        named.contains("<client secret>"),
        "the echoed secret is named: {named}"
    );
    assert!(
        named.contains("<the client id in Secret \"oidc\" (key \"clientId\")>"),
        "the echoed client id is named by its Secret and key: {named}"
    );
    assert!(
        named.contains("CredentialsValid=False InvalidClient"),
        "{named}"
    );
    assert!(
        withheld.contains(oidc_sso_operator::scrub::WITHHELD),
        "an encoding of an encoding is withheld whole: {withheld}"
    );
    assert!(idp.requests.load(Ordering::Relaxed) > 0);
}

/// Promise 5 with proxies in the environment: the checks never hand a URL to a proxy (which
/// would resolve the name itself, out of the address policy's sight); a name that resolves to
/// a refused address is refused, and the proxy sees no connection.
#[test]
fn the_checks_never_use_a_proxy_from_the_environment() {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.local_addr().unwrap().port());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!(
        "http://localhost:{}/realm",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let cr = resource(dir.path(), &issuer, "Auto", "client_secret_post");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oidc-sso-operator"))
        .args(["render", "-f", cr.to_str().unwrap(), "--verify"])
        .env("HTTP_PROXY", &proxy_url)
        .env("HTTPS_PROXY", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{printed}");
    assert!(printed.contains("AddressRefused"), "{printed}");
    assert!(
        proxy.accept().is_err(),
        "the proxy from the environment was connected to: {printed}"
    );
}

/// Item 4 of the security issue: the offline render refuses what the apiserver would (the
/// CRD's schema, here a pattern), naming the field, before anything is rendered or written.
#[test]
fn a_resource_the_apiserver_would_refuse_renders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cr = resource(
        dir.path(),
        "https://idp.example.com",
        "Auto",
        "client_secret_post",
    );
    let text = std::fs::read_to_string(&cr).unwrap();
    let mut docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    docs[0]["spec"]["ingestion"] =
        json!({"botTokenEnvVar": "X}\"\n    hostPort: \"http://evil.example\"\n#"});
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap())
        .collect();
    std::fs::write(&cr, text.join("---\n")).unwrap();
    let out_dir = dir.path().join("out");
    let out = run_render(&[
        "-f",
        cr.to_str().unwrap(),
        "--format",
        "dotenv",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    let printed = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{printed}");
    assert!(
        printed.contains("the apiserver would refuse")
            && printed.contains("spec.ingestion.botTokenEnvVar"),
        "{printed}"
    );
    assert!(!out_dir.exists(), "nothing is written");
}
