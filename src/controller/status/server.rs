//! `ServerConfirmed` and the per-target proof counts, from what the proof step found. Pure.
//!
//! Messages name targets, fields and releases, never a value a pod answered with. They hold
//! nothing that changes between two reconciles of an unchanged server (no retry time, no pod IP),
//! so a proven resource's status is written once.

use crate::reasons::Reason;
use std::fmt::Write as _;

use super::conditions::{Cond, ConditionType, Truth};
use crate::controller::steps::prove::{Proof, TargetResult};
use crate::crd::TargetStatus;
use crate::proof::verdict::PodProof;
use crate::proof::version::Family;

/// How a proof that is not confirmed holds `Ready` back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holds {
    /// Still asking: `Reconciling`.
    Waiting,
    /// Only a change by the user helps: `Stalled`.
    Stalled,
}

/// The condition, and what it means for `Ready` (`None`: it does not hold `Ready` back).
pub(crate) fn condition(proof: &Proof, confidential: bool) -> (Cond, Option<Holds>) {
    match proof {
        Proof::Off { by_operator } => (off(*by_operator), None),
        Proof::NotRun | Proof::AwaitingRollout => (
            Cond::unknown(
                ConditionType::ServerConfirmed,
                Reason::AwaitingRollout,
                "the server pods are asked once every target is rolled out",
            ),
            Some(Holds::Waiting),
        ),
        Proof::Asked(results) => asked(results, confidential),
    }
}

fn off(by_operator: bool) -> Cond {
    let by = if by_operator {
        "the operator runs with --server-proof=false"
    } else {
        "spec.server.proof.enabled is false"
    };
    Cond::unknown(
        ConditionType::ServerConfirmed,
        Reason::ProofOff,
        format!(
            "{by}: Ready means the Secrets are written and every pod was rolled onto them, not \
             that the server runs them"
        ),
    )
}

fn asked(results: &[TargetResult], confidential: bool) -> (Cond, Option<Holds>) {
    let Some(worst) = results
        .iter()
        .filter(|r| !r.confirmed())
        .min_by_key(|r| rank(r))
    else {
        return (confirmed(results, confidential), None);
    };
    let target = worst.reference.to_string();
    let counted = format!(
        "{}/{} pods proven{}",
        worst.proof.proven,
        worst.replicas,
        release_text(worst)
    );
    let (truth, reason, message) = match &worst.proof.worst {
        PodProof::NoAnswer if worst.overdue > 0 => (
            Truth::False,
            Reason::ServerNotAnswering,
            format!(
                "{target}: {} pod(s) Ready for over two minutes do not answer OpenMetadata's \
                 /api/v1/system endpoints on the proof port ({counted}); if the operator cannot \
                 reach the pods, set spec.server.proof.enabled: false",
                worst.overdue
            ),
        ),
        PodProof::NoAnswer => (
            Truth::Unknown,
            Reason::AwaitingServer,
            format!("{target}: waiting for the pods to answer ({counted})"),
        ),
        PodProof::KeyNotLoaded => (
            Truth::False,
            Reason::KeyNotLoaded,
            format!(
                "{target}: a pod serves a JWKS without key id: its server did not load the key \
                 files RSA_PRIVATE_KEY_FILE_PATH and RSA_PUBLIC_KEY_FILE_PATH name (is the keys \
                 Secret mounted at spec.server.keyMountPath, readable by the server's user?) \
                 ({counted})"
            ),
        ),
        PodProof::OtherKey(fields) => (
            Truth::False,
            Reason::ServerKeyDiffers,
            format!(
                "{target}: a pod signs with another key ({} differ from the rendered key) \
                 ({counted})",
                fields.join(", ")
            ),
        ),
        PodProof::SettingsDiffer {
            fields,
            by_database: true,
        } => (
            Truth::False,
            Reason::DatabaseOverrides,
            format!(
                "{target}: the authentication settings in the server's database override the \
                 rendered ones ({} differ): this release reads its database copy; run \
                 `openmetadata-ops.sh remove-security-config --force` in an init container \
                 (docs/openmetadata-chart.md) ({counted})",
                fields.join(", ")
            ),
        ),
        PodProof::SettingsDiffer { fields, .. } => (
            Truth::False,
            Reason::ServerSettingsDiffer,
            format!(
                "{target}: a pod runs other authentication settings ({} differ){} ({counted})",
                fields.join(", "),
                provider_hint(worst, fields)
            ),
        ),
        PodProof::ResetMissing => (
            Truth::False,
            Reason::ResetMissing,
            format!(
                "{target}: this release reads the confidential client (OIDC_*) from its database \
                 copy, which no answer of the server shows and a change of it does not replace: \
                 run `openmetadata-ops.sh remove-security-config --force` in an init container \
                 (docs/openmetadata-chart.md) ({counted})"
            ),
        ),
        PodProof::Unreadable(why) => (
            Truth::False,
            Reason::ServerAnswerUnreadable,
            format!(
                "{target}: {why}: is the server OpenMetadata, answering on the proof port \
                 (spec.server.proof.port)? ({counted})"
            ),
        ),
        PodProof::Proven => unreachable_proven(&target, &counted),
    };
    let health = if truth == Truth::Unknown {
        Holds::Waiting
    } else {
        Holds::Stalled
    };
    (
        Cond::with(ConditionType::ServerConfirmed, truth, reason, message),
        Some(health),
    )
}

/// A target not confirmed whose worst pod is proven has pods missing from the count: Ready pods
/// of the current revision not found yet.
fn unreachable_proven(target: &str, counted: &str) -> (Truth, Reason, String) {
    (
        Truth::Unknown,
        Reason::AwaitingServer,
        format!("{target}: waiting for every pod to be Ready ({counted})"),
    )
}

/// Worst first; a target with pods past their deadline before one still waiting.
fn rank(r: &TargetResult) -> (u8, bool) {
    let proof = if r.proof.worst == PodProof::Proven && !r.confirmed() {
        PodProof::NoAnswer
    } else {
        r.proof.worst.clone()
    };
    (proof.rank(), r.overdue == 0)
}

fn release_text(r: &TargetResult) -> String {
    r.proof
        .release
        .map(|v| format!(", OpenMetadata {v}"))
        .unwrap_or_default()
}

/// 2.1 and later refuse to replace a provider set in the UI until told once.
fn provider_hint(r: &TargetResult, fields: &[&str]) -> &'static str {
    let env_wins =
        r.proof.release.map(crate::proof::version::Release::family) == Some(Family::ConfigSource);
    if env_wins && fields.contains(&"provider") {
        "; the server keeps the provider set in its UI until spec.server.confirmProviderChange is \
         true for one start"
    } else {
        ""
    }
}

fn confirmed(results: &[TargetResult], confidential: bool) -> Cond {
    let mut message = String::new();
    for r in results {
        if !message.is_empty() {
            message.push_str("; ");
        }
        let _ = write!(
            message,
            "{}: {}/{} pods serve the rendered key and settings{}",
            r.reference,
            r.proof.proven,
            r.replicas,
            release_text(r)
        );
    }
    if results.is_empty() {
        message.push_str("no targets");
    }
    let copies = results.iter().any(|r| {
        r.proof.release.map(crate::proof::version::Release::family)
            == Some(Family::CopiesToDatabase)
    });
    if confidential && copies {
        message.push_str(
            "; the confidential client (OIDC_*) is in no answer a server gives: on 1.10 to 2.0.x \
             it counts as proven because the reset runs before each server start",
        );
    }
    Cond::new(
        ConditionType::ServerConfirmed,
        true,
        Reason::Confirmed,
        message,
    )
}

/// Adds each target's proof counts and release to its status entry.
pub(crate) fn annotate(targets: &mut [TargetStatus], proof: &Proof) {
    let Proof::Asked(results) = proof else { return };
    for t in targets {
        let Some(r) = results
            .iter()
            .find(|r| r.reference.kind == t.kind && r.reference.name == t.name)
        else {
            continue;
        };
        t.proven = Some(TargetStatus::replicas_text(
            i32::try_from(r.proof.proven).unwrap_or(i32::MAX),
            r.replicas,
        ));
        t.server_version = r.proof.release.map(|v| v.to_string());
    }
}

#[cfg(test)]
mod tests;
