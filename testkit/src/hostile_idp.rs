//! Providers an attacker would point the operator at, on 127.0.0.1: one that serves discovery
//! documents and key sets padded to just under the operator's size limit, and one that trickles
//! its answer a byte at a time. Each path prefix `/p<N>` is a provider of its own (its own issuer),
//! so one server stands for many.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Documents padded to this many bytes each.
    Big(usize),
    /// One byte of the answer every 900 ms, for ever.
    Trickle,
}

/// A running hostile provider server; stops with the test.
pub struct HostileIdp {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl HostileIdp {
    /// Starts the server on a free port of 127.0.0.1.
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let origin = base.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, origin.clone(), behaviour));
            }
        });
        Self { base, task }
    }

    /// The issuer of provider `n`.
    pub fn issuer(&self, n: usize) -> String {
        format!("{}/p{n}", self.base)
    }
}

impl Drop for HostileIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut socket: tokio::net::TcpStream, base: String, behaviour: Behaviour) {
    let mut buf = vec![0u8; 8192];
    let n = socket.read(&mut buf).await.unwrap_or(0);
    let request = String::from_utf8_lossy(&buf[..n]).to_string();
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let provider = path.split('/').nth(1).unwrap_or("p0").to_string();
    let issuer = format!("{base}/{provider}");
    match behaviour {
        Behaviour::Trickle => {
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{}",
                discovery(&issuer, 0)
            );
            for byte in answer.bytes() {
                if socket.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(900)).await;
            }
        }
        Behaviour::Big(size) => {
            let body = if path.ends_with("/jwks") {
                padded(jwks(), size)
            } else {
                discovery(&issuer, size)
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    }
}

/// A discovery document of `issuer`, padded to about `size` bytes with an extension field (which
/// parsers must skip, as they skip any unknown field).
fn discovery(issuer: &str, size: usize) -> String {
    padded(
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code", "id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
        }),
        size,
    )
}

/// One RSA signing key (the modulus of a 2048-bit key; never used to verify anything).
fn jwks() -> serde_json::Value {
    let n = "x".repeat(342);
    serde_json::json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
                                 "n": n, "e": "AQAB"}]})
}

fn padded(mut doc: serde_json::Value, size: usize) -> String {
    let len = doc.to_string().len();
    if size > len + 32 {
        doc["x_padding"] = serde_json::Value::String("p".repeat(size - len - 32));
    }
    doc.to_string()
}
