//! The rollout state of a target workload, read off the Deployment or StatefulSet the way
//! `kubectl rollout status` reads it. Pure.

use super::wiring::ContainerWiring;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::crd::{TargetRef, TargetStatus};
use crate::objects::config_hash_on;

/// A target as the rollout step needs it.
#[derive(Clone, Debug, PartialEq)]
pub(in crate::controller) struct Target {
    /// Which workload.
    pub reference: TargetRef,
    /// `None` when the workload does not exist.
    pub state: Option<TargetState>,
}

impl Target {
    /// Its name (`Deployment om`) and how its containers get their configuration, when it
    /// exists: what the wiring check reads.
    pub(crate) fn wiring(&self) -> Option<(String, &[ContainerWiring])> {
        let state = self.state.as_ref()?;
        Some((self.reference.to_string(), state.wiring.as_slice()))
    }
}

/// What the rollout step reads off a workload.
#[derive(Clone, Debug, PartialEq)]
pub(in crate::controller) struct TargetState {
    /// `metadata.uid`, the precondition of the rollout patch.
    pub uid: String,
    /// Our annotation on its pod template.
    pub hash: Option<String>,
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
    /// Desired replicas.
    pub replicas: i32,
    /// Replicas running the current template (0 until the controller observed it).
    pub updated_replicas: i32,
    /// Ready replicas.
    pub ready_replicas: i32,
    /// Available replicas.
    pub available_replicas: i32,
    /// All replicas run the current template (Deployments: also no old replicas left).
    pub rolled_out: bool,
    /// How its pod template's containers get their configuration.
    pub(crate) wiring: Vec<ContainerWiring>,
    /// Its pods' label selector, as a list query (`None`: none the API can use).
    pub pod_selector: Option<String>,
}

impl TargetState {
    /// The `updated` text of its status entry.
    pub(in crate::controller) fn replicas_text(&self) -> String {
        TargetStatus::replicas_text(self.updated_replicas, self.replicas)
    }
}

#[cfg(test)]
impl TargetState {
    /// A one-replica workload `uid` carrying `hash`, fully rolled out: the tests' starting point.
    pub(in crate::controller) fn rolled_out_one(uid: &str, hash: Option<&str>) -> Self {
        Self {
            uid: uid.into(),
            hash: hash.map(str::to_string),
            generation: 1,
            observed_generation: 1,
            replicas: 1,
            updated_replicas: 1,
            ready_replicas: 1,
            available_replicas: 1,
            rolled_out: true,
            wiring: Vec::new(),
            pod_selector: Some("app=om".into()),
        }
    }
}

/// What a workload's status reports (absent counts as 0).
struct Counts {
    observed_generation: Option<i64>,
    updated: Option<i32>,
    ready: Option<i32>,
    available: Option<i32>,
}

/// The [`Counts`] of a `DeploymentStatus` or `StatefulSetStatus` (same field names, two types).
macro_rules! counts_of {
    ($status:expr) => {
        Counts {
            observed_generation: $status.and_then(|s| s.observed_generation),
            updated: $status.and_then(|s| s.updated_replicas),
            ready: $status.and_then(|s| s.ready_replicas),
            available: $status.and_then(|s| s.available_replicas),
        }
    };
}

/// What Deployments and StatefulSets share, with `rolled_out` left false for the kind to decide.
/// `None` for an object being deleted or without uid (treated as missing).
///
/// Until the workload controller has observed the current template, its counts are about an
/// older one: none is known to run the current one yet (and a status entry that already says so
/// after our patch is not rewritten when the patch comes back through the watch).
fn shared_state(
    meta: &ObjectMeta,
    replicas: Option<i32>,
    template: &PodTemplateSpec,
    selector: &LabelSelector,
    counts: Counts,
) -> Option<TargetState> {
    if meta.deletion_timestamp.is_some() {
        return None;
    }
    let generation = meta.generation.unwrap_or(0);
    let observed_generation = counts.observed_generation.unwrap_or(0);
    let updated_replicas = if observed_generation >= generation {
        counts.updated.unwrap_or(0)
    } else {
        0
    };
    Some(TargetState {
        uid: meta.uid.clone()?,
        hash: config_hash_on(template).map(str::to_string),
        generation,
        observed_generation,
        replicas: replicas.unwrap_or(1),
        updated_replicas,
        ready_replicas: counts.ready.unwrap_or(0),
        available_replicas: counts.available.unwrap_or(0),
        rolled_out: false,
        wiring: super::wiring::pod_wiring(template),
        pod_selector: kube::core::Selector::try_from(selector.clone())
            .ok()
            .map(|s| s.to_string()),
    })
}

impl TargetState {
    /// Every replica runs the current template, as its controller has observed it.
    fn all_updated(&self) -> bool {
        self.observed_generation >= self.generation && self.updated_replicas == self.replicas
    }
}

pub(in crate::controller) fn deployment_state(d: &Deployment) -> Option<TargetState> {
    let status = d.status.as_ref();
    let mut state = shared_state(
        &d.metadata,
        d.spec.replicas,
        &d.spec.template,
        &d.spec.selector,
        counts_of!(status),
    )?;
    let total = status.and_then(|s| s.replicas).unwrap_or(0);
    // The same test as `kubectl rollout status`: the controller saw the new template, every
    // replica runs it, no old replica is left, and all are available.
    state.rolled_out = state.all_updated()
        && total == state.replicas
        && state.available_replicas == state.replicas;
    Some(state)
}

pub(in crate::controller) fn stateful_set_state(s: &StatefulSet) -> Option<TargetState> {
    let status = s.status.as_ref();
    let mut state = shared_state(
        &s.metadata,
        s.spec.replicas,
        &s.spec.template,
        &s.spec.selector,
        counts_of!(status),
    )?;
    // As `kubectl rollout status` does for RollingUpdate: the update revision is current.
    let revisions_match = status
        .is_some_and(|s| s.update_revision.is_some() && s.update_revision == s.current_revision);
    state.rolled_out =
        state.all_updated() && state.ready_replicas == state.replicas && revisions_match;
    Some(state)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(generation: i64, observed: i64, updated: i32, total: i32) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "app", "uid": "u", "generation": generation},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "a"}},
                "template": {"metadata": {"annotations": {"oidcsso.io/config-hash": "h"}}},
            },
            "status": {
                "observedGeneration": observed, "replicas": total, "updatedReplicas": updated,
                "readyReplicas": total, "availableReplicas": total,
            },
        }))
        .expect("valid Deployment")
    }

    #[test]
    fn a_deployment_is_rolled_out_when_every_replica_runs_the_observed_template() {
        let s = deployment(3, 3, 2, 2);
        let state = deployment_state(&s).expect("state");
        assert!(state.rolled_out);
        assert_eq!(state.updated_replicas, 2);
        assert_eq!(state.hash.as_deref(), Some("h"));
        // An old replica still running.
        assert!(
            !deployment_state(&deployment(3, 3, 2, 3))
                .expect("state")
                .rolled_out
        );
    }

    #[test]
    fn counts_of_an_unobserved_template_are_not_taken_for_the_current_one() {
        let state = deployment_state(&deployment(4, 3, 2, 2)).expect("state");
        assert!(!state.rolled_out);
        assert_eq!(state.updated_replicas, 0);
    }

    #[test]
    fn a_deployment_being_deleted_counts_as_missing() {
        let mut d = deployment(1, 1, 2, 2);
        d.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            jiff::Timestamp::now(),
        ));
        assert!(deployment_state(&d).is_none());
    }

    #[test]
    fn a_workload_without_status_runs_nothing_yet_and_one_without_uid_is_missing() {
        let mut d = deployment(1, 1, 1, 1);
        d.status = None;
        let state = deployment_state(&d).expect("state");
        assert!(!state.rolled_out);
        assert_eq!(
            (state.updated_replicas, state.ready_replicas, state.replicas),
            (0, 0, 2)
        );
        d.metadata.uid = None;
        assert!(deployment_state(&d).is_none());
    }

    #[test]
    fn a_stateful_set_is_rolled_out_once_its_revisions_match() {
        let set = |observed: i64, current: &str| -> StatefulSet {
            serde_json::from_value(json!({
                "metadata": {"name": "db", "uid": "u", "generation": 2},
                "spec": {
                    "replicas": 1, "serviceName": "db",
                    "selector": {"matchLabels": {"app": "a"}},
                    "template": {},
                },
                "status": {
                    "observedGeneration": observed, "replicas": 1, "updatedReplicas": 1,
                    "readyReplicas": 1, "currentRevision": current, "updateRevision": "r2",
                },
            }))
            .expect("valid StatefulSet")
        };
        assert!(stateful_set_state(&set(2, "r2")).expect("state").rolled_out);
        assert!(!stateful_set_state(&set(2, "r1")).expect("state").rolled_out);
        let unobserved = stateful_set_state(&set(1, "r2")).expect("state");
        assert!(!unobserved.rolled_out);
        assert_eq!(unobserved.updated_replicas, 0);
    }
}
