//! End-to-end: provider verification with a real OIDC provider process (panva's oidc-provider on
//! Node, HTTPS with a throwaway CA where it matters) and the operator binary on the local control
//! plane. Nothing rolls onto a configuration the provider rejects; an outage changes nothing.

mod common;
mod support_oidc;
mod support_operator;

use std::time::Duration;

use common::{DEFAULT_TIMEOUT, TestNamespace};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use oidc_sso_operator::crd::OidcSsoConfig;
use serde_json::json;
use support_oidc::{ProviderOptions, TestClient, TestProvider};
use support_operator::Operator;

const NAME: &str = "openmetadata";

struct Env {
    client: Client,
    ns: TestNamespace,
    _op: Operator,
}

impl Env {
    async fn new(prefix: &str) -> Env {
        let client = common::client().await;
        support_operator::install_crd(&client).await;
        let ns = TestNamespace::create(&client, prefix)
            .await
            .expect("namespace");
        // Short check TTLs so outages and recoveries show within seconds.
        let op = Operator::start(
            common::require_kubeconfig(),
            ns.name(),
            &[
                "--provider-check-ttl",
                "2s",
                "--provider-check-failure-ttl",
                "2s",
            ],
        )
        .await;
        let env = Env {
            client,
            ns,
            _op: op,
        };
        let d = common::simple_deployment(NAME, 1);
        env.api::<Deployment>()
            .create(&PostParams::default(), &d)
            .await
            .unwrap();
        common::wait_rolled_out(&env.client, env.ns.name(), NAME, DEFAULT_TIMEOUT).await;
        env
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), self.ns.name())
    }

    async fn put_credentials(&self, id: &str, secret: &str) {
        let s: Secret = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "om-oidc-client"}, "stringData": {"clientId": id, "clientSecret": secret}}))
        .unwrap();
        self.api::<Secret>()
            .patch(
                "om-oidc-client",
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(&s),
            )
            .await
            .unwrap();
    }

    async fn put_ca(&self, pem: &[u8]) {
        let cm: ConfigMap = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "idp-ca"}, "data": {"ca.crt": String::from_utf8(pem.to_vec()).unwrap()}}))
        .unwrap();
        self.api::<ConfigMap>()
            .patch(
                "idp-ca",
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(&cm),
            )
            .await
            .unwrap();
    }

    async fn apply_config(&self, provider: serde_json::Value) {
        let cr: OidcSsoConfig = serde_json::from_value(json!({
            "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig", "metadata": {"name": NAME},
            "spec": {
                "provider": provider,
                "authorizer": {"adminPrincipals": ["alice"]},
                "server": {"externalUrl": "https://om.example.com"},
                "targets": [{"kind": "Deployment", "name": NAME}],
            }
        }))
        .unwrap();
        self.api::<OidcSsoConfig>()
            .patch(
                NAME,
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(&cr),
            )
            .await
            .expect("apply OidcSsoConfig");
    }

    /// Waits until condition `type_` has `status` and `reason`, at the current generation.
    async fn wait_condition(&self, type_: &str, status: &str, reason: &str) -> OidcSsoConfig {
        support_operator::wait_condition(
            &self.api::<OidcSsoConfig>(),
            NAME,
            type_,
            status,
            Some(reason),
        )
        .await
    }

    async fn replica_sets(&self) -> usize {
        let d = self.api::<Deployment>().get(NAME).await.unwrap();
        common::owned_replica_sets(&self.client, &d)
            .await
            .unwrap()
            .len()
    }

    async fn auth_env(&self, key: &str) -> String {
        let s = self
            .api::<Secret>()
            .get(&format!("{NAME}-auth-env"))
            .await
            .expect("auth-env Secret");
        String::from_utf8(
            s.data
                .unwrap_or_default()
                .remove(key)
                .map(|b| b.0)
                .unwrap_or_default(),
        )
        .unwrap()
    }

    async fn auth_env_version(&self) -> String {
        self.api::<Secret>()
            .get(&format!("{NAME}-auth-env"))
            .await
            .unwrap()
            .resource_version()
            .unwrap_or_default()
    }
}

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
    p
}

fn post_client(secret: &str) -> TestClient {
    let mut c = TestClient::new("openmetadata", secret);
    c.auth_method = Some("client_secret_post".into());
    c
}

#[tokio::test]
async fn https_provider_with_its_ca_is_verified_and_its_jwks_uri_is_rendered() {
    let secret = support_oidc::random_secret();
    let mut options = ProviderOptions::https();
    options.clients = vec![post_client(&secret)];
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = Env::new("idp-https").await;
    env.put_credentials("openmetadata", &secret).await;

    // Without the CA the provider's certificate is not trusted: nothing is written or rolled.
    env.apply_config(confidential(&idp, json!({}))).await;
    env.wait_condition("ProviderVerified", "False", "TlsError")
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
    let cr = env.wait_condition("Ready", "True", "Reconciled").await;
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
    common::wait_rolled_out(&env.client, env.ns.name(), NAME, DEFAULT_TIMEOUT).await;
    assert_eq!(env.replica_sets().await, 2);
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client_and_rolls_nothing() {
    let secret = support_oidc::random_secret();
    let mut options = ProviderOptions::http();
    options.clients = vec![post_client(&secret)];
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = Env::new("idp-client").await;
    env.put_credentials("openmetadata", &secret).await;
    env.apply_config(confidential(&idp, json!({}))).await;
    env.wait_condition("Ready", "True", "Reconciled").await;
    common::wait_rolled_out(&env.client, env.ns.name(), NAME, DEFAULT_TIMEOUT).await;
    let rs = env.replica_sets().await;
    let good = env.auth_env("OIDC_CLIENT_SECRET").await;

    env.put_credentials("openmetadata", "not-the-secret").await;
    let cr = env
        .wait_condition("CredentialsValid", "False", "InvalidClient")
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
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        env.replica_sets().await,
        rs,
        "no rollout onto a rejected secret"
    );
    assert_eq!(
        env.auth_env("OIDC_CLIENT_SECRET").await,
        good,
        "the last good rendering stays"
    );

    // Put back: verified again, and nothing to roll (it is what the pods already run).
    env.put_credentials("openmetadata", &secret).await;
    env.wait_condition("Ready", "True", "Reconciled").await;
    assert_eq!(env.replica_sets().await, rs);
}

#[tokio::test]
async fn an_outage_changes_nothing_and_a_held_change_rolls_once_after_recovery() {
    let secret = support_oidc::random_secret();
    let mut options = ProviderOptions::http();
    options.clients = vec![post_client(&secret)];
    let mut idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .unwrap();
    let env = Env::new("idp-outage").await;
    env.put_credentials("openmetadata", &secret).await;
    // Discovery only: the test provider knows one client secret, and this test changes it.
    env.apply_config(confidential(
        &idp,
        json!({"verify": {"discovery": true, "clientCredentials": false}}),
    ))
    .await;
    env.wait_condition("Ready", "True", "Reconciled").await;
    common::wait_rolled_out(&env.client, env.ns.name(), NAME, DEFAULT_TIMEOUT).await;
    let rs = env.replica_sets().await;
    let version = env.auth_env_version().await;

    // Outage with an unchanged configuration: reported, workloads and Secrets untouched.
    idp.stop().unwrap();
    env.wait_condition("ProviderVerified", "False", "Unreachable")
        .await;
    env.wait_condition("Ready", "False", "Unreachable").await;
    assert_eq!(env.replica_sets().await, rs);
    assert_eq!(env.auth_env_version().await, version);

    // A change during the outage is held: not written, not rolled.
    env.put_credentials("openmetadata", "rotated-during-outage")
        .await;
    env.wait_condition("WorkloadsUpdated", "False", "RolloutHeld")
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(env.replica_sets().await, rs);
    assert_eq!(env.auth_env_version().await, version);

    // Back: verified, the held change is written and rolled exactly once.
    let _idp = tokio::task::spawn_blocking(move || {
        idp.start().unwrap();
        idp
    })
    .await
    .unwrap();
    env.wait_condition("Ready", "True", "Reconciled").await;
    common::wait_rolled_out(&env.client, env.ns.name(), NAME, DEFAULT_TIMEOUT).await;
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
    let env = Env::new("idp-recover").await;
    env.put_credentials("openmetadata", "s").await;
    env.apply_config(confidential(
        &idp,
        json!({"verify": {"discovery": true, "clientCredentials": false}}),
    ))
    .await;
    env.wait_condition("Ready", "True", "Reconciled").await;
    common::wait_rolled_out(&env.client, env.ns.name(), NAME, DEFAULT_TIMEOUT).await;
    let rs = env.replica_sets().await;
    idp.stop().unwrap();
    env.wait_condition("ProviderVerified", "False", "Unreachable")
        .await;
    let idp = tokio::task::spawn_blocking(move || {
        idp.start().unwrap();
        idp
    })
    .await
    .unwrap();
    env.wait_condition("ProviderVerified", "True", "Verified")
        .await;
    env.wait_condition("Ready", "True", "Reconciled").await;
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
    let env = Env::new("idp-issuer").await;
    env.put_credentials("openmetadata", "s").await;
    // The configured issuer is the listen URL; the provider announces another one.
    let mut provider = confidential(
        &idp,
        json!({"verify": {"discovery": true, "clientCredentials": false}}),
    );
    provider["issuer"] = json!(idp.base_url());
    env.apply_config(provider).await;
    let cr = env
        .wait_condition("ProviderVerified", "False", "IssuerMismatch")
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
