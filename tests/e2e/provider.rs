//! End-to-end: provider verification with a real OIDC provider process (panva's oidc-provider on
//! Node, HTTPS with a throwaway CA where it matters) and the operator binary on the local control
//! plane. Nothing rolls onto a configuration the provider rejects; an outage changes nothing.

use crate::support::cluster;
use crate::support::oidc;
use crate::support::scenario::{NAME, Scenario, spec_with_provider};

use crate::support::cluster::DEFAULT_TIMEOUT;
use crate::support::oidc::{ProviderOptions, TestClient, TestProvider};
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use serde_json::json;

/// Short check TTLs so outages and recoveries show within seconds.
const QUICK_CHECKS: [&str; 4] = [
    "--provider-check-ttl",
    "2s",
    "--provider-check-failure-ttl",
    "2s",
];

/// A namespace with an operator whose checks expire quickly, and a plain server Deployment.
async fn start(prefix: &str) -> Scenario {
    let env = Scenario::start(prefix, &QUICK_CHECKS).await;
    env.deployments()
        .create(&PostParams::default(), &cluster::simple_deployment(NAME, 1))
        .await
        .unwrap();
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    env
}

/// The spec of a confidential client of `idp`, checked for real, with `extra` provider settings.
fn confidential(idp: &TestProvider, extra: serde_json::Value) -> serde_json::Value {
    let mut p = json!({
        "issuer": idp.issuer(),
        "clientType": "Confidential",
        "credentialsSecretRef": {"name": "om-oidc-client"},
        "clientAuthenticationMethod": "client_secret_post",
        "verify": {"discovery": true, "clientCredentials": true},
    });
    if idp.issuer().starts_with("http://") {
        p["allowInsecureHttp"] = json!(true);
    }
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    spec_with_provider(p)
}

fn post_client(secret: &str) -> TestClient {
    let mut c = TestClient::new("openmetadata", secret);
    c.auth_method = Some("client_secret_post".into());
    c
}

#[tokio::test]
async fn https_provider_with_its_ca_is_verified_and_its_jwks_uri_is_rendered() {
    let secret = oidc::random_secret();
    let mut options = ProviderOptions::https();
    options.clients = vec![post_client(&secret)];
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = start("idp-https").await;
    env.put_client("openmetadata", &secret).await;

    // Without the CA the provider's certificate is not trusted: nothing is written or rolled.
    env.apply_config(confidential(&idp, json!({}))).await;
    env.wait_condition("ProviderVerified", "False", Some("TlsError"))
        .await;
    assert!(
        env.api::<Secret>()
            .get_opt(&format!("{NAME}-auth-env"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(env.replica_sets().await, 1);

    env.put_ca(&idp.ca_pem().unwrap()).await;
    env.apply_config(confidential(
        &idp,
        json!({"caBundle": {"configMapRef": {"name": "idp-ca", "key": "ca.crt"}}}),
    ))
    .await;
    let cr = env
        .wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    let status = cr.status.unwrap();
    let verified = status
        .conditions
        .iter()
        .find(|c| c.type_ == "ProviderVerified")
        .unwrap();
    assert_eq!(verified.status, "True");
    let creds = status
        .conditions
        .iter()
        .find(|c| c.type_ == "CredentialsValid")
        .unwrap();
    assert_eq!(
        (creds.status.as_str(), creds.reason.as_str()),
        ("True", "Valid")
    );
    let provider = status.provider.unwrap();
    let jwks_uri = provider.jwks_uri.expect("discovered jwks_uri in status");
    assert!(jwks_uri.starts_with(&idp.issuer()), "{jwks_uri}");
    assert!(provider.token_endpoint.is_some());
    assert!(
        env.auth_env("AUTHENTICATION_PUBLIC_KEYS")
            .await
            .contains(&jwks_uri),
        "the discovered JWKS URL is rendered"
    );
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    assert_eq!(env.replica_sets().await, 2);
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client_and_rolls_nothing() {
    let secret = oidc::random_secret();
    let mut options = ProviderOptions::http();
    options.clients = vec![post_client(&secret)];
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = start("idp-client").await;
    env.put_client("openmetadata", &secret).await;
    env.apply_config(confidential(&idp, json!({}))).await;
    env.wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    let rs = env.replica_sets().await;
    let good = env.auth_env("OIDC_CLIENT_SECRET").await;

    env.put_client("openmetadata", "not-the-secret").await;
    let cr = env
        .wait_condition("CredentialsValid", "False", Some("InvalidClient"))
        .await;
    let ready = cr
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "InvalidClient")
    );
    cluster::assert_stays(
        "no rollout onto a rejected secret (ReplicaSets)",
        cluster::QUIET_WINDOW,
        rs,
        || env.replica_sets(),
    )
    .await;
    assert_eq!(
        env.auth_env("OIDC_CLIENT_SECRET").await,
        good,
        "the last good rendering stays"
    );

    // Put back: verified again, and nothing to roll (it is what the pods already run).
    env.put_client("openmetadata", &secret).await;
    env.wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    assert_eq!(env.replica_sets().await, rs);
}

#[tokio::test]
async fn an_outage_changes_nothing_and_a_held_change_rolls_once_after_recovery() {
    let secret = oidc::random_secret();
    let mut options = ProviderOptions::http();
    options.clients = vec![post_client(&secret)];
    let mut idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = start("idp-outage").await;
    env.put_client("openmetadata", &secret).await;
    // Discovery only: the test provider knows one client secret, and this test changes it.
    env.apply_config(confidential(
        &idp,
        json!({"verify": {"discovery": true, "clientCredentials": false}}),
    ))
    .await;
    env.wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    let rs = env.replica_sets().await;
    let version = env.auth_env_version().await;

    // Outage with an unchanged configuration: reported, workloads and Secrets untouched.
    idp.stop().unwrap();
    env.wait_condition("ProviderVerified", "False", Some("Unreachable"))
        .await;
    env.wait_condition("Ready", "False", Some("Unreachable"))
        .await;
    assert_eq!(env.replica_sets().await, rs);
    assert_eq!(env.auth_env_version().await, version);

    // A change during the outage is held: not written, not rolled.
    env.put_client("openmetadata", "rotated-during-outage")
        .await;
    env.wait_condition("WorkloadsUpdated", "False", Some("RolloutHeld"))
        .await;
    cluster::assert_stays(
        "a held change rolls nothing and writes nothing (ReplicaSets, settings version)",
        cluster::QUIET_WINDOW,
        (rs, version.clone()),
        || async { (env.replica_sets().await, env.auth_env_version().await) },
    )
    .await;

    // Back: verified, the held change is written and rolled exactly once.
    let _idp = tokio::task::spawn_blocking(move || {
        idp.start().unwrap();
        idp
    })
    .await
    .unwrap();
    env.wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    assert_eq!(
        env.replica_sets().await,
        rs + 1,
        "exactly one rollout after recovery"
    );
    assert_eq!(
        env.auth_env("OIDC_CLIENT_SECRET").await,
        "\"rotated-during-outage\""
    );
}

#[tokio::test]
async fn recovery_without_a_change_rolls_nothing() {
    let mut idp = tokio::task::spawn_blocking(TestProvider::http)
        .await
        .unwrap()
        .unwrap();
    let env = start("idp-recover").await;
    env.put_client("openmetadata", "s").await;
    // Discovery only: the provider does not know this client.
    env.apply_config(confidential(
        &idp,
        json!({"verify": {"discovery": true, "credentials": {"method": "Disabled"}, "loginRedirect": false}}),
    ))
    .await;
    env.wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    cluster::wait_rolled_out(&env.client, &env.ns, NAME, DEFAULT_TIMEOUT).await;
    let rs = env.replica_sets().await;
    idp.stop().unwrap();
    env.wait_condition("ProviderVerified", "False", Some("Unreachable"))
        .await;
    let idp = tokio::task::spawn_blocking(move || {
        idp.start().unwrap();
        idp
    })
    .await
    .unwrap();
    env.wait_condition("ProviderVerified", "True", Some("Verified"))
        .await;
    env.wait_condition("Ready", "True", Some("Reconciled"))
        .await;
    assert_eq!(env.replica_sets().await, rs, "recovery alone rolls nothing");
    drop(idp);
}

#[tokio::test]
async fn an_issuer_mismatch_is_named_and_nothing_is_written() {
    let mut options = ProviderOptions::http();
    options.issuer = Some("{listen}/realms/other".into());
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = start("idp-issuer").await;
    env.put_client("openmetadata", "s").await;
    // The configured issuer is the listen URL; the provider announces another one.
    let mut spec = confidential(
        &idp,
        json!({"verify": {"discovery": true, "clientCredentials": false}}),
    );
    spec["provider"]["issuer"] = json!(idp.base_url());
    env.apply_config(spec).await;
    let cr = env
        .wait_condition("ProviderVerified", "False", Some("IssuerMismatch"))
        .await;
    let msg = cr
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "ProviderVerified")
        .unwrap()
        .message;
    assert!(msg.contains("/realms/other"), "{msg}");
    assert!(
        env.api::<Secret>()
            .get_opt(&format!("{NAME}-auth-env"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(env.replica_sets().await, 1);
}
