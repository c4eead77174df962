//! Read-only views: references without handles for traversals that only
//! read (see `DESIGN.md`, "Views: references without handles").
//!
//! A [`View`] borrows its transaction's thread mutably for the whole closure
//! and offers no method that allocates or polls a safepoint, so no
//! collection runs on this thread while it lives (and no major collection
//! runs anywhere: it would need this thread parked). A [`Ref`] is therefore
//! a bare address that stays valid until the view ends; its brand `'v`
//! keeps it from leaving the view. Every read goes through the read
//! barrier, like [`Tx::read`](crate::Tx::read).

use crate::object::{Brand, HeapType, Obj, Object, RefArray};
use crate::thread::Thread;
use crate::tx::data_ptr;
use std::marker::PhantomData;
use strata_gc::Address;

/// A read-only view of a transaction, given by
/// [`Tx::view`](crate::Tx::view): reads with no handles made.
///
/// ```
/// use strata::{Heap, HeapConfig, Object, Ref, View};
///
/// #[derive(Clone, Copy)]
/// struct Cell {
///     value: u64,
/// }
/// impl Object for Cell {
///     const REFS: usize = 1; // next
/// }
///
/// fn sum<'v>(v: &mut View<'v, '_>, mut at: Option<Ref<'v, Cell>>) -> u64 {
///     let mut total = 0;
///     while let Some(cell) = at {
///         total += v.read(cell).value;
///         at = v.get_ref(cell, 0);
///     }
///     total
/// }
///
/// let heap = Heap::new(HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let total = thread
///     .atomically(|tx| {
///         let mut head = None;
///         for value in 1..=100 {
///             let cell = tx.alloc(Cell { value });
///             tx.set_ref(cell, 0, head);
///             head = Some(cell);
///         }
///         let before = tx.handle_count();
///         let total = tx.view(|v| {
///             let head = head.map(|h| v.enter(h));
///             sum(v, head)
///         });
///         assert_eq!(tx.handle_count(), before); // no handle was made
///         total
///     })
///     .unwrap();
/// assert_eq!(total, 5050);
/// ```
pub struct View<'v, 'tx> {
    pub(crate) th: &'v mut Thread,
    _tx: Brand<'tx>,
    _view: Brand<'v>,
}

/// A reference to an object, valid inside one [`View`] (brand `'v`).
pub struct Ref<'v, T> {
    pub(crate) addr: Address,
    _view: Brand<'v>,
    _type: PhantomData<*const T>,
}

impl<T> Clone for Ref<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ref<'_, T> {}

impl<T> std::fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ref<{}>({:?})", std::any::type_name::<T>(), self.addr)
    }
}

impl<'v, T> Ref<'v, T> {
    #[inline(always)]
    fn new(addr: Address) -> Self {
        Ref {
            addr,
            _view: PhantomData,
            _type: PhantomData,
        }
    }
}

impl<'v, 'tx> View<'v, 'tx> {
    pub(crate) fn new(th: &'v mut Thread) -> Self {
        View {
            th,
            _tx: PhantomData,
            _view: PhantomData,
        }
    }

    /// The object behind a handle of the transaction, as a reference of
    /// this view.
    #[inline(always)]
    pub fn enter<T>(&mut self, obj: Obj<'tx, T>) -> Ref<'v, T> {
        // SAFETY: an `Obj` of the transaction's brand indexes its arena,
        // which does not shrink while the transaction (borrowed by this
        // view) runs.
        Ref::new(unsafe { self.th.m.client_root_unchecked(obj.index as usize) })
    }

    /// A handle of the transaction to the object, to keep after the view
    /// ends (one arena entry, as for any handle).
    pub fn handle<T>(&mut self, r: Ref<'v, T>) -> Obj<'tx, T> {
        self.th.handle(r.addr)
    }

    /// The value of the object as the transaction sees it.
    #[inline]
    pub fn read<T: Object>(&mut self, r: Ref<'v, T>) -> T {
        let body = self.th.readable(r.addr);
        // SAFETY: `body` is the body of `r`'s object or of one of its
        // versions, which stays put while the view lives; it holds a `T`
        // after the references.
        unsafe { data_ptr::<T>(body).read() }
    }

    /// Reference slot `field` of the object, as an object of type `U`.
    ///
    /// # Panics
    /// If `field >= T::REFS`, or the object there is not a `U`.
    #[inline(always)]
    pub fn get_ref<T: Object, U: HeapType>(
        &mut self,
        r: Ref<'v, T>,
        field: usize,
    ) -> Option<Ref<'v, U>> {
        // SAFETY: `r` is a live object the transaction holds; a `Ref<T>`
        // holds a `T`.
        unsafe { self.th.ref_slot::<T, U>(r.addr, field) }.map(Ref::new)
    }

    /// The length of an array.
    pub fn len(&mut self, array: Ref<'v, RefArray>) -> usize {
        // SAFETY: a `Ref<RefArray>` is a live array the transaction holds.
        unsafe { self.th.array_len(array.addr) }
    }

    /// Element `i` of an array, as an object of type `U`.
    ///
    /// # Panics
    /// If `i` is out of bounds or the element is not a `U`.
    pub fn get<U: HeapType>(&mut self, array: Ref<'v, RefArray>, i: usize) -> Option<Ref<'v, U>> {
        // SAFETY: a `Ref<RefArray>` is a live array the transaction holds.
        unsafe { self.th.element::<U, false>(array.addr, i) }.map(Ref::new)
    }
}
