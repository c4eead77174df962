//! Typed reads of references: a reference slot of an object, an element of
//! a reference array and an array's length, each through the read barrier
//! and checked against the heap type the caller expects, so that a handle
//! of type `U` always points at a `U`.

use crate::object::{HeapType, Object};
use crate::thread::Thread;
use std::any::TypeId as RustTypeId;
use strata_gc::{header, Address};

impl Thread {
    /// Reference slot `field` of `source` (a `T`) as this transaction sees
    /// it, checked to be null or a `U`.
    ///
    /// # Panics
    /// If `field >= T::REFS`, or the object there is not a `U`.
    ///
    /// # Safety
    /// `source` is a live object of `T`'s heap type held by the running
    /// transaction.
    #[inline(always)]
    pub(crate) unsafe fn ref_slot<T: Object, U: HeapType>(
        &mut self,
        source: Address,
        field: usize,
    ) -> Option<Address> {
        assert!(
            field < T::REFS,
            "strata: reference slot {field} of a type with {}",
            T::REFS
        );
        let (body, word) = self.readable_word(source);
        // SAFETY: `body` is the body of `source` or of a version of it, live
        // while the transaction runs; slot `field` is a reference slot.
        let target = unsafe { body.offset(field * 8).as_ptr::<Address>().read() };
        if target.is_null() {
            return None;
        }
        let expected = self.ref_type_id::<T, U>(word);
        Some(self.checked::<U>(target, expected))
    }

    /// Reference slot `field` of `source` (a `T`) as this transaction sees
    /// it, whatever the type of the object there: the structures that hold
    /// a C host's objects, whose types Rust does not know.
    ///
    /// # Panics
    /// If `field >= T::REFS`.
    ///
    /// # Safety
    /// `source` is a live object of `T`'s heap type held by the running
    /// transaction.
    pub(crate) unsafe fn ref_slot_untyped<T: Object>(
        &mut self,
        source: Address,
        field: usize,
    ) -> Option<Address> {
        assert!(
            field < T::REFS,
            "strata: reference slot {field} of a type with {}",
            T::REFS
        );
        let body = self.readable(source);
        // SAFETY: as in `ref_slot`.
        let target = unsafe { body.offset(field * 8).as_ptr::<Address>().read() };
        (!target.is_null()).then_some(target)
    }

    /// The length of the reference array `array` (its version this
    /// transaction sees).
    ///
    /// # Safety
    /// `array` is a live `RefArray` held by the running transaction.
    #[inline(always)]
    pub(crate) unsafe fn array_len(&mut self, array: Address) -> usize {
        let body = self.readable(array);
        // SAFETY: `body` is the array's (or a version's) body.
        unsafe { header::array_length(body) }
    }

    /// Element `i` of the reference array `array` as this transaction sees
    /// it, checked to be null or a `U`; `FOR_UPDATE` when the caller is
    /// about to write it (its header line is fetched for writing first,
    /// and the newest version record it links to for reading).
    ///
    /// # Panics
    /// If `i` is out of bounds or the element is not a `U`.
    ///
    /// # Safety
    /// `array` is a live `RefArray` held by the running transaction.
    #[inline(always)]
    pub(crate) unsafe fn element<U: HeapType, const FOR_UPDATE: bool>(
        &mut self,
        array: Address,
        i: usize,
    ) -> Option<Address> {
        let body = self.readable(array);
        // SAFETY: an array body is its length then its elements.
        let target = unsafe {
            let len = header::array_length(body);
            if i >= len {
                crate::tx::out_of_bounds(i, len);
            }
            header::array_element(body, i)
        };
        if target.is_null() {
            return None;
        }
        if FOR_UPDATE {
            target.prefetch_for_write();
        }
        let expected = self.type_id_of::<U>();
        let checked = self.checked::<U>(target, expected);
        if FOR_UPDATE {
            // SAFETY: `target` is a live object.
            unsafe { strata_gc::header::prefetch_linked(target) };
        }
        Some(checked)
    }

    /// `target` (not null), after checking that its heap type is
    /// `expected` (`U`'s).
    #[inline(always)]
    pub(crate) fn checked<U: HeapType>(&self, target: Address, expected: u32) -> Address {
        // SAFETY: a non-null reference in a live object is a live object.
        let actual = unsafe { strata_gc::header::type_id(target) };
        if actual != expected {
            crate::tx::wrong_type::<U>(actual, expected);
        }
        target
    }

    /// The heap type id a reference read from `source`, a `T` whose header
    /// word is `word`, must have to be a `U`. A link to the same type
    /// (lists, trees) is checked against the source's type, from the header
    /// word the read barrier has just loaded: no lookup of `U` (the
    /// comparison of the two `TypeId`s folds away) and no second load.
    #[inline(always)]
    fn ref_type_id<T: Object, U: HeapType>(&mut self, word: u64) -> u32 {
        if RustTypeId::of::<T>() == RustTypeId::of::<U>() {
            strata_gc::header::type_id_of_word(word)
        } else {
            self.type_id_of::<U>()
        }
    }
}
