//! The proof's requests against pods stood in for by HTTP servers on 127.0.0.1: answers are read,
//! a redirect is not followed, a large answer and a silent pod give nothing, and the answers of a
//! pod running the rendered key and settings prove it.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{Ipv4Addr, TcpListener};

use serde_json::json;

use super::*;
use crate::keys::KeyMaterial;
use crate::proof::jwks::ExpectedKey;

/// A server on 127.0.0.1 answering each request line with `answer(path)` (status line, headers
/// and body, as sent); returns its port.
fn serve(answer: fn(&str) -> String) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut stream = stream;
                let _ = stream.write_all(answer(&path).as_bytes());
            });
        }
    });
    port
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn asker() -> PodAsker {
    PodAsker::new(Duration::from_secs(2)).expect("a client")
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[tokio::test]
async fn the_three_answers_are_read_from_the_pod() {
    let port = serve(|path| match path {
        "/api/v1/system/version" => ok(r#"{"version":"2.1.0","revision":"r","timestamp":1}"#),
        "/api/v1/system/config/jwks" => ok(r#"{"keys":[]}"#),
        "/api/v1/system/config/auth" => ok(r#"{"provider":"custom-oidc"}"#),
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
    });
    let answers = asker().ask(LOCALHOST, port).await;
    assert_eq!(
        answers.version.as_deref(),
        Some(&br#"{"version":"2.1.0","revision":"r","timestamp":1}"#[..])
    );
    assert_eq!(answers.jwks.as_deref(), Some(&br#"{"keys":[]}"#[..]));
    assert_eq!(
        answers.auth.as_deref(),
        Some(&br#"{"provider":"custom-oidc"}"#[..])
    );
}

#[tokio::test]
async fn a_redirect_an_error_a_large_answer_and_silence_give_nothing() {
    // The redirect would lead to the cloud metadata address: it is not followed (never connected).
    let redirecting = serve(|_| {
        "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
    });
    assert_eq!(
        asker().ask(LOCALHOST, redirecting).await,
        PodAnswers::default()
    );
    let failing = serve(|_| {
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .into()
    });
    assert_eq!(asker().ask(LOCALHOST, failing).await, PodAnswers::default());
    let large = serve(|_| ok(&"x".repeat(MAX_ANSWER_BYTES + 1)));
    assert_eq!(asker().ask(LOCALHOST, large).await, PodAnswers::default());
    let unbounded = serve(|_| {
        let body = "x".repeat(MAX_ANSWER_BYTES + 1);
        format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}")
    });
    assert_eq!(
        asker().ask(LOCALHOST, unbounded).await,
        PodAnswers::default()
    );
    // A pod that accepts and never answers.
    let silent = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let quick = PodAsker::new(Duration::from_millis(300)).expect("a client");
    assert_eq!(quick.ask(LOCALHOST, port).await, PodAnswers::default());
    drop(silent);
}

#[tokio::test]
async fn a_pod_serving_the_rendered_key_and_settings_is_proven() {
    let keys = KeyMaterial::generate(None).expect("keys");
    let env: BTreeMap<String, Vec<u8>> = [
        ("AUTHENTICATION_PROVIDER", "\"custom-oidc\""),
        ("AUTHENTICATION_CLIENT_TYPE", "\"public\""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
    .collect();
    let answers = PodAnswers {
        version: Some(br#"{"version":"1.13.1"}"#.to_vec()),
        jwks: Some(keys.jwks_json().into_bytes()),
        auth: Some(
            json!({"provider": "custom-oidc", "clientType": "public"})
                .to_string()
                .into_bytes(),
        ),
    };
    let key = ExpectedKey::of(&keys);
    let expected = Expected {
        key: &key,
        auth_env: &env,
        reset_in_template: false,
    };
    let (proof, release) = judge(&answers, expected);
    assert_eq!(proof, PodProof::Proven);
    assert_eq!(release, Release::parse("1.13.1"));
    assert_eq!(
        judge(&PodAnswers::default(), expected).0,
        PodProof::NoAnswer
    );
}
