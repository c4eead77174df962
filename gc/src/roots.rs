//! Root tables: rooted handle slots (per thread) and global roots (per heap).
//!
//! A slot table is a vector of references with a free list threaded through
//! the empty slots' indices; collections visit the occupied slots and update
//! them in place.

use strata_heap::Address;

/// Slots holding references, reused through a free list.
#[derive(Default)]
pub struct SlotTable {
    slots: Vec<Address>,
    occupied: Vec<bool>,
    free: Vec<u32>,
}

impl SlotTable {
    /// Stores `value` in a free slot and returns its index.
    pub fn insert(&mut self, value: Address) -> u32 {
        if let Some(index) = self.free.pop() {
            self.slots[index as usize] = value;
            self.occupied[index as usize] = true;
            index
        } else {
            self.slots.push(value);
            self.occupied.push(true);
            (self.slots.len() - 1) as u32
        }
    }

    /// The reference in slot `index`.
    pub fn get(&self, index: u32) -> Address {
        debug_assert!(self.occupied[index as usize], "slot {index} is free");
        self.slots[index as usize]
    }

    /// Replaces the reference in slot `index`.
    pub fn set(&mut self, index: u32, value: Address) {
        debug_assert!(self.occupied[index as usize], "slot {index} is free");
        self.slots[index as usize] = value;
    }

    /// Empties slot `index`.
    pub fn remove(&mut self, index: u32) {
        debug_assert!(self.occupied[index as usize], "slot {index} is free");
        self.slots[index as usize] = Address::NULL;
        self.occupied[index as usize] = false;
        self.free.push(index);
    }

    /// Calls `f` on every occupied slot (free slots hold null and are
    /// skipped by the collectors' null test, so all slots are visited).
    pub fn for_each_mut(&mut self, f: impl FnMut(&mut Address)) {
        self.slots.iter_mut().for_each(f);
    }

    /// Every reference held.
    pub fn values(&self) -> impl Iterator<Item = Address> + '_ {
        self.slots.iter().copied().filter(|a| !a.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused() {
        let mut table = SlotTable::default();
        let a = table.insert(Address::from_usize(16));
        let b = table.insert(Address::from_usize(32));
        table.remove(a);
        assert_eq!(table.values().count(), 1);
        let c = table.insert(Address::from_usize(48));
        assert_eq!(c, a);
        assert_eq!(table.get(b), Address::from_usize(32));
        table.for_each_mut(|slot| {
            if !slot.is_null() {
                *slot = slot.offset(1)
            }
        });
        assert_eq!(table.get(c), Address::from_usize(49));
        assert_eq!(table.values().count(), 2);
    }
}
