//! The server proof's requests: each ready pod of a target's current revision is asked, at its
//! own IP and the server port, for its three unauthenticated answers (`/api/v1/system/version`,
//! `/config/jwks`, `/config/auth`), which [`crate::proof::verdict`] judges.
//!
//! These connections are not provider checks: they go only to the IPs the apiserver reports for
//! ready pods of this resource's own targets (which its author may patch anyway), so the
//! provider address policy does not govern them, and nothing else can be reached through them:
//! the URL is built from the IP, the port and a fixed path (nothing an author types), no
//! redirect is followed, no proxy from the environment is used, and each answer is bounded in
//! size ([`MAX_ANSWER_BYTES`]) and time. No answer's value is copied anywhere; the verdict names
//! fields.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::verdict::{self, Answers, Expected, PodProof};
use super::version::Release;

/// OpenMetadata's answers are a few KiB (the auth subset, one JWK, the version).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

const VERSION: &str = "/api/v1/system/version";
const JWKS: &str = "/api/v1/system/config/jwks";
const AUTH: &str = "/api/v1/system/config/auth";

/// What one pod answered (`None`: no usable answer to that request).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodAnswers {
    /// `GET /api/v1/system/version`.
    pub version: Option<Vec<u8>>,
    /// `GET /api/v1/system/config/jwks`.
    pub jwks: Option<Vec<u8>>,
    /// `GET /api/v1/system/config/auth`.
    pub auth: Option<Vec<u8>>,
}

/// Asks pods; cheap to clone.
#[derive(Clone, Debug)]
pub struct PodAsker {
    client: reqwest::Client,
}

impl PodAsker {
    /// An asker whose every request ends within `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(crate::names::USER_AGENT)
            .build()?;
        Ok(Self { client })
    }

    /// The three answers of the pod at `ip`, the server listening on `port`.
    pub async fn ask(&self, ip: IpAddr, port: u16) -> PodAnswers {
        let at = SocketAddr::new(ip, port);
        let (version, jwks, auth) = futures::join!(
            self.get(at, VERSION),
            self.get(at, JWKS),
            self.get(at, AUTH)
        );
        PodAnswers {
            version,
            jwks,
            auth,
        }
    }

    /// The body of a 200 answer to `GET http://<at><path>`, at most [`MAX_ANSWER_BYTES`].
    async fn get(&self, at: SocketAddr, path: &str) -> Option<Vec<u8>> {
        let mut response = self
            .client
            .get(format!("http://{at}{path}"))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .ok()?;
        if response.status() != reqwest::StatusCode::OK
            || response
                .content_length()
                .is_some_and(|l| l > MAX_ANSWER_BYTES as u64)
        {
            return None;
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        Some(body)
    }
}

/// What one pod proves.
pub fn judge(answers: &PodAnswers, expected: Expected<'_>) -> (PodProof, Option<Release>) {
    verdict::prove(
        Answers {
            version: answers.version.as_deref(),
            jwks: answers.jwks.as_deref(),
            auth: answers.auth.as_deref(),
        },
        expected,
    )
}

#[cfg(test)]
mod tests;
