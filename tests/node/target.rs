//! The target workload on the real node: a Deployment of the test app (scripts/image/testapp),
//! which serves what its process really sees (its environment, the files below its key folder),
//! wired to the operator's Secrets as a real OpenMetadata server is; its settled state after a
//! rollout, the check that a change rolled it exactly once, and what its pods serve.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use oidc_sso_operator::objects::config_hash_on;
use serde_json::json;

use crate::node::{self, NODE_NAME, NONROOT, digest};
use crate::support::cluster::{self, DEFAULT_TIMEOUT};
use crate::support::scenario::{NAME, Scenario};

/// The test app's replicas.
pub const TARGET_REPLICAS: usize = 2;
/// The test app's port.
const PORT: u16 = 8080;
/// Where the target mounts the keys: the default `server.keyMountPath`, where the rendered
/// `RSA_*_FILE_PATH` point.
const KEY_DIR: &str = "/etc/openmetadata/jwtkeys";

/// The target: the test app loading the settings Secret (last `envFrom`) and mounting the keys
/// Secret, both `optional: false`, as docs/openmetadata-chart.md asks of a real server.
pub fn target_deployment() -> Deployment {
    target_deployment_named(NAME, TARGET_REPLICAS)
}

/// [`target_deployment`] for the resource `name` (its Secrets `<name>-auth-env` and
/// `<name>-jwt-keys`), as the Deployment `name` of `replicas` pods.
pub fn target_deployment_named(name: &str, replicas: usize) -> Deployment {
    let pod = json!({
        "enableServiceLinks": false,
        "automountServiceAccountToken": false,
        "terminationGracePeriodSeconds": 5,
        "securityContext": {"runAsNonRoot": true, "runAsUser": NONROOT.0, "runAsGroup": NONROOT.1,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app",
            "image": node::testapp_image(),
            "imagePullPolicy": "Never",
            "env": [
                {"name": "TESTAPP_ADDR", "value": format!("0.0.0.0:{PORT}")},
                {"name": "TESTAPP_FILES_ROOT", "value": KEY_DIR},
            ],
            "envFrom": [{"secretRef": {"name": format!("{name}-auth-env"), "optional": false}}],
            "ports": [{"name": "http", "containerPort": PORT}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2},
            "volumeMounts": [{"name": "jwt-keys", "mountPath": KEY_DIR, "readOnly": true}],
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "capabilities": {"drop": ["ALL"]}},
        }],
        "volumes": [{"name": "jwt-keys",
                     "secret": {"secretName": format!("{name}-jwt-keys"), "optional": false}}],
    });
    node::placed_deployment(name, pod, i32::try_from(replicas).unwrap())
}

/// The target after a finished rollout: every pod Ready on the node, of the newest ReplicaSet,
/// none terminating.
pub struct Settled {
    /// The Deployment's generation: one more per template change.
    pub generation: i64,
    /// Its ReplicaSets, oldest revision first: one more per rollout.
    pub replica_sets: Vec<String>,
    /// Its pods, all of the newest ReplicaSet.
    pub pods: Vec<Pod>,
    /// The config hash on its pod template.
    pub hash: String,
}

impl Settled {
    fn pod_names(&self) -> BTreeSet<String> {
        self.pods.iter().map(node::name).collect()
    }
}

/// The target's [`Settled`] state, or what is still rolling.
pub async fn check_settled(s: &Scenario) -> anyhow::Result<Settled> {
    let d = cluster::check_rolled_out(&s.client, &s.ns, NAME).await?;
    let sets = cluster::owned_replica_sets(&s.client, &d).await?;
    let current = sets
        .last()
        .and_then(|rs| {
            rs.metadata
                .labels
                .as_ref()?
                .get("pod-template-hash")
                .cloned()
        })
        .context("no ReplicaSet yet")?;
    let pods = cluster::list_pods(&s.client, &s.ns, &format!("app={NAME}")).await?;
    for p in &pods {
        let hash = p
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"));
        ensure!(
            hash == Some(&current),
            "pod {} is of an old ReplicaSet",
            node::name(p)
        );
        ensure!(
            cluster::is_pod_ready(p),
            "pod {} is not Ready (or terminating)",
            node::name(p)
        );
        let on = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
        ensure!(
            on == Some(NODE_NAME),
            "pod {} runs on {on:?}",
            node::name(p)
        );
    }
    ensure!(
        pods.len() == TARGET_REPLICAS,
        "{} pods, want {TARGET_REPLICAS}",
        pods.len()
    );
    let hash = config_hash_on(&d.spec.template)
        .unwrap_or_default()
        .to_owned();
    Ok(Settled {
        generation: d.metadata.generation.unwrap_or_default(),
        replica_sets: sets
            .iter()
            .filter_map(|rs| rs.metadata.name.clone())
            .collect(),
        pods,
        hash,
    })
}

/// Waits until the target is [`Settled`].
pub async fn settled(s: &Scenario) -> Settled {
    cluster::wait_for("the target to settle", DEFAULT_TIMEOUT, || check_settled(s)).await
}

/// After a change: the status reports a new hash, then exactly one new ReplicaSet (one template
/// change) whose pods replaced every old pod, which are gone from the API; and no second rollout
/// follows.
pub async fn rolled_once(s: &Scenario, before: &Settled) -> Settled {
    s.wait_new_hash(&before.hash).await;
    let after = settled(s).await;
    assert_ne!(after.hash, before.hash);
    assert_eq!(
        after.replica_sets.len(),
        before.replica_sets.len() + 1,
        "exactly one new ReplicaSet: {:?} -> {:?}",
        before.replica_sets,
        after.replica_sets
    );
    assert!(
        before
            .replica_sets
            .iter()
            .all(|rs| after.replica_sets.contains(rs)),
        "{:?} -> {:?}",
        before.replica_sets,
        after.replica_sets
    );
    assert_eq!(
        after.generation,
        before.generation + 1,
        "one template change"
    );
    let pods: Api<Pod> = s.api();
    for old in before.pod_names() {
        assert!(
            !after.pod_names().contains(&old),
            "old pod {old} still serves"
        );
        cluster::wait_for(
            &format!("old pod {old} to be gone"),
            DEFAULT_TIMEOUT,
            || async {
                ensure!(pods.get_opt(&old).await?.is_none(), "{old} still exists");
                Ok(())
            },
        )
        .await;
    }
    assert_no_second_rollout(s, &after).await;
    after
}

/// Over a five-second quiet window, the target's template and ReplicaSets stay as `after`: a
/// rollout the operator caused twice would show up as one more template change.
pub async fn assert_no_second_rollout(s: &Scenario, after: &Settled) {
    cluster::assert_stays(
        "no second rollout (generation, ReplicaSets)",
        Duration::from_secs(5),
        (after.generation, after.replica_sets.len()),
        || async {
            let d = s.deployments().get(NAME).await.expect("the target");
            let sets = cluster::owned_replica_sets(&s.client, &d)
                .await
                .expect("its ReplicaSets");
            (d.metadata.generation.unwrap_or_default(), sets.len())
        },
    )
    .await;
}

/// What every target pod serves, as digests.
pub struct Served {
    /// `OIDC_CLIENT_SECRET` in the process's environment.
    pub client_secret: String,
    /// The mounted `key_id` file (a key id is public: compared as text).
    pub key_id: String,
}

/// Every pod's environment has each entry of the settings Secret and its key folder each entry of
/// the keys Secret, byte for byte (as digests); all pods serve the same.
pub async fn check_served(s: &Scenario, settled: &Settled) -> Served {
    let data = |name: String| async move {
        s.secrets()
            .get(&name)
            .await
            .unwrap_or_else(|e| panic!("Secret {name}: {e}"))
            .data
            .unwrap_or_default()
    };
    let auth_env = data(format!("{NAME}-auth-env")).await;
    let keys = data(format!("{NAME}-jwt-keys")).await;
    assert!(auth_env.contains_key("OIDC_CLIENT_SECRET") && keys.contains_key("key_id"));
    let mut served = BTreeSet::new();
    for pod in &settled.pods {
        let pod_name = node::name(pod);
        let ip = node::pod_ip(pod).unwrap();
        let env = served_env(&ip)
            .await
            .unwrap_or_else(|e| panic!("{pod_name}: {e:#}"));
        for (key, value) in &auth_env {
            let got = env
                .get(key)
                .unwrap_or_else(|| panic!("{pod_name}: {key} is not in its environment"));
            assert_eq!(
                digest(got.as_bytes()),
                digest(&value.0),
                "{pod_name}: {key} differs from the settings Secret (SHA-256 digests)"
            );
        }
        for (file, value) in &keys {
            let got = node::get(&ip, PORT, &format!("/file?path={file}"))
                .await
                .unwrap_or_else(|e| panic!("{pod_name}: {e:#}"));
            assert_eq!(
                digest(&got),
                digest(&value.0),
                "{pod_name}: {KEY_DIR}/{file} differs from the keys Secret (SHA-256 digests)"
            );
        }
        let key_id = String::from_utf8(node::get(&ip, PORT, "/file?path=key_id").await.unwrap())
            .expect("a key id is text");
        // The settings name the key the pod mounts.
        assert_eq!(
            env.get("JWT_KEY_ID").map(String::as_str),
            Some(format!("\"{key_id}\"").as_str()),
            "{pod_name}: JWT_KEY_ID names another key than the mounted one"
        );
        served.insert((digest(env["OIDC_CLIENT_SECRET"].as_bytes()), key_id));
    }
    assert_eq!(served.len(), 1, "the pods serve different values");
    let (client_secret, key_id) = served.pop_first().unwrap();
    Served {
        client_secret,
        key_id,
    }
}

/// The test app's `/env` at `ip`: what its process has in its environment.
async fn served_env(ip: &str) -> anyhow::Result<BTreeMap<String, String>> {
    Ok(serde_json::from_slice(&node::get(ip, PORT, "/env").await?)?)
}

/// How the settings render a client secret of plain characters: a YAML double-quoted scalar.
pub fn rendered(secret: &str) -> String {
    digest(format!("\"{secret}\"").as_bytes())
}
