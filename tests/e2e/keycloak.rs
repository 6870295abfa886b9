//! A real Keycloak (26.7.3, see `support::keycloak`) against its profile in
//! `tests/oidc-provider/profiles.mjs` and against the operator:
//! - every request the provider checks make (token, introspection, revocation, the login
//!   redirect) gets the same answer from the profile as from Keycloak, so the profile tests of
//!   the other suites stand for the real server;
//! - the operator proves a correct Keycloak client, and names and holds a wrong secret and an
//!   unregistered callback URL, against the real server.
//!
//! One Keycloak serves both tests (its start takes 15–45 s); it ends with the test process.

use reqwest::Client;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::provider_operator::{CALLBACK, CLIENT, expect_proved_and_held};
use crate::provider_profiles::{Auth, post};
use crate::support::keycloak::{Keycloak, login_client, service_client};
use crate::support::oidc::{Profile, ProviderOptions, TestClient, TestProvider, random_secret};

/// The client with a service account, beside the login client [`CLIENT`].
const SERVICE: &str = "svc";

struct Shared {
    keycloak: Keycloak,
    login_secret: String,
    service_secret: String,
}

/// The one Keycloak of this test process, with clients [`CLIENT`] and [`SERVICE`].
async fn keycloak() -> &'static Shared {
    static SHARED: OnceCell<Shared> = OnceCell::const_new();
    SHARED
        .get_or_init(|| async {
            let keycloak = Keycloak::start().await.expect("Keycloak");
            let login_secret = random_secret();
            let service_secret = random_secret();
            keycloak
                .create_realm(vec![
                    login_client(CLIENT, &login_secret, CALLBACK),
                    service_client(SERVICE, &service_secret),
                ])
                .await
                .unwrap_or_else(|e| panic!("{e:#}\n{}", keycloak.log()));
            Shared {
                keycloak,
                login_secret,
                service_secret,
            }
        })
        .await
}

/// The Keycloak profile with the same clients and secrets.
async fn profile(shared: &Shared) -> TestProvider {
    let options = ProviderOptions::http()
        .with_profile(Profile::Keycloak)
        .with_clients([
            TestClient::new(CLIENT, &shared.login_secret)
                .with_redirect_uris([CALLBACK])
                .with_grants(["authorization_code", "refresh_token"]),
            TestClient::new(SERVICE, &shared.service_secret),
        ]);
    tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .expect("join")
        .expect("Keycloak profile")
}

/// The fields of a form body.
type Form<'a> = &'a [(&'a str, &'a str)];

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

/// The status of the login redirect and what it shows: which of Keycloak's pages, or for a
/// redirect, where to and the `error` it carries (never followed: it names the callback host).
async fn login_page(
    c: &Client,
    url: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> String {
    let url = url::Url::parse_with_params(
        url,
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", scope),
            ("state", "s"),
            ("nonce", "n"),
        ],
    )
    .expect("authorization URL");
    let response = c.get(url).send().await.expect("request");
    let status = response.status().as_u16();
    if let Some(location) = response.headers().get("location") {
        let location = url::Url::parse(location.to_str().unwrap_or_default()).expect("Location");
        let error = location
            .query_pairs()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned());
        let to = format!(
            "{}{}",
            location.origin().ascii_serialization(),
            location.path()
        );
        return format!("{status} to {to} error={error:?}");
    }
    let html = response.text().await.unwrap_or_default();
    let page = [
        "kc-form-login",
        "Client not found.",
        "Invalid parameter: redirect_uri",
    ]
    .into_iter()
    .find(|marker| html.contains(marker))
    .unwrap_or("another page");
    format!("{status} {page}")
}

/// The endpoints of the discovery document at `issuer`.
async fn endpoints(c: &Client, issuer: &str) -> [String; 4] {
    let doc: Value = c
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("discovery JSON");
    [
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "authorization_endpoint",
    ]
    .map(|k| {
        doc[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in {doc}"))
            .to_string()
    })
}

/// Every answer the checks classify, from `issuer`, labelled.
async fn answers(c: &Client, issuer: &str, shared: &Shared) -> Vec<(String, String)> {
    let [token, introspect, revoke, authorize] = endpoints(c, issuer).await;
    let login = shared.login_secret.as_str();
    let service = shared.service_secret.as_str();
    let cc = [("grant_type", "client_credentials")];
    let any_token = [("token", "not-a-token")];
    let posts: Vec<(&str, &str, Auth<'_>, Form<'_>)> = vec![
        (
            "token: service client, right secret",
            &token,
            Auth::Basic(SERVICE, service),
            &cc,
        ),
        (
            "token: service client, wrong secret (basic)",
            &token,
            Auth::Basic(SERVICE, "wrong"),
            &cc,
        ),
        (
            "token: service client, wrong secret (post)",
            &token,
            Auth::Post(SERVICE, "wrong"),
            &cc,
        ),
        (
            "token: service client, empty secret",
            &token,
            Auth::Post(SERVICE, ""),
            &cc,
        ),
        ("token: no client at all", &token, Auth::None, &cc),
        (
            "token: unknown client",
            &token,
            Auth::Basic("nobody", "x"),
            &cc,
        ),
        (
            "token: login client, right secret, no service account",
            &token,
            Auth::Basic(CLIENT, login),
            &cc,
        ),
        (
            "token: service client, a scope it lacks",
            &token,
            Auth::Basic(SERVICE, service),
            &[("grant_type", "client_credentials"), ("scope", "other-api")],
        ),
        (
            "introspection: right secret",
            &introspect,
            Auth::Post(CLIENT, login),
            &any_token,
        ),
        (
            "introspection: right secret (basic)",
            &introspect,
            Auth::Basic(CLIENT, login),
            &any_token,
        ),
        (
            "introspection: wrong secret",
            &introspect,
            Auth::Post(CLIENT, "wrong"),
            &any_token,
        ),
        (
            "introspection: unknown client",
            &introspect,
            Auth::Post("nobody", "x"),
            &any_token,
        ),
        (
            "introspection: right secret, no token",
            &introspect,
            Auth::Post(CLIENT, login),
            &[],
        ),
        (
            "revocation: unknown client",
            &revoke,
            Auth::Post("nobody", "x"),
            &any_token,
        ),
        (
            "revocation: right secret",
            &revoke,
            Auth::Post(CLIENT, login),
            &any_token,
        ),
        (
            "revocation: wrong secret",
            &revoke,
            Auth::Post(CLIENT, "wrong"),
            &any_token,
        ),
    ];
    let mut out = Vec::new();
    for (label, url, auth, params) in posts {
        out.push((
            label.to_string(),
            format!("{:?}", read(c, url, auth, params).await),
        ));
    }
    for (label, client_id, redirect, scope) in [
        (
            "login: registered callback",
            CLIENT,
            CALLBACK,
            "openid email profile",
        ),
        (
            "login: unregistered callback",
            CLIENT,
            "https://om.example.com/sso/callback",
            "openid",
        ),
        ("login: unknown client", "nobody", CALLBACK, "openid"),
        (
            "login: a scope the realm lacks",
            CLIENT,
            CALLBACK,
            "openid bogus",
        ),
    ] {
        let page = login_page(c, &authorize, client_id, redirect, scope).await;
        out.push((label.to_string(), page));
    }
    out
}

#[tokio::test]
async fn the_keycloak_profile_answers_every_check_request_as_keycloak_does() {
    let shared = keycloak().await;
    let profile = profile(shared).await;
    // Redirects are reported, never followed: they point at the callback's host.
    let c = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let real = answers(&c, &shared.keycloak.issuer(), shared).await;
    let imitated = answers(&c, &profile.issuer(), shared).await;
    let differences: Vec<String> = real
        .iter()
        .zip(&imitated)
        .filter(|(r, i)| r != i)
        .map(|((label, r), (_, i))| format!("{label}:\n  Keycloak: {r}\n  profile:  {i}"))
        .collect();
    assert!(
        differences.is_empty(),
        "the profile differs from Keycloak 26.7.3:\n{}",
        differences.join("\n")
    );
    // The comparison is not vacuous: the answers the checks classify differ among themselves.
    assert!(real.iter().any(|(_, a)| a.contains("unauthorized_client")));
    assert!(real.iter().any(|(_, a)| a.contains("active: Some(false)")));
    assert!(real.iter().any(|(_, a)| a.contains("kc-form-login")));
    assert!(real.iter().any(|(_, a)| a.contains("error=Some")));
}

#[tokio::test]
async fn the_operator_proves_a_real_keycloak_client_and_holds_a_wrong_secret_or_callback() {
    let shared = keycloak().await;
    expect_proved_and_held(
        "keycloak-real",
        &shared.keycloak.issuer(),
        None,
        &shared.login_secret,
    )
    .await;
}
