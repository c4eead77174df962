//! The Rust types a thread has met, as registered with the collector: a
//! one-entry cache before a map, so that the loops of a transaction, which
//! usually touch one type, find its heap type with one comparison. The first
//! thread of a heap to meet a type registers it (`StmShared::type_ids`).

use crate::mix_hash::MixMap;
use crate::object::sealed::Shape;
use crate::object::{HeapType, Object};
use crate::thread::Thread;
use std::any::TypeId as RustTypeId;
use strata_gc::{FixedType, TypeDesc, TypeId};

/// A thread's registered types.
pub(crate) struct TypeCache {
    types: MixMap<RustTypeId, Registered>,
    /// The key of the type looked up last; at first a key no heap type
    /// has, so that the hit test is one comparison of keys.
    last_key: RustTypeId,
    /// What `last_key` is registered as: a separate field, so that a hit
    /// reads the words it needs in place.
    last: Registered,
    /// The key of the fixed-size type allocated last (at first a key no
    /// heap type has) and its allocation type, checked against the
    /// object size the Rust API computes for it: an allocation's hit is one
    /// comparison of keys, with no test of the type's kind or size.
    /// `fixed` is `Some` whenever `fixed_key` is a heap type's key.
    fixed_key: RustTypeId,
    fixed: Option<FixedType>,
}

impl Default for TypeCache {
    fn default() -> Self {
        TypeCache {
            types: MixMap::default(),
            last_key: RustTypeId::of::<NotAHeapType>(),
            last: Registered {
                id: TypeId(0),
                fixed: None,
            },
            fixed_key: RustTypeId::of::<NotAHeapType>(),
            fixed: None,
        }
    }
}

/// A Rust type as registered with the collector: its heap type id, and
/// for a fixed-size type its allocation type.
#[derive(Clone, Copy)]
struct Registered {
    id: TypeId,
    fixed: Option<FixedType>,
}

/// The key [`Thread`]'s type cache starts with: not a [`HeapType`], so
/// no lookup matches it.
enum NotAHeapType {}

impl Thread {
    /// The allocation type of `T`, registering it on first use; its
    /// object size is [`object_bytes::<T>`](crate::object::object_bytes)
    /// (checked when it is cached). Loops usually allocate one type: a
    /// one-entry cache before the map.
    #[inline(always)]
    pub(crate) fn fixed_type_of<T: Object>(&mut self) -> FixedType {
        if self.types.fixed_key == RustTypeId::of::<T>() {
            // SAFETY: `fixed_key` is `T`'s, so `fixed` was set with it.
            return unsafe { self.types.fixed.unwrap_unchecked() };
        }
        self.fixed_type_slow::<T>()
    }

    #[cold]
    #[inline(never)]
    fn fixed_type_slow<T: Object>(&mut self) -> FixedType {
        let Some(ty) = self.registered_slow::<T>().fixed else {
            unreachable!("an Object is registered as a fixed type")
        };
        // The allocation fast path relies on it (`Tx::alloc`).
        assert_eq!(
            ty.object_bytes(),
            crate::object::object_bytes::<T>(),
            "strata: the heap's size of {}",
            std::any::type_name::<T>()
        );
        self.types.fixed_key = RustTypeId::of::<T>();
        self.types.fixed = Some(ty);
        ty
    }

    /// The heap's type id of `U`, registering it on first use (the same
    /// one-entry cache as [`Thread::fixed_type_of`]).
    #[inline(always)]
    pub(crate) fn type_id_of<U: HeapType>(&mut self) -> u32 {
        if self.types.last_key == RustTypeId::of::<U>() {
            return self.types.last.id.0;
        }
        self.registered_slow::<U>().id.0
    }

    #[cold]
    #[inline(never)]
    fn registered_slow<U: HeapType>(&mut self) -> Registered {
        let key = RustTypeId::of::<U>();
        let ty = match self.types.types.get(&key) {
            Some(&ty) => ty,
            None => self.register::<U>(),
        };
        self.types.last_key = key;
        self.types.last = ty;
        ty
    }

    /// Registers `U` with the collector (once per heap) and caches it.
    #[cold]
    fn register<U: HeapType>(&mut self) -> Registered {
        let shape = U::shape();
        let name = std::any::type_name::<U>();
        let id = match shape {
            Shape::RefArray => self.ref_array,
            Shape::Fixed {
                refs,
                data_bytes,
                align,
            } => {
                assert!(
                    align <= 8,
                    "strata: {name} has alignment {align} (at most 8 is supported)"
                );
                let offsets: Vec<u32> = (0..refs as u32).map(|i| i * 8).collect();
                self.heap_type::<U>(
                    TypeDesc::fixed(name, refs * 8 + data_bytes).with_ref_offsets(&offsets),
                )
            }
            Shape::Data { elem_bytes } => self.heap_type::<U>(TypeDesc::array(name, 0, elem_bytes)),
        };
        let fixed = match shape {
            Shape::Fixed { .. } => Some(self.m.fixed_type(id).expect("just registered")),
            _ => None,
        };
        let ty = Registered { id, fixed };
        self.types.types.insert(RustTypeId::of::<U>(), ty);
        ty
    }

    /// The heap's type for the Rust type `U` described by `desc`,
    /// registered by the first thread of the heap that asks.
    fn heap_type<U: HeapType>(&mut self, desc: TypeDesc) -> TypeId {
        *self
            .heap
            .stm
            .type_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(RustTypeId::of::<U>())
            .or_insert_with(|| {
                self.heap
                    .gc
                    .register_type(desc)
                    .expect("a Rust type always makes a valid description")
            })
    }
}
