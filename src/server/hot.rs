//! What the server keeps in memory because it never changes: verified archived
//! bodies (by sha256) and the capture rows that lead to them (by id). Serving
//! an archived copy from memory skips a SQLite read transaction (file locks, a
//! B-tree walk: a quarter of the server's time under load, measured) and the
//! blob's decompression and re-hash.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Values by key, bounded by their total weight (bytes, roughly). When full,
/// the least recently used half goes at once, so an access costs a counter
/// bump, not a list update, and an eviction one sort.
pub struct HotCache<K, V> {
    map: HashMap<K, (u64, usize, V)>,
    weight: usize,
    limit: usize,
    tick: u64,
}

impl<K: Hash + Eq, V: Clone> HotCache<K, V> {
    /// An empty cache holding at most `limit` in weight.
    pub fn new(limit: usize) -> Self {
        HotCache {
            map: HashMap::new(),
            weight: 0,
            limit,
            tick: 0,
        }
    }

    /// The value kept for `key`, marked as just used.
    pub fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(key).map(|(used, _, v)| {
            *used = tick;
            v.clone()
        })
    }

    /// Keeps `value` unless it alone would take more than a 64th of the
    /// cache (such values are read afresh each time).
    pub fn put(&mut self, key: K, value: V, weight: usize) {
        if weight > self.limit / 64 || self.map.contains_key(&key) {
            return;
        }
        if self.weight + weight > self.limit {
            let mut ticks: Vec<u64> = self.map.values().map(|(t, _, _)| *t).collect();
            ticks.sort_unstable();
            let cut = ticks.get(ticks.len() / 2).copied().unwrap_or(0);
            self.map.retain(|_, (t, _, _)| *t > cut);
            self.weight = self.map.values().map(|(_, w, _)| w).sum();
        }
        self.tick += 1;
        self.weight += weight;
        self.map.insert(key, (self.tick, weight, value));
    }

    /// Values kept.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Nothing kept.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_fits_and_drops_the_least_recently_used_half() {
        let mut c: HotCache<u32, u32> = HotCache::new(64 * 10);
        for k in 0..64 {
            c.put(k, k * 2, 10);
        }
        assert_eq!(c.len(), 64);
        assert_eq!(c.get(&0), Some(0), "used again: the newest");
        c.put(100, 200, 10);
        assert!(c.len() <= 33, "{}", c.len());
        assert_eq!(c.get(&0), Some(0));
        assert_eq!(c.get(&100), Some(200));
        assert_eq!(c.get(&1), None, "the oldest went");
        assert_eq!(c.get(&63), Some(126), "the newer half stayed");
    }

    #[test]
    fn a_value_too_heavy_is_not_kept() {
        let mut c: HotCache<&str, u8> = HotCache::new(640);
        c.put("big", 1, 11);
        assert!(c.is_empty());
        c.put("small", 1, 10);
        assert_eq!(c.get("small"), Some(1));
    }
}
