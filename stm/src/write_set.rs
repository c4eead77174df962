//! The write set: each anchor the transaction wrote, with its private copy
//! (an old object, which does not move), in first-write order.
//!
//! Most transactions write a handful of objects, where a linear search of a
//! vector beats hashing and commit walks a dense array. Past
//! [`LINEAR_MAX`] entries lookups go through a hash index from anchor to
//! position, so large transactions stay linear in their size. The index is
//! brought up to date by lookups, not by inserts: a transaction that writes
//! many objects once each (the first write needs no lookup) never hashes.

use crate::mix_hash::MixMap;
use strata_gc::Address;

/// Entries searched linearly before the hash index is built.
const LINEAR_MAX: usize = 8;

#[derive(Default)]
pub(crate) struct WriteSet {
    entries: Vec<(Address, Address)>,
    /// Anchor -> position in `entries`, for `entries[..indexed]`.
    index: MixMap<Address, u32>,
    indexed: usize,
}

impl WriteSet {
    /// Records `anchor`'s private copy `copy` (`anchor` is not in the set
    /// yet).
    #[inline]
    pub fn insert(&mut self, anchor: Address, copy: Address) {
        self.entries.push((anchor, copy));
    }

    /// `anchor`'s private copy.
    #[inline]
    pub fn get(&mut self, anchor: Address) -> Option<Address> {
        if self.entries.len() <= LINEAR_MAX {
            return self
                .entries
                .iter()
                .find(|&&(a, _)| a == anchor)
                .map(|&(_, copy)| copy);
        }
        if self.indexed < self.entries.len() {
            let start = self.indexed;
            self.index.extend(
                self.entries[start..]
                    .iter()
                    .enumerate()
                    .map(|(i, &(a, _))| (a, (start + i) as u32)),
            );
            self.indexed = self.entries.len();
        }
        let position = *self.index.get(&anchor)?;
        Some(self.entries[position as usize].1)
    }

    /// (anchor, copy) pairs in first-write order.
    pub fn iter(&self) -> impl Iterator<Item = (Address, Address)> + Clone + '_ {
        self.entries.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Gives back capacity beyond `keep` entries (the set is empty).
    pub fn shrink_to(&mut self, keep: usize) {
        self.entries.shrink_to(keep);
        self.index.shrink_to(keep);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        if self.indexed > 0 {
            self.index.clear();
            self.indexed = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn copy(n: usize) -> Address {
        Address::from_usize(0x800_0000 + n * 16)
    }

    proptest! {
        /// Against a map: any mix of first writes, lookups (of anchors
        /// written or not) and clearing.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((0u8..4, 0usize..64), 1..400)) {
            let mut set = WriteSet::default();
            let mut model: HashMap<usize, Address> = HashMap::new();
            for (n, (op, key)) in ops.into_iter().enumerate() {
                let anchor = Address::from_usize(0x10_0000 + key * 48);
                match op {
                    0 | 1 if !model.contains_key(&key) => {
                        set.insert(anchor, copy(n));
                        model.insert(key, copy(n));
                    }
                    2 if n % 50 == 0 => {
                        set.clear();
                        model.clear();
                    }
                    _ => prop_assert_eq!(set.get(anchor), model.get(&key).copied()),
                }
                prop_assert_eq!(set.iter().count(), model.len());
                prop_assert_eq!(set.is_empty(), model.is_empty());
            }
        }
    }

    #[test]
    fn finds_every_entry_below_and_above_the_linear_limit() {
        let mut set = WriteSet::default();
        let anchor = |i: usize| Address::from_usize(0x1000 + 32 * i);
        for i in 0..3 * LINEAR_MAX {
            set.insert(anchor(i), copy(i * 2));
            for j in 0..=i {
                assert_eq!(set.get(anchor(j)), Some(copy(j * 2)));
            }
            assert_eq!(set.get(anchor(i + 1)), None);
        }
        assert_eq!(set.iter().count(), 3 * LINEAR_MAX);
        assert!(set
            .iter()
            .enumerate()
            .all(|(i, (a, c))| a == anchor(i) && c == copy(i * 2)));
        set.clear();
        assert!(set.is_empty());
        assert_eq!(set.get(anchor(0)), None);
        set.insert(anchor(5), copy(7));
        assert_eq!(set.get(anchor(5)), Some(copy(7)));
    }
}
