//! A StatefulSet target (`targets[].kind: StatefulSet`): rolled exactly once per effective
//! change, as a Deployment is, and reported rolled out once the StatefulSet controller has moved
//! every replica to the new revision.

use anyhow::ensure;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::support::cluster::{self, DEFAULT_TIMEOUT, wait_for};
use crate::support::scenario::{NAME, Scenario, confidential_spec};
use oidc_sso_operator::objects::config_hash_on;

/// A two-replica StatefulSet with the scenario's pod template (a fake node runs its pods).
fn stateful_set() -> StatefulSet {
    let d = cluster::simple_deployment(NAME, 2);
    serde_json::from_value(json!({
        "metadata": {"name": NAME, "labels": d.metadata.labels},
        "spec": {
            "replicas": 2,
            "serviceName": NAME,
            "podManagementPolicy": "Parallel",
            "selector": d.spec.selector,
            "template": d.spec.template,
        },
    }))
    .expect("a StatefulSet")
}

/// The revisions the StatefulSet controller has made of its template: one per template change.
async fn revisions(env: &Scenario) -> usize {
    let set = env
        .api::<StatefulSet>()
        .get(NAME)
        .await
        .expect("StatefulSet");
    let uid = set.uid().unwrap_or_default();
    Api::<ControllerRevision>::namespaced(env.client.clone(), &env.ns)
        .list(&ListParams::default())
        .await
        .expect("ControllerRevisions")
        .items
        .iter()
        .filter(|r| r.owner_references().iter().any(|o| o.uid == uid))
        .count()
}

/// Waits for the StatefulSet controller's first revision of a new set, so a count taken after it
/// is not raced by the controller catching up (CI once counted 0 here, then 2 after one rollout).
async fn settled_revisions(env: &Scenario) -> usize {
    let api = env.api::<StatefulSet>();
    wait_for("the StatefulSet's first revision", DEFAULT_TIMEOUT, || {
        let api = api.clone();
        async move {
            let set = api.get(NAME).await?;
            let s = set.status.unwrap_or_default();
            ensure!(
                s.observed_generation == set.metadata.generation && s.update_revision.is_some(),
                "not observed yet: {s:?}"
            );
            Ok(())
        }
    })
    .await;
    revisions(env).await
}

/// Waits until every replica runs the current revision and its template carries `hash`.
async fn wait_rolled_to(env: &Scenario, hash: &str) {
    let api = env.api::<StatefulSet>();
    wait_for("the StatefulSet to roll out", DEFAULT_TIMEOUT, || {
        let api = api.clone();
        async move {
            let set = api.get(NAME).await?;
            let carried = config_hash_on(&set.spec.template);
            ensure!(carried == Some(hash), "template carries {carried:?}");
            let s = set.status.unwrap_or_default();
            ensure!(
                s.observed_generation == set.metadata.generation
                    && s.updated_replicas == Some(2)
                    && s.ready_replicas == Some(2)
                    && s.update_revision.is_some()
                    && s.current_revision == s.update_revision,
                "not rolled out: {s:?}"
            );
            Ok(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_stateful_set_target_rolls_once_per_change_and_is_reported_rolled_out() {
    let env = Scenario::start("sts", &[]).await;
    env.put_credentials("first-secret").await;
    env.api::<StatefulSet>()
        .create(&PostParams::default(), &stateful_set())
        .await
        .expect("create the StatefulSet");
    let before = settled_revisions(&env).await;
    assert_eq!(before, 1, "the StatefulSet controller's own first revision");
    let mut spec = confidential_spec();
    spec["targets"] = json!([{"kind": "StatefulSet", "name": NAME}]);
    env.create_config(spec).await.expect("create");

    let cr = env.wait_condition("Ready", "True", None).await;
    let hash = cr
        .status
        .and_then(|s| s.config_hash)
        .expect("a config hash");
    wait_rolled_to(&env, &hash).await;
    assert_eq!(revisions(&env).await, before + 1, "one rollout");
    let cr = env.wait_condition("Ready", "True", None).await;
    let target = cr
        .status
        .expect("status")
        .targets
        .into_iter()
        .find(|t| t.name == NAME)
        .expect("the target's status");
    assert_eq!(
        serde_json::to_value(target.phase).expect("phase"),
        json!("RolledOut"),
        "{target:?}"
    );

    // A credential change: exactly one more revision; a resync's worth of waiting adds none.
    env.put_credentials("second-secret").await;
    let new_hash = env.wait_hash_change(&hash).await;
    wait_rolled_to(&env, &new_hash).await;
    cluster::assert_stays(
        "one rollout per change (ControllerRevisions)",
        cluster::QUIET_WINDOW,
        before + 2,
        || revisions(&env),
    )
    .await;
}
