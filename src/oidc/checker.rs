//! `ProviderChecker`: the shared, cached, single-flight front of the checks.
//!
//! Two caches, because they have different keys:
//! - provider documents (discovery + JWKS), keyed by what decides which documents are fetched
//!   and how: issuer, discovery/JWKS URL overrides, trust roots. Scopes, response type and
//!   accepted algorithms are evaluated per call on the cached documents, so every resource that
//!   uses one provider shares one fetch per TTL whatever else it configures. Bounded by count and
//!   by the bytes the documents weigh;
//! - credential checks, keyed by the provider key plus client id, a SHA-256 of the secret (the
//!   secret itself is never a map key), auth method and grant parameters.
//!
//! Single flight: each key has an async mutex held while fetching, so N concurrent callers for a
//! key cause one fetch and then all read its result. Failures are cached for a shorter TTL so an
//! outage does not turn every reconcile into a request storm, yet recovery is noticed soon.
//!
//! [`ProviderChecker::check_within`] is what reconciles call: a check not answered within a short
//! wait goes on in the background, and the caller is told when it ends. A slow provider (one that
//! trickles its answer, or never answers) therefore holds a background task, not one of the
//! controller's reconcile slots, and other resources keep rolling out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::time::Instant;

use crate::reasons::Reason;

use super::cache_key::{CredentialsKey, ProviderKey, RequestKey};
use super::discovery::{self, ProviderDocs};
use super::error::CheckError;
use super::outcome::{CheckOutcome, CredentialsOutcome, LoginOutcome, SkipReason};
use super::policy::AddressPolicy;
use super::request::CheckRequest;
use super::singleflight::SingleFlight;
use super::stats::{CheckerStats, Counters};
use super::{credentials, evaluate, login};

/// Cache and network settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerConfig {
    /// How long a successful result is reused.
    pub ttl: Duration,
    /// How long a failed result is reused (shorter, so recovery is seen soon).
    pub failure_ttl: Duration,
    /// Above this many keys, expired unused entries are dropped when a new key arrives.
    pub max_entries: usize,
    /// Bytes of provider documents kept at most; beyond, the soonest-expiring go first.
    pub max_cached_bytes: usize,
    /// How long [`ProviderChecker::check_within`] waits for a check that has no fresh result.
    pub wait: Duration,
    /// Which addresses the checks may connect to.
    pub addresses: AddressPolicy,
}

impl Default for CheckerConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            failure_ttl: Duration::from_secs(30),
            max_entries: 1024,
            max_cached_bytes: 16 * 1024 * 1024,
            wait: Duration::from_millis(250),
            addresses: AddressPolicy::default(),
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
            .field("provider_bytes_cached", &self.inner.providers.bytes())
            .field("credentials_cached", &self.inner.credentials.len())
            .finish()
    }
}

struct Inner {
    config: CheckerConfig,
    providers: SingleFlight<ProviderKey, Result<Arc<ProviderDocs>, CheckError>>,
    credentials: SingleFlight<CredentialsKey, CredentialsOutcome>,
    background: Mutex<HashMap<RequestKey, Background>>,
    counters: Counters,
    policy: Arc<AddressPolicy>,
}

/// A whole check as reconciles see it: its last outcome, and the run under way.
#[derive(Default)]
struct Background {
    last: Option<(CheckOutcome, Instant)>,
    running: Option<Shared<BoxFuture<'static, CheckOutcome>>>,
    /// Told when the run under way ends (callers whose wait ran out).
    waiters: Vec<Box<dyn FnOnce() + Send>>,
}

impl Default for ProviderChecker {
    fn default() -> Self {
        Self::new(CheckerConfig::default())
    }
}

impl ProviderChecker {
    /// A checker with empty caches.
    pub fn new(config: CheckerConfig) -> Self {
        let weigh_docs =
            |v: &Result<Arc<ProviderDocs>, CheckError>| v.as_ref().map_or(0, |d| d.bytes);
        Self {
            inner: Arc::new(Inner {
                providers: SingleFlight::new(
                    config.max_entries,
                    config.max_cached_bytes,
                    weigh_docs,
                ),
                credentials: SingleFlight::new(config.max_entries, usize::MAX, |_| 0),
                background: Mutex::default(),
                counters: Counters::default(),
                policy: Arc::new(config.addresses.clone()),
                config,
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CheckerConfig {
        &self.inner.config
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CheckerStats {
        self.inner.counters.snapshot()
    }

    /// The check of `req` if it ends within the configured wait (or has a fresh result). When
    /// it does not, it goes on in the background, `on_done` is called once it ends, and the
    /// answer is the last outcome of the same check if there is one (`None` otherwise).
    pub async fn check_within(
        &self,
        req: &CheckRequest,
        on_done: impl FnOnce() + Send + 'static,
    ) -> Option<CheckOutcome> {
        let key = RequestKey::of(req);
        let run = match self.fresh_or_run(&key, req) {
            Ok(outcome) => return Some(outcome),
            Err(run) => run,
        };
        if let Ok(outcome) = tokio::time::timeout(self.inner.config.wait, run).await {
            return Some(outcome);
        }
        let mut background = lock(&self.inner.background);
        let entry = background.entry(key).or_default();
        match &entry.running {
            Some(_) => {
                entry.waiters.push(Box::new(on_done));
                entry.last.as_ref().map(|(o, _)| o.clone())
            }
            // It ended between the wait and the lock.
            None => entry.last.as_ref().map(|(o, _)| o.clone()),
        }
    }

    /// A fresh outcome of `key`, or the run that will produce one (started here if none is).
    fn fresh_or_run(
        &self,
        key: &RequestKey,
        req: &CheckRequest,
    ) -> Result<CheckOutcome, Shared<BoxFuture<'static, CheckOutcome>>> {
        let now = Instant::now();
        let mut background = lock(&self.inner.background);
        if !background.contains_key(key) && background.len() >= self.inner.config.max_entries {
            background
                .retain(|_, b| b.running.is_some() || b.last.as_ref().is_some_and(|l| l.1 > now));
        }
        let entry = background.entry(key.clone()).or_default();
        if let Some((outcome, expires)) = &entry.last
            && *expires > now
        {
            return Ok(outcome.clone());
        }
        if let Some(run) = &entry.running {
            return Err(run.clone());
        }
        let checker = self.clone();
        let req = req.clone();
        let key = key.clone();
        let task = tokio::spawn(async move {
            let outcome = checker.check(&req).await;
            checker.finish(&key, &outcome);
            outcome
        });
        let run = async move { task.await.unwrap_or_else(|_| CheckOutcome::interrupted()) }
            .boxed()
            .shared();
        entry.running = Some(run.clone());
        Err(run)
    }

    /// Records the outcome of a background run and tells whoever waits for it.
    fn finish(&self, key: &RequestKey, outcome: &CheckOutcome) {
        let config = &self.inner.config;
        let ok = outcome.provider.is_ok()
            && !matches!(outcome.credentials, CredentialsOutcome::Failed(_))
            && !matches!(outcome.login, LoginOutcome::Refused(_));
        let expires = Instant::now() + if ok { config.ttl } else { config.failure_ttl };
        let waiters = {
            let mut background = lock(&self.inner.background);
            let entry = background.entry(key.clone()).or_default();
            entry.last = Some((outcome.clone(), expires));
            entry.running = None;
            std::mem::take(&mut entry.waiters)
        };
        for waiter in waiters {
            waiter();
        }
    }

    /// Checks the provider (and the credentials, when the request has them), reusing results
    /// younger than the TTL. Waits for the answer, however long the provider takes (within the
    /// request's timeouts).
    pub async fn check(&self, req: &CheckRequest) -> CheckOutcome {
        let inner = &self.inner;
        let config = &inner.config;
        let ttl_of = |ok: bool| if ok { config.ttl } else { config.failure_ttl };

        let key = ProviderKey::of(req);
        let (docs, cached) = inner
            .providers
            .get(&key, |v| ttl_of(v.is_ok()), async {
                discovery::fetch_provider(req, &inner.counters, &inner.policy)
                    .await
                    .map(Arc::new)
            })
            .await;
        if cached {
            inner.counters.cache_hit();
        }

        let (provider, credentials, login) = match docs {
            Err(e) => {
                let skipped = |asked: bool| {
                    if asked {
                        SkipReason::ProviderUnavailable
                    } else {
                        SkipReason::NotRequested
                    }
                };
                (
                    Err(e),
                    CredentialsOutcome::Skipped(skipped(req.client_credentials.is_some())),
                    LoginOutcome::Skipped(skipped(req.login.is_some())),
                )
            }
            Ok(docs) => {
                let provider = evaluate::evaluate(req, &docs);
                if let Err(e) = provider {
                    // Documents that fail the evaluation (a plain-http endpoint, no usable key)
                    // are not sent secrets or logins.
                    let skipped = SkipReason::ProviderUnavailable;
                    let credentials = match req.client_credentials {
                        Some(_) => CredentialsOutcome::Skipped(skipped),
                        None => CredentialsOutcome::Skipped(SkipReason::NotRequested),
                    };
                    let login = match req.login {
                        Some(_) => LoginOutcome::Skipped(skipped),
                        None => LoginOutcome::Skipped(SkipReason::NotRequested),
                    };
                    (Err(e), credentials, login)
                } else {
                    let credentials = self.credentials(req, &docs).await;
                    let login = match &req.login {
                        Some(l) => {
                            login::check(req, &docs, l, &inner.counters, &inner.policy).await
                        }
                        None => LoginOutcome::Skipped(SkipReason::NotRequested),
                    };
                    (provider, credentials, login)
                }
            }
        };

        inner.counters.record(
            provider
                .as_ref()
                .map_or_else(CheckError::reason, |_| Reason::Verified)
                .as_str(),
            credentials.reason().as_str(),
        );
        CheckOutcome {
            provider,
            credentials,
            login,
            cached,
        }
    }

    /// The credentials check, shared by every request with the same provider, client, secret
    /// and method.
    async fn credentials(
        &self,
        req: &CheckRequest,
        docs: &Arc<ProviderDocs>,
    ) -> CredentialsOutcome {
        let inner = &self.inner;
        let (Some(creds), Some(key)) = (&req.client_credentials, CredentialsKey::of(req)) else {
            return CredentialsOutcome::Skipped(SkipReason::NotRequested);
        };
        let ttl = |v: &CredentialsOutcome| match v {
            CredentialsOutcome::Failed(_) => inner.config.failure_ttl,
            _ => inner.config.ttl,
        };
        let (outcome, _) = inner
            .credentials
            .get(&key, ttl, async {
                credentials::check(req, docs, creds, &inner.counters, &inner.policy).await
            })
            .await;
        outcome
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::transport::Timeouts;

    /// A server on loopback that accepts connections and never answers.
    async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn a_check_that_outlasts_the_wait_goes_on_and_tells_when_it_ends() {
        let (port, server) = silent_server().await;
        let checker = ProviderChecker::new(CheckerConfig {
            wait: Duration::from_millis(50),
            addresses: AddressPolicy {
                allowed: vec!["127.0.0.1".parse().expect("network")],
            },
            ..CheckerConfig::default()
        });
        let req = CheckRequest::new(format!("http://127.0.0.1:{port}")).with_timeouts(Timeouts {
            connect: Duration::from_millis(300),
            request: Duration::from_millis(300),
        });
        let (done, ended) = tokio::sync::oneshot::channel();
        let started = Instant::now();
        let first = checker
            .check_within(&req, move || {
                let _ = done.send(());
            })
            .await;
        assert!(first.is_none(), "no answer yet: {first:?}");
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "the caller was held"
        );
        tokio::time::timeout(Duration::from_secs(5), ended)
            .await
            .expect("told within the request timeout")
            .expect("told");
        let second = checker
            .check_within(&req, || {})
            .await
            .expect("the finished check");
        let err = second.provider.expect_err("the provider never answered");
        assert_eq!(err.reason(), "Timeout", "{err}");
        server.abort();
    }
}
