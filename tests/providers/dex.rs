//! A real Dex (v2.45.1, see `support::dex`) against its profile in
//! `tests/oidc-provider/profiles.mjs`: every request the provider checks make (the token endpoint
//! with a made-up code, the client-credentials grant, introspection, the login redirect) gets the
//! same answer from the profile as from Dex, so the profile tests of the other suites stand for
//! the real server. The operator against the real Dex: tests/e2e/real_providers.rs.

use crate::support::dex::{Dex, DexClient};
use crate::support::http::Auth;
use crate::support::oidc::{
    CALLBACK, CLIENT, Profile, ProviderOptions, TestClient, TestProvider, random_secret,
};
use crate::support::side_by_side::{
    self, ANY_TOKEN, CLIENT_CREDENTIALS, Form, INTROSPECTION, TOKEN, login_case, post_case,
};

async fn dex(secret: &str) -> Dex {
    Dex::start(&[DexClient {
        id: CLIENT,
        secret,
        redirect_uris: &[CALLBACK],
    }])
    .await
    .expect("Dex")
}

/// Every request the checks make, with the answers that tell them apart.
async fn answers(issuer: &str, secret: &str) -> Vec<(String, String)> {
    let code: Form<'_> = &[
        ("grant_type", "authorization_code"),
        ("code", "made-up-code"),
        ("redirect_uri", CALLBACK),
    ];
    let refresh: Form<'_> = &[
        ("grant_type", "refresh_token"),
        ("refresh_token", "made-up"),
    ];
    let (cc, token, introspect) = (CLIENT_CREDENTIALS, TOKEN, INTROSPECTION);
    #[rustfmt::skip]
    let posts = [
        post_case("token: made-up code, right secret (basic)", token, Auth::Basic(CLIENT, secret), code),
        post_case("token: made-up code, right secret (post)", token, Auth::Post(CLIENT, secret), code),
        post_case("token: made-up code, wrong secret", token, Auth::Basic(CLIENT, "wrong"), code),
        post_case("token: made-up code, empty secret", token, Auth::Post(CLIENT, ""), code),
        post_case("token: made-up code, unknown client", token, Auth::Basic("nobody", "x"), code),
        post_case("token: made-up code, no client at all", token, Auth::None, code),
        post_case("token: client credentials, right secret", token, Auth::Basic(CLIENT, secret), cc),
        post_case("token: client credentials, wrong secret", token, Auth::Basic(CLIENT, "wrong"), cc),
        post_case("token: made-up refresh token", token, Auth::Basic(CLIENT, secret), refresh),
        post_case("introspection: right secret", introspect, Auth::Post(CLIENT, secret), ANY_TOKEN),
        post_case("introspection: wrong secret", introspect, Auth::Post(CLIENT, "wrong"), ANY_TOKEN),
    ];
    let other = "https://om.example.com/sso/callback";
    #[rustfmt::skip]
    let logins = [
        login_case("login: registered callback", CLIENT, CALLBACK, "openid email profile"),
        login_case("login: unregistered callback", CLIENT, other, "openid"),
        login_case("login: unknown client", "nobody", CALLBACK, "openid"),
        login_case("login: an unknown scope", CLIENT, CALLBACK, "openid bogus"),
        login_case("login: without openid", CLIENT, CALLBACK, "email"),
    ];
    let markers = [
        "Log in to Your Account",
        "Invalid client_id.",
        "Unregistered redirect_uri.",
    ];
    side_by_side::answers(&side_by_side::client(), issuer, &posts, &logins, &markers).await
}

#[tokio::test]
async fn the_dex_profile_answers_every_check_request_as_dex_does() {
    let secret = random_secret();
    let real = dex(&secret).await;
    let options = ProviderOptions::http()
        .with_profile(Profile::Dex)
        .with_clients([TestClient::new(CLIENT, &secret)
            .with_redirect_uris([CALLBACK])
            .with_grants(["authorization_code", "refresh_token"])]);
    let profile = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .expect("join")
        .expect("Dex profile");
    let from_dex = answers(&real.issuer(), &secret).await;
    let imitated = answers(&profile.issuer(), &secret).await;
    let differences = side_by_side::differences("Dex", &from_dex, &imitated);
    assert!(
        differences.is_empty(),
        "the profile differs from Dex v2.45.1:\n{}\n(Dex's log:\n{})",
        differences.join("\n"),
        real.log()
    );
    // The comparison is not vacuous: the answers the checks classify differ among themselves.
    for expected in [
        "invalid_grant",
        "invalid_client",
        "unsupported_grant_type",
        "Log in to",
    ] {
        assert!(
            from_dex.iter().any(|(_, a)| a.contains(expected)),
            "{expected}: {from_dex:?}"
        );
    }
}
