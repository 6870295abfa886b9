//! Conditions as the reconciler decides them (typed), and their merge into the stored list: the
//! status vocabulary, shared by the controller's status builder, the provider checks'
//! translation (`verification`) and the offline CLI.
//!
//! A condition keeps its `lastTransitionTime` while its status stays the same, and nothing here
//! changes with time alone, so a resync of an unchanged resource computes the stored list again
//! and writes nothing.

use std::borrow::Cow;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub(crate) use crate::reasons::Reason;

/// The condition types the operator writes, in the order they are listed in the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ConditionType {
    /// kstatus: the resource is reconciled and every target runs the current configuration.
    Ready,
    /// kstatus: the operator is working towards Ready (or waits for another object).
    Reconciling,
    /// kstatus: only a change by the user can help.
    Stalled,
    /// The owned Secrets hold the current rendering.
    SecretsRendered,
    /// The JWT key pair is stored and in use.
    KeysReady,
    /// Every target runs the current configuration.
    WorkloadsUpdated,
    /// Every target's pods load the settings (no `env` entry or later source overrides them) and
    /// mount the keys where the settings point.
    SettingsLoaded,
    /// Discovery document and JWKS fetched and as configured.
    ProviderVerified,
    /// The client credentials were accepted by the provider.
    CredentialsValid,
    /// The provider accepts the login request (client id, callback URL, scopes, response type).
    LoginAccepted,
    /// Every ready pod of every target serves the rendered signing key and authentication
    /// settings (asked at its own IP); `Ready` waits for it unless the proof is off.
    ServerConfirmed,
    /// The bot token the ingestion config carries is signed by a key the server accepts.
    BotTokenValid,
    /// The bots have tokens signed by the current key (`spec.jwt.rotation.renewBotTokens`).
    BotTokensRenewed,
}

impl ConditionType {
    /// Every type, in status order.
    pub(crate) const ALL: [ConditionType; 13] = [
        ConditionType::Ready,
        ConditionType::Reconciling,
        ConditionType::Stalled,
        ConditionType::SecretsRendered,
        ConditionType::KeysReady,
        ConditionType::WorkloadsUpdated,
        ConditionType::SettingsLoaded,
        ConditionType::ServerConfirmed,
        ConditionType::BotTokenValid,
        ConditionType::BotTokensRenewed,
        ConditionType::ProviderVerified,
        ConditionType::CredentialsValid,
        ConditionType::LoginAccepted,
    ];

    /// The `type` string.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Reconciling => "Reconciling",
            ConditionType::Stalled => "Stalled",
            ConditionType::SecretsRendered => "SecretsRendered",
            ConditionType::KeysReady => "KeysReady",
            ConditionType::WorkloadsUpdated => "WorkloadsUpdated",
            ConditionType::SettingsLoaded => "SettingsLoaded",
            ConditionType::ProviderVerified => "ProviderVerified",
            ConditionType::CredentialsValid => "CredentialsValid",
            ConditionType::LoginAccepted => "LoginAccepted",
            ConditionType::ServerConfirmed => "ServerConfirmed",
            ConditionType::BotTokenValid => "BotTokenValid",
            ConditionType::BotTokensRenewed => "BotTokensRenewed",
        }
    }

    /// The type named `s`, if the operator writes it.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The `check` label of `oidc_sso_provider_checks_total` for a provider check's condition
    /// (`provider`, `credentials`, `login`); `None` for the others.
    pub(crate) fn check_label(self) -> Option<&'static str> {
        match self {
            ConditionType::ProviderVerified => Some("provider"),
            ConditionType::CredentialsValid => Some("credentials"),
            ConditionType::LoginAccepted => Some("login"),
            _ => None,
        }
    }

    /// One of the kstatus trio (the rest are details).
    pub(crate) fn is_kstatus(self) -> bool {
        matches!(
            self,
            ConditionType::Ready | ConditionType::Reconciling | ConditionType::Stalled
        )
    }
}

/// A condition's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Truth {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`: the check did not run or cannot tell.
    Unknown,
}

impl Truth {
    /// `True` or `False`.
    pub(crate) fn of(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }

    /// The `status` string.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Truth::True => "True",
            Truth::False => "False",
            Truth::Unknown => "Unknown",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "True" => Truth::True,
            "False" => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

/// One condition as decided; times and generations are filled in by [`merge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cond {
    /// Type.
    pub type_: ConditionType,
    /// Status.
    pub truth: Truth,
    /// CamelCase reason. Borrowed from a bounded set, except when carried over from a stored
    /// status.
    pub reason: Cow<'static, str>,
    /// What it means for the user; never a secret value.
    pub message: String,
}

impl Cond {
    /// A `True`/`False` condition.
    pub(crate) fn new(
        type_: ConditionType,
        value: bool,
        reason: Reason,
        message: impl Into<String>,
    ) -> Self {
        Self::with(type_, Truth::of(value), reason, message)
    }

    /// A condition whose truth is not known (a check that did not run or cannot tell).
    pub(crate) fn unknown(
        type_: ConditionType,
        reason: Reason,
        message: impl Into<String>,
    ) -> Self {
        Self::with(type_, Truth::Unknown, reason, message)
    }

    /// A condition with the given status.
    pub(crate) fn with(
        type_: ConditionType,
        truth: Truth,
        reason: Reason,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            truth,
            reason: Cow::Borrowed(reason.as_str()),
            message: message.into(),
        }
    }

    /// The stored conditions the operator writes, as decided ones (unknown types are dropped).
    pub(crate) fn from_stored(stored: &[Condition]) -> Vec<Cond> {
        stored
            .iter()
            .filter_map(|c| {
                Some(Cond {
                    type_: ConditionType::parse(&c.type_)?,
                    truth: Truth::parse(&c.status),
                    reason: Cow::Owned(c.reason.clone()),
                    message: c.message.clone(),
                })
            })
            .collect()
    }
}

/// Whether `stored` has a condition `type_` with status `truth`.
pub(crate) fn is(stored: &[Condition], type_: ConditionType, truth: Truth) -> bool {
    stored
        .iter()
        .any(|c| c.type_ == type_.as_str() && c.status == truth.as_str())
}

/// The stored condition `type_`, if any.
pub(crate) fn find(stored: &[Condition], type_: ConditionType) -> Option<&Condition> {
    stored.iter().find(|c| c.type_ == type_.as_str())
}

/// The condition list for `decided` (one per type, in status order), keeping the transition
/// time of each condition whose status did not change.
pub(crate) fn merge(
    previous: &[Condition],
    decided: &[Cond],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut decided: Vec<&Cond> = decided.iter().collect();
    decided.sort_by_key(|c| c.type_);
    decided.dedup_by_key(|c| c.type_);
    decided
        .into_iter()
        .map(|c| {
            let status = c.truth.as_str();
            let since = previous
                .iter()
                .find(|p| p.type_ == c.type_.as_str() && p.status == status)
                .map_or(Time(now), |p| p.last_transition_time.clone());
            Condition {
                type_: c.type_.as_str().to_string(),
                status: status.to_string(),
                reason: c.reason.to_string(),
                // The apiserver caps messages at 32768 bytes; stay well below on a char boundary.
                message: truncate(&c.message, 4096),
                observed_generation: generation,
                last_transition_time: since,
            }
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_provider_check_has_its_own_metric_label() {
        assert_eq!(
            ConditionType::ProviderVerified.check_label(),
            Some("provider")
        );
        assert_eq!(
            ConditionType::CredentialsValid.check_label(),
            Some("credentials")
        );
        // LoginAccepted results were counted as credentials.
        assert_eq!(ConditionType::LoginAccepted.check_label(), Some("login"));
        let labelled = ConditionType::ALL
            .iter()
            .filter(|t| t.check_label().is_some())
            .count();
        assert_eq!(labelled, 3, "only the provider checks are counted");
    }

    use super::*;

    fn ready(value: bool, reason: Reason) -> Cond {
        Cond::new(ConditionType::Ready, value, reason, "m")
    }

    #[test]
    fn unchanged_condition_keeps_its_transition_time() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let t1: Timestamp = "2026-06-01T00:00:00Z".parse().expect("time");
        let first = merge(&[], &[ready(true, Reason::Reconciled)], Some(1), t0);
        let second = merge(&first, &[ready(true, Reason::Reconciled)], Some(1), t1);
        assert_eq!(first, second);
        let third = merge(&second, &[ready(false, Reason::InvalidSpec)], Some(2), t1);
        assert_eq!(third[0].last_transition_time, Time(t1));
    }

    #[test]
    fn conditions_are_listed_in_status_order_once_each() {
        let decided = [
            Cond::new(ConditionType::KeysReady, true, Reason::Generated, ""),
            ready(true, Reason::Reconciled),
            Cond::new(ConditionType::KeysReady, false, Reason::Checking, ""),
            Cond::new(ConditionType::Stalled, false, Reason::Reconciled, ""),
        ];
        let merged = merge(&[], &decided, None, Timestamp::UNIX_EPOCH);
        let types: Vec<&str> = merged.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Ready", "Stalled", "KeysReady"]);
        assert_eq!(merged[2].reason, "Generated");
    }

    #[test]
    fn stored_conditions_of_unknown_types_are_dropped_not_renamed() {
        let stored = merge(
            &[],
            &[Cond::new(
                ConditionType::KeysReady,
                true,
                Reason::Generated,
                "",
            )],
            None,
            Timestamp::UNIX_EPOCH,
        );
        let mut foreign = stored[0].clone();
        foreign.type_ = "SomethingElse".into();
        let parsed = Cond::from_stored(&[stored[0].clone(), foreign]);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].type_, ConditionType::KeysReady);
        assert_eq!(parsed[0].truth, Truth::True);
    }

    #[test]
    fn long_messages_are_truncated_on_a_char_boundary() {
        let m = "é".repeat(5000);
        let c = merge(
            &[],
            &[Cond::new(
                ConditionType::Ready,
                false,
                Reason::InvalidSpec,
                m,
            )],
            None,
            Timestamp::UNIX_EPOCH,
        );
        assert!(c[0].message.len() <= 4096 + "…".len());
    }
}
