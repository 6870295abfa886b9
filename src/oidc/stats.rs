//! Counters of what the checks did: requests sent, fetches made, cache hits, results by reason.
//! Shared by the fetch code and the checker; exported on `/metrics`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Counters since the checker was created.
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

/// Counters shared with the fetch code.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) http_requests: Arc<AtomicU64>,
    pub(crate) discovery_fetches: AtomicU64,
    pub(crate) jwks_fetches: AtomicU64,
    pub(crate) token_requests: AtomicU64,
    cache_hits: AtomicU64,
    results: Mutex<Results>,
}

/// Check results by reason: (provider, credentials).
#[derive(Debug, Default)]
struct Results {
    provider: BTreeMap<&'static str, u64>,
    credentials: BTreeMap<&'static str, u64>,
}

impl Counters {
    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record(&self, provider: &'static str, credentials: &'static str) {
        let mut results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        *results.provider.entry(provider).or_default() += 1;
        *results.credentials.entry(credentials).or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> CheckerStats {
        let results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        CheckerStats {
            http_requests: self.http_requests.load(Ordering::Relaxed),
            discovery_fetches: self.discovery_fetches.load(Ordering::Relaxed),
            jwks_fetches: self.jwks_fetches.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            provider_results: results.provider.clone(),
            credentials_results: results.credentials.clone(),
        }
    }
}
