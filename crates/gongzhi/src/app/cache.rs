//! One short-lived, per-instance cache for values read often and changed rarely (the calendar,
//! the category dictionary, grid shapes, where an area lies, routing). The database stays the
//! source of truth: an entry lives `ttl`, the instance's own edits clear it at once, and another
//! instance's edit shows within `ttl`. A poisoned lock is treated as a miss, never a panic.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past this the map is emptied (a cheap bound for keys such as areas).
const MAX_ENTRIES: usize = 100_000;

/// A map of values that each live `ttl` after they were put.
pub struct Ttl<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Ttl<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Ttl {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The value, if put less than `ttl` ago.
    pub fn get(&self, k: &K) -> Option<V> {
        let m = self.map.lock().ok()?;
        m.get(k)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, k: K, v: V) {
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(k, (Instant::now(), v));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }
}

/// One value that lives `ttl`.
pub type TtlOne<V> = Ttl<(), V>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_its_ttl_and_a_clear_drops_it() {
        let c: Ttl<u32, &str> = Ttl::new(Duration::from_millis(40));
        c.put(1, "a");
        assert_eq!(c.get(&1), Some("a"));
        assert_eq!(c.get(&2), None);
        c.clear();
        assert_eq!(c.get(&1), None);
        c.put(1, "b");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get(&1), None, "expired");
    }
}
