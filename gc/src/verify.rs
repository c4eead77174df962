//! The heap verifier: after a major collection, with the world stopped,
//! walks every object in the old space and checks the invariants of
//! `DESIGN.md` ("Heap verifier"). On by default with the `verify` feature.

use crate::heap::HeapShared;
use crate::Address;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use strata_heap::header::{self, FORWARDED, HAS_ID, REMEMBERED, VERSION};
use strata_heap::{lookup_type, TypeInfo};

/// Checks every old object; returns the first problem found.
///
/// # Safety
/// The world is stopped and every nursery is empty.
pub(crate) unsafe fn verify_heap(heap: &HeapShared, types: &[Arc<TypeInfo>]) -> Result<(), String> {
    let mut problem = None;
    let old = &heap.old;
    let check = |obj: Address, slot_bytes: usize| -> Result<(), String> {
        // SAFETY: the world is stopped; `obj` is an allocated old slot.
        let word = unsafe { header::word0(obj) }.load(Ordering::Relaxed);
        let id = header::type_id_of_word(word);
        let info = lookup_type(types, id)
            .ok_or_else(|| format!("{obj:?} has unregistered type id {id}"))?;
        if word & (FORWARDED | HAS_ID | REMEMBERED) != 0 {
            return Err(format!("{obj:?} has a young-only or stale flag: {word:#x}"));
        }
        // SAFETY: as above.
        let size = unsafe { info.size_of(obj) };
        if size > slot_bytes {
            return Err(format!(
                "{obj:?} of {size} bytes overflows its {slot_bytes}-byte slot"
            ));
        }
        let mut bad_ref = None;
        // SAFETY: as above.
        unsafe {
            info.for_each_ref(obj, |slot| {
                let value = Address::from_usize(*slot);
                if !value.is_null() && !old.is_object(value) && bad_ref.is_none() {
                    bad_ref = Some(value);
                }
            })
        };
        if let Some(value) = bad_ref {
            return Err(format!(
                "{obj:?} ({}) refers to {value:?}, which is not a live old object",
                info.name
            ));
        }
        if word & VERSION == 0 {
            // SAFETY: as above.
            let mut record =
                Address::from_usize(unsafe { header::link(obj) }.load(Ordering::Relaxed));
            let mut newer_stamp = u64::MAX;
            while !record.is_null() {
                // SAFETY: the world is stopped; checked before dereferencing.
                unsafe {
                    if !old.is_object(record) || !header::has_flag(record, VERSION) {
                        return Err(format!("{obj:?} has a bad version record {record:?}"));
                    }
                    if header::type_id(record) != id {
                        return Err(format!("{obj:?} has a version {record:?} of another type"));
                    }
                    let stamp = header::stamp(record).load(Ordering::Relaxed);
                    if stamp >= newer_stamp {
                        return Err(format!("{obj:?} has version stamps out of order"));
                    }
                    newer_stamp = stamp;
                    record = Address::from_usize(header::link(record).load(Ordering::Relaxed));
                }
            }
        }
        Ok(())
    };
    // SAFETY: the world is stopped.
    unsafe {
        old.for_each_object(|obj, slot_bytes| {
            if problem.is_none() {
                if let Err(e) = check(obj, slot_bytes) {
                    problem = Some(e);
                }
            }
        })
    };
    match problem {
        Some(p) => Err(p),
        None => Ok(()),
    }
}
