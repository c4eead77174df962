//! Mark and sweep over the old space's pages: a major collection's markers
//! set the mark bits of the objects they reach, and its sweep makes the
//! marks the new allocation state, frees what was not marked and rebuilds
//! the page allocator's partial lists. The object walks a collector and the
//! heap verifier use (`is_object`, `for_each_object`) read the same page
//! states.
//!
//! Everything here runs with the world stopped (crate invariant "page
//! ownership"): markers only read page states and set mark bits, which are
//! atomics; only the sweep writes page states, under the allocator lock.

use super::OldSpace;
use crate::address::Address;
use crate::header::HEADER_BYTES;
use crate::page::{PageKind, PAGE_BYTES};
use crate::size_class::slot_at;

/// The byte a sweep with poisoning writes over freed memory (see
/// [`OldSpace::sweep`]).
pub const POISON: u8 = 0xFB;

impl OldSpace {
    /// Marks the object at `obj`; returns true if it was not marked before
    /// (exactly one of several markers racing on it gets true). Returns
    /// `None` when `obj` is not the start of an allocated old object.
    ///
    /// # Safety
    /// The world is stopped and the callers are the collection's markers:
    /// nothing changes page states until the sweep.
    pub unsafe fn mark(&self, obj: Address) -> Option<bool> {
        let (index, meta) = self.page_of(obj)?;
        // SAFETY: the world is stopped; markers only read page states.
        let state = unsafe { meta.state_ref() };
        match state.kind {
            PageKind::Small { class } => {
                let offset = obj.as_usize() - self.page_start(index).as_usize();
                let slot = slot_at(class as usize, offset)?;
                if slot >= state.alloc.len() || !state.alloc[slot] {
                    return None;
                }
                Some(meta.mark_slot(slot))
            }
            PageKind::LargeHead { .. } if obj == self.page_start(index) => Some(meta.mark_large()),
            _ => None,
        }
    }

    /// Whether `obj` is the start of an allocated old object.
    ///
    /// # Safety
    /// The world is stopped (or the caller owns every page it may touch).
    pub unsafe fn is_object(&self, obj: Address) -> bool {
        let Some((index, meta)) = self.page_of(obj) else {
            return false;
        };
        // SAFETY: caller's promise; read only.
        let state = unsafe { meta.state() };
        match state.kind {
            PageKind::Small { class } => {
                let offset = obj.as_usize() - self.page_start(index).as_usize();
                slot_at(class as usize, offset).is_some_and(|slot| state.holds_object(slot))
            }
            PageKind::LargeHead { .. } => obj == self.page_start(index),
            _ => false,
        }
    }

    /// Calls `f(address, slot_bytes)` for every allocated object.
    ///
    /// # Safety
    /// The world is stopped and the caller is the collector.
    pub unsafe fn for_each_object(&self, mut f: impl FnMut(Address, usize)) {
        let high_water = self.stats().high_water_pages;
        for index in 0..high_water {
            let Some(meta) = self.reservation.page(index) else {
                continue;
            };
            // SAFETY: the world is stopped; read only.
            let state = unsafe { meta.state() };
            match state.kind {
                PageKind::Small { .. } => {
                    let slot_bytes = state.slot_bytes();
                    for slot in state.alloc.iter_ones() {
                        if !state.holds_object(slot) {
                            continue;
                        }
                        f(self.page_start(index).offset(slot * slot_bytes), slot_bytes);
                    }
                }
                PageKind::LargeHead { pages } => {
                    f(self.page_start(index), pages as usize * PAGE_BYTES)
                }
                _ => {}
            }
        }
    }

    /// Frees every unmarked object, clears the marks and rebuilds the partial
    /// lists. Pages retained at the last sweep and not reused since are
    /// released to the OS; the pages this sweep empties are retained until
    /// [`OldSpace::trim_retained`]. Returns the live bytes (slot sizes of
    /// marked small objects plus marked large objects' pages). With
    /// `poison`, every freed small slot and every freed large object's
    /// header is filled with [`POISON`], so that a use after free reads a
    /// header of no registered type and references that point nowhere.
    ///
    /// # Safety
    /// The world is stopped, the caller is the collector, and every live
    /// object was marked.
    pub unsafe fn sweep(&self, poison: bool) -> usize {
        let mut allocator = self.lock_allocator();
        allocator.release_retained(&self.reservation, 0);
        let mut live = 0;
        for list in &mut allocator.partial {
            list.clear();
        }
        for index in 0..allocator.high_water {
            let Some(meta) = self.reservation.page(index) else {
                continue;
            };
            // SAFETY: the world is stopped; the collector owns every page.
            let state = unsafe { meta.state() };
            match state.kind {
                PageKind::Small { class } => {
                    let before = poison.then(|| state.alloc.clone());
                    meta.take_marks(&mut state.alloc);
                    if let Some(before) = before {
                        let (start, bytes) = (self.page_start(index), state.slot_bytes());
                        for slot in before.iter_ones().filter(|&slot| !state.alloc[slot]) {
                            // SAFETY: an unmarked slot holds no live object
                            // and the world is stopped: nobody reads it.
                            unsafe {
                                start
                                    .offset(slot * bytes)
                                    .as_ptr::<u8>()
                                    .write_bytes(POISON, bytes)
                            };
                        }
                    }
                    let marked = state.alloc.count_ones();
                    if state.cached {
                        state.keep_run();
                    } else {
                        state.forget_run();
                    }
                    live += marked * state.slot_bytes();
                    if marked == 0 && !state.cached {
                        self.free_pages(&mut allocator, index, 1);
                    } else if !state.cached && state.has_free_slot() {
                        allocator.partial[class as usize].push(index as u32);
                    }
                }
                PageKind::LargeHead { pages } => {
                    if meta.take_large_mark() {
                        live += pages as usize * PAGE_BYTES;
                    } else {
                        if poison {
                            // SAFETY: as above, for a dead large object.
                            unsafe {
                                self.page_start(index)
                                    .as_ptr::<u8>()
                                    .write_bytes(POISON, HEADER_BYTES)
                            };
                        }
                        self.free_pages(&mut allocator, index, pages as usize);
                    }
                }
                PageKind::LargeTail { .. } | PageKind::Free => {}
            }
        }
        live
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::small_space;
    use super::*;
    use crate::old_space::AllocCache;

    #[test]
    fn allocates_distinct_slots_and_frees_on_sweep() {
        let space = small_space(4 << 20);
        let mut cache = AllocCache::default();
        let a = cache.alloc_zeroed(&space, 32).unwrap();
        let b = cache.alloc_zeroed(&space, 32).unwrap();
        assert_ne!(a, b);
        assert_eq!(b.as_usize() - a.as_usize(), 32);
        let big = space.alloc_large(100_000).unwrap();
        assert_eq!(space.stats().pages_in_use, 3);
        // SAFETY: single-threaded test acting as the collector.
        unsafe {
            assert!(space.is_object(a));
            assert!(!space.is_object(a.offset(16)));
            assert_eq!(space.mark(b), Some(true));
            assert_eq!(space.mark(b), Some(false));
            assert!(space.mark(a.offset(16)).is_none());
            let live = space.sweep(true);
            assert_eq!(live, 32);
            assert!(!space.is_object(a));
            assert!(space.is_object(b));
            // Poisoned: the freed slot, not the live one.
            assert_eq!(a.as_ptr::<[u8; 32]>().read(), [POISON; 32]);
            assert_eq!(b.as_ptr::<[u8; 32]>().read(), [0; 32]);
            assert!(!space.is_object(big));
        }
        assert_eq!(space.stats().pages_in_use, 1);
        space.release_cache(&mut cache);
        // SAFETY: as above; nothing is marked, so everything is freed.
        unsafe { space.sweep(false) };
        assert_eq!(space.stats().pages_in_use, 0);
    }
}
