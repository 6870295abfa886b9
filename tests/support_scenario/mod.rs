//! The operator's main scenario, for suites that run it under other conditions (as the chart's
//! ServiceAccount, with two replicas): a credentials Secret, an OpenMetadata-like Deployment that
//! loads the rendered settings, an `OidcSsoConfig` targeting it; then Ready with exactly one
//! rollout. Needs `mod common;` and `mod support_operator;` beside it in the test crate.

#![allow(dead_code)]

use anyhow::ensure;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use oidc_sso_operator::crd::OidcSsoConfig;
use serde_json::json;

use super::common::{self, DEFAULT_TIMEOUT};

/// Name of the server Deployment and of the `OidcSsoConfig`.
pub const NAME: &str = "openmetadata";

/// The scenario's objects in one namespace, seen through `client` (the test's admin client).
pub struct Scenario {
    pub client: Client,
    pub ns: String,
}

impl Scenario {
    pub fn new(client: &Client, ns: &str) -> Self {
        Self {
            client: client.clone(),
            ns: ns.to_string(),
        }
    }

    pub fn configs(&self) -> Api<OidcSsoConfig> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Creates or updates the client credentials Secret the resource references.
    pub async fn put_credentials(&self, client_secret: &str) {
        let secret: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "om-oidc-client"},
            "stringData": {"clientId": "openmetadata", "clientSecret": client_secret},
        }))
        .expect("Secret");
        Api::<Secret>::namespaced(self.client.clone(), &self.ns)
            .patch(
                "om-oidc-client",
                &PatchParams::apply("e2e-test").force(),
                &Patch::Apply(&secret),
            )
            .await
            .expect("apply credentials Secret");
    }

    /// An OpenMetadata-like Deployment that loads the rendered settings and mounts the keys;
    /// waits until it rolled out.
    pub async fn create_server(&self, replicas: i32) {
        let d = common::openmetadata_like_deployment(NAME, NAME, replicas);
        self.deployments()
            .create(&PostParams::default(), &d)
            .await
            .expect("create Deployment");
        common::wait_rolled_out(&self.client, &self.ns, NAME, DEFAULT_TIMEOUT).await;
    }

    /// Creates the `OidcSsoConfig` (a confidential client, no provider round trip).
    pub async fn create_config(&self) -> OidcSsoConfig {
        let cr: OidcSsoConfig = serde_json::from_value(json!({
            "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
            "metadata": {"name": NAME},
            "spec": {
                "provider": {
                    "displayName": "Keycloak",
                    "issuer": "https://idp.example.com/realms/data",
                    "jwksUrl": "https://idp.example.com/realms/data/protocol/openid-connect/certs",
                    "clientType": "Confidential",
                    "credentialsSecretRef": {"name": "om-oidc-client"},
                    "verify": {"discovery": false},
                },
                "authorizer": {"adminPrincipals": ["alice"], "principalDomain": "example.com"},
                "server": {"externalUrl": "https://om.example.com"},
                "targets": [{"kind": "Deployment", "name": NAME}],
            },
        }))
        .expect("valid OidcSsoConfig");
        self.configs()
            .create(&PostParams::default(), &cr)
            .await
            .expect("create OidcSsoConfig")
    }

    /// Waits for `Ready=True` at the current generation and a finished rollout; returns the
    /// resource.
    pub async fn wait_ready(&self) -> OidcSsoConfig {
        let cr =
            super::support_operator::wait_condition(&self.configs(), NAME, "Ready", "True", None)
                .await;
        common::wait_rolled_out(&self.client, &self.ns, NAME, DEFAULT_TIMEOUT).await;
        cr
    }

    /// Waits until the status reports a config hash other than `old`, then Ready; returns it.
    pub async fn wait_new_hash(&self, old: &str) -> String {
        let api = self.configs();
        let hash = common::wait_for("the config hash to change", DEFAULT_TIMEOUT, || {
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
        .await;
        self.wait_ready().await;
        hash
    }

    /// ReplicaSets of the server Deployment: 1 before any rollout, +1 per rollout.
    pub async fn replica_sets(&self) -> usize {
        let d = self.deployments().get(NAME).await.expect("Deployment");
        common::owned_replica_sets(&self.client, &d)
            .await
            .expect("ReplicaSets")
            .len()
    }

    /// The config hash on the server's pod template.
    pub async fn template_hash(&self) -> Option<String> {
        let d = self.deployments().get(NAME).await.expect("Deployment");
        d.spec
            .template
            .metadata?
            .annotations?
            .get(oidc_sso_operator::controller::ROLLOUT_ANNOTATION)
            .cloned()
    }

    /// The whole scenario: Secret, server (2 replicas), resource; Ready with exactly one rollout
    /// onto the hash the status reports. Returns that hash.
    pub async fn run_to_ready(&self) -> String {
        self.put_credentials("first-secret").await;
        self.create_server(2).await;
        assert_eq!(self.replica_sets().await, 1);
        self.create_config().await;
        let status = self.wait_ready().await.status.expect("status");
        assert_eq!(self.replica_sets().await, 2, "exactly one rollout");
        let hash = status.config_hash.expect("status.configHash");
        assert_eq!(self.template_hash().await.as_deref(), Some(hash.as_str()));
        assert_eq!(status.rolled.as_deref(), Some("1/1"));
        hash
    }
}
