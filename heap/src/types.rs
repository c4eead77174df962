//! Types registered at run time: layout (fixed size or variable-length array)
//! and where the references are (byte offsets, every element, or a host trace
//! callback). The registry is append-only; readers take a snapshot without a
//! lock on their hot paths.

use crate::address::Address;
use crate::error::{AllocError, TypeError};
use crate::header::{self, align_up, ARRAY_LENGTH_BYTES, HEADER_BYTES};
use std::ffi::c_void;
use std::sync::{Arc, RwLock};

/// Called by a trace callback for each reference slot of an object: `slot`
/// holds an object address (header) or 0.
pub type VisitFn = unsafe extern "C" fn(slot: *mut usize, ctx: *mut c_void);

/// A host's trace callback: for the object body at `body`, call
/// `visit(slot, ctx)` once for every reference slot.
pub type TraceFn = unsafe extern "C" fn(body: *mut u8, visit: VisitFn, ctx: *mut c_void);

/// A registered type's id: 1-based, stable for the heap's lifetime.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeId(pub u32);

/// How big an object of a type is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Every object has a body of exactly `body_bytes`.
    Fixed { body_bytes: usize },
    /// The body is a 64-bit element count, then `fixed_bytes`, then
    /// `count * elem_bytes` of elements.
    Array {
        fixed_bytes: usize,
        elem_bytes: usize,
    },
}

/// Where an object's references are. Offsets count from the body's start
/// (for an array, the count word is at offset 0).
#[derive(Clone, Debug)]
pub enum RefSlots {
    /// The type holds no references.
    None,
    /// References at these byte offsets (8-aligned).
    Offsets(Vec<u32>),
    /// The host's callback reports the slots.
    Trace(TraceFn),
}

/// A type as the host describes it before registration.
#[derive(Clone, Debug)]
pub struct TypeDesc {
    pub name: String,
    pub layout: Layout,
    pub refs: RefSlots,
    /// For arrays: every element is one reference (requires `elem_bytes == 8`).
    pub element_refs: bool,
}

impl TypeDesc {
    /// A fixed-size type with `body_bytes` of body and no references.
    pub fn fixed(name: &str, body_bytes: usize) -> TypeDesc {
        TypeDesc {
            name: name.to_owned(),
            layout: Layout::Fixed { body_bytes },
            refs: RefSlots::None,
            element_refs: false,
        }
    }

    /// A variable-length array type.
    pub fn array(name: &str, fixed_bytes: usize, elem_bytes: usize) -> TypeDesc {
        TypeDesc {
            name: name.to_owned(),
            layout: Layout::Array {
                fixed_bytes,
                elem_bytes,
            },
            refs: RefSlots::None,
            element_refs: false,
        }
    }

    /// References at these body offsets.
    pub fn with_ref_offsets(mut self, offsets: &[u32]) -> TypeDesc {
        self.refs = RefSlots::Offsets(offsets.to_vec());
        self
    }

    /// References reported by a host callback.
    pub fn with_trace(mut self, trace: TraceFn) -> TypeDesc {
        self.refs = RefSlots::Trace(trace);
        self
    }

    /// Every array element is a reference.
    pub fn with_element_refs(mut self) -> TypeDesc {
        self.element_refs = true;
        self
    }
}

/// A registered type.
#[derive(Debug)]
pub struct TypeInfo {
    pub id: TypeId,
    pub name: String,
    pub layout: Layout,
    pub refs: RefSlots,
    pub element_refs: bool,
}

/// Bodies and arrays larger than this are refused as absurd.
const MAX_BODY_BYTES: u128 = 1 << 46;

impl TypeInfo {
    /// Total bytes (header included, aligned) of an ordinary object of this
    /// type with `len` elements (`len` is ignored for fixed types).
    #[inline]
    pub fn object_bytes(&self, len: usize) -> Result<usize, AllocError> {
        let body = match self.layout {
            Layout::Fixed { body_bytes } => body_bytes as u128,
            Layout::Array {
                fixed_bytes,
                elem_bytes,
            } => (ARRAY_LENGTH_BYTES + fixed_bytes) as u128 + len as u128 * elem_bytes as u128,
        };
        if body > MAX_BODY_BYTES {
            return Err(AllocError::BadSize {
                bytes: body + HEADER_BYTES as u128,
            });
        }
        Ok(align_up(HEADER_BYTES + body as usize))
    }

    /// Bytes of the body of the object at `obj`.
    ///
    /// # Safety
    /// `obj` points at a live object of this type.
    #[inline]
    pub unsafe fn body_bytes(&self, obj: Address) -> usize {
        match self.layout {
            Layout::Fixed { body_bytes } => body_bytes,
            Layout::Array {
                fixed_bytes,
                elem_bytes,
            } => {
                // SAFETY: `obj` is a live object of this array type.
                let len = unsafe { array_length(header::body(obj)) };
                ARRAY_LENGTH_BYTES + fixed_bytes + len * elem_bytes
            }
        }
    }

    /// Total bytes (header included, aligned) of the object at `obj`,
    /// whether it is an ordinary object or a version record.
    ///
    /// # Safety
    /// `obj` points at a live object of this type.
    #[inline]
    pub unsafe fn size_of(&self, obj: Address) -> usize {
        // SAFETY: caller's invariant.
        align_up(unsafe { header::body_offset(obj) + self.body_bytes(obj) })
    }

    /// Whether objects of this type can hold references.
    pub fn has_refs(&self) -> bool {
        self.element_refs || !matches!(self.refs, RefSlots::None)
    }

    /// Calls `visit` with a pointer to every reference slot of the object at
    /// `obj` (an ordinary object or a version record).
    ///
    /// # Safety
    /// `obj` points at a live object of this type whose body is not being
    /// written by another thread.
    #[inline]
    pub unsafe fn for_each_ref(&self, obj: Address, mut visit: impl FnMut(*mut usize)) {
        // SAFETY: caller's invariant.
        let body = unsafe { header::body(obj) };
        match &self.refs {
            RefSlots::None => {}
            RefSlots::Offsets(offsets) => {
                for &offset in offsets {
                    visit(body.offset(offset as usize).as_ptr());
                }
            }
            RefSlots::Trace(trace) => {
                let mut visit_ref: &mut dyn FnMut(*mut usize) = &mut visit;
                let ctx = (&mut visit_ref as *mut &mut dyn FnMut(*mut usize)).cast::<c_void>();
                // SAFETY: the host promised its callback reports slots of the
                // body it is given; `ctx` outlives the call.
                unsafe { trace(body.as_ptr(), visit_trampoline, ctx) };
            }
        }
        if self.element_refs {
            if let Layout::Array { fixed_bytes, .. } = self.layout {
                // SAFETY: `obj` is a live object of this array type.
                let len = unsafe { array_length(body) };
                // `element_refs` makes the elements 8 bytes each: placed as
                // in a reference array, past the fixed part.
                for i in 0..len {
                    visit(
                        body.offset(fixed_bytes + header::array_element_offset(i))
                            .as_ptr(),
                    );
                }
            }
        }
    }
}

/// The element count of the array whose body is at `body`.
///
/// # Safety
/// `body` is the body of a live array object.
#[inline(always)]
unsafe fn array_length(body: Address) -> usize {
    // SAFETY: an array body starts with its element count.
    unsafe { body.as_ptr::<u64>().read() as usize }
}

unsafe extern "C" fn visit_trampoline(slot: *mut usize, ctx: *mut c_void) {
    // SAFETY: `ctx` is the `&mut &mut dyn FnMut` built by `for_each_ref`, live
    // for the duration of the trace call that passes it here.
    let visit = unsafe { &mut *ctx.cast::<&mut dyn FnMut(*mut usize)>() };
    visit(slot);
}

/// The heap's registered types.
#[derive(Default)]
pub struct TypeRegistry {
    types: RwLock<Arc<Vec<Arc<TypeInfo>>>>,
}

impl TypeRegistry {
    /// Checks and registers a type, returning its id.
    pub fn register(&self, desc: TypeDesc) -> Result<TypeId, TypeError> {
        let (fixed_part, offset_base) = match desc.layout {
            Layout::Fixed { body_bytes } => (body_bytes, 0),
            Layout::Array {
                fixed_bytes,
                elem_bytes,
            } => {
                if elem_bytes == 0 && desc.element_refs {
                    return Err(TypeError("element_refs needs elem_bytes == 8".into()));
                }
                if desc.element_refs && elem_bytes != 8 {
                    return Err(TypeError(format!(
                        "element_refs needs elem_bytes == 8, got {elem_bytes}"
                    )));
                }
                (ARRAY_LENGTH_BYTES + fixed_bytes, ARRAY_LENGTH_BYTES)
            }
        };
        if fixed_part as u128 > MAX_BODY_BYTES {
            return Err(TypeError(format!("body of {fixed_part} bytes is absurd")));
        }
        if desc.element_refs && !matches!(desc.layout, Layout::Array { .. }) {
            return Err(TypeError("element_refs is only for array types".into()));
        }
        if let RefSlots::Offsets(offsets) = &desc.refs {
            for &offset in offsets {
                let offset = offset as usize;
                if !offset.is_multiple_of(8) || offset < offset_base || offset + 8 > fixed_part {
                    return Err(TypeError(format!(
                        "reference offset {offset} of type {:?} is unaligned or outside its \
                         fixed part of {fixed_part} bytes",
                        desc.name
                    )));
                }
            }
        }
        let mut types = self.types.write().unwrap_or_else(|e| e.into_inner());
        let id = u32::try_from(types.len() + 1)
            .map_err(|_| TypeError("too many types registered".into()))?;
        let info = Arc::new(TypeInfo {
            id: TypeId(id),
            name: desc.name,
            layout: desc.layout,
            refs: desc.refs,
            element_refs: desc.element_refs,
        });
        let mut next = Vec::with_capacity(types.len() + 1);
        next.extend(types.iter().cloned());
        next.push(info);
        *types = Arc::new(next);
        Ok(TypeId(id))
    }

    /// The current set of types; it never shrinks, so a snapshot stays valid
    /// for every id it contains.
    pub fn snapshot(&self) -> Arc<Vec<Arc<TypeInfo>>> {
        self.types.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Looks a type up by id.
    pub fn get(&self, id: u32) -> Option<Arc<TypeInfo>> {
        lookup_type(&self.snapshot(), id).cloned()
    }
}

/// The type with id `id` in `types`, a snapshot of the registry or a copy
/// of one: the one place that turns a type id into an index (ids start at
/// 1, so that 0 never names a type).
#[inline(always)]
pub fn lookup_type(types: &[Arc<TypeInfo>], id: u32) -> Option<&Arc<TypeInfo>> {
    types.get((id as usize).wrapping_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_and_sizes() {
        let registry = TypeRegistry::default();
        let node = registry
            .register(TypeDesc::fixed("node", 16).with_ref_offsets(&[0, 8]))
            .unwrap();
        assert_eq!(node, TypeId(1));
        let info = registry.get(1).unwrap();
        assert_eq!(info.object_bytes(0).unwrap(), 32);
        let arr = registry
            .register(TypeDesc::array("refs", 0, 8).with_element_refs())
            .unwrap();
        let info = registry.get(arr.0).unwrap();
        assert_eq!(info.object_bytes(3).unwrap(), 48);
        assert!(info.object_bytes(usize::MAX).is_err());
        assert!(registry.get(0).is_none());
        assert!(registry.get(99).is_none());
    }

    #[test]
    fn rejects_bad_descriptions() {
        let registry = TypeRegistry::default();
        let outside = TypeDesc::fixed("bad", 16).with_ref_offsets(&[16]);
        assert!(registry.register(outside).is_err());
        let unaligned = TypeDesc::fixed("bad", 16).with_ref_offsets(&[4]);
        assert!(registry.register(unaligned).is_err());
        let count_slot = TypeDesc::array("bad", 8, 1).with_ref_offsets(&[0]);
        assert!(registry.register(count_slot).is_err());
        let wide = TypeDesc::array("bad", 0, 4).with_element_refs();
        assert!(registry.register(wide).is_err());
        assert!(registry.get(1).is_none());
    }

    unsafe extern "C" fn trace_first(body: *mut u8, visit: VisitFn, ctx: *mut c_void) {
        // SAFETY: the test object's body starts with one reference slot.
        unsafe { visit(body.cast(), ctx) };
    }

    #[test]
    fn trace_callback_reports_slots() {
        let registry = TypeRegistry::default();
        let id = registry
            .register(TypeDesc::fixed("cb", 16).with_trace(trace_first))
            .unwrap();
        let info = registry.get(id.0).unwrap();
        let mut words = [0u64; 4];
        let obj = Address::from_ptr(words.as_mut_ptr());
        // SAFETY: a local buffer laid out as an object of type `cb`.
        unsafe { header::init(obj, id.0, 0) };
        let mut seen = Vec::new();
        // SAFETY: as above.
        unsafe { info.for_each_ref(obj, |slot| seen.push(slot as usize)) };
        assert_eq!(seen, vec![obj.as_usize() + 16]);
    }
}
