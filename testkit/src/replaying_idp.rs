//! A provider that replays what it is sent, on 127.0.0.1, for the suites that play
//! docs/security.md's promise 2 (tests/offline/hostile_provider.rs through `render --verify`,
//! tests/e2e/hostile.rs through the operator): every value it receives (form fields, query
//! parameters, HTTP Basic credentials) it sends back in every field it answers with, in every
//! encoding [`encodings`] lists. A real HTTP server in the test process (std threads).

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::json;

/// Every character class an encoding treats specially.
pub const SECRET: &str = "s3cr et+/=&<>\"'é~!*()x";
pub const CLIENT_ID: &str = "tenant app/42é";
pub const CALLBACK: &str = "https://om.example.com/callback";

/// `value` in every form a server could echo it in (computed here, apart from src/scrub.rs).
pub fn encodings(value: &str) -> Vec<String> {
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
pub fn forbidden() -> Vec<String> {
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
pub struct ReplayingProvider {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl ReplayingProvider {
    /// Starts the server on a free port of 127.0.0.1; it runs until the test process ends.
    pub fn start() -> Self {
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

    /// The issuer of `mode` (`callback-values`, `page-values`, `callback-raw`, `page-raw`).
    pub fn issuer(&self, mode: &str) -> String {
        format!("http://127.0.0.1:{}/{mode}", self.port)
    }

    /// How many connections it has answered.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
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
