//! A real Keycloak (26.7.3, see `support::keycloak`) against its profile in
//! `tests/oidc-provider/profiles.mjs`: every request the provider checks make (token,
//! introspection, revocation, the login redirect) gets the same answer from the profile as from
//! Keycloak, so the profile tests of the other suites stand for the real server. The operator
//! against the real Keycloak: tests/e2e/real_providers.rs.
//!
//! The Keycloak (its start takes 15–45 s) is stopped when the test ends.

use crate::support::http::Auth;
use crate::support::keycloak::{Keycloak, login_client, service_client};
use crate::support::oidc::{
    CALLBACK, CLIENT, Profile, ProviderOptions, TestClient, TestProvider, random_secret,
};
use crate::support::side_by_side::{
    self, ANY_TOKEN, CLIENT_CREDENTIALS, Form, INTROSPECTION, REVOCATION, TOKEN, login_case,
    post_case,
};

/// The client with a service account, beside the login client [`CLIENT`].
const SERVICE: &str = "svc";
/// A callback the login client does not have.
const OTHER_CALLBACK: &str = "https://om.example.com/sso/callback";

struct Shared {
    keycloak: Keycloak,
    login_secret: String,
    service_secret: String,
}

/// A Keycloak with clients [`CLIENT`] and [`SERVICE`].
async fn keycloak() -> Shared {
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

/// Every request the checks make, with the answers that tell them apart.
async fn answers(issuer: &str, shared: &Shared) -> Vec<(String, String)> {
    let login = shared.login_secret.as_str();
    let service = shared.service_secret.as_str();
    let (cc, token, introspect, revoke) = (CLIENT_CREDENTIALS, TOKEN, INTROSPECTION, REVOCATION);
    let scope_it_lacks: Form<'_> = &[("grant_type", "client_credentials"), ("scope", "other-api")];
    #[rustfmt::skip]
    let posts = [
        post_case("token: service client, right secret", token, Auth::Basic(SERVICE, service), cc),
        post_case("token: service client, wrong secret (basic)", token, Auth::Basic(SERVICE, "wrong"), cc),
        post_case("token: service client, wrong secret (post)", token, Auth::Post(SERVICE, "wrong"), cc),
        post_case("token: service client, empty secret", token, Auth::Post(SERVICE, ""), cc),
        post_case("token: no client at all", token, Auth::None, cc),
        post_case("token: unknown client", token, Auth::Basic("nobody", "x"), cc),
        post_case("token: login client, no service account", token, Auth::Basic(CLIENT, login), cc),
        post_case("token: service client, a scope it lacks", token, Auth::Basic(SERVICE, service), scope_it_lacks),
        post_case("introspection: right secret", introspect, Auth::Post(CLIENT, login), ANY_TOKEN),
        post_case("introspection: right secret (basic)", introspect, Auth::Basic(CLIENT, login), ANY_TOKEN),
        post_case("introspection: wrong secret", introspect, Auth::Post(CLIENT, "wrong"), ANY_TOKEN),
        post_case("introspection: unknown client", introspect, Auth::Post("nobody", "x"), ANY_TOKEN),
        post_case("introspection: no token", introspect, Auth::Post(CLIENT, login), &[]),
        post_case("revocation: right secret", revoke, Auth::Post(CLIENT, login), ANY_TOKEN),
        post_case("revocation: wrong secret", revoke, Auth::Post(CLIENT, "wrong"), ANY_TOKEN),
        post_case("revocation: unknown client", revoke, Auth::Post("nobody", "x"), ANY_TOKEN),
    ];
    #[rustfmt::skip]
    let logins = [
        login_case("login: registered callback", CLIENT, CALLBACK, "openid email profile"),
        login_case("login: unregistered callback", CLIENT, OTHER_CALLBACK, "openid"),
        login_case("login: unknown client", "nobody", CALLBACK, "openid"),
        login_case("login: a scope the realm lacks", CLIENT, CALLBACK, "openid bogus"),
    ];
    let markers = [
        "kc-form-login",
        "Client not found.",
        "Invalid parameter: redirect_uri",
    ];
    side_by_side::answers(&side_by_side::client(), issuer, &posts, &logins, &markers).await
}

#[tokio::test]
async fn the_keycloak_profile_answers_every_check_request_as_keycloak_does() {
    let shared = keycloak().await;
    let profile = profile(&shared).await;
    let real = answers(&shared.keycloak.issuer(), &shared).await;
    let imitated = answers(&profile.issuer(), &shared).await;
    let differences = side_by_side::differences("Keycloak", &real, &imitated);
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
