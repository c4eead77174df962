//! Type registration from C: `strata_type_desc`, turned into the heap's
//! `TypeDesc` (layout, reference offsets or a trace callback, a name) and
//! registered with `strata::Heap::register_type`. Registration may run
//! while other threads run transactions (the registry is append-only).

use crate::heap::{heap_of, strata_heap};
use crate::status::{boundary, non_null, Failure, Status};
use std::ffi::{c_char, c_int, CStr};
use strata_rs::{Layout, RefSlots, TraceFn, TypeDesc};

/// `STRATA_LAYOUT_FIXED`: every object has a body of `body_bytes`.
pub(crate) const LAYOUT_FIXED: c_int = 0;
/// `STRATA_LAYOUT_ARRAY`: a 64-bit element count, `body_bytes` of fixed
/// part, then the elements.
pub(crate) const LAYOUT_ARRAY: c_int = 1;

/// `strata_type_desc`: see the header for each field.
#[repr(C)]
pub struct strata_type_desc {
    pub name: *const c_char,
    pub layout: c_int,
    pub body_bytes: usize,
    pub element_bytes: usize,
    pub ref_offsets: *const u32,
    pub ref_offset_count: usize,
    pub elements_are_refs: bool,
    pub trace: Option<TraceFn>,
}

fn invalid(message: String) -> Failure {
    Failure::new(Status::InvalidType, message)
}

impl strata_type_desc {
    /// The heap's description of this type; what the registry checks
    /// itself (offsets inside the body, sizes) it is left to check.
    ///
    /// # Safety
    /// `name` is NULL or a NUL-terminated string; `ref_offsets` is NULL or
    /// points at `ref_offset_count` readable offsets.
    unsafe fn to_rust(&self) -> Result<TypeDesc, Failure> {
        non_null(self.name, "desc->name")?;
        // SAFETY: a NUL-terminated string by the caller's promise.
        let name = unsafe { CStr::from_ptr(self.name) }.to_string_lossy();
        let layout = match self.layout {
            LAYOUT_FIXED if self.element_bytes != 0 => {
                return Err(invalid(format!(
                    "type {name:?}: a fixed layout has no elements (element_bytes must be 0)"
                )))
            }
            LAYOUT_FIXED => Layout::Fixed {
                body_bytes: self.body_bytes,
            },
            LAYOUT_ARRAY => Layout::Array {
                fixed_bytes: self.body_bytes,
                elem_bytes: self.element_bytes,
            },
            other => return Err(invalid(format!("type {name:?}: unknown layout {other}"))),
        };
        let refs = match (self.ref_offset_count, self.trace) {
            (0, None) => RefSlots::None,
            (0, Some(trace)) => RefSlots::Trace(trace),
            (_, Some(_)) => {
                return Err(invalid(format!(
                    "type {name:?}: give reference offsets or a trace callback, not both"
                )))
            }
            (_, None) if self.ref_offsets.is_null() => {
                return Err(Failure::null("desc->ref_offsets"))
            }
            (count, None) => RefSlots::Offsets(
                // SAFETY: `count` readable offsets by the caller's promise.
                unsafe { std::slice::from_raw_parts(self.ref_offsets, count) }.to_vec(),
            ),
        };
        Ok(TypeDesc {
            name: name.into_owned(),
            layout,
            refs,
            element_refs: self.elements_are_refs,
        })
    }
}

/// `strata_register_type`: see the header.
///
/// # Safety
/// `desc` is NULL or points at a readable `strata_type_desc` whose
/// pointers keep the header's promises; `id_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_register_type(
    heap: *mut strata_heap,
    desc: *const strata_type_desc,
    id_out: *mut u32,
) -> Status {
    boundary("strata_register_type", || {
        let heap = heap_of(heap)?;
        non_null(desc, "desc")?;
        non_null(id_out, "id_out")?;
        // SAFETY: `desc` is not NULL; it and its pointers are readable by
        // the caller's promise.
        let desc = unsafe { (*desc).to_rust() }?;
        let id = heap
            .register_type(desc)
            .map_err(|e| invalid(e.to_string()))?;
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { id_out.write(id.0) };
        Ok(())
    })
}
