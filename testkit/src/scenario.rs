//! The one fixture of the suites: a namespace holding the operator's usual objects (a credentials
//! Secret, an OpenMetadata-like server Deployment, an `OidcSsoConfig` targeting it), with the
//! reads and waits the tests assert through. Specs are JSON values built from [`confidential_spec`]
//! and edited in place.
//!
//! [`Scenario::start`] makes a fresh namespace with its own operator process; [`Scenario::new`]
//! works in a namespace whose operator the test runs itself (as the chart's ServiceAccount, two
//! replicas, ...).

use anyhow::ensure;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use oidc_sso_operator::crd::OidcSsoConfig;
use oidc_sso_operator::objects::config_hash_on;
use serde_json::{Value, json};

use crate::cluster::{self, DEFAULT_TIMEOUT, TestNamespace};
use crate::operator::{self, Operator};

/// Name of the server Deployment and of the `OidcSsoConfig`.
pub const NAME: &str = "openmetadata";
/// Name of the credentials Secret.
pub const CREDENTIALS: &str = "om-oidc-client";

/// A confidential client whose provider is not fetched (its JWKS URL is configured), targeting
/// the server Deployment.
pub fn confidential_spec() -> Value {
    json!({
        "provider": {
            "displayName": "Keycloak",
            "issuer": "https://idp.example.com/realms/data",
            "jwksUrl": "https://idp.example.com/realms/data/protocol/openid-connect/certs",
            "clientType": "Confidential",
            "credentialsSecretRef": {"name": CREDENTIALS},
            "verify": {"discovery": false},
        },
        "authorizer": {"adminPrincipals": ["alice"], "principalDomain": "example.com"},
        "server": {"externalUrl": "https://om.example.com"},
        "targets": [{"kind": "Deployment", "name": NAME}],
    })
}

/// The usual spec with `provider` as its provider section.
pub fn spec_with_provider(provider: Value) -> Value {
    let mut spec = confidential_spec();
    spec["provider"] = provider;
    spec
}

/// A namespace with the usual objects, seen through `client` (the test's admin client).
pub struct Scenario {
    /// The admin client.
    pub client: Client,
    /// The namespace.
    pub ns: String,
    /// The operator process, when [`Scenario::start`] started one.
    pub op: Option<Operator>,
    _namespace: Option<TestNamespace>,
}

impl Scenario {
    /// The scenario in `ns`, whose operator the test runs.
    pub fn new(client: &Client, ns: &str) -> Self {
        Self {
            client: client.clone(),
            ns: ns.to_string(),
            op: None,
            _namespace: None,
        }
    }

    /// A fresh namespace (deleted on drop) with the CRD installed and an operator process
    /// watching it, started with `args`.
    pub async fn start(prefix: &str, args: &[&str]) -> Self {
        let client = cluster::client().await;
        operator::install_crd(&client).await;
        let namespace = TestNamespace::create(&client, prefix)
            .await
            .expect("namespace");
        let op = Operator::start(cluster::require_kubeconfig(), namespace.name(), args).await;
        Self {
            client,
            ns: namespace.name().to_string(),
            op: Some(op),
            _namespace: Some(namespace),
        }
    }

    /// The operator process.
    pub fn op(&mut self) -> &mut Operator {
        self.op
            .as_mut()
            .expect("an operator started by Scenario::start")
    }

    /// An API for `K` in the namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn configs(&self) -> Api<OidcSsoConfig> {
        self.api()
    }

    pub fn secrets(&self) -> Api<Secret> {
        self.api()
    }

    pub fn deployments(&self) -> Api<Deployment> {
        self.api()
    }

    async fn apply<K>(&self, name: &str, object: Value)
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + serde::Serialize
            + std::fmt::Debug,
    {
        let object: K = serde_json::from_value(object).expect("valid object");
        self.api::<K>()
            .patch(
                name,
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(&object),
            )
            .await
            .unwrap_or_else(|e| panic!("apply {name}: {e}"));
    }

    /// Creates or updates the credentials Secret (client id `openmetadata`).
    pub async fn put_credentials(&self, client_secret: &str) {
        self.put_client("openmetadata", client_secret).await;
    }

    /// Creates or updates the credentials Secret.
    pub async fn put_client(&self, client_id: &str, client_secret: &str) {
        self.apply::<Secret>(
            CREDENTIALS,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": CREDENTIALS},
                   "stringData": {"clientId": client_id, "clientSecret": client_secret}}),
        )
        .await;
    }

    /// Creates or updates the ConfigMap `idp-ca` (key `ca.crt`).
    pub async fn put_ca(&self, pem: &[u8]) {
        let pem = String::from_utf8(pem.to_vec()).expect("PEM text");
        self.apply::<ConfigMap>(
            "idp-ca",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "idp-ca"},
                   "data": {"ca.crt": pem}}),
        )
        .await;
    }

    /// An OpenMetadata-like Deployment that loads the rendered settings and mounts the keys;
    /// waits until it rolled out.
    pub async fn create_server(&self, replicas: i32) {
        let d = cluster::openmetadata_like_deployment(NAME, NAME, replicas);
        self.deployments()
            .create(&PostParams::default(), &d)
            .await
            .expect("create Deployment");
        cluster::wait_rolled_out(&self.client, &self.ns, NAME, DEFAULT_TIMEOUT).await;
    }

    /// Creates the `OidcSsoConfig` with `spec`; the apiserver's answer (admission may refuse).
    pub async fn create_config(&self, spec: Value) -> Result<OidcSsoConfig, kube::Error> {
        self.create_named(NAME, spec).await
    }

    /// Creates an `OidcSsoConfig` named `name` with `spec`; the apiserver's answer.
    pub async fn create_named(
        &self,
        name: &str,
        spec: Value,
    ) -> Result<OidcSsoConfig, kube::Error> {
        let cr: OidcSsoConfig = serde_json::from_value(json!({
            "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
            "metadata": {"name": name}, "spec": spec,
        }))
        .expect("valid OidcSsoConfig");
        self.configs().create(&PostParams::default(), &cr).await
    }

    /// Creates or updates (server-side apply) the `OidcSsoConfig` with `spec`.
    pub async fn apply_config(&self, spec: Value) {
        self.apply::<OidcSsoConfig>(
            NAME,
            json!({"apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
                   "metadata": {"name": NAME}, "spec": spec}),
        )
        .await;
    }

    /// Asks for new JWT keys: sets the `oidcsso.io/rotate-jwt-keys` annotation to `value`.
    pub async fn request_key_rotation(&self, value: &str) {
        self.configs()
            .patch(
                NAME,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {
                    oidc_sso_operator::names::annotations::ROTATE_JWT_KEYS: value,
                }}})),
            )
            .await
            .unwrap_or_else(|e| panic!("annotate {NAME}: {e}"));
    }

    /// Waits for condition `type_` = `status` (and `reason`, when given) at the current generation.
    pub async fn wait_condition(
        &self,
        type_: &str,
        status: &str,
        reason: Option<&str>,
    ) -> OidcSsoConfig {
        operator::wait_condition(&self.configs(), NAME, type_, status, reason).await
    }

    /// Waits for `Ready=True` at the current generation and a finished rollout; returns the
    /// resource.
    pub async fn wait_ready(&self) -> OidcSsoConfig {
        let cr = self.wait_condition("Ready", "True", None).await;
        cluster::wait_rolled_out(&self.client, &self.ns, NAME, DEFAULT_TIMEOUT).await;
        cr
    }

    /// Waits until the status reports a config hash other than `old`, then Ready; returns it.
    pub async fn wait_new_hash(&self, old: &str) -> String {
        let hash = self.wait_hash_change(old).await;
        self.wait_ready().await;
        hash
    }

    /// Waits until the status reports a config hash other than `old`; returns it.
    pub async fn wait_hash_change(&self, old: &str) -> String {
        let api = self.configs();
        cluster::wait_for("the config hash to change", DEFAULT_TIMEOUT, || {
            let api = api.clone();
            async move {
                let h = api
                    .get(NAME)
                    .await?
                    .status
                    .and_then(|s| s.config_hash)
                    .unwrap_or_default();
                ensure!(!h.is_empty() && h != old, "hash is still {h:?}");
                Ok(h)
            }
        })
        .await
    }

    /// ReplicaSets of the server Deployment: 1 before any rollout, +1 per rollout.
    pub async fn replica_sets(&self) -> usize {
        let d = self.deployments().get(NAME).await.expect("Deployment");
        cluster::owned_replica_sets(&self.client, &d)
            .await
            .expect("ReplicaSets")
            .len()
    }

    /// The config hash on the server's pod template.
    pub async fn template_hash(&self) -> Option<String> {
        let d = self.deployments().get(NAME).await.expect("Deployment");
        config_hash_on(&d.spec.template).map(str::to_owned)
    }

    /// The text of entry `key` of Secret `name`.
    pub async fn secret_text(&self, name: &str, key: &str) -> String {
        let s = self.secrets().get(name).await.expect("Secret");
        let bytes = s
            .data
            .unwrap_or_default()
            .remove(key)
            .map(|b| b.0)
            .unwrap_or_default();
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// Entry `key` of the rendered settings Secret.
    pub async fn auth_env(&self, key: &str) -> String {
        self.secret_text(&format!("{NAME}-auth-env"), key).await
    }

    /// The settings Secret's resourceVersion (changes with every write).
    pub async fn auth_env_version(&self) -> String {
        self.secrets()
            .get(&format!("{NAME}-auth-env"))
            .await
            .expect("auth-env Secret")
            .resource_version()
            .unwrap_or_default()
    }

    /// Every Event in the namespace.
    pub async fn events(&self) -> Vec<Event> {
        self.api::<Event>()
            .list(&Default::default())
            .await
            .expect("events")
            .items
    }

    /// Waits for an Event of `type_` with `reason` in the namespace. The operator publishes a
    /// reconcile's Events after writing its status, so a test that has just seen the status must
    /// wait for them rather than list once.
    pub async fn wait_event(&self, reason: &str, type_: &str) -> Event {
        let api = self.api::<Event>();
        cluster::wait_for(
            &format!("a {type_} Event {reason}"),
            DEFAULT_TIMEOUT,
            || {
                let api = api.clone();
                async move {
                    let found = api
                        .list(&Default::default())
                        .await?
                        .items
                        .into_iter()
                        .find(|e| {
                            e.reason.as_deref() == Some(reason) && e.type_.as_deref() == Some(type_)
                        });
                    found.ok_or_else(|| anyhow::anyhow!("not yet"))
                }
            },
        )
        .await
    }

    /// The whole scenario: Secret, server (2 replicas), resource; Ready with exactly one rollout
    /// onto the hash the status reports. Returns that hash.
    pub async fn run_to_ready(&self) -> String {
        self.put_credentials("first-secret").await;
        self.create_server(2).await;
        assert_eq!(self.replica_sets().await, 1);
        self.create_config(confidential_spec())
            .await
            .expect("create OidcSsoConfig");
        let status = self.wait_ready().await.status.expect("status");
        assert_eq!(self.replica_sets().await, 2, "exactly one rollout");
        let hash = status.config_hash.expect("status.configHash");
        assert_eq!(self.template_hash().await.as_deref(), Some(hash.as_str()));
        assert_eq!(status.rolled.as_deref(), Some("1/1"));
        hash
    }
}
