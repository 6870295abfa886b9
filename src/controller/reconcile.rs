//! The reconcile driver. IO happens in `fetch`, `jwt_keys`, `apply`, `rollout` and `status`;
//! `validate` and `render` are pure. User errors end in a condition and an Event and are not
//! retried in a loop; API errors go to `error_policy` and are retried.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use tracing::{info, warn};

use super::status::{Cond, types};
use super::{Context, apply, fetch, jwt_keys, rollout, status, verify};
use crate::crd::{KeyStatus, OidcSsoConfig, OidcSsoConfigStatus, SecretNames};
use crate::objects::owned_secret;
use crate::render::{self, Rendered};
use crate::validate::{self, ValidatedConfig};

/// A failed reconcile step. Messages say which step; the source chain says why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the OidcSsoConfig has no namespace")]
    MissingNamespace,
    #[error("fetch step failed")]
    Fetch(#[source] fetch::Error),
    #[error("keys step failed")]
    Keys(#[source] jwt_keys::Error),
    #[error("apply step failed")]
    Apply(#[source] apply::Error),
    #[error("rollout step failed")]
    Rollout(#[source] rollout::Error),
    #[error("failed to write status")]
    Status(#[source] kube::Error),
}

impl Error {
    /// Bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::MissingNamespace => "missing_namespace",
            Error::Fetch(_) => "fetch",
            Error::Keys(_) => "keys",
            Error::Apply(_) => "apply",
            Error::Rollout(_) => "rollout",
            Error::Status(_) => "status",
        }
    }
}

/// Retry a resource in a loop? Never faster than this while a rollout or an input is pending.
const PENDING_RECHECK: Duration = Duration::from_secs(60);

/// Reconciles one `OidcSsoConfig`.
pub async fn reconcile(resource: Arc<OidcSsoConfig>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = resource.namespace().ok_or(Error::MissingNamespace)?;
    let api: Api<OidcSsoConfig> = Api::namespaced(ctx.client.clone(), &namespace);
    if resource.metadata.deletion_timestamp.is_some() {
        // Owned Secrets go with the resource through ownerReferences; nothing else to undo.
        return Ok(Action::await_change());
    }
    let now = Timestamp::now();
    let previous = resource.status.clone().unwrap_or_default();
    if resource.spec.suspend.unwrap_or(false) {
        let status = with_kstatus(
            &resource,
            &previous,
            false,
            "Suspended",
            "spec.suspend is true: nothing is written or rolled",
            false,
            now,
        );
        status::write(&api, &resource, status)
            .await
            .map_err(Error::Status)?;
        return Ok(Action::await_change());
    }

    let inputs = fetch::inputs(&ctx.client, &resource, &namespace)
        .await
        .map_err(Error::Fetch)?;
    let config = match validate::validate(&resource, &inputs) {
        Ok(config) => config,
        Err(errors) => {
            let reason = errors.reason().as_str();
            return user_error(
                &ctx,
                &api,
                &resource,
                &previous,
                reason,
                &errors.summary(),
                now,
            )
            .await;
        }
    };

    let verification = verify::verify(&ctx.checker, &config, previous.provider.as_ref()).await;
    for c in &verification.conditions {
        let check = if c.type_ == types::PROVIDER_VERIFIED {
            "provider"
        } else {
            "credentials"
        };
        ctx.metrics.provider_check(check, &c.reason);
    }

    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let cached_keys = cached(&ctx, &namespace, &config.output.jwt_keys);
    let rotate_request = resource
        .annotations()
        .get(jwt_keys::ROTATE_ANNOTATION)
        .map(String::as_str);
    let keys = jwt_keys::ensure(
        &config,
        cached_keys.as_deref(),
        secrets.get_opt(&config.output.jwt_keys),
        rotate_request,
        &ctx.keygen,
        now,
    )
    .await;
    let keys = match keys {
        Ok(k) => k,
        Err(jwt_keys::Error::ProvidedKey(e)) => {
            let message = format!("spec.jwt.keySecretRef: {e}");
            return user_error(
                &ctx,
                &api,
                &resource,
                &previous,
                "InvalidKey",
                &message,
                now,
            )
            .await;
        }
        Err(e) => return Err(Error::Keys(e)),
    };

    let rendered = match render::render(&config, &keys.keys, &verification.endpoints) {
        Ok(r) => Some(r),
        // Without the provider, the JWKS URL may be unknown: nothing new can be rendered, and
        // what is deployed stays.
        Err(_) if verification.failure.is_some() => None,
        Err(e) => {
            return user_error(
                &ctx,
                &api,
                &resource,
                &previous,
                "InvalidSpec",
                &e.to_string(),
                now,
            )
            .await;
        }
    };
    // A configuration that changes what the pods consume is rolled out only once the provider
    // checks pass; with an unchanged configuration an outage changes nothing on the workloads.
    let held = verification.failure.is_some()
        && rendered
            .as_ref()
            .is_none_or(|r| differs_from_cache(&ctx, &config, r));
    let rendered = rendered.filter(|_| !held);

    let mut targets = fetch::targets(&ctx.client, &namespace, &config.targets)
        .await
        .map_err(Error::Fetch)?;
    if let Some(rendered) = &rendered {
        match apply_all(&ctx, &secrets, &resource, &config, rendered, &keys).await {
            Ok(()) => {}
            Err(apply::Error::NotOwned { name }) => {
                let message = format!(
                    "Secret {name} already exists and is not owned by this OidcSsoConfig; choose another name in spec.output"
                );
                return user_error(
                    &ctx,
                    &api,
                    &resource,
                    &previous,
                    "SecretNameConflict",
                    &message,
                    now,
                )
                .await;
            }
            Err(e) => return Err(Error::Apply(e)),
        }
        if let Some(why) = keys.changed {
            let (reason, verb) = if cached_keys.is_some() {
                ("KeysRotated", "rotated")
            } else {
                ("KeysGenerated", "generated")
            };
            info!(key_id = keys.keys.key_id(), why, "JWT keys {verb}");
            let note = format!("JWT key pair {verb} ({why}); key id {}", keys.keys.key_id());
            publish(&ctx, &resource, EventType::Normal, reason, note).await;
        }
        let patched = rollout::roll(&ctx.client, &namespace, &targets, &rendered.config_hash)
            .await
            .map_err(Error::Rollout)?;
        for p in &patched {
            ctx.metrics.rollouts.inc();
            info!(target = %p.reference.name, hash = %rendered.config_hash, "rollout triggered");
            let note = format!(
                "{:?} {} rolls onto config {}",
                p.reference.kind,
                p.reference.name,
                short(&rendered.config_hash)
            );
            publish(&ctx, &resource, EventType::Normal, "RolloutTriggered", note).await;
            if let Some(t) = targets.iter_mut().find(|t| t.reference == p.reference)
                && let Some(s) = t.state.as_mut()
            {
                s.hash = Some(rendered.config_hash.clone());
                s.rolled_out = false;
            }
        }
    }

    let deployed_hash = match &rendered {
        Some(r) => Some(r.config_hash.clone()),
        None => previous.config_hash.clone(),
    };
    let progress = rollout::progress(&targets, deployed_hash.as_deref().unwrap_or_default(), held);
    let outcome = Outcome {
        config: &config,
        rendered: rendered.as_ref(),
        keys: if held { None } else { Some(&keys) },
        verification: &verification,
        held,
    };
    let status = success_status(&resource, &previous, &outcome, progress, now);
    let ready = has(&status, types::READY, "True");
    let was_ready = has(&previous, types::READY, "True");
    transition_events(&ctx, &resource, &previous, &verification, held).await;
    status::write(&api, &resource, status)
        .await
        .map_err(Error::Status)?;
    if ready && !was_ready {
        publish(
            &ctx,
            &resource,
            EventType::Normal,
            "Ready",
            "every target runs the current configuration".into(),
        )
        .await;
    }
    let mut next = ctx.settings.resync;
    if !ready {
        next = next.min(PENDING_RECHECK);
    }
    if verification.failure.is_some() {
        // Failed checks are cached for the checker's failure TTL; look again right after it.
        next = next.min(ctx.checker.config().failure_ttl + Duration::from_secs(1));
    } else if config.provider.verify_discovery {
        // Re-check the provider once its cached result expires, so an outage shows in status.
        next = next.min(ctx.checker.config().ttl + Duration::from_secs(1));
    }
    if let Some(at) = keys.next_rotation(&config) {
        let until = at.duration_since(now).as_secs().max(1) as u64;
        next = next.min(Duration::from_secs(until));
    }
    Ok(Action::requeue(next))
}

/// Whether what would be rendered differs from the owned Secrets in the cache (a missing Secret
/// counts as different).
fn differs_from_cache(ctx: &Context, config: &ValidatedConfig, rendered: &Rendered) -> bool {
    [
        (&config.output.auth_env, &rendered.auth_env),
        (&config.output.jwt_keys, &rendered.jwt_keys),
    ]
    .into_iter()
    .any(|(name, payload)| {
        let Some(secret) = cached(ctx, &config.namespace, name) else {
            return true;
        };
        let have: std::collections::BTreeMap<&String, &Vec<u8>> = secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k, &v.0))
            .collect();
        let want: std::collections::BTreeMap<&String, &Vec<u8>> = payload.data.iter().collect();
        have != want
    })
}

fn has(status: &OidcSsoConfigStatus, type_: &str, value: &str) -> bool {
    status
        .conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == value)
}

/// Events for provider checks that start failing, change reason, or recover.
async fn transition_events(
    ctx: &Context,
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    verification: &verify::Verification,
    held: bool,
) {
    for c in &verification.conditions {
        let before = previous.conditions.iter().find(|p| p.type_ == c.type_);
        let changed = before.is_none_or(|b| b.status != c.status || b.reason != c.reason);
        if !changed {
            continue;
        }
        match c.status {
            "False" => {
                let note = if held {
                    format!(
                        "{}; the changed configuration is not rolled out until this passes",
                        c.message
                    )
                } else {
                    c.message.clone()
                };
                publish(ctx, resource, EventType::Warning, &c.reason, note).await;
            }
            "True" if before.is_some_and(|b| b.status == "False") => {
                publish(ctx, resource, EventType::Normal, c.type_, c.message.clone()).await;
            }
            _ => {}
        }
    }
}

fn cached(ctx: &Context, namespace: &str, name: &str) -> Option<Arc<Secret>> {
    ctx.owned_secrets
        .get(&ObjectRef::new(name).within(namespace))
}

async fn apply_all(
    ctx: &Context,
    secrets: &Api<Secret>,
    resource: &OidcSsoConfig,
    config: &ValidatedConfig,
    rendered: &Rendered,
    keys: &jwt_keys::KeyState,
) -> Result<(), apply::Error> {
    let owner = resource.controller_owner_ref(&());
    let owner_uid = resource.uid().unwrap_or_default();
    let name = resource.name_any();
    let mut keys_secret = owned_secret(
        &rendered.jwt_keys,
        "jwt-keys",
        &name,
        &config.namespace,
        owner.clone(),
    );
    keys_secret.metadata.annotations = Some(keys.annotations());
    // Keys first: nothing may refer to a key id before the key is stored.
    let mut desired = vec![
        keys_secret,
        owned_secret(
            &rendered.auth_env,
            "auth-env",
            &name,
            &config.namespace,
            owner.clone(),
        ),
    ];
    if let Some(ingestion) = &rendered.ingestion {
        desired.push(owned_secret(
            ingestion,
            "ingestion",
            &name,
            &config.namespace,
            owner.clone(),
        ));
    }
    for secret in &desired {
        let secret_name = secret.metadata.name.clone().unwrap_or_default();
        let cached = cached(ctx, &config.namespace, &secret_name);
        apply::apply_secret(secrets, secret, cached.as_deref(), &owner_uid).await?;
    }
    if rendered.ingestion.is_none()
        && let Some(stale) = cached(ctx, &config.namespace, &config.output.ingestion)
    {
        // Ingestion was turned off: remove the config this resource rendered before (only ours).
        apply::delete_owned(secrets, &stale, &owner_uid).await?;
    }
    Ok(())
}

async fn user_error(
    ctx: &Context,
    api: &Api<OidcSsoConfig>,
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> Result<Action, Error> {
    warn!(reason, message, "invalid configuration");
    ctx.metrics.failure(static_reason(reason));
    let already = previous
        .conditions
        .iter()
        .any(|c| c.type_ == types::READY && c.reason == reason && c.message == message);
    let status = with_kstatus(resource, previous, false, reason, message, true, now);
    status::write(api, resource, status)
        .await
        .map_err(Error::Status)?;
    if !already {
        publish(
            ctx,
            resource,
            EventType::Warning,
            reason,
            message.to_string(),
        )
        .await;
    }
    // Fixing it takes a change to the resource or to an object it references; both trigger a
    // reconcile through the watches. The slow requeue is only a safety net.
    Ok(Action::requeue(Duration::from_secs(10 * 60)))
}

/// The previous status with Ready/Reconciling/Stalled replaced (detail conditions and observed
/// facts stay: they still describe what is deployed).
fn with_kstatus(
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
struct Outcome<'a> {
    config: &'a ValidatedConfig,
    /// `None` when nothing new was rendered (held, or not renderable while the provider fails).
    rendered: Option<&'a Rendered>,
    /// `None` while held: the keys in use are still the previous ones.
    keys: Option<&'a jwt_keys::KeyState>,
    verification: &'a verify::Verification,
    held: bool,
}

fn success_status(
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
            created_at: Some(Time(keys.created_at)),
            next_rotation_at: keys.next_rotation(config).map(Time),
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

/// The first 12 hex digits of a `sha256:` hash, for messages.
fn short(hash: &str) -> &str {
    let end = "sha256:".len() + 12;
    hash.get(..end).unwrap_or(hash)
}

async fn publish(
    ctx: &Context,
    resource: &OidcSsoConfig,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx
        .recorder
        .publish(&event, &resource.object_ref(&()))
        .await
    {
        warn!(error = %e, "failed to publish Event");
    }
}

/// The user-error reasons as `'static` labels (bounded set).
fn static_reason(reason: &str) -> &'static str {
    [
        "InvalidSpec",
        "InsecureUrl",
        "CredentialsSecretNotFound",
        "InvalidCredentials",
        "ReferenceNotFound",
        "InvalidReference",
        "InvalidKey",
        "SecretNameConflict",
    ]
    .into_iter()
    .find(|r| *r == reason)
    .unwrap_or("Other")
}
