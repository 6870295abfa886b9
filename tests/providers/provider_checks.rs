//! The provider checks (`oidc_sso_operator::oidc`) against every provider profile of the test
//! provider (tests/oidc-provider/profiles.mjs: Keycloak, Entra ID single- and multi-tenant, Okta,
//! Auth0, Google, Cognito, Dex, each answering as its documentation describes): a correct
//! configuration passes, a wrong secret and an unregistered callback fail, and what a provider
//! cannot prove is reported as such instead of failing. docs/providers.md is the table of it.
//!
//! No cluster: the checker is called directly (tests/e2e/provider_operator.rs runs the operator
//! against the profiles).

use crate::oidc_checks::{checker, quick};
use crate::support::oidc::{Profile, ProviderOptions, TestClient, TestProvider, random_secret};
use oidc_sso_operator::oidc::{
    CheckOutcome, CheckRequest, ClientCredentials, CredentialsMethod, CredentialsOutcome,
    GrantParams, LoginOutcome, LoginRequest, ScopeSupport, TokenAuthMethod,
};

/// The callback the login client registers.
const CALLBACK: &str = "https://om.example.com/callback";
/// The client id every profile registers.
const CLIENT: &str = "openmetadata";

/// A provider of `profile` with one login client (`CLIENT`, registered at `CALLBACK`),
/// configured further by `client`.
async fn start(
    profile: Profile,
    client: impl FnOnce(TestClient) -> TestClient,
) -> (TestProvider, String) {
    let secret = random_secret();
    let login_client = client(TestClient::new(CLIENT, &secret).with_redirect_uris([CALLBACK]));
    let options = ProviderOptions::http()
        .with_profile(profile)
        .with_clients([login_client]);
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .expect("join")
        .expect("provider");
    (idp, secret)
}

/// The check the operator makes for a Confidential client of `idp` by default: discovery, the
/// secret by `Auto`, the login.
fn request(idp: &TestProvider, secret: &str) -> CheckRequest {
    let mut req = CheckRequest::new(idp.authority())
        .with_scopes(["openid", "email", "profile"])
        .with_insecure_http(true)
        .with_timeouts(quick())
        .with_client_credentials(
            ClientCredentials::new(CLIENT, secret)
                .with_auth_method(TokenAuthMethod::ClientSecretPost)
                .with_method(CredentialsMethod::Auto)
                .with_redirect_uri(CALLBACK),
        )
        .with_login(login(CALLBACK));
    if idp.profile() == Some(Profile::EntraCommon) {
        req = req.with_tenant("common");
    }
    req
}

fn login(callback: &str) -> LoginRequest {
    LoginRequest {
        client_id: CLIENT.into(),
        label: format!("client {CLIENT:?}"),
        redirect_uri: callback.into(),
        pkce: false,
        nonce: true,
        extra: Vec::new(),
    }
}

fn with_method(
    mut req: CheckRequest,
    method: CredentialsMethod,
    grant: GrantParams,
) -> CheckRequest {
    if let Some(creds) = req.client_credentials.take() {
        req = req.with_client_credentials(creds.with_method(method).with_grant(grant));
    }
    req
}

fn proof(outcome: &CheckOutcome) -> &str {
    match &outcome.credentials {
        CredentialsOutcome::Valid { proof } => proof,
        other => panic!("expected a proved secret, got {other:?}"),
    }
}

fn inconclusive(outcome: &CheckOutcome) -> &str {
    match &outcome.credentials {
        CredentialsOutcome::Inconclusive { message } => message,
        other => panic!("expected 'cannot tell', got {other:?}"),
    }
}

fn failure(outcome: &CheckOutcome) -> String {
    match &outcome.credentials {
        CredentialsOutcome::Failed(e) => format!("{}: {e}", e.reason()),
        other => panic!("expected a failed secret, got {other:?}"),
    }
}

fn login_reason(outcome: &CheckOutcome) -> String {
    match &outcome.login {
        LoginOutcome::Accepted { .. } => "Accepted".into(),
        LoginOutcome::Refused(e) => format!("{}: {e}", e.reason()),
        other => panic!("expected a login answer, got {other:?}"),
    }
}

/// Which endpoint proves the secret under `Auto`, per profile (docs/providers.md).
fn proving_endpoint(profile: Profile) -> &'static str {
    match profile {
        // Introspection authenticates the client.
        Profile::Keycloak | Profile::Okta => "introspection endpoint",
        // Revocation authenticates the client (Google's does not: it falls through).
        Profile::Auth0 | Profile::Cognito => "revocation endpoint",
        // No introspection or revocation that authenticates: a made-up authorization code.
        Profile::Entra | Profile::EntraCommon | Profile::Google | Profile::Dex => "token endpoint",
    }
}

/// For every profile: the right secret and the registered callback pass, each proved by the
/// endpoint the provider's documentation says can prove it; a wrong secret is InvalidClient; an
/// unregistered callback is NotRegistered. Nothing needs provider-specific settings.
#[tokio::test]
async fn every_profile_proves_the_secret_and_the_callback_without_extra_settings() {
    for profile in Profile::ALL {
        let (idp, secret) = start(profile, |c| c).await;
        let checker = checker();
        let name = profile.name();

        let right = checker.check(&request(&idp, &secret)).await;
        let report = right
            .provider
            .as_ref()
            .unwrap_or_else(|e| panic!("{name}: provider: {e}"));
        assert!(report.usable_signing_keys > 0, "{name}");
        let proof = proof(&right);
        eprintln!("{name}: {proof}");
        assert!(proof.contains(proving_endpoint(profile)), "{name}: {proof}");
        assert!(!proof.contains(&secret), "{name}: {proof}");
        assert_eq!(login_reason(&right), "Accepted", "{name}");

        let wrong = checker.check(&request(&idp, &random_secret())).await;
        let failed = failure(&wrong);
        eprintln!("{name}: wrong secret: {failed}");
        assert!(failed.starts_with("InvalidClient"), "{name}: {failed}");
        assert!(
            wrong.provider.is_ok(),
            "{name}: a wrong secret is not a provider failure"
        );

        let mut elsewhere = request(&idp, &secret);
        elsewhere.login = Some(login("https://om.example.com/oauth/callback"));
        let refused = login_reason(&checker.check(&elsewhere).await);
        eprintln!("{name}: unregistered callback: {refused}");
        assert!(refused.starts_with("NotRegistered"), "{name}: {refused}");
        assert!(
            refused.contains("register https://om.example.com/oauth/callback"),
            "{name}: {refused}"
        );
        assert!(
            !refused.contains(&format!("client_id={CLIENT}")),
            "{name}: {refused}"
        );
    }
}

/// The client-credentials grant needs what each provider needs (Entra ID a `/.default` scope,
/// Auth0 an audience, Okta a custom scope, Cognito a resource-server scope); with the wrong ones
/// the grant is refused, which proves nothing about the secret: "cannot tell", naming the setting.
/// With the right ones, a token proves it.
#[tokio::test]
async fn client_credentials_need_each_providers_parameters_and_say_which() {
    let scopes = |s: &[&str]| GrantParams {
        scopes: s.iter().map(ToString::to_string).collect(),
        ..GrantParams::default()
    };
    let audience = |a: &str| GrantParams {
        audience: Some(a.into()),
        ..GrantParams::default()
    };
    let api = "https://om.example.com/api";
    // (profile, refused parameters, the setting named, accepted parameters)
    let cases = [
        (
            Profile::Entra,
            scopes(&["openid"]),
            "credentials.scopes",
            scopes(&["api://om/.default"]),
        ),
        (
            Profile::Okta,
            GrantParams::default(),
            "credentials.scopes",
            scopes(&["om.read"]),
        ),
        (
            Profile::Auth0,
            GrantParams::default(),
            "credentials.audience",
            audience(api),
        ),
        (
            Profile::Cognito,
            scopes(&["om/write"]),
            "credentials.scopes",
            scopes(&["om/read"]),
        ),
    ];
    for (profile, refused, hint, accepted) in cases {
        let (idp, secret) = start(profile, |c| {
            c.with_grants(["authorization_code", "client_credentials"])
                .with_scopes(accepted.scopes.clone())
                .with_audiences(accepted.audience.clone())
        })
        .await;
        let checker = checker();
        let name = profile.name();
        let base = request(&idp, &secret);

        let wrong_params = with_method(base.clone(), CredentialsMethod::ClientCredentials, refused);
        let message = inconclusive(&checker.check(&wrong_params).await).to_owned();
        eprintln!("{name}: wrong grant parameters: {message}");
        assert!(message.contains(hint), "{name}: {message}");
        assert!(!message.contains(&secret), "{name}");

        let granted = checker
            .check(&with_method(
                base.clone(),
                CredentialsMethod::ClientCredentials,
                accepted.clone(),
            ))
            .await;
        assert!(proof(&granted).contains("issued a token"), "{name}");

        // Auto with the parameters: the grant takes the made-up code's place at the token
        // endpoint, after whatever the provider authenticates without a grant.
        let auto = checker
            .check(&with_method(base, CredentialsMethod::Auto, accepted))
            .await;
        eprintln!("{name}: auto: {}", proof(&auto));
    }
}

/// Grants a provider refuses whatever the secret (Google and Dex never offer client
/// credentials, Keycloak's client without service accounts) are "cannot tell", never a wrong
/// secret; Dex's introspection authenticates no one and proves nothing either.
#[tokio::test]
async fn refused_grants_and_unauthenticated_endpoints_are_not_wrong_secrets() {
    for profile in [Profile::Google, Profile::Dex, Profile::Keycloak] {
        let (idp, secret) = start(profile, |c| c.with_grants(["authorization_code"])).await;
        let checker = checker();
        let name = profile.name();
        let only_grant = with_method(
            request(&idp, &secret),
            CredentialsMethod::ClientCredentials,
            GrantParams::default(),
        );
        let message = inconclusive(&checker.check(&only_grant).await).to_owned();
        eprintln!("{name}: {message}");
        assert!(
            message.contains("client_credentials grant"),
            "{name}: {message}"
        );
        // ... and a wrong secret is still caught where the grant is checked after the client
        // (Keycloak, Google); Dex checks the grant first, so it cannot tell there either.
        let wrong = with_method(
            request(&idp, &random_secret()),
            CredentialsMethod::ClientCredentials,
            GrantParams::default(),
        );
        let outcome = checker.check(&wrong).await;
        match profile {
            Profile::Dex => {
                inconclusive(&outcome);
            }
            _ => assert!(failure(&outcome).starts_with("InvalidClient"), "{name}"),
        }
    }
    let (dex, secret) = start(Profile::Dex, |c| c).await;
    let introspection = with_method(
        request(&dex, &secret),
        CredentialsMethod::Introspection,
        GrantParams::default(),
    );
    let message = inconclusive(&checker().check(&introspection).await).to_owned();
    assert!(
        message.contains("does not authenticate the client"),
        "{message}"
    );
}

/// The login is asked as the server asks it: a scope the client may not use, a missing PKCE
/// challenge where the client requires one, come back to the callback with `error=` and name the
/// setting.
#[tokio::test]
async fn refused_login_parameters_name_the_setting() {
    let (idp, secret) = start(Profile::Keycloak, |c| TestClient {
        require_pkce: true,
        ..c
    })
    .await;
    let checker = checker();
    let plain = request(&idp, &secret);
    let refused = login_reason(&checker.check(&plain).await);
    assert!(
        refused.starts_with("LoginRefused") && refused.contains("usePkce"),
        "{refused}"
    );

    let mut pkce = plain.clone();
    if let Some(login) = pkce.login.as_mut() {
        login.pkce = true;
    }
    assert_eq!(login_reason(&checker.check(&pkce).await), "Accepted");

    let groups = pkce.clone().with_scopes(["openid", "email", "groups"]);
    let outcome = checker.check(&groups).await;
    let refused = login_reason(&outcome);
    assert!(
        refused.starts_with("LoginRefused") && refused.contains("spec.provider.scopes"),
        "{refused}"
    );
    // Keycloak lists realm scopes only: `groups` is not advertised, a warning not a failure.
    assert_eq!(
        outcome.provider.expect("verified").scopes,
        ScopeSupport::SomeNotAdvertised(vec!["groups".into()])
    );
}

/// Provider quirks that a strict check would fail on a correct configuration: Okta's hidden
/// custom scopes, Auth0's trailing-slash issuer, Entra's templated multi-tenant issuer (accepted
/// with the tenant, named without), Cognito's missing `id_token` response type (a real failure
/// for a Public client).
#[tokio::test]
async fn provider_quirks_are_accepted_where_correct_and_named_where_not() {
    let (okta, secret) = start(Profile::Okta, |c| c.with_scopes(["om.read"])).await;
    let hidden = checker()
        .check(&request(&okta, &secret).with_scopes(["openid", "om.read"]))
        .await;
    assert_eq!(
        hidden
            .provider
            .as_ref()
            .expect("a hidden custom scope is not a failure")
            .scopes,
        ScopeSupport::SomeNotAdvertised(vec!["om.read".into()])
    );
    assert_eq!(login_reason(&hidden), "Accepted");

    let (auth0, secret) = start(Profile::Auth0, |c| c).await;
    assert!(auth0.authority().ends_with('/'));
    assert!(
        checker()
            .check(&request(&auth0, &secret))
            .await
            .provider
            .is_ok()
    );
    let trimmed = CheckRequest::new(auth0.authority().trim_end_matches('/'))
        .with_insecure_http(true)
        .with_timeouts(quick());
    let err = checker()
        .check(&trimmed)
        .await
        .provider
        .expect_err("exact issuer");
    assert!(err.to_string().contains("trailing slash"), "{err}");

    let (common, secret) = start(Profile::EntraCommon, |c| c).await;
    let mut untenanted = request(&common, &secret);
    untenanted.tenant = None;
    let err = checker()
        .check(&untenanted)
        .await
        .provider
        .expect_err("templated issuer");
    assert_eq!(err.reason(), "IssuerMismatch");
    assert!(err.to_string().contains("spec.provider.tenant"), "{err}");

    let (cognito, secret) = start(Profile::Cognito, |c| c).await;
    let implicit = request(&cognito, &secret).with_response_type("id_token");
    let err = checker()
        .check(&implicit)
        .await
        .provider
        .expect_err("no id_token");
    assert_eq!(err.reason(), "UnsupportedResponseType");
}

/// A discovery document that names plain-http endpoints behind an https issuer is refused, and
/// no secret is sent to them.
#[tokio::test]
async fn plain_http_endpoints_behind_https_are_refused() {
    let secret = random_secret();
    let mut options = ProviderOptions::https()
        .with_profile(Profile::Keycloak)
        .with_clients([TestClient::new(CLIENT, &secret).with_redirect_uris([CALLBACK])]);
    options.http_endpoints = true;
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .expect("join")
        .expect("provider");
    let mut req = request(&idp, &secret).with_insecure_http(false);
    req = req.with_trust(oidc_sso_operator::oidc::Trust::CaBundle {
        pem: idp.ca_pem().expect("ca"),
        also_system_roots: false,
    });
    let checker = checker();
    let outcome = checker.check(&req).await;
    let err = outcome.provider.expect_err("downgrade");
    assert_eq!(err.reason(), "InsecureEndpoint", "{err}");
    assert!(
        matches!(outcome.credentials, CredentialsOutcome::Skipped(_)),
        "{:?}",
        outcome.credentials
    );
    assert_eq!(checker.stats().token_requests, 0, "no secret was sent");
}
