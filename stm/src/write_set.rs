//! The write set's lookup: each anchor the transaction wrote, with its
//! private copy (an old object, which does not move), in first-write order.
//! The pairs themselves are the mutator's old root pairs
//! ([`strata_gc::Mutator::push_old_root_pair`]), which keep both objects
//! alive; this file finds an anchor's copy among them.
//!
//! Most transactions write a handful of objects, where a linear search of a
//! vector beats hashing and commit walks a dense array. Past
//! [`LINEAR_MAX`] entries lookups go through a hash index from anchor to
//! position, so large transactions stay linear in their size. The index is
//! brought up to date by lookups, not by first writes: a transaction that
//! writes many objects once each (the first write needs no lookup) never
//! hashes.

use crate::mix_hash::MixMap;
use strata_gc::Address;

/// Entries searched linearly before the hash index is built.
const LINEAR_MAX: usize = 8;

/// The hash index of a write set's (anchor, copy) pairs.
#[derive(Default)]
pub(crate) struct WriteSet {
    /// Anchor -> position in the pairs, for `pairs[..indexed]`.
    index: MixMap<Address, u32>,
    indexed: usize,
}

impl WriteSet {
    /// `anchor`'s private copy in `pairs`, the write set's (anchor, copy)
    /// pairs in first-write order (those seen by earlier calls since
    /// [`WriteSet::clear`] unchanged, new ones appended).
    #[inline]
    pub fn get(&mut self, pairs: &[(Address, Address)], anchor: Address) -> Option<Address> {
        if pairs.len() <= LINEAR_MAX {
            return pairs
                .iter()
                .find(|&&(a, _)| a == anchor)
                .map(|&(_, copy)| copy);
        }
        debug_assert!(self.indexed <= pairs.len(), "the pairs were cleared");
        if self.indexed < pairs.len() {
            let start = self.indexed;
            self.index.extend(
                pairs[start..]
                    .iter()
                    .enumerate()
                    .map(|(i, &(a, _))| (a, (start + i) as u32)),
            );
            self.indexed = pairs.len();
        }
        let position = *self.index.get(&anchor)?;
        Some(pairs[position as usize].1)
    }

    /// Gives back capacity beyond `keep` entries (the set is empty).
    pub fn shrink_to(&mut self, keep: usize) {
        self.index.shrink_to(keep);
    }

    /// Forgets the pairs, which are cleared with the mutator's old roots.
    pub fn clear(&mut self) {
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
            let mut pairs = Vec::new();
            let mut model: HashMap<usize, Address> = HashMap::new();
            for (n, (op, key)) in ops.into_iter().enumerate() {
                let anchor = Address::from_usize(0x10_0000 + key * 48);
                match op {
                    0 | 1 if !model.contains_key(&key) => {
                        pairs.push((anchor, copy(n)));
                        model.insert(key, copy(n));
                    }
                    2 if n % 50 == 0 => {
                        set.clear();
                        pairs.clear();
                        model.clear();
                    }
                    _ => prop_assert_eq!(set.get(&pairs, anchor), model.get(&key).copied()),
                }
            }
        }
    }

    #[test]
    fn finds_every_entry_below_and_above_the_linear_limit() {
        let mut set = WriteSet::default();
        let mut pairs = Vec::new();
        let anchor = |i: usize| Address::from_usize(0x1000 + 32 * i);
        for i in 0..3 * LINEAR_MAX {
            pairs.push((anchor(i), copy(i * 2)));
            for j in 0..=i {
                assert_eq!(set.get(&pairs, anchor(j)), Some(copy(j * 2)));
            }
            assert_eq!(set.get(&pairs, anchor(i + 1)), None);
        }
        set.clear();
        pairs.clear();
        assert_eq!(set.get(&pairs, anchor(0)), None);
        pairs.push((anchor(5), copy(7)));
        assert_eq!(set.get(&pairs, anchor(5)), Some(copy(7)));
        for i in 0..3 * LINEAR_MAX {
            pairs.push((anchor(100 + i), copy(i)));
        }
        assert_eq!(set.get(&pairs, anchor(5)), Some(copy(7)));
        assert_eq!(
            set.get(&pairs, anchor(100 + 2 * LINEAR_MAX)),
            Some(copy(2 * LINEAR_MAX))
        );
    }
}
