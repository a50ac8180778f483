//! What the server keeps in memory because it never changes: verified archived
//! bodies (by sha256) and the capture rows that lead to them (by id). Serving
//! an archived copy from memory skips a SQLite read transaction (file locks, a
//! B-tree walk: a quarter of the server's time under load, measured) and the
//! blob's decompression and re-hash.

use std::borrow::Borrow;
use std::hash::Hash;

use hashlink::LinkedHashMap;

/// Values by key, bounded by their total weight (bytes, roughly), least
/// recently used first out. Eviction goes one entry at a time, so no request
/// waits behind a sweep of the whole cache (an earlier version dropped half of
/// it at once, and the pause showed in the p99 under load).
pub struct HotCache<K, V> {
    map: LinkedHashMap<K, (usize, V)>,
    weight: usize,
    limit: usize,
}

impl<K: Hash + Eq, V: Clone> HotCache<K, V> {
    /// An empty cache holding at most `limit` in weight.
    pub fn new(limit: usize) -> Self {
        HotCache {
            map: LinkedHashMap::new(),
            weight: 0,
            limit,
        }
    }

    /// The value kept for `key`, marked as just used.
    pub fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.to_back(key).map(|(_, v)| v.clone())
    }

    /// Keeps `value` unless it alone would take more than a 64th of the
    /// cache (such values are read afresh each time).
    pub fn put(&mut self, key: K, value: V, weight: usize) {
        if weight > self.limit / 64 || self.map.contains_key(&key) {
            return;
        }
        while self.weight + weight > self.limit {
            match self.map.pop_front() {
                Some((_, (w, _))) => self.weight -= w,
                None => break,
            }
        }
        self.weight += weight;
        self.map.insert(key, (weight, value));
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
    fn keeps_what_fits_and_drops_the_least_recently_used_first() {
        let mut c: HotCache<u32, u32> = HotCache::new(64 * 100);
        for k in 0..64 {
            c.put(k, k * 2, 100);
        }
        assert_eq!(c.len(), 64);
        assert_eq!(c.get(&0), Some(0), "used again: the newest");
        c.put(100, 200, 100);
        assert_eq!(c.len(), 64, "one out for one in");
        assert_eq!(c.get(&1), None, "the least recently used went");
        assert_eq!(c.get(&0), Some(0));
        assert_eq!(c.get(&100), Some(200));
        assert_eq!(c.get(&2), Some(4), "the rest stayed");
        // A heavier value makes room for itself.
        c.put(101, 1, 60);
        assert_eq!(c.len(), 64, "one of 100 made room for 60");
        c.put(102, 1, 90);
        assert_eq!(c.len(), 64, "another of 100 made room for 90");
        assert_eq!(c.get(&3), None);
        assert_eq!(c.get(&101), Some(1));
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
