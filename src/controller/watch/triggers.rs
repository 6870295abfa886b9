//! Which watch events are worth a reconcile. Pure.
//!
//! A rollout changes a target's status a dozen times (each ReplicaSet and pod step), and every
//! status write of ours comes back as a change of the resource. Reconciling on each of them costs
//! two reads and often a status write per event, which at a thousand resources is most of the
//! operator's load on the apiserver. So:
//! - a resource triggers on a change of its spec or metadata (generation, labels, annotations,
//!   deletion), not on its status, which only the operator writes;
//! - a target triggers only when what its status entry records (hash on the pod template,
//!   rolled-out or not, updated/total replicas, existence) differs from what the event shows.
//!
//! Errs towards a reconcile: a status entry that lags behind (the store has not seen our last
//! write yet) only adds one.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::controller::steps::rollout::workloads::TargetState;
use crate::crd::{OidcSsoConfig, TargetKind, TargetPhase, TargetStatus};

/// Predicate for the resource's own watch: changes only when something a reconcile acts on does.
pub(in crate::controller) fn resource_inputs(r: &OidcSsoConfig) -> Option<u64> {
    let mut h = DefaultHasher::new();
    // Labels and every annotation count, not only the rotation request: an edit of the metadata
    // is a deliberate act (a GitOps sync, a nudge), and answering it costs one reconcile.
    r.metadata.generation.hash(&mut h);
    r.metadata.labels.hash(&mut h);
    r.metadata.annotations.hash(&mut h);
    r.metadata.deletion_timestamp.is_some().hash(&mut h);
    Some(h.finish())
}

/// Whether a target now in `state` (`None`: gone or being deleted) makes a difference to what a
/// status records for it (`recorded`: the status's target entries).
///
/// The count of updated replicas is progress worth reporting, except while a one-replica target
/// rolls: its only step between "started" and "rolled out" is the new pod existing but not yet
/// available, and a reconcile for it would cost a status write per rollout for nothing.
pub(in crate::controller) fn target_changed(
    recorded: &[TargetStatus],
    kind: TargetKind,
    name: &str,
    state: Option<&TargetState>,
) -> bool {
    let Some(recorded) = recorded.iter().find(|t| t.kind == kind && t.name == name) else {
        return true;
    };
    match state {
        None => recorded.phase != TargetPhase::Missing,
        Some(s) => {
            let progress_counts = s.replicas > 1 || s.rolled_out;
            recorded.phase == TargetPhase::Missing
                || recorded.hash != s.hash
                || (recorded.phase == TargetPhase::RolledOut) != s.rolled_out
                || (progress_counts
                    && recorded.updated.as_deref() != Some(s.replicas_text().as_str()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{OidcSsoConfigStatus, TargetStatus};
    use crate::names::annotations::ROTATE_JWT_KEYS;

    fn resource(targets: Vec<TargetStatus>) -> OidcSsoConfig {
        let mut r = crate::fixtures::Resource::public()
            .named("n", "c")
            .generation(1)
            .rolling("app")
            .build();
        r.status = Some(OidcSsoConfigStatus {
            targets,
            ..Default::default()
        });
        r
    }

    fn entry(phase: TargetPhase, hash: Option<&str>, updated: &str) -> TargetStatus {
        TargetStatus {
            kind: TargetKind::Deployment,
            name: "app".into(),
            phase,
            hash: hash.map(str::to_string),
            updated: Some(updated.into()),
            proven: None,
            server_version: None,
        }
    }

    fn state(hash: Option<&str>, updated: i32, rolled_out: bool) -> TargetState {
        TargetState {
            generation: 2,
            observed_generation: 2,
            updated_replicas: updated,
            rolled_out,
            ..TargetState::rolled_out_one("u", hash)
        }
    }

    fn changed(r: &OidcSsoConfig, s: Option<&TargetState>) -> bool {
        let recorded = r.status.as_ref().map_or(&[][..], |s| &s.targets[..]);
        target_changed(recorded, TargetKind::Deployment, "app", s)
    }

    fn replicas(mut s: TargetState, n: i32) -> TargetState {
        s.replicas = n;
        s
    }

    #[test]
    fn a_step_that_changes_nothing_recorded_is_skipped() {
        let r = resource(vec![entry(TargetPhase::Rolling, Some("h"), "1/1")]);
        assert!(!changed(&r, Some(&state(Some("h"), 1, false))));
    }

    #[test]
    fn rollout_progress_and_completion_trigger() {
        let r = resource(vec![entry(TargetPhase::Rolling, Some("h"), "0/3")]);
        assert!(changed(&r, Some(&replicas(state(Some("h"), 1, false), 3))));
        let r = resource(vec![entry(TargetPhase::Rolling, Some("h"), "1/1")]);
        assert!(changed(&r, Some(&state(Some("h"), 1, true))));
    }

    #[test]
    fn a_one_replica_rollout_reports_only_its_start_and_end() {
        let r = resource(vec![entry(TargetPhase::Rolling, Some("h"), "0/1")]);
        assert!(!changed(&r, Some(&state(Some("h"), 1, false))));
        assert!(changed(&r, Some(&state(Some("h"), 1, true))));
    }

    #[test]
    fn scaling_a_rolled_out_target_triggers() {
        let r = resource(vec![entry(TargetPhase::RolledOut, Some("h"), "3/3")]);
        assert!(changed(&r, Some(&state(Some("h"), 1, true))));
    }

    #[test]
    fn a_template_changed_by_someone_else_triggers() {
        let r = resource(vec![entry(TargetPhase::RolledOut, Some("h"), "1/1")]);
        assert!(changed(&r, Some(&state(None, 1, true))));
        assert!(changed(&r, Some(&state(Some("other"), 1, true))));
    }

    #[test]
    fn appearing_and_disappearing_targets_trigger() {
        let r = resource(vec![entry(TargetPhase::Missing, None, "0/0")]);
        assert!(changed(&r, Some(&state(None, 0, false))));
        let r = resource(vec![entry(TargetPhase::RolledOut, Some("h"), "1/1")]);
        assert!(changed(&r, None));
        let r = resource(vec![entry(TargetPhase::Missing, None, "0/0")]);
        assert!(!changed(&r, None));
    }

    #[test]
    fn a_target_without_a_status_entry_triggers() {
        assert!(changed(&resource(Vec::new()), Some(&state(None, 0, false))));
    }

    #[test]
    fn the_resource_predicate_ignores_status() {
        let a = resource(vec![entry(TargetPhase::Rolling, Some("h"), "0/1")]);
        let b = resource(vec![entry(TargetPhase::RolledOut, Some("h"), "1/1")]);
        assert_eq!(resource_inputs(&a), resource_inputs(&b));
    }

    #[test]
    fn the_resource_predicate_sees_spec_and_metadata_edits() {
        let a = resource(Vec::new());
        let mut b = resource(Vec::new());
        b.metadata.generation = Some(2);
        assert_ne!(resource_inputs(&a), resource_inputs(&b));
        let mut c = resource(Vec::new());
        c.metadata.annotations = Some([(ROTATE_JWT_KEYS.to_string(), "1".to_string())].into());
        assert_ne!(resource_inputs(&a), resource_inputs(&c));
        let mut d = resource(Vec::new());
        d.metadata.labels = Some([("team".to_string(), "x".to_string())].into());
        assert_ne!(resource_inputs(&a), resource_inputs(&d));
    }
}
