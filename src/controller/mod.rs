//! The controller: watches `OidcSsoConfig`s and drives each through
//! fetch → validate → keys → render → apply → rollout → status.
//!
//! Watches, and what they cache:
//! - `OidcSsoConfig`: full objects (the controller's own store, used by the mappers below);
//! - Secrets with `app.kubernetes.io/managed-by=oidc-sso-operator`: the only Secrets cached, in
//!   `cache_form` (the stored key pair, and a digest of the rest, which the apply step compares
//!   with what it renders so a steady state writes nothing);
//! - all other Secrets and ConfigMaps: metadata only, never stored, used to trigger the resources
//!   that reference them; their content is read on demand;
//! - Deployments and StatefulSets: whole objects (their rollout state is in `status`), streamed
//!   and not stored (see `triggers`).

mod apply;
mod cache_form;
mod events;
mod fetch;
mod jwt_keys;
#[cfg(test)]
mod mock_tests;
mod reconcile;
mod rollout;
mod status;
mod summary;
mod triggers;
mod verify;
mod watches;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use tokio::sync::Semaphore;

pub use jwt_keys::ROTATE_ANNOTATION;
pub use reconcile::Error;
pub use status::types as condition_types;
pub use watches::{RunError, chain, run};

/// Pod-template annotation carrying the config hash on each target.
pub const ROLLOUT_ANNOTATION: &str = "oidcsso.io/config-hash";

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespace: None,
            resync: Duration::from_secs(30 * 60),
            keygen_parallelism: std::thread::available_parallelism().map_or(2, |n| n.get()),
            concurrency: 16,
            provider_check: crate::oidc::CheckerConfig::default(),
        }
    }
}

/// Shared by every reconcile.
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub settings: Settings,
    /// Owned Secrets (label-selected cache).
    pub owned_secrets: Store<Secret>,
    /// Bounds concurrent key generation to the cores.
    pub keygen: Arc<Semaphore>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Shared, cached provider checks: one fetch per provider per TTL.
    pub checker: crate::oidc::ProviderChecker,
}

impl Context {
    /// A context for `client`.
    pub fn new(
        client: Client,
        settings: Settings,
        owned_secrets: Store<Secret>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "oidc-sso-operator".into(),
                instance: std::env::var("POD_NAME").ok(),
            },
        );
        Self {
            checker: crate::oidc::ProviderChecker::new(settings.provider_check),
            keygen: Arc::new(Semaphore::new(settings.keygen_parallelism.max(1))),
            client,
            recorder,
            settings,
            owned_secrets,
            metrics,
        }
    }
}
