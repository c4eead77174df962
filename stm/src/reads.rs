//! Typed reads of references: a reference slot of an object, an element of
//! a reference array and an array's length, each through the read barrier
//! and checked against the heap type the caller expects, so that a handle
//! of type `U` always points at a `U`.

use crate::object::{HeapType, Object};
use crate::thread::Thread;
use std::any::TypeId as RustTypeId;
use std::sync::atomic::Ordering;
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
        check_field::<T>(field);
        let (body, word) = self.readable_word(source);
        // SAFETY: `body` is the body the read barrier gives for `source`,
        // whose header word is `word`.
        unsafe { self.ref_in_body::<T, U>(body, word, field) }.map(|(target, _)| target)
    }

    /// [`Thread::ref_slot`] of a body the read barrier gave already: slot
    /// `field` of `body`, a `T`'s whose header word is `word`, checked to
    /// be null or a `U`, with the header word of the object there (as read
    /// for the check).
    ///
    /// # Safety
    /// `body` is the body of a live `T` held by the running transaction,
    /// or of the version of it the transaction sees, and `word` that
    /// object's header word 0; `field < T::REFS`.
    #[inline(always)]
    pub(crate) unsafe fn ref_in_body<T: Object, U: HeapType>(
        &mut self,
        body: Address,
        word: u64,
        field: usize,
    ) -> Option<(Address, u64)> {
        // SAFETY: caller's invariant: `body` is live while the transaction
        // runs and slot `field` is a reference slot.
        let target = unsafe { body.offset(field * 8).as_ptr::<Address>().read() };
        if target.is_null() {
            return None;
        }
        let expected = self.ref_type_id::<T, U>(word);
        Some(self.checked_word::<U>(target, expected))
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
        // SAFETY: `body` is the body the read barrier gives for `array`.
        unsafe { self.element_in_body::<U, FOR_UPDATE>(body, i) }.map(|(target, _)| target)
    }

    /// [`Thread::element`] of an array body the read barrier gave already,
    /// with the header word of the element (as read for its type check).
    ///
    /// # Panics
    /// If `i` is out of bounds or the element is not a `U`.
    ///
    /// # Safety
    /// `body` is the body of a live `RefArray` held by the running
    /// transaction, or of the version of it the transaction sees.
    #[inline(always)]
    pub(crate) unsafe fn element_in_body<U: HeapType, const FOR_UPDATE: bool>(
        &mut self,
        body: Address,
        i: usize,
    ) -> Option<(Address, u64)> {
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
        let checked = self.checked_word::<U>(target, expected);
        if FOR_UPDATE {
            // SAFETY: `target` is a live object.
            unsafe { strata_gc::header::prefetch_linked(target) };
        }
        Some(checked)
    }

    /// `target` (not null), after checking that its heap type is
    /// `expected` (`U`'s), with the header word 0 of `target` it read.
    #[inline(always)]
    pub(crate) fn checked_word<U: HeapType>(
        &self,
        target: Address,
        expected: u32,
    ) -> (Address, u64) {
        // SAFETY: a non-null reference in a live object is a live object.
        let word = unsafe { header::word0(target) }.load(Ordering::Relaxed);
        let actual = header::type_id_of_word(word);
        if actual != expected {
            crate::tx::wrong_type::<U>(actual, expected);
        }
        (target, word)
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

/// Panics unless `field` is one of `T`'s reference slots.
#[inline(always)]
pub(crate) fn check_field<T: Object>(field: usize) {
    assert!(
        field < T::REFS,
        "strata: reference slot {field} of a type with {}",
        T::REFS
    );
}
