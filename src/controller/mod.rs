//! The controller: watches `OidcSsoConfig`s and drives each through the steps of its reconcile
//! (`reconcile.rs`): fetch → validate → verify → keys → render → apply → roll → report.
//!
//! Three rooms: the driver (`reconcile.rs`, `runner.rs`, `problem.rs`) and the status it reports
//! (`status/`); the steps it runs, each doing its own IO (`steps/`); the watch plumbing and its
//! memory of our own writes and of what the watches delivered (`watch/`, the memory and its one
//! invariant in `watch/memory/`).
//!
//! Watches, and what they cache (see `watch/mod.rs`):
//! - `OidcSsoConfig`: full objects (the controller's own store, used by the mappers);
//! - Secrets with `app.kubernetes.io/managed-by=oidc-sso-operator`: the only Secrets cached, in
//!   `cache_form` (the stored key pair, and a digest of the rest, which the apply step compares
//!   with what it renders so a steady state writes nothing);
//! - all other Secrets and ConfigMaps: metadata only, never stored, used to trigger the resources
//!   that reference them; their content is read on demand;
//! - Deployments and StatefulSets: whole objects (their rollout state is in `status`), streamed;
//!   of those some resource rolls, the rollout state is kept (`watch/memory/targets.rs`), the rest
//!   is not stored (see `triggers`).

mod clock;
mod decide;
#[cfg(test)]
mod mock_tests;
mod problem;
mod reconcile;
mod runner;
mod status;
pub(crate) mod steps;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender};
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::Semaphore;

use crate::crd::OidcSsoConfig;

pub use reconcile::Error;
pub use runner::{RunError, run};

/// Operator settings, read once at start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch only this namespace (namespaced mode); `None` watches all.
    pub namespace: Option<String>,
    /// Re-reconcile a healthy resource this often (reads only; writes happen only on change).
    pub resync: Duration,
    /// Key pairs generated at once; defaults to the number of cores.
    pub keygen_parallelism: usize,
    /// Reconciles running at once.
    pub concurrency: u16,
    /// How long provider check results are reused (successes, then failures).
    pub provider_check: crate::oidc::CheckerConfig,
    /// This replica's name (the pod name), reported as the instance of its Events.
    pub instance: Option<String>,
    /// Ask the server pods whether they run the rendering (`spec.server.proof`); `false` turns
    /// the proof off for every resource (for an operator that cannot reach the pods, or a test
    /// cluster whose pods have no process behind them).
    pub server_proof: bool,
    /// Run the bot-token renewal Jobs resources ask for (`spec.jwt.rotation.renewBotTokens`);
    /// `false` (the default) refuses them: creating Jobs is a right the operator only has when its
    /// installation grants it.
    pub bot_token_renewal: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespace: None,
            resync: Duration::from_secs(30 * 60),
            keygen_parallelism: std::thread::available_parallelism()
                .map_or(2, std::num::NonZero::get),
            concurrency: 16,
            provider_check: crate::oidc::CheckerConfig::default(),
            instance: None,
            server_proof: true,
            bot_token_renewal: false,
        }
    }
}

/// Shared by every reconcile.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// Publishes Events about `OidcSsoConfig`s.
    pub recorder: Recorder,
    /// The operator settings.
    pub settings: Settings,
    /// Owned Secrets (label-selected cache).
    pub owned_secrets: Store<Secret>,
    /// Every `OidcSsoConfig` (the controller's own store), to decide who owns a shared target.
    pub resources: Store<OidcSsoConfig>,
    /// Bounds concurrent key generation to the cores.
    pub keygen: Arc<Semaphore>,
    /// Prometheus metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Shared, cached provider checks: one fetch per provider per TTL.
    pub checker: crate::oidc::ProviderChecker,
    /// What this process wrote and what the watches delivered: statuses the store may not hold
    /// yet, owned Secrets whose event has not come back, the targets' last states.
    pub(crate) memory: Arc<watch::memory::WatchMemory>,
    /// Consecutive failed reconciles per resource, for the retry backoff.
    failures: std::sync::Mutex<std::collections::HashMap<ObjectRef<OidcSsoConfig>, u32>>,
    /// Resources whose provider check ended in the background, to reconcile again.
    rechecks: UnboundedSender<ObjectRef<OidcSsoConfig>>,
    rechecks_due: std::sync::Mutex<Option<UnboundedReceiver<ObjectRef<OidcSsoConfig>>>>,
    /// Where reconciles read the time.
    pub(crate) clock: clock::Clock,
    /// Asks server pods for the proof (`None`: its HTTP client could not be built, reported in
    /// `ServerConfirmed`).
    pub(crate) pod_asker: Option<crate::proof::ask::PodAsker>,
}

impl Context {
    /// A context for `client`.
    pub fn new(
        client: Client,
        settings: Settings,
        owned_secrets: Store<Secret>,
        resources: Store<OidcSsoConfig>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: crate::names::OPERATOR.into(),
                instance: settings.instance.clone(),
            },
        );
        let (rechecks, rechecks_due) = futures::channel::mpsc::unbounded();
        Self {
            checker: crate::oidc::ProviderChecker::new(settings.provider_check.clone()),
            keygen: Arc::new(Semaphore::new(settings.keygen_parallelism.max(1))),
            client,
            recorder,
            settings,
            owned_secrets,
            resources,
            metrics,
            failures: std::sync::Mutex::default(),
            memory: Arc::default(),
            rechecks,
            rechecks_due: std::sync::Mutex::new(Some(rechecks_due)),
            clock: clock::Clock::default(),
            pod_asker: crate::proof::ask::PodAsker::new(steps::prove::REQUEST_TIMEOUT)
                .inspect_err(|e| {
                    tracing::error!(error = %crate::errors::chain(e), "cannot build the server proof's HTTP client");
                })
                .ok(),
        }
    }

    /// A callback for the provider checker: reconcile `resource` again when its check ends.
    pub(crate) fn recheck(
        &self,
        resource: ObjectRef<OidcSsoConfig>,
    ) -> impl FnOnce() + Send + 'static {
        let rechecks = self.rechecks.clone();
        move || {
            let _ = rechecks.unbounded_send(resource);
        }
    }

    /// The stream of resources to reconcile again (once; the controller takes it).
    pub(crate) fn take_rechecks(&self) -> Option<UnboundedReceiver<ObjectRef<OidcSsoConfig>>> {
        self.rechecks_due
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Records a failed reconcile of `resource`; returns how long to wait before the next try:
    /// 5 s, doubling with each consecutive failure, at most 5 minutes.
    pub fn failed(&self, resource: ObjectRef<OidcSsoConfig>) -> Duration {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = failures.entry(resource).or_default();
        *count = count.saturating_add(1);
        retry_delay(*count)
    }

    /// Records a reconcile of `resource` that got through.
    pub fn succeeded(&self, resource: &ObjectRef<OidcSsoConfig>) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(resource);
    }
}

/// The delay before retry number `failures`.
fn retry_delay(failures: u32) -> Duration {
    const FIRST: Duration = Duration::from_secs(5);
    const MAX: Duration = Duration::from_secs(300);
    FIRST
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_five_minutes() {
        let delays: Vec<u64> = (1..=9).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(retry_delay(u32::MAX), Duration::from_secs(300));
    }
}
