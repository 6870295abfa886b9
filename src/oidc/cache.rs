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

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::error::CheckError;
use super::request::{CheckRequest, TokenAuthMethod, Trust};
use super::verify::{self, ProviderDocs, ProviderReport};

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

/// The result of one check: the two condition inputs, separately.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// Discovery, issuer, JWKS, scopes and response type: `ProviderVerified`.
    pub provider: Result<ProviderReport, CheckError>,
    /// The client-credentials grant: `CredentialsValid`.
    pub credentials: CredentialsOutcome,
    /// Whether the provider documents came from the cache rather than a fetch by this call.
    pub cached: bool,
}

/// The client-credentials grant result.
#[derive(Clone, Debug)]
pub enum CredentialsOutcome {
    /// The token endpoint issued a token for these credentials.
    Valid,
    /// The grant was not attempted.
    Skipped(SkipReason),
    /// The grant failed: `InvalidClient` (wrong id/secret), `UnauthorizedClient`, a transport
    /// reason (`Unreachable`, `TlsError`, `Timeout`) or `TokenEndpointError`.
    Failed(CheckError),
}

impl CredentialsOutcome {
    /// A condition reason: `Valid`, `NotRequested`, `ProviderUnavailable`, or the error's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            CredentialsOutcome::Valid => "Valid",
            CredentialsOutcome::Skipped(SkipReason::NotRequested) => "NotRequested",
            CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable) => "ProviderUnavailable",
            CredentialsOutcome::Failed(e) => e.reason(),
        }
    }
}

/// Why the grant was not attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The request has no client credentials.
    NotRequested,
    /// The discovery document could not be obtained, so there is no token endpoint to call.
    ProviderUnavailable,
}

/// Counters since the checker was created, for tests and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckerStats {
    /// HTTP requests sent: discovery, JWKS and token requests (a followed same-origin redirect
    /// counts as part of its request).
    pub http_requests: u64,
    /// Discovery documents fetched (attempts, failed ones included).
    pub discovery_fetches: u64,
    /// JWKS fetched (attempts).
    pub jwks_fetches: u64,
    /// Client-credentials grants attempted.
    pub token_requests: u64,
    /// `check` calls answered from cached provider documents.
    pub cache_hits: u64,
    /// `check` calls by provider result reason (`Verified` or the error reason).
    pub provider_results: BTreeMap<&'static str, u64>,
    /// `check` calls by credentials result reason.
    pub credentials_results: BTreeMap<&'static str, u64>,
}

/// The check as the controller calls it, so reconcile tests can substitute a fake provider
/// (house style: the OIDC client sits behind a small trait).
pub trait ProviderVerifier: Send + Sync {
    /// Checks the provider (and credentials) for `req`; see [`ProviderChecker::check`].
    fn verify<'a>(&'a self, req: &'a CheckRequest) -> BoxFuture<'a, CheckOutcome>;
}

impl ProviderVerifier for ProviderChecker {
    fn verify<'a>(&'a self, req: &'a CheckRequest) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(self.check(req))
    }
}

/// Counters shared with the fetch code.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub http_requests: Arc<AtomicU64>,
    pub discovery_fetches: AtomicU64,
    pub jwks_fetches: AtomicU64,
    pub token_requests: AtomicU64,
    cache_hits: AtomicU64,
    results: Mutex<Results>,
}

/// Check results by reason: (provider, credentials).
#[derive(Debug, Default)]
struct Results {
    provider: BTreeMap<&'static str, u64>,
    credentials: BTreeMap<&'static str, u64>,
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

    /// Like [`check`](Self::check), but ignores results obtained before this call; concurrent
    /// forced checks still share one fetch.
    pub async fn check_fresh(&self, req: &CheckRequest) -> CheckOutcome {
        self.run(req, Some(Instant::now())).await
    }

    /// Drops the cached results for this request's provider and credentials.
    pub fn invalidate(&self, req: &CheckRequest) {
        let key = ProviderKey::of(req);
        if let Some(creds) = CredentialsKey::of(req) {
            self.inner.credentials.remove_where(|k| *k == creds);
        }
        self.inner.providers.remove_where(|k| *k == key);
    }

    /// Drops every cached result for an issuer.
    pub fn invalidate_issuer(&self, issuer: &str) {
        self.inner.providers.remove_where(|k| k.issuer == issuer);
        self.inner
            .credentials
            .remove_where(|k| k.provider.issuer == issuer);
    }

    /// Drops every cached result.
    pub fn clear(&self) {
        self.inner.providers.remove_where(|_| true);
        self.inner.credentials.remove_where(|_| true);
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CheckerStats {
        let c = &self.inner.counters;
        let results = c.results.lock().unwrap_or_else(PoisonError::into_inner);
        CheckerStats {
            http_requests: c.http_requests.load(Ordering::Relaxed),
            discovery_fetches: c.discovery_fetches.load(Ordering::Relaxed),
            jwks_fetches: c.jwks_fetches.load(Ordering::Relaxed),
            token_requests: c.token_requests.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            provider_results: results.provider.clone(),
            credentials_results: results.credentials.clone(),
        }
    }

    async fn run(&self, req: &CheckRequest, not_before: Option<Instant>) -> CheckOutcome {
        let inner = &self.inner;
        let config = inner.config;
        let ttl_of = |ok: bool| if ok { config.ttl } else { config.failure_ttl };

        let key = ProviderKey::of(req);
        let (docs, cached) = inner
            .providers
            .get(&key, not_before, |v| ttl_of(v.is_ok()), async {
                verify::fetch_provider(req, &inner.counters)
                    .await
                    .map(Arc::new)
            })
            .await;
        if cached {
            inner.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
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
                let provider = verify::evaluate(req, &docs);
                let credentials = match (&req.client_credentials, CredentialsKey::of(req)) {
                    (Some(creds), Some(cred_key)) => {
                        let (result, _) = inner
                            .credentials
                            .get(&cred_key, not_before, |v| ttl_of(v.is_ok()), async {
                                verify::grant(req, &docs, creds, &inner.counters).await
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

        {
            let mut results = inner
                .counters
                .results
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let provider_reason = provider
                .as_ref()
                .map_or_else(CheckError::reason, |_| "Verified");
            *results.provider.entry(provider_reason).or_default() += 1;
            *results.credentials.entry(credentials.reason()).or_default() += 1;
        }
        CheckOutcome {
            provider,
            credentials,
            cached,
        }
    }
}

/// What decides which provider documents are fetched, and how.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ProviderKey {
    issuer: String,
    discovery_url: Option<String>,
    jwks_url: Option<String>,
    trust: TrustKey,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TrustKey {
    System,
    Bundle {
        sha256: [u8; 32],
        also_system_roots: bool,
    },
}

impl ProviderKey {
    pub(crate) fn of(req: &CheckRequest) -> Self {
        Self {
            issuer: req.issuer.clone(),
            discovery_url: req.discovery_url.clone(),
            jwks_url: req.jwks_url.clone(),
            trust: match &req.trust {
                Trust::SystemRoots => TrustKey::System,
                Trust::CaBundle {
                    pem,
                    also_system_roots,
                } => TrustKey::Bundle {
                    sha256: Sha256::digest(pem).into(),
                    also_system_roots: *also_system_roots,
                },
            },
        }
    }
}

/// What decides a grant's result. Holds a hash of the secret, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CredentialsKey {
    provider: ProviderKey,
    client_id: String,
    secret_sha256: [u8; 32],
    auth_method: TokenAuthMethod,
    scopes: Vec<String>,
}

impl CredentialsKey {
    pub(crate) fn of(req: &CheckRequest) -> Option<Self> {
        let creds = req.client_credentials.as_ref()?;
        let mut hasher = Sha256::new();
        // Domain separation, so this digest is not the plain SHA-256 of the secret that
        // `Sensitive::digest` might print elsewhere.
        hasher.update(b"oidc-sso-operator/credentials-cache-key\0");
        hasher.update(creds.client_secret.expose().as_bytes());
        let mut scopes = creds.scopes.clone();
        scopes.sort();
        scopes.dedup();
        Some(Self {
            provider: ProviderKey::of(req),
            client_id: creds.client_id.clone(),
            secret_sha256: hasher.finalize().into(),
            auth_method: creds.auth_method,
            scopes,
        })
    }
}

/// A keyed cache in which one caller per key fetches and the others wait for its result.
#[derive(Debug)]
struct SingleFlight<K, V> {
    entries: Mutex<HashMap<K, Arc<Slot<V>>>>,
    max_entries: usize,
}

#[derive(Debug)]
struct Slot<V> {
    state: tokio::sync::Mutex<Option<Cached<V>>>,
}

#[derive(Debug)]
struct Cached<V> {
    value: V,
    /// When the fetch that produced `value` started: a forced check accepts only values whose
    /// fetch started after it was asked for.
    started: Instant,
    expires: Instant,
}

impl<K: Clone + Eq + Hash, V: Clone> SingleFlight<K, V> {
    fn new(max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    /// Returns the cached value for `key` when it is fresh (and, with `not_before`, fetched after
    /// that instant); otherwise runs `fetch`, caches its value for `ttl(&value)`, and returns it.
    /// The flag is true when the value came from the cache.
    async fn get<F>(
        &self,
        key: &K,
        not_before: Option<Instant>,
        ttl: impl Fn(&V) -> Duration,
        fetch: F,
    ) -> (V, bool)
    where
        F: Future<Output = V>,
    {
        let slot = self.slot(key);
        let mut state = slot.state.lock().await;
        if let Some(cached) = state.as_ref()
            && cached.expires > Instant::now()
            && not_before.is_none_or(|t| cached.started >= t)
        {
            return (cached.value.clone(), true);
        }
        let started = Instant::now();
        let value = fetch.await;
        *state = Some(Cached {
            value: value.clone(),
            started,
            expires: Instant::now() + ttl(&value),
        });
        (value, false)
    }

    fn slot(&self, key: &K) -> Arc<Slot<V>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = entries.get(key) {
            return slot.clone();
        }
        if entries.len() >= self.max_entries {
            let now = Instant::now();
            // Keep slots someone holds (a fetch or a waiter) and slots with a fresh value.
            entries.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.state.try_lock().map_or(true, |state| {
                        state.as_ref().is_some_and(|c| c.expires > now)
                    })
            });
        }
        let slot = Arc::new(Slot {
            state: tokio::sync::Mutex::new(None),
        });
        entries.insert(key.clone(), slot.clone());
        slot
    }

    /// Removes matching keys. A fetch in flight for a removed key completes into the orphaned
    /// slot; later callers start afresh.
    fn remove_where(&self, mut pred: impl FnMut(&K) -> bool) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|k, _| !pred(k));
    }

    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::oidc::request::ClientCredentials;

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache: Arc<SingleFlight<&'static str, u32>> = Arc::new(SingleFlight::new(16));
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let cache = cache.clone();
                let calls = calls.clone();
                tokio::spawn(async move {
                    cache
                        .get(&"k", None, |_| Duration::from_secs(60), async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            7
                        })
                        .await
                })
            })
            .collect();
        let mut fetched = 0;
        for t in tasks {
            let (v, hit) = t.await.unwrap();
            assert_eq!(v, 7);
            fetched += usize::from(!hit);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(fetched, 1);
    }

    #[tokio::test]
    async fn expired_values_are_fetched_again_and_failures_expire_sooner() {
        let cache: SingleFlight<&'static str, Result<u32, ()>> = SingleFlight::new(16);
        let ttl = |v: &Result<u32, ()>| {
            if v.is_ok() {
                Duration::from_secs(60)
            } else {
                Duration::from_millis(20)
            }
        };
        assert!(!cache.get(&"k", None, ttl, async { Err(()) }).await.1);
        assert!(
            cache.get(&"k", None, ttl, async { Ok(1) }).await.1,
            "failure still cached"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
        let (v, hit) = cache.get(&"k", None, ttl, async { Ok(2) }).await;
        assert_eq!((v, hit), (Ok(2), false));
        let (v, hit) = cache.get(&"k", None, ttl, async { Ok(3) }).await;
        assert_eq!((v, hit), (Ok(2), true));
    }

    #[tokio::test]
    async fn not_before_forces_a_new_fetch_once() {
        let cache: SingleFlight<&'static str, u32> = SingleFlight::new(16);
        let ttl = |_: &u32| Duration::from_secs(60);
        cache.get(&"k", None, ttl, async { 1 }).await;
        let now = Instant::now();
        assert_eq!(
            cache.get(&"k", Some(now), ttl, async { 2 }).await,
            (2, false)
        );
        assert_eq!(
            cache.get(&"k", Some(now), ttl, async { 3 }).await,
            (2, true)
        );
    }

    #[tokio::test]
    async fn full_cache_drops_expired_entries() {
        let cache: SingleFlight<u32, u32> = SingleFlight::new(2);
        for k in 0..2 {
            cache.get(&k, None, |_| Duration::ZERO, async { 0 }).await;
        }
        cache
            .get(&9, None, |_| Duration::from_secs(60), async { 0 })
            .await;
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn provider_key_ignores_scopes_and_credentials_but_not_trust() {
        let base = CheckRequest::new("https://idp");
        let other_scopes = base
            .clone()
            .with_scopes(["openid", "email"])
            .with_response_type("id_token");
        assert_eq!(ProviderKey::of(&base), ProviderKey::of(&other_scopes));
        let with_ca = base.clone().with_trust(Trust::CaBundle {
            pem: b"pem".to_vec(),
            also_system_roots: true,
        });
        assert_ne!(ProviderKey::of(&base), ProviderKey::of(&with_ca));
        assert_ne!(
            ProviderKey::of(&base),
            ProviderKey::of(&base.clone().with_discovery_url("https://idp/x"))
        );
    }

    #[test]
    fn credentials_key_hashes_the_secret() {
        let req = |secret: &str| {
            CheckRequest::new("https://idp")
                .with_client_credentials(ClientCredentials::new("client", secret))
        };
        let a = CredentialsKey::of(&req("first-secret")).unwrap();
        let b = CredentialsKey::of(&req("second-secret")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a, CredentialsKey::of(&req("first-secret")).unwrap());
        let debug = format!("{a:?}");
        assert!(!debug.contains("first-secret"), "{debug}");
        assert!(CredentialsKey::of(&CheckRequest::new("https://idp")).is_none());
    }
}
