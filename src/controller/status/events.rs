//! Events for user-visible transitions, decided from the status before and after a reconcile
//! (pure), then published best effort: a failure is logged, never fails the reconcile.
//!
//! A condition that keeps its status and reason announces nothing, so a resync, a restart or a
//! reconcile triggered by a target's rollout step publishes no Event.

use crate::reasons::Reason;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder};
use tracing::warn;

use super::conditions::{ConditionType, Truth, find, is};
use crate::controller::problem::Problem;
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};

/// Detail conditions whose changes are announced (the others follow from the steps' own Events).
const ANNOUNCED: [ConditionType; 7] = [
    ConditionType::ProviderVerified,
    ConditionType::CredentialsValid,
    ConditionType::LoginAccepted,
    ConditionType::SettingsLoaded,
    ConditionType::ServerConfirmed,
    ConditionType::BotTokenValid,
    ConditionType::BotTokensRenewed,
];

/// Reasons that warn although their condition is not `False`: the check passed with a caveat
/// (scopes the provider does not list, a bot token whose key's grace window will end) or could
/// not tell (a secret no endpoint can prove).
const CAVEATS: [Reason; 3] = [
    Reason::ScopesNotAdvertised,
    Reason::Inconclusive,
    Reason::SignedByRetiredKey,
];

/// One Event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Announcement {
    /// Normal or Warning.
    pub type_: EventType,
    /// CamelCase reason.
    pub reason: String,
    /// The note; never a secret value.
    pub note: String,
}

impl Announcement {
    /// A Normal Event.
    pub(crate) fn normal(reason: impl Into<String>, note: impl Into<String>) -> Self {
        Self {
            type_: EventType::Normal,
            reason: reason.into(),
            note: note.into(),
        }
    }

    /// A Warning Event.
    pub(crate) fn warning(reason: impl Into<String>, note: impl Into<String>) -> Self {
        Self {
            type_: EventType::Warning,
            reason: reason.into(),
            note: note.into(),
        }
    }
}

/// The Events that going from `previous` to `next` announces. `problem` is the configuration
/// problem `next` reports, if any; `held` says a changed configuration is not rolled out.
pub(crate) fn transitions(
    previous: &OidcSsoConfigStatus,
    next: &OidcSsoConfigStatus,
    problem: Option<&Problem>,
    held: bool,
) -> Vec<Announcement> {
    let mut out = Vec::new();
    if let Some(problem) = problem {
        let before = find(&previous.conditions, ConditionType::Ready);
        let same = before.is_some_and(|b| {
            b.status == Truth::False.as_str()
                && b.reason == problem.reason.reason()
                && b.message == problem.message
        });
        if !same {
            out.push(Announcement::warning(
                problem.reason.reason(),
                problem.message.clone(),
            ));
        }
    }
    for type_ in ANNOUNCED {
        let (Some(now), before) = (
            find(&next.conditions, type_),
            find(&previous.conditions, type_),
        ) else {
            continue;
        };
        if let Some(a) = detail_transition(type_, before, now, held) {
            out.push(a);
        }
    }
    out.extend(retired_key_notices(previous, next));
    if is(&next.conditions, ConditionType::Ready, Truth::True)
        && !is(&previous.conditions, ConditionType::Ready, Truth::True)
    {
        out.push(Announcement::normal(
            "Ready",
            "every target runs the current configuration",
        ));
    }
    out
}

/// A Warning once when a retired key's window is about to end (its status entry turns
/// `expiringSoon`), and a Normal Event when it has ended (its entry is gone).
fn retired_key_notices(
    previous: &OidcSsoConfigStatus,
    next: &OidcSsoConfigStatus,
) -> Vec<Announcement> {
    let retired = |s: &OidcSsoConfigStatus| {
        s.keys
            .as_ref()
            .map(|k| k.retired.clone())
            .unwrap_or_default()
    };
    let (before, after) = (retired(previous), retired(next));
    let mut out = Vec::new();
    for key in &after {
        let was_soon = before
            .iter()
            .any(|b| b.key_id == key.key_id && b.expiring_soon);
        if key.expiring_soon && !was_soon {
            out.push(Announcement::warning(
                Reason::RetiredKeyExpiring,
                format!(
                    "tokens signed by the retired key {} (bot tokens, pipelines, personal access \
                     tokens) stop working at {}: renew them (docs/rotating-keys.md)",
                    key.key_id, key.expires_at.0
                ),
            ));
        }
    }
    for key in &before {
        // Only when the keys are reported at all (a held reconcile keeps the previous list).
        if next.keys.is_some() && !after.iter().any(|a| a.key_id == key.key_id) {
            out.push(Announcement::normal(
                Reason::RetiredKeyExpired,
                format!(
                    "the grace window of the retired key {} ended: the server no longer accepts \
                     tokens it signed (within a day, when it cached the key)",
                    key.key_id
                ),
            ));
        }
    }
    out
}

fn detail_transition(
    type_: ConditionType,
    before: Option<&Condition>,
    now: &Condition,
    held: bool,
) -> Option<Announcement> {
    let changed = before.is_none_or(|b| b.status != now.status || b.reason != now.reason);
    if !changed {
        return None;
    }
    let was_false = before.is_some_and(|b| b.status == Truth::False.as_str());
    match now.status.as_str() {
        "False" => {
            let note = if held {
                format!(
                    "{}; the changed configuration is not rolled out until this passes",
                    now.message
                )
            } else {
                now.message.clone()
            };
            Some(Announcement::warning(now.reason.clone(), note))
        }
        _ if CAVEATS.iter().any(|c| now.reason == *c) => Some(Announcement::warning(
            now.reason.clone(),
            now.message.clone(),
        )),
        "True" if was_false => Some(Announcement::normal(type_.as_str(), now.message.clone())),
        _ => None,
    }
}

/// Publishes `announcements` about `resource`, best effort.
pub(crate) async fn publish(
    recorder: &Recorder,
    resource: &OidcSsoConfig,
    announcements: &[Announcement],
) {
    for a in announcements {
        let event = Event {
            type_: a.type_,
            reason: a.reason.clone(),
            note: Some(a.note.clone()),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = recorder.publish(&event, &resource.object_ref(&())).await {
            warn!(error = %e, reason = %a.reason, "failed to publish Event");
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::super::conditions::{Cond, merge};
    use super::*;
    use crate::controller::problem::ProblemReason;

    fn status(conds: &[Cond]) -> OidcSsoConfigStatus {
        OidcSsoConfigStatus {
            conditions: merge(&[], conds, Some(1), Timestamp::UNIX_EPOCH),
            ..Default::default()
        }
    }

    fn provider(ok: bool, reason: Reason) -> Cond {
        Cond::new(ConditionType::ProviderVerified, ok, reason, "msg")
    }

    fn ready(ok: bool, reason: Reason, message: &str) -> Cond {
        Cond::new(ConditionType::Ready, ok, reason, message)
    }

    #[test]
    fn an_unchanged_status_announces_nothing() {
        let s = status(&[
            provider(true, Reason::Verified),
            ready(true, Reason::Reconciled, "ok"),
        ]);
        assert!(transitions(&s, &s, None, false).is_empty());
    }

    #[test]
    fn a_failing_check_warns_once_and_its_recovery_is_announced() {
        let ok = status(&[provider(true, Reason::Verified)]);
        let down = status(&[provider(false, Reason::Unreachable)]);
        let warned = transitions(&ok, &down, None, true);
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].type_, EventType::Warning);
        assert_eq!(warned[0].reason, "Unreachable");
        assert!(warned[0].note.contains("not rolled out"), "{warned:?}");
        assert!(transitions(&down, &down, None, true).is_empty());
        let back = transitions(&down, &ok, None, false);
        assert_eq!(back, [Announcement::normal("ProviderVerified", "msg")]);
    }

    #[test]
    fn a_problem_warns_when_it_first_appears_or_changes() {
        let p = Problem::new(ProblemReason::InvalidSpec, "spec.x: bad");
        let fine = status(&[ready(true, Reason::Reconciled, "ok")]);
        let broken = status(&[ready(false, Reason::InvalidSpec, "spec.x: bad")]);
        assert_eq!(
            transitions(&fine, &broken, Some(&p), false),
            [Announcement::warning("InvalidSpec", "spec.x: bad")]
        );
        assert!(transitions(&broken, &broken, Some(&p), false).is_empty());
    }

    #[test]
    fn caveats_warn_once() {
        let scopes = Cond::new(
            ConditionType::ProviderVerified,
            true,
            Reason::ScopesNotAdvertised,
            "scope(s) [\"groups\"] are not in its scopes_supported",
        );
        let warned = transitions(
            &status(&[provider(true, Reason::Verified)]),
            &status(std::slice::from_ref(&scopes)),
            None,
            false,
        );
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert_eq!(warned[0].type_, EventType::Warning);
        assert_eq!(warned[0].reason, "ScopesNotAdvertised");
        assert!(
            transitions(
                &status(std::slice::from_ref(&scopes)),
                &status(&[scopes]),
                None,
                false
            )
            .is_empty()
        );
    }

    #[test]
    fn becoming_ready_is_announced() {
        let before = status(&[ready(false, Reason::RollingOut, "")]);
        let after = status(&[ready(true, Reason::Reconciled, "")]);
        let a = transitions(&before, &after, None, false);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].reason, "Ready");
    }
}
