//! Types by id: a thread's private copy of the type registry, refreshed
//! when it lacks an id. Ids are looked up in it, as in the collectors'
//! snapshots, with [`strata_heap::lookup_type`].
//!
//! The registry only grows, so a copy or snapshot stays valid for every id
//! it holds: allocation checks an object's type against its thread's copy,
//! and the collectors look live objects' types up in the same way.

use crate::heap::Heap;
use crate::mutator::Mutator;
use std::sync::Arc;
use strata_heap::{lookup_type, AllocError, TypeInfo};

impl Mutator {
    /// The registered type `id`, refreshing this thread's copy of the
    /// registry when it is older than the type.
    pub fn type_info(&mut self, id: u32) -> Result<Arc<TypeInfo>, AllocError> {
        self.type_ref(id).cloned()
    }

    /// [`Mutator::type_info`] borrowed in place. Allocation paths (and the
    /// C ABI's reference stores) use this:
    /// every thread's copy of the registry shares the same `TypeInfo`s, so
    /// cloning one per allocation would make threads that allocate the same
    /// type contend on its reference count (and costs two atomic
    /// read-modify-writes even on one thread).
    #[inline]
    pub fn type_ref(&mut self, id: u32) -> Result<&Arc<TypeInfo>, AllocError> {
        if lookup_type(&self.types, id).is_none() {
            self.types = private_copy(&self.heap);
        }
        lookup_type(&self.types, id).ok_or(AllocError::UnknownType(id))
    }
}

/// This thread's own copy of the registry: collections clone the `Arc`, and
/// a copy shared by all threads would make every commit (which runs a minor
/// collection) write the same reference count.
pub(crate) fn private_copy(heap: &Heap) -> Arc<Vec<Arc<TypeInfo>>> {
    Arc::new(heap.shared.types.snapshot().to_vec())
}
