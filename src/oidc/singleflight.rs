//! A keyed cache with single flight: one caller per key fetches, concurrent callers for the key
//! wait for that fetch and share its result, and the result is reused until it expires.
//!
//! Each key has an async mutex held while fetching. A cancelled caller releases it and the next
//! waiter fetches instead, so a dropped reconcile cannot wedge a key.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// A keyed cache in which one caller per key fetches and the others wait for its result.
#[derive(Debug)]
pub(crate) struct SingleFlight<K, V> {
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
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    /// Returns the cached value for `key` when it is fresh (and, with `not_before`, fetched after
    /// that instant); otherwise runs `fetch`, caches its value for `ttl(&value)`, and returns it.
    /// The flag is true when the value came from the cache.
    pub(crate) async fn get<F>(
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

    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

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
}
