//! The reconcile driver. IO happens in `fetch`, `jwt_keys`, `apply`, `rollout` and `status`;
//! `validate` and `render` are pure. User errors end in a condition and an Event and are not
//! retried in a loop; API errors go to `error_policy` and are retried.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use tracing::{info, warn};

use super::apply::{apply_all, cached, differs_from_cache};
use super::events::{publish, transition_events};
use super::status::types;
use super::summary::{Outcome, has, short, success_status, with_kstatus};
use super::{Context, apply, fetch, jwt_keys, rollout, status, verify};
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};
use crate::render::{self};
use crate::validate::{self};

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

    // The referenced inputs and the targets are independent reads: one round trip, not two, on
    // the path from a credential change to the rollout. The targets are those of the spec (what
    // validation keeps of them is a subset).
    let (inputs, mut targets) = futures::try_join!(
        fetch::inputs(&ctx.client, &resource, &namespace),
        fetch::targets(&ctx.client, &namespace, &resource.spec.targets),
    )
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

    targets.retain(|t| config.targets.contains(&t.reference));
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
            let (reason, verb) = match (keys.source, cached_keys.is_some()) {
                // The user's key from spec.jwt.keySecretRef, taken in or replaced.
                (jwt_keys::KeySource::Provided, _) => ("KeysImported", "imported"),
                (jwt_keys::KeySource::Generated, true) => ("KeysRotated", "rotated"),
                (jwt_keys::KeySource::Generated, false) => ("KeysGenerated", "generated"),
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
            info!(workload = %p.reference.name, hash = %rendered.config_hash, "rollout triggered");
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
                // No replica runs the new template yet (what the next watch event confirms).
                s.hash = Some(rendered.config_hash.clone());
                s.rolled_out = false;
                s.updated_replicas = 0;
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
