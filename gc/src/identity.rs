//! Object identity, stable across collections. An old object's identity
//! is its address. A young object moves when it is promoted, so asking for
//! its identity reserves its old-space slot at once: the object is copied
//! there, the young one gets `HAS_ID`, and the thread's `identities` map
//! records young -> reserved slot. The next minor collection promotes the
//! object into that slot and empties the map. [`Mutator::promote`] gives an
//! object its old-space address by promoting it now.

use crate::mutator::Mutator;
use crate::Address;
use strata_heap::header;
use strata_heap::AllocError;

impl Mutator {
    /// Moves `obj` (and what it reaches) out of the nursery if it is young,
    /// by a minor collection; returns its old-space address.
    ///
    /// # Safety
    /// As for [`Mutator::root`].
    pub unsafe fn promote(&mut self, obj: Address) -> Address {
        if !self.is_young(obj) {
            return obj;
        }
        self.shadow_stack.push(obj);
        self.collect_minor();
        self.shadow_stack.pop().expect("pushed above")
    }

    /// The stable identity of `obj`: its old-space address, reserved now if
    /// the object is young.
    ///
    /// # Safety
    /// As for [`Mutator::root`], and `obj` is not null.
    pub unsafe fn identity(&mut self, obj: Address) -> Result<u64, AllocError> {
        if !self.is_young(obj) {
            return Ok(obj.as_usize() as u64);
        }
        if let Some(reserved) = self.identities.get(&obj) {
            return Ok(reserved.as_usize() as u64);
        }
        // SAFETY: `obj` is a live young object of this thread.
        let info = self.type_ref(unsafe { header::type_id(obj) })?;
        // SAFETY: as above.
        let bytes = unsafe { info.size_of(obj) };
        let reserved = self.cache.alloc(&self.heap.shared.old, bytes)?;
        // SAFETY: `reserved` is a fresh slot of at least `bytes`; copying the
        // object makes it a well-formed object until promotion rewrites it.
        unsafe {
            std::ptr::copy_nonoverlapping(obj.as_ptr::<u8>(), reserved.as_ptr::<u8>(), bytes);
            header::set_flag(obj, header::HAS_ID);
            header::clear_flag(reserved, header::HAS_ID);
        }
        self.identities.insert(obj, reserved);
        Ok(reserved.as_usize() as u64)
    }

    /// The identity hash of `obj`, stable across collections.
    ///
    /// # Safety
    /// As for [`Mutator::identity`].
    pub unsafe fn identity_hash(&mut self, obj: Address) -> Result<u64, AllocError> {
        // SAFETY: caller's invariant.
        let id = unsafe { self.identity(obj) }?;
        let mut x = id ^ (id >> 33);
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        Ok(x ^ (x >> 33))
    }
}
