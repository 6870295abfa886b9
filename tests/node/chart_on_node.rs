//! The operator as its users run it, on the real node: `helm install` of our chart with our image,
//! two replicas under the chart's ServiceAccount and namespaced RBAC, in-cluster configuration,
//! probes, a read-only root filesystem, leader election. The target is a Deployment of the test app
//! (scripts/image/testapp), which serves what its process really sees: its environment and the
//! mounted key files. After a client-secret rotation and after a key rotation, the new pods serve
//! the new values and the old pods are gone, with exactly one new ReplicaSet each; deleting the
//! leader pod hands the Lease to another replica at once, which reconciles the next change and rolls
//! nothing on taking over.
//!
//! The provider is never contacted: the resource names its JWKS URL and turns every provider check
//! off (`verify: {discovery: false, credentials: {method: Disabled}, loginRedirect: false}`), so
//! no pod needs anything beyond this host but the apiserver (the `kubernetes` Service). Served
//! values are compared as SHA-256 digests with what the operator wrote: no secret is printed.

use std::time::{Duration, Instant};

use anyhow::ensure;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::node::{self, ContainerProcess, NODE_NAME, NONROOT};
use crate::support::chart::Release;
use crate::support::cluster::{self, DEFAULT_TIMEOUT, TestNamespace};
use crate::support::operator;
use crate::support::scenario::{NAME, Scenario, confidential_spec};
use crate::target::{
    check_served, check_settled, rendered, rolled_once, settled, target_deployment,
};

/// The chart's replicas: one leader, one standby.
const OPERATOR_REPLICAS: usize = 2;
/// Long, so that a takeover well before it ends proves the deleted leader released the Lease.
const LEASE_DURATION: Duration = Duration::from_secs(60);
/// The operator's HTTP port (the chart's `httpPort`).
const OPERATOR_PORT: u16 = 8080;

/// The chart's values: our image as the chart names it by default (only the pull policy changes:
/// there is no registry), two replicas on the real node, the operator confined to `watch` (the
/// cluster is shared with other suites), the CRD left to `operator::install_crd` (it is shared).
fn release_values(watch: &str) -> Value {
    let mut values = json!({
        "replicaCount": OPERATOR_REPLICAS,
        "image": {"pullPolicy": "Never"},
        "crds": {"install": false},
        "rbac": {"scope": "namespace"},
        "watchNamespace": watch,
        "leaderElection": {"leaseDuration": format!("{}s", LEASE_DURATION.as_secs())},
        // The target here is the test app, not an OpenMetadata server: nothing to prove
        // (tests/node/proof.rs runs the proof against the server stand-in).
        "serverProof": false,
    });
    values
        .as_object_mut()
        .unwrap()
        .extend(node::placement().as_object().unwrap().clone());
    values
}

/// The usual resource with every provider check off.
fn offline_spec() -> Value {
    node::without_provider_checks(confidential_spec())
}

/// The operator's pods of `release` (terminating ones included).
async fn operator_pods(client: &Client, release: &Release) -> Vec<Pod> {
    cluster::list_pods(
        client,
        &release.namespace,
        &format!("app.kubernetes.io/instance={}", release.name),
    )
    .await
    .expect("operator pods")
}

/// Each operator pod runs our image on the real node as the chart's ServiceAccount, with the
/// in-cluster configuration, as uid 65532 on a read-only root, Ready and never restarted (the
/// probes pass).
async fn check_operator_pods(client: &Client, release: &Release) {
    let pods = operator_pods(client, release).await;
    assert_eq!(pods.len(), OPERATOR_REPLICAS);
    for pod in &pods {
        let name = node::name(pod);
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some(NODE_NAME), "{name}");
        assert_eq!(
            spec.service_account_name.as_deref(),
            Some(release.fullname().as_str()),
            "{name}"
        );
        assert_eq!(
            spec.containers[0].image.as_deref(),
            Some(node::operator_image().as_str()),
            "{name}: the chart's default image is <repository>:<appVersion>"
        );
        assert!(cluster::is_pod_ready(pod), "{name} is not Ready");
        let status = node::first_container_status(pod);
        assert!(
            status.image.ends_with(&node::operator_image()),
            "{name} runs {}",
            status.image
        );
        assert_eq!(
            status.restart_count, 0,
            "{name} restarted (liveness probe?)"
        );

        let process = ContainerProcess::of(pod, "operator").unwrap();
        assert_eq!(process.uid_gid().unwrap(), NONROOT, "{name}");
        assert!(
            process.root_is_read_only().unwrap(),
            "{name}: the root filesystem is writable"
        );
        let env = process.env_names().unwrap();
        assert!(
            !env.iter().any(|k| k == "KUBECONFIG"),
            "{name} has a KUBECONFIG"
        );
        // In-cluster configuration: the `kubernetes` Service and the ServiceAccount token.
        assert_eq!(
            process.env_value("KUBERNETES_SERVICE_HOST").unwrap(),
            Some("10.96.0.1".to_string())
        );
        let mounts = process.mounts().unwrap();
        assert!(
            mounts
                .iter()
                .any(|(p, _)| p == "/var/run/secrets/kubernetes.io/serviceaccount"),
            "{name}: no ServiceAccount token mounted"
        );
    }
}

/// The Lease holder, as (leader pod, standby pod): the holder is one pod, whose `/metrics` says it
/// leads, and the other says it does not.
async fn leader_and_standby(client: &Client, release: &Release) -> (Pod, Pod) {
    cluster::wait_for("one leader and one standby", DEFAULT_TIMEOUT, || async {
        let holder = node::lease_holder(client, release).await?;
        let pods: Vec<Pod> = operator_pods(client, release)
            .await
            .into_iter()
            .filter(cluster::is_pod_ready)
            .collect();
        ensure!(
            pods.len() == OPERATOR_REPLICAS,
            "{} Ready operator pods",
            pods.len()
        );
        let (leaders, standbys): (Vec<Pod>, Vec<Pod>) =
            pods.into_iter().partition(|p| node::name(p) == holder);
        ensure!(leaders.len() == 1, "the holder {holder} is not a Ready pod");
        let leader_metric = node::metric(
            &node::pod_ip(&leaders[0])?,
            OPERATOR_PORT,
            "oidc_sso_leader",
        )
        .await?;
        let standby_metric = node::metric(
            &node::pod_ip(&standbys[0])?,
            OPERATOR_PORT,
            "oidc_sso_leader",
        )
        .await?;
        ensure!(
            (leader_metric, standby_metric) == (1.0, 0.0),
            "oidc_sso_leader: {holder} {leader_metric}, the other {standby_metric}"
        );
        Ok((leaders[0].clone(), standbys[0].clone()))
    })
    .await
}

/// Prints the operator pods' logs when the test fails (they never hold a secret value).
struct LogsOnPanic {
    namespace: String,
    selector: String,
}

impl Drop for LogsOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let logs = cluster::kubectl(&[
                "logs",
                "-n",
                &self.namespace,
                "-l",
                &self.selector,
                "--prefix",
                "--tail=40",
            ]);
            match logs {
                Ok(logs) => eprintln!("---- operator pod logs ----\n{logs}"),
                Err(e) => eprintln!("---- no operator pod logs: {e:#}"),
            }
        }
    }
}

#[tokio::test]
async fn the_chart_runs_our_image_on_the_node_and_rolls_the_target_once_per_change() {
    let client = cluster::client().await;
    node::require_node(&client).await;
    operator::install_crd(&client).await;
    let ops = TestNamespace::create(&client, "node-ops").await.unwrap();
    let apps = TestNamespace::create(&client, "node-apps").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.json");
    std::fs::write(
        &values,
        serde_json::to_vec_pretty(&release_values(apps.name())).unwrap(),
    )
    .unwrap();

    // helm install --wait: both replicas Ready (the leader synced, the standby joined).
    let started = Instant::now();
    let release = Release::install_with(
        &cluster::unique_name("node"),
        ops.name(),
        &["--values", values.to_str().unwrap()],
    )
    .expect("helm install");
    let _logs = LogsOnPanic {
        namespace: ops.name().to_string(),
        selector: format!("app.kubernetes.io/instance={}", release.name),
    };
    eprintln!("helm install --wait: {:?}", started.elapsed());
    check_operator_pods(&client, &release).await;
    let (leader, standby) = leader_and_standby(&client, &release).await;

    // The first configuration: the target's pods start once the operator wrote both Secrets.
    let s = Scenario::new(&client, apps.name());
    s.put_credentials("first-secret").await;
    s.deployments()
        .create(&PostParams::default(), &target_deployment())
        .await
        .expect("create the target");
    // The Deployment controller's first sync makes the first ReplicaSet (its pods wait for the
    // Secrets); a rollout patch landing before it would leave one ReplicaSet, not two.
    let deployments = s.deployments();
    cluster::wait_for("the target's first sync", DEFAULT_TIMEOUT, || async {
        let d = deployments.get(NAME).await?;
        let observed = d.status.and_then(|st| st.observed_generation).unwrap_or(0);
        ensure!(observed >= 1, "observedGeneration {observed}");
        Ok(())
    })
    .await;
    s.create_config(offline_spec())
        .await
        .expect("create the OidcSsoConfig");
    s.wait_ready().await;
    let first = settled(&s).await;
    assert_eq!(
        first.replica_sets.len(),
        2,
        "the first configuration rolls the target once"
    );
    let served = check_served(&s, &first).await;
    assert_eq!(served.client_secret, rendered("first-secret"));
    eprintln!("first configuration served: {:?}", started.elapsed());

    // A client-secret rotation: new pods with the new secret and the same keys.
    s.put_credentials("second-secret").await;
    let second = rolled_once(&s, &first).await;
    let after_secret = check_served(&s, &second).await;
    assert_eq!(after_secret.client_secret, rendered("second-secret"));
    assert_eq!(
        after_secret.key_id, served.key_id,
        "a client-secret change keeps the keys"
    );
    eprintln!("client-secret rotation served: {:?}", started.elapsed());

    // Failover: the leader pod is deleted (SIGTERM: it releases the Lease) and another replica
    // takes over well before the Lease would expire: the standby, or the pod the Deployment starts
    // in its place, whichever asks first (the replacement asks as it starts).
    let pods: Api<Pod> = Api::namespaced(client.clone(), ops.name());
    let deleted = Instant::now();
    pods.delete(&node::name(&leader), &DeleteParams::default())
        .await
        .expect("delete the leader pod");
    let leases: Api<Lease> = Api::namespaced(client.clone(), ops.name());
    let new_holder = cluster::wait_for("another replica to take over", DEFAULT_TIMEOUT, || async {
        let holder = leases
            .get_opt(&release.fullname())
            .await?
            .and_then(|l| l.spec?.holder_identity)
            .unwrap_or_default();
        ensure!(
            !holder.is_empty() && holder != node::name(&leader),
            "the holder is {holder:?}"
        );
        Ok(holder)
    })
    .await;
    let took = deleted.elapsed();
    let by = if new_holder == node::name(&standby) {
        "the standby"
    } else {
        "the replacement pod"
    };
    eprintln!(
        "deleted leader {}; {new_holder} ({by}) took over after {took:?}",
        node::name(&leader)
    );
    assert!(
        took < Duration::from_secs(20),
        "takeover took {took:?} with a {LEASE_DURATION:?} Lease: the deleted leader did not release it"
    );
    cluster::wait_for(
        "the deleted leader pod to be gone",
        DEFAULT_TIMEOUT,
        || async {
            ensure!(
                pods.get_opt(&node::name(&leader)).await?.is_none(),
                "still there"
            );
            Ok(())
        },
    )
    .await;
    cluster::wait_rolled_out(&client, ops.name(), &release.fullname(), DEFAULT_TIMEOUT).await;
    let (new_leader, new_standby) = leader_and_standby(&client, &release).await;
    assert_eq!(node::name(&new_leader), new_holder);
    assert_ne!(node::name(&new_standby), node::name(&leader));
    check_operator_pods(&client, &release).await;
    // The new leader reconciles the resource (to its end) and finds nothing to roll.
    let leader_ip = node::pod_ip(&new_leader).unwrap();
    cluster::wait_for("the new leader to reconcile", DEFAULT_TIMEOUT, || async {
        let n = node::metric(&leader_ip, OPERATOR_PORT, operator::COMPLETED_RECONCILES).await?;
        ensure!(n > 0.0, "{n} reconciles");
        Ok(())
    })
    .await;
    let unchanged = check_settled(&s).await.expect("settled");
    assert_eq!(
        (unchanged.generation, unchanged.replica_sets.len()),
        (second.generation, second.replica_sets.len()),
        "a leader change never rolls"
    );

    // A key rotation, reconciled by the new leader: new pods with new keys and the same secret.
    s.request_key_rotation("node-e2e-1").await;
    let third = rolled_once(&s, &second).await;
    let after_keys = check_served(&s, &third).await;
    assert_ne!(
        after_keys.key_id, after_secret.key_id,
        "the pods serve the new key"
    );
    assert_eq!(after_keys.client_secret, rendered("second-secret"));
    assert_eq!(
        node::metric(
            &leader_ip,
            OPERATOR_PORT,
            "oidc_sso_rollouts_triggered_total"
        )
        .await
        .unwrap(),
        1.0,
        "the new leader rolled once"
    );
    check_operator_pods(&client, &release).await;
    eprintln!("key rotation served: {:?}", started.elapsed());
}
