//! One authenticated form POST to a provider endpoint (token, introspection, revocation), and what
//! its answer shows about the client's authentication.
//!
//! Providers answer a failed client authentication in more ways than RFC 6749 section 5.2 says:
//! Keycloak with 401 `unauthorized_client` "Invalid client or Invalid client credentials", Auth0
//! with 401 `access_denied`, Cognito with 400 `invalid_client` and no description, Okta with a
//! non-RFC `{"errorCode": "invalid_client", ...}` body, Entra ID with 400 `unauthorized_client`
//! "AADSTS700016 ... was not found in the directory" for an unknown client. [`verdict`] maps each
//! to what it proves; docs/providers.md lists them.
//!
//! Nothing of a successful answer is kept (it may be a token), and an error answer is reduced to
//! its status, error code and description.

use std::sync::atomic::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::AsyncHttpClient as _;
use openidconnect::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use openidconnect::http::{Method, Request};

use super::error::{CheckError, Endpoint};
use super::request::TokenAuthMethod;
use super::stats::Counters;
use super::transport::HttpClient;
use crate::scrub::Scrubber;

/// The client as it authenticates.
pub(crate) struct ClientAuth<'a> {
    pub(crate) id: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) method: TokenAuthMethod,
}

/// An answer, reduced to what classifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: u16,
    /// `error` (or Okta's `errorCode`) of a JSON error body.
    pub(crate) error: Option<String>,
    /// `error_description` (or Okta's `errorSummary`), unsanitised: sanitise before showing it.
    pub(crate) description: Option<String>,
}

/// What an answer proves about the client's authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 2xx.
    Accepted,
    /// The client did not authenticate (wrong secret, unknown client).
    ClientRejected,
    /// The client may not use this grant, scope or audience: says nothing about the secret.
    GrantRefused,
    /// The request itself was judged and found wrong (a made-up code or token): says something
    /// about the secret only if a wrong secret is answered differently.
    RequestJudged,
    /// The provider could not answer (5xx, 429): try again later.
    Unavailable,
    /// Not an OAuth answer (404, 405, an HTML page): the endpoint is not what discovery says.
    Unexpected,
}

/// Words in an `unauthorized_client` description that mean the client itself was not accepted.
const CLIENT_REJECTED_WORDS: [&str; 6] = [
    "invalid client",
    "client authentication failed",
    "client not found",
    "was not found in the directory",
    "unknown client",
    "invalid client credentials",
];

/// Error codes of a grant, scope or audience the client may not use.
const GRANT_REFUSALS: [&str; 5] = [
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_resource",
];

/// Classifies an answer.
pub(crate) fn verdict(answer: &Answer) -> Verdict {
    let status = answer.status;
    let error = answer.error.as_deref().unwrap_or_default();
    let description = answer
        .description
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let names_the_client = CLIENT_REJECTED_WORDS
        .iter()
        .any(|w| description.contains(w));
    match (status, error) {
        (200..=299, _) => Verdict::Accepted,
        (429 | 500..=599, _) => Verdict::Unavailable,
        (_, "unauthorized_client") if names_the_client => Verdict::ClientRejected,
        // RFC 6749 5.2: 401 answers a failed client authentication (Auth0 says access_denied);
        // Keycloak also answers 401 to a grant the client may not use.
        (_, "invalid_client") | (401, _) if !GRANT_REFUSALS.contains(&error) => {
            Verdict::ClientRejected
        }
        (_, e) if GRANT_REFUSALS.contains(&e) => Verdict::GrantRefused,
        (403, _) | (_, "access_denied") => Verdict::GrantRefused,
        (_, "invalid_grant" | "invalid_request" | "invalid_token" | "unsupported_token_type") => {
            Verdict::RequestJudged
        }
        _ => Verdict::Unexpected,
    }
}

impl Answer {
    /// `HTTP 401 invalid_client: <description>`, the provider's text scrubbed of what was sent.
    pub(crate) fn describe(&self, sent: &Scrubber) -> String {
        let mut text = format!("HTTP {}", self.status);
        if let Some(error) = &self.error {
            text.push(' ');
            text.push_str(&sent.provider_text(error));
        }
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            text.push_str(": ");
            text.push_str(&sent.provider_text(d));
        }
        text
    }
}

/// POSTs `params` to `url` with the client's authentication.
pub(crate) async fn post(
    http: &HttpClient,
    endpoint: Endpoint,
    url: &str,
    auth: &ClientAuth<'_>,
    params: &[(&str, &str)],
    counters: &Counters,
    timeout: std::time::Duration,
) -> Result<Answer, CheckError> {
    let (body, authorization) = form(url, auth, params);
    let invalid = |e: String| CheckError::InvalidUrl {
        what: "provider endpoint",
        url: crate::urls::redacted(url),
        problem: e,
    };
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    if let Some(value) = authorization {
        let value = HeaderValue::from_str(&value).map_err(|e| invalid(e.to_string()))?;
        builder = builder.header(AUTHORIZATION, value);
    }
    let request = builder.body(body).map_err(|e| invalid(e.to_string()))?;
    counters.token_requests.fetch_add(1, Ordering::Relaxed);
    let response = http
        .call(request)
        .await
        .map_err(|e| CheckError::transport(endpoint, url, e, timeout))?;
    Ok(reduce(response.status().as_u16(), response.body()))
}

/// The form body and the `Authorization` header value of a request with the client's
/// authentication. (Synchronous: the form serializer must not live across an await.)
fn form(url: &str, auth: &ClientAuth<'_>, params: &[(&str, &str)]) -> (Vec<u8>, Option<String>) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(params);
    let mut authorization = None;
    match auth.method {
        TokenAuthMethod::ClientSecretBasic => {
            // RFC 6749 2.3.1: id and secret are form-encoded before they are joined.
            let encode =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(auth.id), encode(auth.secret));
            authorization = Some(format!("Basic {}", STANDARD.encode(pair)));
        }
        TokenAuthMethod::ClientSecretPost => {
            form.append_pair("client_id", auth.id);
            form.append_pair("client_secret", auth.secret);
        }
        TokenAuthMethod::ClientSecretJwt => {
            form.append_pair("client_id", auth.id);
            form.append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            );
            form.append_pair("client_assertion", &client_assertion(auth, url));
        }
    }
    (form.finish().into_bytes(), authorization)
}

/// The status, and the error code and description of a JSON error body; a 2xx body is not read.
pub(crate) fn reduce(status: u16, body: &[u8]) -> Answer {
    let mut answer = Answer {
        status,
        error: None,
        description: None,
    };
    if (200..300).contains(&status) {
        return answer;
    }
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| o.get(*n).and_then(|v| v.as_str()).map(str::to_owned))
        };
        answer.error = text(["error", "errorCode"]);
        answer.description = text(["error_description", "errorSummary"]);
    }
    answer
}

/// An HS256 client assertion (OpenID Connect Core 1.0, section 9, `client_secret_jwt`), valid for
/// two minutes, for the endpoint `audience`.
fn client_assertion(auth: &ClientAuth<'_>, audience: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": auth.id,
        "sub": auth.id,
        "aud": audience,
        "jti": random_token(),
        "iat": now,
        "exp": now + 120,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, auth.secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// 24 random bytes, URL-safe: made-up tokens, codes, states, wrong secrets.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 24];
    // A failing system RNG leaves zeros: these values need to be unguessable by no one (they are
    // sent to the provider as obviously invalid inputs), only distinct from real ones.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: serde_json::Value) -> Answer {
        reduce(status, body.to_string().as_bytes())
    }

    /// Each provider's documented answers (docs/providers.md), as the checks classify them.
    #[test]
    fn provider_answers_are_classified_by_what_they_prove() {
        use Verdict::*;
        use serde_json::json;
        let cases = [
            // Keycloak: wrong secret, unknown client, service accounts off, scope not assigned.
            (
                401,
                json!({"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}),
                ClientRejected,
            ),
            (
                401,
                json!({"error": "invalid_client", "error_description": "Invalid client or Invalid client credentials"}),
                ClientRejected,
            ),
            (
                401,
                json!({"error": "unauthorized_client", "error_description": "Client not enabled to retrieve service account"}),
                GrantRefused,
            ),
            (
                400,
                json!({"error": "invalid_scope", "error_description": "Invalid scopes: x"}),
                GrantRefused,
            ),
            // Entra ID: wrong secret, unknown client, missing /.default, made-up code.
            (
                401,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
                ClientRejected,
            ),
            (
                400,
                json!({"error": "unauthorized_client", "error_description": "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."}),
                ClientRejected,
            ),
            (
                400,
                json!({"error": "invalid_scope", "error_description": "AADSTS1002012: ..."}),
                GrantRefused,
            ),
            (
                400,
                json!({"error": "invalid_grant", "error_description": "AADSTS9002313: Invalid request."}),
                RequestJudged,
            ),
            // Okta: unknown client (non-RFC body), grant not enabled.
            (
                401,
                json!({"errorCode": "invalid_client", "errorSummary": "Invalid value for 'client_id' parameter."}),
                ClientRejected,
            ),
            (
                400,
                json!({"error": "unauthorized_client", "error_description": "The client is not authorized to use the provided grant type."}),
                GrantRefused,
            ),
            // Auth0: wrong secret, grant not enabled, audience not granted.
            (
                401,
                json!({"error": "access_denied", "error_description": "Unauthorized"}),
                ClientRejected,
            ),
            (
                403,
                json!({"error": "unauthorized_client", "error_description": "Grant type 'client_credentials' not allowed for the client."}),
                GrantRefused,
            ),
            (
                403,
                json!({"error": "access_denied", "error_description": "Service not enabled within domain: x"}),
                GrantRefused,
            ),
            // Google: made-up code, revocation of a made-up token, client credentials.
            (
                400,
                json!({"error": "invalid_grant", "error_description": "Malformed auth code."}),
                RequestJudged,
            ),
            (
                400,
                json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
                RequestJudged,
            ),
            (
                400,
                json!({"error": "unsupported_grant_type"}),
                GrantRefused,
            ),
            // Cognito: wrong secret or unknown client, grant not enabled (no descriptions).
            (400, json!({"error": "invalid_client"}), ClientRejected),
            (400, json!({"error": "unauthorized_client"}), GrantRefused),
            // Dex: made-up refresh token; outages.
            (
                400,
                json!({"error": "invalid_request", "error_description": "Refresh token is invalid"}),
                RequestJudged,
            ),
            (503, json!({}), Unavailable),
            (429, json!({"error": "slow_down"}), Unavailable),
            (404, json!({}), Unexpected),
            (200, json!({"active": false}), Accepted),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                verdict(&answer(status, body.clone())),
                expected,
                "{status} {body}"
            );
        }
        assert_eq!(verdict(&reduce(401, b"<html>")), ClientRejected);
        assert_eq!(verdict(&reduce(400, b"<html>")), Unexpected);
    }

    #[test]
    fn a_success_body_is_never_read_and_descriptions_are_sanitised() {
        let ok = reduce(200, br#"{"access_token": "eyJ-token", "error": "x"}"#);
        assert_eq!(ok.error, None);
        let err = answer(
            401,
            serde_json::json!({"error": "invalid_client", "error_description": "bad secret s3cr3t-value\nfor my-id"}),
        );
        assert_eq!(
            err.describe(
                &Scrubber::new()
                    .hide("s3cr3t-value", "<client secret>")
                    .hide("my-id", "<client id>")
            ),
            "HTTP 401 invalid_client: bad secret <client secret>for <client id>"
        );
    }

    #[test]
    fn client_assertions_are_hs256_over_the_secret() {
        let auth = ClientAuth {
            id: "client",
            secret: "a-long-shared-secret",
            method: TokenAuthMethod::ClientSecretJwt,
        };
        let jwt = client_assertion(&auth, "https://idp/token");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["iss"], "client");
        assert_eq!(claims["aud"], "https://idp/token");
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"a-long-shared-secret");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
        aws_lc_rs::hmac::verify(
            &key,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &signature,
        )
        .expect("signed with the secret");
    }
}
