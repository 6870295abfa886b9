//! The same requests to a real provider and to its profile in `tests/oidc-provider/profiles.mjs`,
//! read the way the operator's checks read them, and where the two answer differently.

use reqwest::Client;
use serde_json::Value;

use crate::http::{Auth, post};

/// The fields of a form body.
pub type Form<'a> = &'a [(&'a str, &'a str)];

/// An authenticated form POST to the endpoint discovery names `endpoint`.
pub struct PostCase<'a> {
    pub label: &'a str,
    pub endpoint: &'static str,
    pub auth: Auth<'a>,
    pub form: Form<'a>,
}

/// A login redirect (`GET <authorization_endpoint>`) as the server sends it, without a user.
pub struct LoginCase<'a> {
    pub label: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
}

/// Discovery's names of the endpoints the checks post to.
pub const TOKEN: &str = "token_endpoint";
pub const INTROSPECTION: &str = "introspection_endpoint";
pub const REVOCATION: &str = "revocation_endpoint";
/// The client-credentials grant, and a made-up token for introspection and revocation.
pub const CLIENT_CREDENTIALS: Form<'static> = &[("grant_type", "client_credentials")];
pub const ANY_TOKEN: Form<'static> = &[("token", "not-a-token")];

/// A [`PostCase`].
pub fn post_case<'a>(
    label: &'a str,
    endpoint: &'static str,
    auth: Auth<'a>,
    form: Form<'a>,
) -> PostCase<'a> {
    PostCase {
        label,
        endpoint,
        auth,
        form,
    }
}

/// A [`LoginCase`].
pub fn login_case<'a>(
    label: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    scope: &'a str,
) -> LoginCase<'a> {
    LoginCase {
        label,
        client_id,
        redirect_uri,
        scope,
    }
}

/// A client that follows no redirect by itself (see [`login`]).
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// What a check reads off an answer: the status and the OAuth error fields (never a token).
#[derive(Debug, PartialEq)]
struct Reading {
    status: u16,
    error: Option<String>,
    description: Option<String>,
    active: Option<bool>,
}

async fn read(c: &Client, url: &str, auth: Auth<'_>, form: Form<'_>) -> Reading {
    let answer = post(c, url, auth, form).await;
    let body: Value = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
    let text = |k: &str| body[k].as_str().map(str::to_string);
    Reading {
        status: answer.status.as_u16(),
        error: text("error"),
        description: text("error_description"),
        active: body["active"].as_bool(),
    }
}

/// The login redirect's answer: a page (its status and which of `markers` it shows), or a
/// redirect to another origin (where to, and the `error` it carries). Redirects within the
/// provider's origin are followed, as a browser would; others never are (they name the
/// callback's host, which no test may contact).
async fn login(c: &Client, authorize: &str, case: &LoginCase<'_>, markers: &[&str]) -> String {
    let mut url = url::Url::parse_with_params(
        authorize,
        [
            ("response_type", "code"),
            ("client_id", case.client_id),
            ("redirect_uri", case.redirect_uri),
            ("scope", case.scope),
            ("state", "s"),
            ("nonce", "n"),
        ],
    )
    .expect("authorization URL");
    let mut hops = Vec::new();
    for _ in 0..4 {
        let response = c.get(url.clone()).send().await.expect("request");
        let status = response.status().as_u16();
        let Some(location) = response.headers().get("location") else {
            let html = response.text().await.unwrap_or_default();
            let page = markers
                .iter()
                .find(|m| html.contains(*m))
                .unwrap_or(&"another page");
            hops.push(format!("{status} {page}"));
            return hops.join(", ");
        };
        let next = url
            .join(location.to_str().unwrap_or_default())
            .expect("Location");
        if next.origin() == url.origin() {
            hops.push(format!("{status} to {}", next.path()));
            url = next;
            continue;
        }
        let error = next
            .query_pairs()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned());
        let to = format!("{}{}", next.origin().ascii_serialization(), next.path());
        hops.push(format!("{status} to {to} error={error:?}"));
        return hops.join(", ");
    }
    panic!("more than 4 redirects: {hops:?}");
}

/// Every answer of the provider at `issuer`, labelled.
pub async fn answers(
    c: &Client,
    issuer: &str,
    posts: &[PostCase<'_>],
    logins: &[LoginCase<'_>],
    markers: &[&str],
) -> Vec<(String, String)> {
    let doc: Value = c
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("discovery JSON");
    let endpoint = |k: &str| {
        doc[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in {doc}"))
            .to_string()
    };
    let mut out = Vec::new();
    for case in posts {
        let reading = read(c, &endpoint(case.endpoint), case.auth, case.form).await;
        out.push((case.label.to_string(), format!("{reading:?}")));
    }
    let authorize = endpoint("authorization_endpoint");
    for case in logins {
        let page = login(c, &authorize, case, markers).await;
        out.push((case.label.to_string(), page));
    }
    out
}

/// Where `imitated` answers otherwise than `real`, one paragraph each.
pub fn differences(
    provider: &str,
    real: &[(String, String)],
    imitated: &[(String, String)],
) -> Vec<String> {
    real.iter()
        .zip(imitated)
        .filter(|(r, i)| r != i)
        .map(|((label, r), (_, i))| format!("{label}:\n  {provider}: {r}\n  profile:  {i}"))
        .collect()
}
