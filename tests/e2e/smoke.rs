//! Smoke test of the local control plane (`make cluster-up`): the pinned apiserver answers through
//! the kubeconfig, kube-controller-manager + kube-scheduler + kwok turn a Deployment into Ready
//! pods, a pod-template change rolls out a second ReplicaSet, and kubectl/helm can talk to it.
//! Run: `make cluster-up && cargo test --features e2e --test e2e_smoke`.

use crate::support::cluster;
use std::time::Instant;

use anyhow::{bail, ensure};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::support::cluster::{DEFAULT_TIMEOUT, TestNamespace};

#[tokio::test]
async fn server_version_and_deployment_rollout() -> anyhow::Result<()> {
    let started = Instant::now();
    let client = cluster::client().await;

    let version = client.apiserver_version().await?;
    assert_eq!(
        version.git_version,
        cluster::expected_k8s_version(),
        "apiserver version"
    );

    let ns = TestNamespace::create(&client, "smoke").await?;
    let ns_name = ns.name().to_string();
    let deployments = Api::<Deployment>::namespaced(client.clone(), &ns_name);
    cluster::create_deployment(&client, &ns_name, "web", 2).await?;

    // kube-scheduler binds the pods to the fake node, kwok marks them Running and Ready.
    cluster::wait_for("2 Ready pods of web", DEFAULT_TIMEOUT, || async {
        let pods = cluster::list_pods(&client, &ns_name, "app=web").await?;
        let ready = pods.iter().filter(|p| cluster::is_pod_ready(p)).count();
        ensure!(ready == 2, "{ready} of {} pods Ready", pods.len());
        Ok(())
    })
    .await;
    cluster::wait_for("web to be Available", DEFAULT_TIMEOUT, || async {
        let d = deployments.get("web").await?;
        ensure!(
            cluster::is_available(&d),
            "conditions: {:?}",
            d.status.and_then(|s| s.conditions)
        );
        Ok(())
    })
    .await;
    let first = cluster::wait_rolled_out(&client, &ns_name, "web", DEFAULT_TIMEOUT).await;
    let sets = cluster::owned_replica_sets(&client, &first).await?;
    assert_eq!(sets.len(), 1, "one ReplicaSet before the template change");
    let first_rs = sets[0].metadata.name.clone();

    // A pod-template change makes the Deployment controller roll out a new ReplicaSet.
    let patch =
        json!({"spec": {"template": {"metadata": {"annotations": {"e2e.example/rollout": "2"}}}}});
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let second = cluster::wait_rolled_out(&client, &ns_name, "web", DEFAULT_TIMEOUT).await;
    assert!(
        cluster::is_available(&second),
        "web Available after the rollout"
    );

    let sets = cluster::owned_replica_sets(&client, &second).await?;
    assert_eq!(sets.len(), 2, "two ReplicaSets after the template change");
    let (old, new) = (&sets[0], &sets[1]);
    assert_eq!(
        old.metadata.name, first_rs,
        "the oldest ReplicaSet is the original one"
    );
    assert_ne!(new.metadata.name, first_rs, "a new ReplicaSet was created");
    assert_eq!(new.spec.replicas, Some(2), "new ReplicaSet wants 2");
    assert_eq!(
        new.status.as_ref().and_then(|s| s.ready_replicas),
        Some(2),
        "new ReplicaSet has 2 ready replicas"
    );
    assert_eq!(old.spec.replicas, Some(0), "old ReplicaSet scaled to 0");
    assert_eq!(
        old.status.as_ref().map(|s| s.replicas),
        Some(0),
        "old ReplicaSet has no pods"
    );

    eprintln!("rollout smoke test took {:.1?}", started.elapsed());
    Ok(())
}

/// The shared [`TestNamespace`] guard must clean up even when a test panics while holding it.
#[tokio::test]
async fn test_namespace_is_deleted_when_a_test_panics() -> anyhow::Result<()> {
    let client = cluster::client().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task_client = client.clone();
    let joined = tokio::spawn(async move {
        let ns = TestNamespace::create(&task_client, "panic-guard")
            .await
            .unwrap();
        tx.send(ns.name().to_string()).unwrap();
        panic!(
            "deliberate panic while holding TestNamespace {} (expected by this test)",
            ns.name()
        );
    })
    .await;
    assert!(joined.is_err_and(|e| e.is_panic()), "the task panicked");
    let name = rx.await?;

    let namespaces = Api::<Namespace>::all(client);
    cluster::wait_for(
        &format!("namespace {name} to be deleted"),
        DEFAULT_TIMEOUT,
        || async {
            match namespaces.get_opt(&name).await? {
                None => Ok(()),
                Some(ns) if ns.metadata.deletion_timestamp.is_some() => Ok(()),
                Some(_) => bail!("namespace {name} exists and is not being deleted"),
            }
        },
    )
    .await;
    Ok(())
}

#[test]
fn kubectl_and_helm_reach_the_cluster() -> anyhow::Result<()> {
    cluster::require_kubeconfig();
    let raw = cluster::kubectl(&["get", "--raw", "/version"])?;
    let info: serde_json::Value = serde_json::from_str(&raw)?;
    assert_eq!(
        info["gitVersion"],
        cluster::expected_k8s_version().as_str(),
        "kubectl get --raw /version"
    );

    let env = cluster::ClusterEnv::load();
    assert!(
        env.helm.exists(),
        "cached helm at {} (run `make cluster-build`)",
        env.helm.display()
    );
    cluster::helm(&["list", "-A"])?;
    Ok(())
}
