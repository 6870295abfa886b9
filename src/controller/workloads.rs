//! The rollout state of a target workload, read off the Deployment or StatefulSet the way
//! `kubectl rollout status` reads it. Pure.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};

use crate::crd::{TargetRef, TargetStatus};
use crate::names::annotations;

/// A target as the rollout step needs it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Target {
    /// Which workload.
    pub reference: TargetRef,
    /// `None` when the workload does not exist.
    pub state: Option<TargetState>,
}

/// What the rollout step reads off a workload.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TargetState {
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
    pub(crate) wiring: Vec<super::wiring::ContainerWiring>,
}

impl TargetState {
    /// The `updated` text of its status entry.
    pub(super) fn replicas_text(&self) -> String {
        TargetStatus::replicas_text(self.updated_replicas, self.replicas)
    }
}

#[cfg(test)]
impl TargetState {
    /// A one-replica workload `uid` carrying `hash`, fully rolled out: the tests' starting point.
    pub(super) fn rolled_out_one(uid: &str, hash: Option<&str>) -> Self {
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
        }
    }
}

fn template_hash(template_annotations: Option<&BTreeMap<String, String>>) -> Option<String> {
    template_annotations
        .and_then(|a| a.get(annotations::CONFIG_HASH))
        .cloned()
}

/// Replicas running the current template. Until the workload controller has observed that
/// template, its counts are about an older one: none is known to run the current one yet (and a
/// status entry that already says so after our patch is not rewritten when the patch comes back
/// through the watch).
fn updated_on_current(generation: i64, observed: i64, updated: Option<i32>) -> i32 {
    if observed >= generation {
        updated.unwrap_or(0)
    } else {
        0
    }
}

/// `None` for an object being deleted or without uid (treated as missing).
pub(super) fn deployment_state(d: &Deployment) -> Option<TargetState> {
    if d.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let uid = d.metadata.uid.clone()?;
    let spec = &d.spec;
    let status = d.status.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1);
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let updated = updated_on_current(generation, observed, status.updated_replicas);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    // The same test as `kubectl rollout status`: the controller saw the new template, every
    // replica runs it, no old replica is left, and all are available.
    let rolled_out =
        observed >= generation && updated == replicas && total == replicas && available == replicas;
    Some(TargetState {
        uid,
        hash: template_hash(
            spec.template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref()),
        ),
        generation,
        observed_generation: observed,
        replicas,
        updated_replicas: updated,
        ready_replicas: status.ready_replicas.unwrap_or(0),
        available_replicas: available,
        rolled_out,
        wiring: super::wiring::pod_wiring(&spec.template),
    })
}

pub(super) fn stateful_set_state(s: &StatefulSet) -> Option<TargetState> {
    if s.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let uid = s.metadata.uid.clone()?;
    let spec = &s.spec;
    let status = s.status.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1);
    let generation = s.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let updated = updated_on_current(generation, observed, status.updated_replicas);
    let ready = status.ready_replicas.unwrap_or(0);
    // As `kubectl rollout status` does for RollingUpdate: the update revision is current.
    let revisions_match =
        status.update_revision.is_some() && status.update_revision == status.current_revision;
    let rolled_out =
        observed >= generation && updated == replicas && ready == replicas && revisions_match;
    Some(TargetState {
        uid,
        hash: template_hash(
            spec.template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref()),
        ),
        generation,
        observed_generation: observed,
        replicas,
        updated_replicas: updated,
        ready_replicas: ready,
        available_replicas: status.available_replicas.unwrap_or(0),
        rolled_out,
        wiring: super::wiring::pod_wiring(&spec.template),
    })
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
