//! Arrays of plain elements ([`DataArray`]) in transactions and views: made
//! zeroed, read and written element by element or as a whole slice. Reads
//! and writes go through the barriers like any object's: a write to a
//! shared array copies the whole array at its first write.

use crate::object::{DataArray, Element, Obj};
use crate::tx::{out_of_bounds, Tx};
use crate::view::{Ref, View};
use strata_gc::{header, Address};

/// The elements of an array body: its length word, then the elements.
///
/// # Safety
/// `body` is the body of a live `DataArray<E>` (or of a version of one) that
/// stays put and unchanged by others for `'a`.
unsafe fn elements<'a, E: Element>(body: Address) -> &'a [E] {
    // SAFETY: caller's invariant; the elements start 8 bytes in, aligned
    // for every element type (at most 8), and every bit pattern is an `E`.
    unsafe {
        let len = header::array_length(body);
        std::slice::from_raw_parts(body.offset(header::ARRAY_LENGTH_BYTES).as_ptr::<E>(), len)
    }
}

/// [`elements`], to change them.
///
/// # Safety
/// As for [`elements`], and the array is private to the running transaction
/// (made by it, or its private copy), borrowed by nobody else for `'a`.
unsafe fn elements_mut<'a, E: Element>(body: Address) -> &'a mut [E] {
    // SAFETY: caller's invariant, as in `elements`.
    unsafe {
        let len = header::array_length(body);
        std::slice::from_raw_parts_mut(body.offset(header::ARRAY_LENGTH_BYTES).as_ptr::<E>(), len)
    }
}

impl<'tx> Tx<'tx> {
    /// Allocates an array of `len` zero elements, private to this
    /// transaction until it commits.
    pub fn alloc_data<E: Element>(&mut self, len: usize) -> Obj<'tx, DataArray<E>> {
        let id = self.th.type_id_of::<DataArray<E>>();
        let obj = match self.th.m.alloc_array(strata_gc::TypeId(id), len) {
            Ok(obj) => obj,
            Err(e) => self.th.abort_attempt(crate::tx::Conflict::Alloc(e)),
        };
        self.handle(obj)
    }

    /// The length of a data array.
    pub fn data_len<E: Element>(&mut self, array: Obj<'tx, DataArray<E>>) -> usize {
        self.read_data(array, |elements| elements.len())
    }

    /// Element `i` of a data array.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn get_data<E: Element>(&mut self, array: Obj<'tx, DataArray<E>>, i: usize) -> E {
        self.read_data(array, |elements| match elements.get(i) {
            Some(&e) => e,
            None => out_of_bounds(i, elements.len()),
        })
    }

    /// Sets element `i` of a data array.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn set_data<E: Element>(&mut self, array: Obj<'tx, DataArray<E>>, i: usize, value: E) {
        self.write_data(array, |elements| match elements.get_mut(i) {
            Some(e) => *e = value,
            None => out_of_bounds(i, elements.len()),
        })
    }

    /// Calls `f` with the elements of a data array as this transaction sees
    /// them.
    pub fn read_data<E: Element, R>(
        &mut self,
        array: Obj<'tx, DataArray<E>>,
        f: impl FnOnce(&[E]) -> R,
    ) -> R {
        let addr = self.address(array);
        let body = self.th.readable(addr);
        // SAFETY: `body` is the body of the array or of the version this
        // transaction sees, which nothing changes or moves while `f` runs
        // (the transaction is borrowed: nothing allocates).
        f(unsafe { elements::<E>(body) })
    }

    /// Calls `f` with the elements of a data array to change them (in place
    /// when the array is this transaction's, else in its private copy).
    pub fn write_data<E: Element, R>(
        &mut self,
        array: Obj<'tx, DataArray<E>>,
        f: impl FnOnce(&mut [E]) -> R,
    ) -> R {
        let (_, body) = self.th.writable(array.index);
        // SAFETY: `body` is private to this transaction (the array it made,
        // or its private copy) and nothing moves it while `f` runs (the
        // transaction is borrowed: nothing allocates).
        f(unsafe { elements_mut::<E>(body) })
    }
}

impl<'v> View<'v, '_> {
    /// The length of a data array.
    pub fn data_len<E: Element>(&mut self, array: Ref<'v, DataArray<E>>) -> usize {
        self.read_data(array).len()
    }

    /// Element `i` of a data array.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn get_data<E: Element>(&mut self, array: Ref<'v, DataArray<E>>, i: usize) -> E {
        let elements = self.read_data(array);
        match elements.get(i) {
            Some(&e) => e,
            None => out_of_bounds(i, elements.len()),
        }
    }

    /// The elements of a data array as the transaction sees them, valid
    /// while the view lives.
    pub fn read_data<E: Element>(&mut self, array: Ref<'v, DataArray<E>>) -> &'v [E] {
        let (body, _) = self.readable(array);
        // SAFETY: `body` is the array's body or the version the transaction
        // sees; nothing writes, moves or frees it while the view lives (a
        // view cannot write, and no collection runs meanwhile).
        unsafe { elements::<E>(body) }
    }
}
