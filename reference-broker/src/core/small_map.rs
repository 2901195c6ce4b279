//! An ordered map that is a sorted vector while small and a B-tree once large.
//!
//! Why: most sessions hold one or two subscriptions, and most topic filters have one or two
//! subscribers, but a `BTreeMap` allocates a whole node for its first entry (11 slots: about a
//! kilobyte for a session's subscriptions, 400 bytes for a filter's subscribers), which made a
//! subscribed idle client cost more than twice an unsubscribed one. A sorted vector sized to its
//! entries costs what they hold; past [`SMALL_MAX`] entries, where its inserts would move too
//! much, the map becomes a `BTreeMap` (and stays one).

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// Entries kept in a sorted vector; one more turns it into a B-tree.
const SMALL_MAX: usize = 32;

#[derive(Clone)]
pub(crate) enum SmallMap<K, V> {
    Small(Vec<(K, V)>),
    Large(BTreeMap<K, V>),
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> SmallMap<K, V> {
    pub const fn new() -> Self {
        Self::Small(Vec::new())
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Small(v) => v.len(),
            Self::Large(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let (small, large) = match self {
            Self::Small(v) => (Some(v.iter().map(|(k, v)| (k, v))), None),
            Self::Large(m) => (None, Some(m.iter())),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }

    /// Values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    fn search<Q>(v: &[(K, V)], key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        v.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self {
            Self::Small(v) => match Self::search(v, &key) {
                Ok(i) => Some(std::mem::replace(&mut v[i].1, value)),
                Err(_) if v.len() == SMALL_MAX => {
                    let mut m: BTreeMap<K, V> = std::mem::take(v).into_iter().collect();
                    m.insert(key, value);
                    *self = Self::Large(m);
                    None
                }
                Err(i) => {
                    // Exact growth while tiny (the usual one or two entries), doubling after.
                    if v.len() == v.capacity() && v.len() < 4 {
                        v.reserve_exact(1);
                    }
                    v.insert(i, (key, value));
                    None
                }
            },
            Self::Large(m) => m.insert(key, value),
        }
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self {
            Self::Small(v) => {
                let i = Self::search(v, key).ok()?;
                let (_, value) = v.remove(i);
                if v.is_empty() {
                    // Give the allocation back with the last entry.
                    *v = Vec::new();
                }
                Some(value)
            }
            Self::Large(m) => m.remove(key),
        }
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for SmallMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Eq, V: Eq> Eq for SmallMap<K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SmallMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Keys from a range wide enough to cross SMALL_MAX and to hit existing keys often.
        prop_oneof![
            3 => (0u16..80, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            1 => (0u16..80).prop_map(Op::Remove),
        ]
    }

    proptest! {
        /// Every operation answers as a `BTreeMap` does, and the contents and their order match.
        #[test]
        fn behaves_as_a_btree_map(ops in proptest::collection::vec(op(), 0..300)) {
            let mut ours = SmallMap::new();
            let mut model = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(ours.insert(k, v), model.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(ours.remove(&k), model.remove(&k)),
                }
                prop_assert_eq!(ours.len(), model.len());
                prop_assert!(ours.iter().eq(model.iter()));
            }
        }
    }

    #[test]
    fn small_maps_allocate_for_their_entries_only() {
        let mut m = SmallMap::new();
        m.insert("a".to_string(), 1u64);
        let SmallMap::Small(v) = &m else {
            panic!("one entry makes a B-tree")
        };
        assert_eq!(v.capacity(), 1);
        assert_eq!(m.remove("a"), Some(1));
        let SmallMap::Small(v) = &m else {
            panic!("a B-tree")
        };
        assert_eq!(v.capacity(), 0);
        for k in 0..=SMALL_MAX {
            m.insert(format!("{k:03}"), k as u64);
        }
        assert!(matches!(m, SmallMap::Large(_)));
        assert_eq!(m.len(), SMALL_MAX + 1);
    }
}
