//! A keyed cache with single flight: one caller per key fetches, concurrent callers for the key
//! wait for that fetch and share its result, and the result is reused until it expires.
//!
//! Each key has an async mutex held while fetching. A cancelled caller releases it and the next
//! waiter fetches instead, so a dropped reconcile cannot wedge a key.
//!
//! The cache is bounded twice: by the number of keys and by the bytes its values weigh (a value
//! names its own weight). Over either bound, expired values go first, then the ones that expire
//! soonest; a key being fetched is never dropped.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// A keyed cache in which one caller per key fetches and the others wait for its result.
pub(crate) struct SingleFlight<K, V> {
    entries: Mutex<HashMap<K, Arc<Slot<V>>>>,
    max_entries: usize,
    max_bytes: usize,
    weigh: fn(&V) -> usize,
}

impl<K, V> std::fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight")
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

struct Slot<V> {
    state: tokio::sync::Mutex<Option<Cached<V>>>,
    /// The weight of the value held, readable without the async lock.
    weight: Mutex<(usize, Option<Instant>)>,
}

struct Cached<V> {
    value: V,
    expires: Instant,
}

impl<K: Clone + Eq + Hash, V: Clone> SingleFlight<K, V> {
    /// A cache of at most `max_entries` keys, whose values weigh at most `max_bytes` together.
    pub(crate) fn new(max_entries: usize, max_bytes: usize, weigh: fn(&V) -> usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries,
            max_bytes,
            weigh,
        }
    }

    /// Returns the cached value for `key` when it is fresh; otherwise runs `fetch`, caches its
    /// value for `ttl(&value)`, and returns it. The flag is true when the value came from the
    /// cache.
    pub(crate) async fn get<F>(&self, key: &K, ttl: impl Fn(&V) -> Duration, fetch: F) -> (V, bool)
    where
        F: Future<Output = V>,
    {
        let slot = self.slot(key);
        let mut state = slot.state.lock().await;
        if let Some(cached) = state.as_ref()
            && cached.expires > Instant::now()
        {
            return (cached.value.clone(), true);
        }
        let value = fetch.await;
        let expires = Instant::now() + ttl(&value);
        *lock(&slot.weight) = ((self.weigh)(&value), Some(expires));
        *state = Some(Cached {
            value: value.clone(),
            expires,
        });
        drop(state);
        self.shed(key);
        (value, false)
    }

    fn slot(&self, key: &K) -> Arc<Slot<V>> {
        let mut entries = lock(&self.entries);
        if let Some(slot) = entries.get(key) {
            return slot.clone();
        }
        if entries.len() >= self.max_entries {
            let now = Instant::now();
            // Keep slots someone holds (a fetch or a waiter) and slots with a fresh value.
            entries.retain(|_, slot| {
                Arc::strong_count(slot) > 1 || lock(&slot.weight).1.is_some_and(|at| at > now)
            });
        }
        let slot = Arc::new(Slot {
            state: tokio::sync::Mutex::new(None),
            weight: Mutex::new((0, None)),
        });
        entries.insert(key.clone(), slot.clone());
        slot
    }

    /// Drops values, expired and soonest-expiring first, until the rest weigh at most the bound;
    /// `keep` (just fetched) and slots in use stay.
    fn shed(&self, keep: &K) {
        let mut entries = lock(&self.entries);
        let mut total: usize = entries.values().map(|s| lock(&s.weight).0).sum();
        if total <= self.max_bytes {
            return;
        }
        let mut victims: Vec<(Option<Instant>, usize, K)> = entries
            .iter()
            .filter(|(k, s)| *k != keep && Arc::strong_count(s) == 1)
            .map(|(k, s)| {
                let (weight, expires) = *lock(&s.weight);
                (expires, weight, k.clone())
            })
            .collect();
        victims.sort_by_key(|(expires, _, _)| *expires);
        for (_, weight, key) in victims {
            if total <= self.max_bytes {
                break;
            }
            entries.remove(&key);
            total -= weight;
        }
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// The weight of the values held.
    pub(crate) fn bytes(&self) -> usize {
        lock(&self.entries)
            .values()
            .map(|s| lock(&s.weight).0)
            .sum()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn unweighted<V>(_: &V) -> usize {
        0
    }

    // Paused time: the fetch's 50 ms are the virtual clock's, auto-advanced once every caller waits.
    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_fetch() {
        let cache: Arc<SingleFlight<&'static str, u32>> =
            Arc::new(SingleFlight::new(16, 0, unweighted));
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let cache = cache.clone();
                let calls = calls.clone();
                tokio::spawn(async move {
                    cache
                        .get(&"k", |_| Duration::from_secs(60), async {
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

    #[tokio::test(start_paused = true)]
    async fn expired_values_are_fetched_again_and_failures_expire_sooner() {
        let cache: SingleFlight<&'static str, Result<u32, ()>> =
            SingleFlight::new(16, 0, unweighted);
        let ttl = |v: &Result<u32, ()>| {
            if v.is_ok() {
                Duration::from_secs(60)
            } else {
                Duration::from_millis(20)
            }
        };
        assert!(!cache.get(&"k", ttl, async { Err(()) }).await.1);
        assert!(
            cache.get(&"k", ttl, async { Ok(1) }).await.1,
            "failure still cached"
        );
        tokio::time::advance(Duration::from_millis(30)).await;
        let (v, hit) = cache.get(&"k", ttl, async { Ok(2) }).await;
        assert_eq!((v, hit), (Ok(2), false));
        let (v, hit) = cache.get(&"k", ttl, async { Ok(3) }).await;
        assert_eq!((v, hit), (Ok(2), true));
    }

    #[tokio::test]
    async fn full_cache_drops_expired_entries() {
        let cache: SingleFlight<u32, u32> = SingleFlight::new(2, 0, unweighted);
        for k in 0..2 {
            cache.get(&k, |_| Duration::ZERO, async { 0 }).await;
        }
        cache
            .get(&9, |_| Duration::from_secs(60), async { 0 })
            .await;
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn values_over_the_byte_bound_are_shed_soonest_expiring_first() {
        let cache: SingleFlight<u32, Vec<u8>> = SingleFlight::new(100, 250, Vec::len);
        for (k, secs) in [(1, 30), (2, 10), (3, 20)] {
            cache
                .get(&k, |_| Duration::from_secs(secs), async { vec![0; 100] })
                .await;
        }
        assert!(cache.bytes() <= 250, "{}", cache.bytes());
        assert_eq!(cache.len(), 2);
        // Key 2 expired soonest: it went; 1 and 3 are still cached.
        assert!(cache.get(&1, |_| Duration::ZERO, async { vec![] }).await.1);
        assert!(cache.get(&3, |_| Duration::ZERO, async { vec![] }).await.1);
    }
}
