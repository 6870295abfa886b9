//! The operator against every provider profile (tests/oidc-provider/profiles.mjs), configured as
//! a platform team would for each provider, with the checks' defaults: a correct configuration
//! ends `Ready` with the secret proved and the login accepted, and rolls once; a wrong secret and
//! an unregistered callback URL are named and hold the rollout; nothing rolls onto them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::PostParams;
use serde_json::json;

use crate::support::cluster::{self, DEFAULT_TIMEOUT};
use crate::support::oidc::{Profile, ProviderOptions, TestClient, TestProvider, random_secret};
use crate::support::scenario::{NAME, Scenario, spec_with_provider};

pub(crate) use crate::support::oidc::{CALLBACK, CLIENT};

async fn provider(profile: Profile, secret: &str) -> TestProvider {
    let client = TestClient::new(CLIENT, secret).with_redirect_uris([CALLBACK]);
    let options = ProviderOptions::http()
        .with_profile(profile)
        .with_clients([client]);
    tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .expect("join")
        .expect("provider")
}

/// The provider section for the provider at `authority`: what its docs/providers.md row says to
/// set, nothing more.
pub(crate) fn provider_spec(
    authority: &str,
    tenant: Option<&str>,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut p = json!({
        "issuer": authority,
        "clientType": "Confidential",
        "credentialsSecretRef": {"name": "om-oidc-client"},
        "clientAuthenticationMethod": "client_secret_post",
        "allowInsecureHttp": true,
    });
    if let Some(tenant) = tenant {
        p["tenant"] = json!(tenant);
    }
    for (k, v) in extra.as_object().expect("object") {
        p[k] = v.clone();
    }
    spec_with_provider(p)
}

pub(crate) fn condition(cr: &oidc_sso_operator::crd::OidcSsoConfig, type_: &str) -> Condition {
    cr.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_).cloned())
        .unwrap_or_else(|| panic!("no {type_} condition"))
}

/// Condition `type_` of `cr`, asserted to have `(status, reason)`; `name` labels the failure.
#[track_caller]
pub(crate) fn expect_condition(
    cr: &oidc_sso_operator::crd::OidcSsoConfig,
    type_: &str,
    (status, reason): (&str, &str),
    name: &str,
) -> Condition {
    let c = condition(cr, type_);
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        (status, reason),
        "{name}: {}",
        c.message
    );
    c
}

/// Asserts the server is not rolled again over a quiet window.
async fn assert_not_rolled(env: &Scenario, replica_sets: usize, why: &str) {
    cluster::assert_stays(why, cluster::QUIET_WINDOW, replica_sets, || {
        env.replica_sets()
    })
    .await;
}

async fn run(profile: Profile) {
    let secret = random_secret();
    let idp = provider(profile, &secret).await;
    let tenant = (profile == Profile::EntraCommon).then_some("common");
    expect_proved_and_held(profile.name(), &idp.authority(), tenant, &secret).await;
}

/// A scenario whose operator re-checks the provider every 2 s, with a rolled-out server Deployment
/// and client [`CLIENT`] with `secret` in the credentials Secret.
pub(crate) async fn server_with_client(prefix: &str, secret: &str) -> Scenario {
    let env = Scenario::start(
        prefix,
        &[
            "--provider-check-ttl",
            "2s",
            "--provider-check-failure-ttl",
            "2s",
        ],
    )
    .await;
    env.deployments()
        .create(&PostParams::default(), &cluster::simple_deployment(NAME, 1))
        .await
        .expect("server Deployment");
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    env.put_client(CLIENT, secret).await;
    env
}

/// The operator against the provider at `authority`, where client [`CLIENT`] has `secret` and
/// [`CALLBACK`] registered: a correct configuration ends `Ready` with the secret proved and the
/// login accepted, and rolls once; a wrong secret and an unregistered callback URL are named and
/// hold the rollout.
pub(crate) async fn expect_proved_and_held(
    name: &str,
    authority: &str,
    tenant: Option<&str>,
    secret: &str,
) {
    let env = server_with_client(&format!("op-{name}"), secret).await;

    // Correct: Ready, the secret proved, the login accepted, one rollout.
    env.apply_config(provider_spec(authority, tenant, json!({})))
        .await;
    let cr = env.wait_ready().await;
    expect_condition(&cr, "CredentialsValid", ("True", "Valid"), name);
    let login = expect_condition(&cr, "LoginAccepted", ("True", "Accepted"), name);
    assert!(
        login.message.contains(CALLBACK),
        "{name}: {}",
        login.message
    );
    let rolled = env.replica_sets().await;
    assert_eq!(rolled, 2, "{name}: one rollout");

    // A wrong secret: named, held, the last good settings stay.
    env.put_client(CLIENT, "not-the-secret").await;
    let cr = env
        .wait_condition("CredentialsValid", "False", Some("InvalidClient"))
        .await;
    let ready = condition(&cr, "Ready");
    assert_eq!(ready.status, "False", "{name}");
    assert!(
        !ready.message.contains("not-the-secret"),
        "{name}: {}",
        ready.message
    );
    assert_not_rolled(&env, rolled, "no rollout onto a rejected secret").await;

    // Back to the right secret, then an unregistered callback URL: named, held.
    env.put_client(CLIENT, secret).await;
    env.wait_condition("Ready", "True", None).await;
    let elsewhere = "https://om.example.com/sso/callback";
    env.apply_config(provider_spec(
        authority,
        tenant,
        json!({"callbackUrl": elsewhere}),
    ))
    .await;
    let cr = env
        .wait_condition("LoginAccepted", "False", Some("NotRegistered"))
        .await;
    let refused = condition(&cr, "LoginAccepted");
    assert!(
        refused.message.contains(&format!("register {elsewhere}")),
        "{name}: {}",
        refused.message
    );
    assert_eq!(condition(&cr, "Ready").status, "False", "{name}");
    assert_not_rolled(&env, rolled, "no rollout onto an unregistered callback").await;
}

#[tokio::test]
async fn keycloak() {
    run(Profile::Keycloak).await;
}

#[tokio::test]
async fn entra_id() {
    run(Profile::Entra).await;
}

#[tokio::test]
async fn entra_id_multi_tenant() {
    run(Profile::EntraCommon).await;
}

#[tokio::test]
async fn okta() {
    run(Profile::Okta).await;
}

#[tokio::test]
async fn auth0() {
    run(Profile::Auth0).await;
}

#[tokio::test]
async fn google() {
    run(Profile::Google).await;
}

#[tokio::test]
async fn cognito() {
    run(Profile::Cognito).await;
}

#[tokio::test]
async fn dex() {
    run(Profile::Dex).await;
}
