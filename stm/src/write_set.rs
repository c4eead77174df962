//! The write set: each anchor the transaction wrote, with the client-root
//! index of its private copy, in first-write order.
//!
//! Most transactions write a handful of objects, where a linear search of a
//! vector beats hashing and commit walks a dense array. Past
//! [`LINEAR_MAX`] entries lookups go through a hash index from anchor to
//! position, so large transactions stay linear in their size. The index is
//! brought up to date by lookups, not by inserts: a transaction that writes
//! many objects once each (the first write needs no lookup) never hashes.

use crate::thread::MixMap;
use strata_gc::Address;

/// Entries searched linearly before the hash index is built.
const LINEAR_MAX: usize = 8;

#[derive(Default)]
pub(crate) struct WriteSet {
    entries: Vec<(Address, u32)>,
    /// Anchor -> position in `entries`, for `entries[..indexed]`.
    index: MixMap<Address, u32>,
    indexed: usize,
}

impl WriteSet {
    /// Records `anchor`'s private copy at client root `copy` (`anchor` is not
    /// in the set yet).
    #[inline]
    pub fn insert(&mut self, anchor: Address, copy: u32) {
        self.entries.push((anchor, copy));
    }

    /// The client-root index of `anchor`'s private copy.
    #[inline]
    pub fn get(&mut self, anchor: Address) -> Option<u32> {
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

    /// (anchor, copy index) pairs in first-write order.
    pub fn iter(&self) -> impl Iterator<Item = (Address, u32)> + '_ {
        self.entries.iter().copied()
    }

    /// The copy indices, to re-number them.
    pub fn copies_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        self.entries.iter_mut().map(|(_, copy)| copy)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

    proptest! {
        /// Against a map: any mix of first writes and lookups (of anchors
        /// written or not), renumbering and clearing.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((0u8..4, 0usize..64), 1..400)) {
            let mut set = WriteSet::default();
            let mut model: HashMap<usize, u32> = HashMap::new();
            for (n, (op, key)) in ops.into_iter().enumerate() {
                let anchor = Address::from_usize(0x10_0000 + key * 48);
                match op {
                    0 | 1 if !model.contains_key(&key) => {
                        set.insert(anchor, n as u32);
                        model.insert(key, n as u32);
                    }
                    2 if n % 50 == 0 => {
                        set.clear();
                        model.clear();
                    }
                    3 if n % 20 == 0 => {
                        for copy in set.copies_mut() {
                            *copy += 1;
                        }
                        for copy in model.values_mut() {
                            *copy += 1;
                        }
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
            set.insert(anchor(i), i as u32 * 2);
            for j in 0..=i {
                assert_eq!(set.get(anchor(j)), Some(j as u32 * 2));
            }
            assert_eq!(set.get(anchor(i + 1)), None);
        }
        for copy in set.copies_mut() {
            *copy += 1;
        }
        assert_eq!(
            set.get(anchor(LINEAR_MAX + 3)),
            Some((LINEAR_MAX as u32 + 3) * 2 + 1)
        );
        assert_eq!(set.iter().count(), 3 * LINEAR_MAX);
        set.clear();
        assert!(set.is_empty());
        assert_eq!(set.get(anchor(0)), None);
        set.insert(anchor(5), 7);
        assert_eq!(set.get(anchor(5)), Some(7));
    }
}
