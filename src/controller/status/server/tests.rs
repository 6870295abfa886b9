//! `ServerConfirmed` per proof outcome: what it says, what it means for `Ready`, and that a
//! message names fields and releases but nothing a pod answered with.

use super::*;
use crate::crd::{TargetKind, TargetPhase, TargetRef};
use crate::proof::verdict::TargetProof;
use crate::proof::version::Release;

fn result(worst: PodProof, proven: usize, replicas: i32, release: &str) -> TargetResult {
    TargetResult {
        reference: TargetRef {
            kind: TargetKind::Deployment,
            name: "om".into(),
        },
        proof: TargetProof {
            proven,
            pods: usize::try_from(replicas).expect("replicas"),
            worst,
            release: Release::parse(release),
        },
        replicas,
        overdue: 0,
        retry_in: None,
    }
}

fn asked(results: Vec<TargetResult>) -> (Cond, Option<Holds>) {
    condition(&Proof::Asked(results), false)
}

#[test]
fn a_proof_turned_off_does_not_hold_ready_back_and_says_by_whom() {
    let (cond, health) = condition(&Proof::Off { by_operator: false }, false);
    assert_eq!(
        (cond.truth, cond.reason.as_ref(), health),
        (Truth::Unknown, "ProofOff", None)
    );
    assert!(cond.message.contains("spec.server.proof.enabled is false"));
    let (cond, _) = condition(&Proof::Off { by_operator: true }, false);
    assert!(cond.message.contains("--server-proof=false"));
}

#[test]
fn every_pod_proven_is_confirmed_with_counts_and_release() {
    let (cond, health) = asked(vec![result(PodProof::Proven, 2, 2, "1.13.1")]);
    assert_eq!(
        (cond.truth, cond.reason.as_ref(), health),
        (Truth::True, "Confirmed", None)
    );
    assert_eq!(
        cond.message,
        "Deployment om: 2/2 pods serve the rendered key and settings, OpenMetadata 1.13.1"
    );
    // A confidential client on 1.10 to 2.0.x is proven through the reset: the message says so.
    let (cond, _) = condition(
        &Proof::Asked(vec![result(PodProof::Proven, 1, 1, "1.13.1")]),
        true,
    );
    assert!(
        cond.message
            .contains("the confidential client (OIDC_*) is in no answer")
    );
    let (cond, _) = condition(
        &Proof::Asked(vec![result(PodProof::Proven, 1, 1, "2.1.0")]),
        true,
    );
    assert!(!cond.message.contains("confidential"));
}

#[test]
fn waiting_for_answers_is_in_progress_and_past_the_deadline_stalls() {
    let (cond, health) = asked(vec![result(PodProof::NoAnswer, 1, 2, "1.13.1")]);
    assert_eq!(
        (cond.truth, cond.reason.as_ref(), health),
        (Truth::Unknown, "AwaitingServer", Some(Holds::Waiting))
    );
    assert!(cond.message.contains("1/2 pods proven"), "{}", cond.message);
    let mut late = result(PodProof::NoAnswer, 1, 2, "1.13.1");
    late.overdue = 1;
    let (cond, health) = asked(vec![late]);
    assert_eq!(
        (cond.truth, cond.reason.as_ref(), health),
        (Truth::False, "ServerNotAnswering", Some(Holds::Stalled))
    );
    assert!(cond.message.contains("spec.server.proof.enabled: false"));
    let (cond, _) = condition(&Proof::AwaitingRollout, false);
    assert_eq!(
        (cond.truth, cond.reason.as_ref()),
        (Truth::Unknown, "AwaitingRollout")
    );
}

#[test]
fn each_failure_names_its_fix_and_the_worst_target_is_reported() {
    let cases = [
        (
            PodProof::KeyNotLoaded,
            "KeyNotLoaded",
            "spec.server.keyMountPath",
        ),
        (
            PodProof::OtherKey(vec!["kid", "n"]),
            "ServerKeyDiffers",
            "kid, n differ",
        ),
        (
            PodProof::SettingsDiffer {
                fields: vec!["clientId"],
                by_database: true,
            },
            "DatabaseOverrides",
            "remove-security-config --force",
        ),
        (PodProof::ResetMissing, "ResetMissing", "init container"),
        (
            PodProof::Unreadable("the auth answer is not a JSON object"),
            "ServerAnswerUnreadable",
            "spec.server.proof.port",
        ),
    ];
    for (worst, reason, names) in cases {
        let (cond, health) = asked(vec![
            result(PodProof::Proven, 1, 1, "1.13.1"),
            result(worst, 0, 1, "1.13.1"),
        ]);
        assert_eq!((cond.truth, cond.reason.as_ref()), (Truth::False, reason));
        assert_eq!(health, Some(Holds::Stalled));
        assert!(cond.message.contains(names), "{reason}: {}", cond.message);
        assert!(cond.message.starts_with("Deployment om: "));
    }
    // The key before the settings: a pod without its key signs nothing at all.
    let (cond, _) = asked(vec![
        result(
            PodProof::SettingsDiffer {
                fields: vec!["clientId"],
                by_database: true,
            },
            0,
            1,
            "1.13.1",
        ),
        result(PodProof::KeyNotLoaded, 0, 1, "1.13.1"),
    ]);
    assert_eq!(cond.reason.as_ref(), "KeyNotLoaded");
}

#[test]
fn a_stored_provider_on_2_1_asks_for_the_confirmation_once() {
    let differs = |release| {
        asked(vec![result(
            PodProof::SettingsDiffer {
                fields: vec!["provider"],
                by_database: false,
            },
            0,
            1,
            release,
        )])
        .0
    };
    let cond = differs("2.1.0");
    assert_eq!(cond.reason.as_ref(), "ServerSettingsDiffer");
    assert!(cond.message.contains("spec.server.confirmProviderChange"));
    assert!(!differs("1.9.4").message.contains("confirmProviderChange"));
}

#[test]
fn the_target_entries_get_their_counts_and_release() {
    let entry = |name: &str| TargetStatus {
        kind: TargetKind::Deployment,
        name: name.into(),
        phase: TargetPhase::RolledOut,
        hash: Some("h".into()),
        updated: Some("2/2".into()),
        proven: None,
        server_version: None,
    };
    let mut targets = [entry("om"), entry("other")];
    annotate(
        &mut targets,
        &Proof::Asked(vec![result(PodProof::NoAnswer, 1, 2, "1.13.1")]),
    );
    assert_eq!(targets[0].proven.as_deref(), Some("1/2"));
    assert_eq!(targets[0].server_version.as_deref(), Some("1.13.1"));
    assert_eq!(
        (
            targets[1].proven.as_deref(),
            targets[1].server_version.as_deref()
        ),
        (None, None)
    );
    annotate(&mut targets[1..], &Proof::AwaitingRollout);
    assert_eq!(targets[1].proven, None);
}
