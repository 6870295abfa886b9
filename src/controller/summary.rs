//! Summary: the status written after a reconcile, built from what the steps produced. Pure.
//!
//! Ready/Reconciling/Stalled follow kstatus: Ready only when the provider checks pass and every
//! target runs the current configuration; Stalled when only a change by the user can help.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::status::{self, Cond, types};
use super::{jwt_keys, verify};
use crate::crd::{KeyStatus, OidcSsoConfig, OidcSsoConfigStatus, SecretNames};
use crate::render::Rendered;
use crate::validate::ValidatedConfig;

/// The previous status with Ready/Reconciling/Stalled replaced (detail conditions and observed
/// facts stay: they still describe what is deployed).
pub(super) fn with_kstatus(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    ready: bool,
    reason: &str,
    message: &str,
    stalled: bool,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let generation = resource.metadata.generation;
    let mut decided = vec![
        Cond::new(types::READY, ready, reason, message),
        Cond::new(types::RECONCILING, false, reason, message),
        Cond::new(
            types::STALLED,
            stalled,
            reason,
            if stalled { message } else { "" },
        ),
    ];
    for c in &previous.conditions {
        if ![types::READY, types::RECONCILING, types::STALLED].contains(&c.type_.as_str()) {
            let type_: &'static str = detail_type(&c.type_);
            decided.push(Cond {
                type_,
                status: match c.status.as_str() {
                    "True" => "True",
                    "False" => "False",
                    _ => "Unknown",
                },
                reason: c.reason.clone(),
                message: c.message.clone(),
            });
        }
    }
    let mut status = previous.clone();
    status.observed_generation = generation;
    status.conditions = status::conditions(&previous.conditions, &decided, generation, now);
    status
}

fn detail_type(t: &str) -> &'static str {
    [
        types::SECRETS_RENDERED,
        types::KEYS_READY,
        types::WORKLOADS_UPDATED,
        types::PROVIDER_VERIFIED,
        types::CREDENTIALS_VALID,
    ]
    .into_iter()
    .find(|k| *k == t)
    .unwrap_or(types::SECRETS_RENDERED)
}

/// What one reconcile produced, for the status.
pub(super) struct Outcome<'a> {
    pub config: &'a ValidatedConfig,
    /// `None` when nothing new was rendered (held, or not renderable while the provider fails).
    pub rendered: Option<&'a Rendered>,
    /// `None` while held: the keys in use are still the previous ones.
    pub keys: Option<&'a jwt_keys::KeyState>,
    pub verification: &'a verify::Verification,
    pub held: bool,
}

pub(super) fn success_status(
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    outcome: &Outcome<'_>,
    targets: Vec<crate::crd::TargetStatus>,
    now: Timestamp,
) -> OidcSsoConfigStatus {
    let config = outcome.config;
    let generation = resource.metadata.generation;
    let hash = outcome
        .rendered
        .map(|r| r.config_hash.clone())
        .or_else(|| previous.config_hash.clone())
        .unwrap_or_default();
    let total = targets.len();
    let rolled = targets.iter().filter(|t| t.phase == "RolledOut").count();
    let missing: Vec<&str> = targets
        .iter()
        .filter(|t| t.phase == "Missing")
        .map(|t| t.name.as_str())
        .collect();
    let (workloads_ok, w_reason, w_message) = if outcome.held {
        let f = outcome.verification.failure.as_ref();
        (
            false,
            "RolloutHeld",
            format!(
                "the changed configuration is not rolled out: {}",
                f.map_or("the provider checks failed", |f| f.message.as_str())
            ),
        )
    } else if total == 0 {
        (true, "NoTargets", "no targets to roll".to_string())
    } else if rolled == total {
        (
            true,
            "RolledOut",
            format!("{total} target(s) run config {}", short(&hash)),
        )
    } else if !missing.is_empty() {
        (
            false,
            "TargetMissing",
            format!("not found: {}; rolled once it appears", missing.join(", ")),
        )
    } else {
        (
            false,
            "RollingOut",
            format!(
                "{rolled}/{total} target(s) rolled out to config {}",
                short(&hash)
            ),
        )
    };
    let failure = outcome.verification.failure.as_ref();
    let (ready, reason, message) = match failure {
        Some(f) if outcome.held => (false, f.reason, w_message.clone()),
        Some(f) => (false, f.reason, f.message.clone()),
        None if workloads_ok => (
            true,
            "Reconciled",
            "the rendered configuration is applied and rolled out".to_string(),
        ),
        None => (false, w_reason, w_message.clone()),
    };
    let stalled = failure.is_some_and(|f| !f.transient);
    let reconciling = !ready && !stalled;
    let mut decided = vec![
        Cond::new(types::READY, ready, reason, message.clone()),
        Cond::new(
            types::RECONCILING,
            reconciling,
            reason,
            if reconciling {
                message.clone()
            } else {
                String::new()
            },
        ),
        Cond::new(
            types::STALLED,
            stalled,
            if stalled { reason } else { "Reconciled" },
            if stalled { message } else { String::new() },
        ),
    ];
    if outcome.rendered.is_some() {
        decided.push(Cond::new(
            types::SECRETS_RENDERED,
            true,
            "Applied",
            "the owned Secrets hold the current rendering",
        ));
    } else {
        decided.push(Cond::new(
            types::SECRETS_RENDERED,
            false,
            "Held",
            "the owned Secrets keep the last verified rendering",
        ));
    }
    match outcome.keys {
        Some(keys) => decided.push(Cond::new(
            types::KEYS_READY,
            true,
            keys.source.as_str(),
            format!("key id {}", keys.keys.key_id()),
        )),
        None => {
            if let Some(c) = previous
                .conditions
                .iter()
                .find(|c| c.type_ == types::KEYS_READY)
            {
                decided.push(Cond::new(
                    types::KEYS_READY,
                    c.status == "True",
                    c.reason.clone(),
                    c.message.clone(),
                ));
            }
        }
    }
    decided.push(Cond::new(
        types::WORKLOADS_UPDATED,
        workloads_ok,
        w_reason,
        w_message,
    ));
    decided.extend(outcome.verification.conditions.iter().cloned());
    let keys_status = match outcome.keys {
        Some(keys) => Some(KeyStatus {
            key_id: Some(keys.keys.key_id().to_string()),
            fingerprint: Some(keys.keys.fingerprint()),
            source: Some(keys.source.as_str().to_string()),
            created_at: Some(whole_seconds(keys.created_at)),
            next_rotation_at: keys.next_rotation(config).map(whole_seconds),
        }),
        None => previous.keys.clone(),
    };
    OidcSsoConfigStatus {
        observed_generation: generation,
        conditions: status::conditions(&previous.conditions, &decided, generation, now),
        provider: outcome.verification.status.clone(),
        keys: keys_status,
        config_hash: if hash.is_empty() { None } else { Some(hash) },
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
    }
}

pub(super) fn has(status: &OidcSsoConfigStatus, type_: &str, value: &str) -> bool {
    status
        .conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == value)
}

/// The first 12 hex digits of a `sha256:` hash, for messages.
pub(super) fn short(hash: &str) -> &str {
    let end = "sha256:".len() + 12;
    hash.get(..end).unwrap_or(hash)
}

/// A `Time` as the apiserver stores it (RFC 3339, whole seconds). The key timestamps come from
/// annotations with nanoseconds; unrounded, the computed status never equals the stored one and
/// every reconcile (each resync, each restart, each target status change) writes a no-op status.
fn whole_seconds(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}
