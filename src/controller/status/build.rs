//! The status a reconcile writes, built in one place from what the steps produced. Pure.
//!
//! Ready/Reconciling/Stalled follow kstatus: Ready only when the provider checks pass and every
//! target runs the current configuration; Reconciling while the operator (or the cluster) works
//! towards it, or waits for an object to appear; Stalled when only a change by the user can help.

use crate::reasons::Reason;
use std::borrow::Cow;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::conditions::{Cond, ConditionType, merge};
use super::server;
use crate::controller::problem::Problem;
use crate::controller::steps::keys::KeyState;
use crate::controller::steps::prove::Proof;
use crate::controller::steps::verify::Verification;
use crate::crd::{
    KeyStatus, OidcSsoConfig, OidcSsoConfigStatus, SecretNames, TargetPhase, TargetStatus,
};
use crate::render::Rendered;
use crate::validate::ValidatedConfig;

/// Where the resource stands, for the kstatus trio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    /// Reconciled and rolled out.
    Ready,
    /// Working towards Ready, or waiting for another object.
    InProgress,
    /// Needs a change by the user.
    Stalled,
    /// `spec.suspend`: nothing happens.
    Suspended,
}

/// The kstatus summary: health, reason and message of `Ready`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Where the resource stands.
    pub health: Health,
    /// CamelCase reason shown on `Ready` (and on the active one of Reconciling/Stalled).
    pub reason: Cow<'static, str>,
    /// The message.
    pub message: String,
}

impl Summary {
    fn new(health: Health, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            health,
            reason: Cow::Borrowed(reason.as_str()),
            message: message.into(),
        }
    }

    /// The three kstatus conditions. The inactive two carry the reason and no message.
    fn conditions(&self) -> [Cond; 3] {
        let cond = |type_, active: bool| Cond {
            type_,
            truth: super::conditions::Truth::of(active),
            reason: self.reason.clone(),
            message: if active {
                self.message.clone()
            } else {
                String::new()
            },
        };
        let mut ready = cond(ConditionType::Ready, self.health == Health::Ready);
        // Ready=False explains itself too: it is what `kubectl get` shows.
        ready.message.clone_from(&self.message);
        [
            ready,
            cond(
                ConditionType::Reconciling,
                self.health == Health::InProgress,
            ),
            cond(ConditionType::Stalled, self.health == Health::Stalled),
        ]
    }
}

/// What one reconcile produced, for the status.
pub(crate) struct Outcome<'a> {
    /// The validated spec.
    pub config: &'a ValidatedConfig,
    /// What became of the rendering.
    pub applied: Applied<'a>,
    /// The provider checks.
    pub verification: &'a Verification,
    /// Rollout progress of each target.
    pub targets: Vec<TargetStatus>,
    /// What keeps a target's pods from seeing the rendered settings (`None`: not checked, nothing
    /// was rendered).
    pub wiring: Option<Vec<crate::controller::steps::rollout::wiring::Finding>>,
    /// What the server pods proved.
    pub proof: Proof,
    /// Which key signed the ingestion config's bot token (`None`: it carries none).
    pub bot_token: Option<crate::keys::token::BotTokenCheck>,
    /// The bot-token renewal (`None`: off, or nothing new proven: the stored condition stays).
    pub renewal: Option<crate::controller::steps::renew::Renew>,
}

/// What became of a reconcile's rendering (the two states of `decide::Decision`, as the status
/// reads them).
pub(crate) enum Applied<'a> {
    /// The rendering, with these keys, is in the owned Secrets and the targets roll to it.
    Applied {
        /// What was written.
        rendered: &'a Rendered,
        /// The keys in it.
        keys: &'a KeyState,
    },
    /// A changed configuration was not rolled out because a check failed (or nothing new could
    /// be rendered while the provider fails): the keys and Secrets in use are the previous ones.
    Held,
}

impl<'a> Applied<'a> {
    /// Held: nothing new was written.
    pub(crate) fn is_held(&self) -> bool {
        matches!(self, Applied::Held)
    }

    fn rendered(&self) -> Option<&'a Rendered> {
        match self {
            Applied::Applied { rendered, .. } => Some(rendered),
            Applied::Held => None,
        }
    }

    fn keys(&self) -> Option<&'a KeyState> {
        match self {
            Applied::Applied { keys, .. } => Some(keys),
            Applied::Held => None,
        }
    }
}

/// The status after a reconcile that got through every step.
pub(crate) fn for_outcome(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    outcome: &Outcome<'_>,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let config = outcome.config;
    let hash = outcome
        .applied
        .rendered()
        .map(|r| r.config_hash.clone())
        .or_else(|| previous.config_hash.clone());
    let workloads = workloads_condition(outcome, hash.as_deref().unwrap_or_default());
    let server = server::condition(&outcome.proof, confidential(outcome));
    let summary = match &outcome.verification.failure {
        Some(f) => Summary::new(
            if f.transient {
                Health::InProgress
            } else {
                Health::Stalled
            },
            f.reason,
            if outcome.applied.is_held() {
                workloads.message.clone()
            } else {
                f.message.clone()
            },
        ),
        None if workloads.truth == super::conditions::Truth::True => match &server {
            (_, None) if matches!(outcome.proof, Proof::Off { .. }) => Summary::new(
                Health::Ready,
                Reason::Reconciled,
                "the rendered configuration is applied and rolled out (the server proof is off)",
            ),
            (_, None) => Summary::new(
                Health::Ready,
                Reason::Reconciled,
                "the rendered configuration is applied, rolled out, and every server pod runs it",
            ),
            (cond, Some(holds)) => Summary {
                health: match holds {
                    server::Holds::Waiting => Health::InProgress,
                    server::Holds::Stalled => Health::Stalled,
                },
                reason: cond.reason.clone(),
                message: cond.message.clone(),
            },
        },
        None => Summary {
            health: Health::InProgress,
            reason: workloads.reason.clone(),
            message: workloads.message.clone(),
        },
    };
    let mut details = vec![secrets_condition(outcome.applied.rendered().is_some())];
    match outcome.applied.keys() {
        Some(keys) => details.push(keys_condition(keys)),
        None => details.extend(
            Cond::from_stored(&previous.conditions)
                .into_iter()
                .filter(|c| c.type_ == ConditionType::KeysReady),
        ),
    }
    details.push(workloads);
    if let Some(findings) = &outcome.wiring {
        details.push(settings_loaded(findings));
    }
    match outcome.proof {
        // Nothing new rendered: the stored proof still describes what runs.
        Proof::NotRun => details.extend(
            Cond::from_stored(&previous.conditions)
                .into_iter()
                .filter(|c| c.type_ == ConditionType::ServerConfirmed),
        ),
        _ => details.push(server.0),
    }
    if let Some(check) = &outcome.bot_token {
        details.push(super::bot_token::condition(check));
    }
    let keys = match outcome.applied.keys() {
        Some(keys) => Some(key_status(
            keys,
            config,
            now,
            outcome.renewal.as_ref(),
            previous,
        )),
        None => previous.keys.clone(),
    };
    if config.jwt.renew_bot_tokens {
        match (&outcome.renewal, &keys) {
            (Some(renew), Some(k)) => details.push(super::bot_renewal::condition(
                renew,
                k.key_id.as_deref().unwrap_or_default(),
                k.retired
                    .last()
                    .map(|r| r.expires_at.0.to_string())
                    .as_deref(),
            )),
            _ => details.extend(
                Cond::from_stored(&previous.conditions)
                    .into_iter()
                    .filter(|c| c.type_ == ConditionType::BotTokensRenewed),
            ),
        }
    }
    let mut targets = outcome.targets.clone();
    server::annotate(&mut targets, &outcome.proof);
    details.extend(outcome.verification.conditions.iter().cloned());
    let total = outcome.targets.len();
    let rolled = outcome
        .targets
        .iter()
        .filter(|t| t.phase == TargetPhase::RolledOut)
        .count();
    let facts = OidcSsoConfigStatus {
        provider: outcome.verification.status.clone(),
        keys,
        config_hash: hash.filter(|h| !h.is_empty()),
        secrets: Some(SecretNames {
            auth_env: Some(config.output.auth_env.clone()),
            jwt_keys: Some(config.output.jwt_keys.clone()),
            ingestion: config
                .ingestion
                .as_ref()
                .map(|_| config.output.ingestion.clone()),
        }),
        targets,
        rolled: Some(format!("{rolled}/{total}")),
        ..OidcSsoConfigStatus::default()
    };
    assemble(resource, previous, facts, &summary, details, now)
}

/// The rendering names a confidential client (`OIDC_*`), which no answer of a server shows.
fn confidential(outcome: &Outcome<'_>) -> bool {
    outcome
        .applied
        .rendered()
        .and_then(|r| r.auth_env.data.get("AUTHENTICATION_CLIENT_TYPE"))
        .is_some_and(|v| String::from_utf8_lossy(v).contains("confidential"))
}

/// The status for a configuration problem: the facts and detail conditions stay (they still
/// describe what is deployed), the summary says what is wrong.
pub(crate) fn for_problem(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    problem: &Problem,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let health = if problem.reason.waits_for_another_object() {
        Health::InProgress
    } else {
        Health::Stalled
    };
    let summary = Summary::new(health, problem.reason.reason(), problem.message.clone());
    kept(resource, previous, &summary, now)
}

/// The status after an API call failed: the facts stay, the summary says which step failed and
/// that the operator retries (in progress, not stalled: it may pass by itself).
pub(crate) fn for_api_error(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    reason: Reason,
    message: &str,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let summary = Summary::new(
        Health::InProgress,
        reason,
        format!("{message}; retrying with a growing delay"),
    );
    kept(resource, previous, &summary, now)
}

/// The status of a suspended resource.
pub(crate) fn for_suspended(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let summary = Summary::new(
        Health::Suspended,
        Reason::Suspended,
        "spec.suspend is true: nothing is written or rolled",
    );
    kept(resource, previous, &summary, now)
}

fn kept(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    summary: &Summary,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let details = Cond::from_stored(&previous.conditions)
        .into_iter()
        .filter(|c| !c.type_.is_kstatus())
        .collect();
    assemble(resource, previous, previous.clone(), summary, details, now)
}

fn assemble(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    facts: OidcSsoConfigStatus,
    summary: &Summary,
    mut details: Vec<Cond>,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let generation = resource.metadata.generation;
    details.extend(summary.conditions());
    OidcSsoConfigStatus {
        observed_generation: generation,
        conditions: merge(&previous.conditions, &details, generation, now),
        ..facts
    }
}

fn secrets_condition(rendered: bool) -> Cond {
    if rendered {
        Cond::new(
            ConditionType::SecretsRendered,
            true,
            Reason::Applied,
            "the owned Secrets hold the current rendering",
        )
    } else {
        Cond::new(
            ConditionType::SecretsRendered,
            false,
            Reason::Held,
            "the owned Secrets keep the last verified rendering",
        )
    }
}

/// `WorkloadsUpdated`: held, nothing to roll, rolled out, waiting for a missing target, or rolling.
fn workloads_condition(outcome: &Outcome<'_>, hash: &str) -> Cond {
    let targets = &outcome.targets;
    let total = targets.len();
    let rolled = targets
        .iter()
        .filter(|t| t.phase == TargetPhase::RolledOut)
        .count();
    let missing: Vec<&str> = targets
        .iter()
        .filter(|t| t.phase == TargetPhase::Missing)
        .map(|t| t.name.as_str())
        .collect();
    let cond = |ok, reason, message: String| {
        Cond::new(ConditionType::WorkloadsUpdated, ok, reason, message)
    };
    if outcome.applied.is_held() {
        let why = outcome
            .verification
            .failure
            .as_ref()
            .map_or("the provider checks failed", |f| f.message.as_str());
        cond(
            false,
            Reason::RolloutHeld,
            format!("the changed configuration is not rolled out: {why}"),
        )
    } else if total == 0 {
        cond(true, Reason::NoTargets, "no targets to roll".into())
    } else if rolled == total {
        cond(
            true,
            Reason::RolledOut,
            format!("{total} target(s) run config {}", short(hash)),
        )
    } else if !missing.is_empty() {
        cond(
            false,
            Reason::TargetMissing,
            format!("not found: {}; rolled once it appears", missing.join(", ")),
        )
    } else {
        cond(
            false,
            Reason::RollingOut,
            format!(
                "{rolled}/{total} target(s) rolled out to config {}",
                short(hash)
            ),
        )
    }
}

/// `SettingsLoaded`: whether the targets' pods see what is rendered. Reported, not blocking: the
/// operator cannot change the workloads (and an override can be deliberate).
fn settings_loaded(findings: &[crate::controller::steps::rollout::wiring::Finding]) -> Cond {
    match findings.first() {
        None => Cond::new(
            ConditionType::SettingsLoaded,
            true,
            Reason::Loaded,
            "every target loads the settings Secret last and mounts the keys",
        ),
        Some(first) => Cond::new(
            ConditionType::SettingsLoaded,
            false,
            first.reason(),
            findings
                .iter()
                .map(crate::controller::steps::rollout::wiring::Finding::describe)
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

/// `KeysReady`: where the pair in use came from; a pair that replaced a lost one says so until the
/// next requested rotation, since every token issued before it was invalidated.
fn keys_condition(keys: &KeyState) -> Cond {
    let key_id = keys.keys.key_id();
    match keys.replaced_lost_at {
        Some(at) => Cond::new(
            ConditionType::KeysReady,
            true,
            Reason::RegeneratedAfterLoss,
            format!(
                "key id {key_id}, generated at {at} because the stored key pair was lost (deleted or \
                 unreadable); tokens issued before then are rejected: regenerate the bot tokens"
            ),
        ),
        None => Cond::new(
            ConditionType::KeysReady,
            true,
            keys.origin.reason(),
            format!("key id {key_id}"),
        ),
    }
}

fn key_status(
    keys: &KeyState,
    config: &ValidatedConfig,
    now: Timestamp,
    renewal: Option<&crate::controller::steps::renew::Renew>,
    previous: &OidcSsoConfigStatus,
) -> KeyStatus {
    let notice = KeyState::expiry_notice(config);
    let renewed_before = previous
        .keys
        .as_ref()
        .and_then(|k| k.bot_tokens_renewed_for.as_deref());
    KeyStatus {
        bot_tokens_renewed_for: super::bot_renewal::renewed_for(
            renewal,
            keys.keys.key_id(),
            renewed_before,
        ),
        key_id: Some(keys.keys.key_id().to_string()),
        fingerprint: Some(keys.keys.fingerprint()),
        source: Some(keys.origin.as_str().to_string()),
        created_at: Some(whole_seconds(keys.created_at)),
        next_rotation_at: keys.next_rotation(config).map(whole_seconds),
        retired: keys
            .retired
            .keys()
            .iter()
            .filter_map(|k| {
                let end = Timestamp::from_second(k.exp).ok()?;
                Some(crate::crd::RetiredKeyStatus {
                    key_id: k.kid.clone(),
                    expires_at: Time(end),
                    expiring_soon: end.checked_sub(notice).is_ok_and(|from| from <= now),
                })
            })
            .collect(),
    }
}

/// The first 12 hex digits of a `sha256:` hash, for messages.
pub(crate) fn short(hash: &str) -> &str {
    let end = "sha256:".len() + 12;
    hash.get(..end).unwrap_or(hash)
}

/// A `Time` as the apiserver stores it (RFC 3339, whole seconds). The key timestamps come from
/// annotations with nanoseconds; unrounded, the computed status never equals the stored one and
/// every reconcile (each resync, each restart, each target status change) writes a no-op status.
fn whole_seconds(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}
