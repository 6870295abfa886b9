//! The reconcile driver: fetch → validate → verify → keys → render → apply → roll → report.
//!
//! Each step is a module of its own; this file only runs them in order. A configuration problem
//! found by any step ends the run through one path ([`Halt::Problem`]): a condition that names the
//! field, a Warning Event once, no write to owned Secrets or targets. API errors end it through
//! the other ([`Halt::Failed`]) and are retried by the controller.

use crate::reasons::Reason;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};
use tracing::{info, warn};

use super::decide::{Decision, decide};
use super::problem::{Problem, ProblemReason};
use super::status::build::{self, Applied, Outcome, short};
use super::status::conditions::{ConditionType, Truth, is};
use super::status::events::{Announcement, publish, transitions};
use super::steps::prove::{self, Proof};
use super::steps::rollout::{self, wiring};
use super::steps::{fetch, ownership};
use super::{Context, status};
use crate::controller::steps::apply::{self, apply_all, cached, differs_from_cache};
use crate::controller::steps::keys::{self as jwt_keys, KeyInputs, KeyOrigin, KeyState};
use crate::controller::steps::rollout::workloads::Target;
use crate::controller::steps::verify::{self, Verification};
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};
use crate::names::annotations;
use crate::proof::version::Release;
use crate::references::References;
use crate::render::{self, Rendered};
use crate::validate::{self, ValidatedConfig};

/// A failed reconcile step. Messages say which step; the source chain says why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The resource has no namespace (never true for a namespaced resource read from the API).
    #[error("the OidcSsoConfig has no namespace")]
    MissingNamespace,
    /// Reading a referenced object or a target failed.
    #[error("fetch step failed")]
    Fetch(#[source] fetch::Error),
    /// Reading or generating the key pair failed.
    #[error("keys step failed")]
    Keys(#[source] jwt_keys::Error),
    /// Writing an owned Secret failed.
    #[error("apply step failed")]
    Apply(#[source] apply::Error),
    /// Patching a target failed.
    #[error("rollout step failed")]
    Rollout(#[source] rollout::Error),
    /// Listing the server pods to ask failed.
    #[error("server proof step failed")]
    Prove(#[source] prove::Error),
    /// Reading or creating the bot-token renewal Job failed.
    #[error("bot-token renewal step failed")]
    Renew(#[source] super::steps::renew::Error),
    /// Writing the status failed.
    #[error("failed to write status")]
    Status(#[source] kube::Error),
}

impl Error {
    /// The condition reason that reports it: CamelCase, bounded.
    pub fn reason(&self) -> Reason {
        match self {
            Error::MissingNamespace => Reason::InvalidObject,
            Error::Fetch(_) => Reason::ReadFailed,
            Error::Keys(_) => Reason::KeysFailed,
            Error::Apply(_) => Reason::ApplyFailed,
            Error::Rollout(_) => Reason::RolloutFailed,
            Error::Prove(_) => Reason::ProofFailed,
            Error::Renew(_) => Reason::RenewalFailed,
            Error::Status(_) => Reason::StatusWriteFailed,
        }
    }

    /// Bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::MissingNamespace => "missing_namespace",
            Error::Fetch(_) => "fetch",
            Error::Keys(_) => "keys",
            Error::Apply(_) => "apply",
            Error::Rollout(_) => "rollout",
            Error::Prove(_) => "prove",
            Error::Renew(_) => "renew",
            Error::Status(_) => "status",
        }
    }
}

/// How often a running bot-token renewal Job is read.
const RENEWAL_POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a run ended before the report.
enum Halt {
    /// The configuration cannot be reconciled as it is.
    Problem(Problem),
    /// An API call failed; the controller retries.
    Failed(Error),
}

impl From<Problem> for Halt {
    fn from(p: Problem) -> Self {
        Halt::Problem(p)
    }
}

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        Halt::Failed(e)
    }
}

/// While a rollout or an input is pending, look again at least this often.
const PENDING_RECHECK: Duration = Duration::from_secs(60);
/// A configuration problem is fixed by a change the watches see; this is only a safety net.
const PROBLEM_RECHECK: Duration = Duration::from_secs(10 * 60);

/// Reconciles one `OidcSsoConfig`.
pub(super) async fn reconcile(
    resource: Arc<OidcSsoConfig>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let namespace = resource.namespace().ok_or(Error::MissingNamespace)?;
    if resource.metadata.deletion_timestamp.is_some() {
        // Owned Secrets go with the resource through ownerReferences; nothing else to undo.
        return Ok(Action::await_change());
    }
    let run = Run {
        api: Api::namespaced(ctx.client.clone(), &namespace),
        secrets: Api::namespaced(ctx.client.clone(), &namespace),
        // Our last write if the store has not seen it yet: what the server holds.
        previous: ctx
            .memory
            .previous_status(&resource)
            .or_else(|| resource.status.clone())
            .unwrap_or_default(),
        now: ctx.clock.now(),
        ctx: &ctx,
        resource: &resource,
        namespace,
    };
    if resource.spec.suspend.unwrap_or(false) {
        let status = build::for_suspended(run.resource, &run.previous, run.now);
        run.write(&status).await?;
        return Ok(Action::await_change());
    }
    match run.steps().await {
        Ok(action) => Ok(action),
        Err(Halt::Problem(problem)) => run.problem(problem).await,
        Err(Halt::Failed(error)) => {
            run.failed(&error).await;
            Err(error)
        }
    }
}

/// One reconcile of one resource.
struct Run<'a> {
    ctx: &'a Context,
    resource: &'a OidcSsoConfig,
    namespace: String,
    api: Api<OidcSsoConfig>,
    secrets: Api<Secret>,
    previous: OidcSsoConfigStatus,
    now: Timestamp,
}

impl Run<'_> {
    async fn steps(&self) -> Result<Action, Halt> {
        let client = &self.ctx.client;
        let references = References::of(&self.resource.spec);
        // The referenced inputs and the targets are independent reads: one round trip, not two,
        // on the path from a credential change to the rollout.
        let (inputs, targets) = futures::try_join!(
            fetch::inputs(client, &self.namespace, &references),
            fetch::targets(
                client,
                &self.namespace,
                &self.resource.spec.targets,
                &self.ctx.memory,
            ),
        )
        .map_err(Error::Fetch)?;
        let config = validate::validate(self.resource, &inputs).map_err(Problem::from)?;
        let others = self.ctx.resources.state();
        let conflicts = ownership::conflicts(
            self.resource,
            &config.targets,
            others.iter().map(AsRef::as_ref),
        );
        if !conflicts.is_empty() {
            return Err(Halt::Problem(Problem::new(
                ProblemReason::TargetConflict,
                ownership::message(&conflicts),
            )));
        }
        let verification = self.verify(&config).await;
        let stored_keys = cached(self.ctx, &self.namespace, &config.output.jwt_keys);
        let keys = self.keys(&config, stored_keys.as_deref()).await?;
        let bot_token =
            config.ingestion.as_ref().and_then(|i| match &i.bot_token {
                crate::validate::BotToken::Value(token) => Some(
                    crate::keys::token::check_bot_token(token.expose(), &keys.keys, &keys.retired),
                ),
                crate::validate::BotToken::EnvVar(_) => None,
            });
        let decision = self.render(&config, &keys, &verification)?;
        let rendered = match &decision {
            Decision::Apply(r) => Some(r.as_ref()),
            Decision::Held => None,
        };
        let mut targets: Vec<Target> = targets
            .into_iter()
            .filter(|t| config.targets.contains(&t.reference))
            .collect();
        if let Some(rendered) = rendered {
            apply_all(
                self.ctx,
                &self.secrets,
                self.resource,
                &config,
                rendered,
                &keys,
                super::status::bot_token::accepted(bot_token.as_ref()),
            )
            .await
            .map_err(|e| match e {
                apply::Error::NotOwned { .. } => Halt::Problem(Problem::new(
                    ProblemReason::SecretNameConflict,
                    e.to_string(),
                )),
                e => Halt::Failed(Error::Apply(e)),
            })?;
            self.announce_keys(&keys, stored_keys.is_some()).await;
            self.roll(&mut targets, rendered).await?;
        }
        let hash = rendered
            .map(|r| r.config_hash.clone())
            .or_else(|| self.previous.config_hash.clone());
        let wiring = rendered.map(|r| {
            let expected = wiring::Expected {
                settings_secret: &config.output.auth_env,
                variables: r.auth_env.data.keys().map(String::as_str).collect(),
                keys_secret: &config.output.jwt_keys,
                key_mount_path: &config.server.key_mount_path,
                running: self
                    .previous
                    .targets
                    .iter()
                    .filter_map(|t| {
                        let release = Release::parse(t.server_version.as_deref()?)?;
                        let target = crate::crd::TargetRef {
                            kind: t.kind,
                            name: t.name.clone(),
                        };
                        Some((target.to_string(), release))
                    })
                    .collect(),
            };
            wiring::check(
                targets
                    .iter()
                    .filter_map(rollout::workloads::Target::wiring),
                &expected,
            )
        });
        let applied = match rendered {
            Some(rendered) => Applied::Applied {
                rendered,
                keys: &keys,
            },
            None => Applied::Held,
        };
        let held = applied.is_held();
        let progress = rollout::progress(&targets, hash.as_deref().unwrap_or_default(), held);
        let proof = self
            .prove(&config, rendered, &keys, &targets, &progress)
            .await?;
        let renewal = match (config.jwt.renew_bot_tokens, rendered) {
            (true, Some(_)) => self.renew(&config, &keys, &targets, &proof).await?,
            _ => None,
        };
        let outcome = Outcome {
            renewal,
            config: &config,
            applied,
            verification: &verification,
            targets: progress,
            wiring,
            proof,
            bot_token,
        };
        let status = build::for_outcome(self.resource, &self.previous, &outcome, self.now);
        let announcements = transitions(&self.previous, &status, None, held);
        self.write(&status).await?;
        publish(&self.ctx.recorder, self.resource, &announcements).await;
        let ready = is(&status.conditions, ConditionType::Ready, Truth::True);
        let mut next = self.next_check(&config, &keys, &verification, ready);
        match &outcome.renewal {
            // The Jobs are followed by polling (Jobs are not watched): a renewal takes minutes.
            Some(super::steps::renew::Renew::Running { .. }) => next = next.min(RENEWAL_POLL),
            Some(super::steps::renew::Renew::Waiting { until }) => {
                let left = self.now.duration_until(*until).unsigned_abs();
                next = next.min(left + Duration::from_secs(1));
            }
            _ => {}
        }
        if let Proof::Asked(results) = &outcome.proof {
            // A pod still starting to answer is asked again soon, not at the next recheck.
            if let Some(retry) = results.iter().filter_map(|r| r.retry_in).min() {
                next = next.min(retry);
            }
        }
        Ok(Action::requeue(next))
    }

    /// Asks the server pods once every target is rolled out onto `rendered`.
    async fn prove(
        &self,
        config: &ValidatedConfig,
        rendered: Option<&Rendered>,
        keys: &KeyState,
        targets: &[Target],
        progress: &[crate::crd::TargetStatus],
    ) -> Result<Proof, Error> {
        if !self.ctx.settings.server_proof {
            return Ok(Proof::Off { by_operator: true });
        }
        let Some(port) = config.server.proof_port else {
            return Ok(Proof::Off { by_operator: false });
        };
        let Some(rendered) = rendered else {
            return Ok(Proof::NotRun);
        };
        if progress
            .iter()
            .any(|t| t.phase != crate::crd::TargetPhase::RolledOut)
        {
            return Ok(Proof::AwaitingRollout);
        }
        let asker = self
            .ctx
            .pod_asker
            .as_ref()
            .ok_or(Error::Prove(prove::Error::NoClient))?;
        let key = crate::proof::jwks::ExpectedKey::of(&keys.keys);
        let ask = prove::Ask {
            asker,
            port,
            rendered,
            key: &key,
            now: self.now,
        };
        prove::prove(&self.ctx.client, &self.namespace, targets, ask)
            .await
            .map(Proof::Asked)
            .map_err(Error::Prove)
    }

    /// Renews the bot tokens once every pod proves the current key (`renewBotTokens`).
    async fn renew(
        &self,
        config: &ValidatedConfig,
        keys: &KeyState,
        targets: &[Target],
        proof: &Proof,
    ) -> Result<Option<super::steps::renew::Renew>, Error> {
        let references: Vec<crate::crd::TargetRef> =
            targets.iter().map(|t| t.reference.clone()).collect();
        super::steps::renew::renew(super::steps::renew::Inputs {
            client: &self.ctx.client,
            resource: self.resource,
            namespace: &self.namespace,
            key_id: keys.keys.key_id(),
            renewed_for: self
                .previous
                .keys
                .as_ref()
                .and_then(|k| k.bot_tokens_renewed_for.as_deref()),
            settings_secret: &config.output.auth_env,
            targets: &references,
            proof,
            operator_allows: self.ctx.settings.bot_token_renewal,
            now: self.now,
        })
        .await
        .map_err(Error::Renew)
    }

    async fn verify(&self, config: &ValidatedConfig) -> Verification {
        let on_done = self.ctx.recheck(ObjectRef::from_obj(self.resource));
        let verification = verify::verify(
            &self.ctx.checker,
            config,
            self.previous.provider.as_ref(),
            on_done,
        )
        .await;
        for c in &verification.conditions {
            if let Some(check) = c.type_.check_label() {
                self.ctx.metrics.provider_check(check, &c.reason);
            }
        }
        verification
    }

    async fn keys(
        &self,
        config: &ValidatedConfig,
        stored: Option<&Secret>,
    ) -> Result<KeyState, Halt> {
        let inputs = KeyInputs {
            config,
            stored,
            previous_secret: None,
            in_use: self.previous.keys.as_ref(),
            rotate_request: self
                .resource
                .annotations()
                .get(annotations::ROTATE_JWT_KEYS)
                .map(String::as_str),
            now: self.now,
        };
        // Where the status says the keys were written, in case the output name changed since.
        let previous_name = self
            .previous
            .secrets
            .as_ref()
            .and_then(|s| s.jwt_keys.as_deref());
        jwt_keys::ensure(inputs, previous_name, &self.secrets, &self.ctx.keygen)
            .await
            .map_err(|e| match e {
                jwt_keys::Error::ProvidedKey(e) => Halt::Problem(Problem::new(
                    ProblemReason::InvalidKey,
                    format!("spec.jwt.keySecretRef: {e}"),
                )),
                e => Halt::Failed(Error::Keys(e)),
            })
    }

    /// Renders, and decides whether the rendering may be rolled out: a configuration that changes
    /// what the pods consume is rolled out only once the provider checks pass; with an unchanged
    /// configuration an outage changes nothing on the workloads.
    fn render(
        &self,
        config: &ValidatedConfig,
        keys: &KeyState,
        verification: &Verification,
    ) -> Result<Decision, Problem> {
        decide(
            render::render(config, &keys.keys, &verification.endpoints)
                .map(|r| r.with_retired(&keys.retired)),
            verification.failure.is_some(),
            |r| differs_from_cache(self.ctx, config, r),
        )
        .map_err(|e| Problem::new(ProblemReason::InvalidSpec, e.to_string()))
    }

    async fn announce_keys(&self, keys: &KeyState, had_stored: bool) {
        let Some(change) = keys.changed else { return };
        let key_id = keys.keys.key_id();
        let announcement = if change.requested {
            let (reason, verb) = match (keys.origin, had_stored) {
                // The user's key from spec.jwt.keySecretRef, taken in or replaced.
                (KeyOrigin::Provided, _) => (Reason::KeysImported, "imported"),
                (KeyOrigin::Generated, true) => (Reason::KeysRotated, "rotated"),
                (KeyOrigin::Generated, false) => (Reason::KeysGenerated, "generated"),
            };
            info!(key_id, why = change.why, "JWT keys {verb}");
            // The pair it replaced, when one stays valid for the grace period.
            let previous = keys
                .retired
                .keys()
                .last()
                .filter(|_| had_stored)
                .and_then(|k| Some((k.kid.clone(), Timestamp::from_second(k.exp).ok()?)));
            let window = match previous {
                Some((kid, until)) => format!(
                    "; tokens signed by the previous key {kid} keep working until {until} \
                     (spec.jwt.rotation.gracePeriod): renew them before (docs/rotating-keys.md)"
                ),
                None if had_stored => "; tokens signed by the previous key are now rejected (no \
                                       grace period): renew them (docs/rotating-keys.md)"
                    .to_string(),
                None => String::new(),
            };
            Announcement::normal(
                reason,
                format!(
                    "JWT key pair {verb} ({}); key id {key_id}{window}",
                    change.why
                ),
            )
        } else {
            warn!(
                key_id,
                why = change.why,
                "JWT keys replaced without being asked"
            );
            Announcement::warning(
                Reason::KeysRegenerated,
                format!(
                    "{}; a new key pair was generated (key id {key_id}): every token the server \
                     issued before is now rejected, regenerate the bot tokens",
                    change.why
                ),
            )
        };
        publish(&self.ctx.recorder, self.resource, &[announcement]).await;
    }

    /// Puts the config hash on every target that lacks it, and records that none of their
    /// replicas runs it yet (what the next watch event confirms), in the watch memory before the
    /// patches so that their watch events are no news.
    async fn roll(&self, targets: &mut [Target], rendered: &Rendered) -> Result<(), Error> {
        let hash = &rendered.config_hash;
        let mut rolling = targets.to_vec();
        rollout::mark_started(&mut rolling, hash);
        self.ctx
            .memory
            .expect_targets(self.resource, rollout::progress(&rolling, hash, false));
        let patched = rollout::roll(&self.ctx.client, &self.namespace, targets, hash)
            .await
            .map_err(Error::Rollout)?;
        targets.clone_from_slice(&rolling);
        let mut announcements = Vec::new();
        for p in &patched {
            self.ctx.metrics.rollouts.inc();
            info!(workload = %p.reference.name, hash = %hash, "rollout triggered");
            announcements.push(Announcement::normal(
                Reason::RolloutTriggered,
                format!("{} rolls onto config {}", p.reference, short(hash)),
            ));
        }
        publish(&self.ctx.recorder, self.resource, &announcements).await;
        Ok(())
    }

    /// When to look again: the resync, sooner while something is pending, right after a cached
    /// provider result expires, and at the next key rotation.
    fn next_check(
        &self,
        config: &ValidatedConfig,
        keys: &KeyState,
        verification: &Verification,
        ready: bool,
    ) -> Duration {
        let checker = self.ctx.checker.config();
        let mut next = self.ctx.settings.resync;
        if !ready {
            next = next.min(PENDING_RECHECK);
        }
        if verification.failure.is_some() {
            next = next.min(checker.failure_ttl + Duration::from_secs(1));
        } else if config.provider.verify_discovery {
            // Re-check the provider once its cached result expires, so an outage shows in status.
            next = next.min(checker.ttl + Duration::from_secs(1));
        }
        if let Some(at) = keys.next_retired_change(config, self.now) {
            let until = at.duration_since(self.now).as_secs().max(1).unsigned_abs();
            next = next.min(Duration::from_secs(until));
        }
        if let Some(at) = keys.next_rotation(config) {
            let until = at.duration_since(self.now).as_secs().max(1).unsigned_abs();
            next = next.min(Duration::from_secs(until));
        }
        next
    }

    async fn problem(&self, problem: Problem) -> Result<Action, Error> {
        let reason = problem.reason.reason();
        warn!(reason = reason.as_str(), message = %problem.message, "invalid configuration");
        self.ctx.metrics.failure(reason.as_str());
        let status = build::for_problem(self.resource, &self.previous, &problem, self.now);
        let announcements = transitions(&self.previous, &status, Some(&problem), false);
        self.write(&status).await?;
        publish(&self.ctx.recorder, self.resource, &announcements).await;
        Ok(Action::requeue(PROBLEM_RECHECK))
    }

    /// Best effort: an API call failed (the controller retries with a growing delay); the status
    /// says which step and why, so a forbidden read or a refused write does not go unseen.
    async fn failed(&self, error: &Error) {
        if matches!(error, Error::Status(_)) {
            return;
        }
        let status = build::for_api_error(
            self.resource,
            &self.previous,
            error.reason(),
            &crate::errors::chain(error),
            self.now,
        );
        if let Err(e) = self.write(&status).await {
            warn!(error = %crate::errors::chain(&e), "failed to report the failed step in status");
        }
    }

    async fn write(&self, status: &OidcSsoConfigStatus) -> Result<bool, Error> {
        status::write(&self.api, self.resource, status, &self.ctx.memory)
            .await
            .map_err(Error::Status)
    }
}
