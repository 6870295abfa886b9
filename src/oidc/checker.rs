//! `ProviderChecker`: the shared, cached, single-flight front of the checks.
//!
//! Two caches, because they have different keys:
//! - provider documents (discovery + JWKS), keyed by what decides which documents are fetched
//!   and how: issuer, discovery/JWKS URL overrides, trust roots. Scopes, response type and
//!   accepted algorithms are evaluated per call on the cached documents, so every resource that
//!   uses one provider shares one fetch per TTL whatever else it configures;
//! - credential grants, keyed by the provider key plus client id, a SHA-256 of the secret (the
//!   secret itself is never a map key), auth method and grant scopes.
//!
//! Single flight: each key has an async mutex held while fetching, so N concurrent callers for a
//! key cause one fetch and then all read its result. A cancelled caller releases the mutex and
//! the next waiter fetches instead. Failures are cached for a shorter TTL so an outage does not
//! turn every reconcile into a request storm, yet recovery is noticed soon.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::cache_key::{CredentialsKey, ProviderKey};
use super::discovery::{self, ProviderDocs};
use super::error::CheckError;
use super::outcome::{CheckOutcome, CredentialsOutcome, SkipReason};
use super::request::CheckRequest;
use super::singleflight::SingleFlight;
use super::stats::{CheckerStats, Counters};
use super::{evaluate, grant};

/// Cache settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckerConfig {
    /// How long a successful result is reused.
    pub ttl: Duration,
    /// How long a failed result is reused (shorter, so recovery is seen soon).
    pub failure_ttl: Duration,
    /// Above this many keys, expired unused entries are dropped when a new key arrives.
    pub max_entries: usize,
}

impl Default for CheckerConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            failure_ttl: Duration::from_secs(30),
            max_entries: 1024,
        }
    }
}

/// Verifies OIDC providers with caching and single flight. Cheap to clone; clones share the
/// caches and counters, so one checker serves the whole operator.
#[derive(Clone)]
pub struct ProviderChecker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProviderChecker {
    // The caches hold whole provider documents; their size, not their content, is what helps.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderChecker")
            .field("config", &self.inner.config)
            .field("providers_cached", &self.inner.providers.len())
            .field("credentials_cached", &self.inner.credentials.len())
            .finish()
    }
}

struct Inner {
    config: CheckerConfig,
    providers: SingleFlight<ProviderKey, Result<Arc<ProviderDocs>, CheckError>>,
    credentials: SingleFlight<CredentialsKey, Result<(), CheckError>>,
    counters: Counters,
}

impl Default for ProviderChecker {
    fn default() -> Self {
        Self::new(CheckerConfig::default())
    }
}

impl ProviderChecker {
    /// A checker with empty caches.
    pub fn new(config: CheckerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                providers: SingleFlight::new(config.max_entries),
                credentials: SingleFlight::new(config.max_entries),
                counters: Counters::default(),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> CheckerConfig {
        self.inner.config
    }

    /// Checks the provider (and the credentials, when the request has them), reusing results
    /// younger than the TTL.
    pub async fn check(&self, req: &CheckRequest) -> CheckOutcome {
        self.run(req, None).await
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CheckerStats {
        self.inner.counters.snapshot()
    }

    async fn run(&self, req: &CheckRequest, not_before: Option<Instant>) -> CheckOutcome {
        let inner = &self.inner;
        let config = inner.config;
        let ttl_of = |ok: bool| if ok { config.ttl } else { config.failure_ttl };

        let key = ProviderKey::of(req);
        let (docs, cached) = inner
            .providers
            .get(&key, not_before, |v| ttl_of(v.is_ok()), async {
                discovery::fetch_provider(req, &inner.counters)
                    .await
                    .map(Arc::new)
            })
            .await;
        if cached {
            inner.counters.cache_hit();
        }

        let (provider, credentials) = match docs {
            Err(e) => {
                let skipped = match req.client_credentials {
                    Some(_) => SkipReason::ProviderUnavailable,
                    None => SkipReason::NotRequested,
                };
                (Err(e), CredentialsOutcome::Skipped(skipped))
            }
            Ok(docs) => {
                let provider = evaluate::evaluate(req, &docs);
                let credentials = match (&req.client_credentials, CredentialsKey::of(req)) {
                    (Some(creds), Some(cred_key)) => {
                        let (result, _) = inner
                            .credentials
                            .get(&cred_key, not_before, |v| ttl_of(v.is_ok()), async {
                                grant::grant(req, &docs, creds, &inner.counters).await
                            })
                            .await;
                        match result {
                            Ok(()) => CredentialsOutcome::Valid,
                            Err(e) => CredentialsOutcome::Failed(e),
                        }
                    }
                    _ => CredentialsOutcome::Skipped(SkipReason::NotRequested),
                };
                (provider, credentials)
            }
        };

        inner.counters.record(
            provider
                .as_ref()
                .map_or_else(CheckError::reason, |_| "Verified"),
            credentials.reason(),
        );
        CheckOutcome {
            provider,
            credentials,
            cached,
        }
    }
}
