//! A small time-bounded cache: an entry is served for at most its time to live, then asked again.
//! Bounded in entries: when full, expired entries go first, and if none has expired, all do (a
//! burst of new keys costs calls, never memory).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Ttl<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Ttl<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Ttl<K, V> {
        Ttl { ttl, capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    /// Entries for `ttl`, at most 100,000 of them (a connector's size).
    pub fn bounded(ttl: Duration) -> Ttl<K, V> {
        Ttl::new(ttl, 100_000)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // Entries are whole values: a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let now = Instant::now();
        let entries = self.entries();
        entries.get(key).filter(|(stored, _)| now.duration_since(*stored) < self.ttl).map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.len() >= self.capacity {
            entries.retain(|_, (stored, _)| now.duration_since(*stored) < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (now, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cache_stays_bounded() {
        let cache = Ttl::new(Duration::from_millis(50), 3);
        cache.put(1, "a");
        assert_eq!(cache.get(&1), Some("a"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&1), None, "served no longer than its time to live");
        let fresh = Ttl::new(Duration::from_secs(60), 3);
        for k in 0..10 {
            fresh.put(k, k);
        }
        assert!(fresh.entries().len() <= 3);
        assert_eq!(fresh.get(&9), Some(9));
    }
}
