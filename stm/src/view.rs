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
//!
//! A [`Ref`] also carries the object's header word 0 as read when the
//! reference was made. Of it, only what cannot change while the view lives
//! is used: the type id (nothing is moved or freed) and `PRIVATE` (the
//! transaction's own objects, which only its commit makes shared; other
//! threads' private objects are unreachable). A read through a `Ref` of a
//! private object therefore takes its body without loading the header
//! again; any other object goes through the read barrier, which does.

use crate::object::{Brand, HeapType, Obj, Object, RefArray};
use crate::reads::check_field;
use crate::thread::Thread;
use crate::tx::data_ptr;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use strata_gc::header::{self, HEADER_BYTES, PRIVATE};
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
    /// The object's header word 0 when the reference was made (see the
    /// module doc for what of it may be used).
    word: u64,
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
    fn new((addr, word): (Address, u64)) -> Self {
        Ref {
            addr,
            word,
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
        let addr = unsafe { self.th.m.client_root_unchecked(obj.index as usize) };
        // SAFETY: a handle's object is live.
        let word = unsafe { header::word0(addr) }.load(Ordering::Relaxed);
        Ref::new((addr, word))
    }

    /// A handle of the transaction to the object, to keep after the view
    /// ends (one arena entry, as for any handle).
    pub fn handle<T>(&mut self, r: Ref<'v, T>) -> Obj<'tx, T> {
        self.th.handle(r.addr)
    }

    /// The body a read of `r` sees, with its object's header word: a
    /// private object's own body straight from the word `r` carries
    /// (nothing can make it shared while the view lives), else through the
    /// read barrier.
    #[inline(always)]
    pub(crate) fn readable<T>(&mut self, r: Ref<'v, T>) -> (Address, u64) {
        if r.word & PRIVATE != 0 {
            (r.addr.offset(HEADER_BYTES), r.word)
        } else {
            self.readable_barrier(r.addr)
        }
    }

    /// The read barrier of [`View::readable`], out of line: a traversal of
    /// the transaction's own objects then keeps few registers live.
    #[inline(never)]
    fn readable_barrier(&mut self, obj: Address) -> (Address, u64) {
        self.th.readable_word(obj)
    }

    /// The value of the object as the transaction sees it.
    #[inline]
    pub fn read<T: Object>(&mut self, r: Ref<'v, T>) -> T {
        let (body, _) = self.readable(r);
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
        check_field::<T>(field);
        let (body, word) = self.readable(r);
        // SAFETY: `body` is the body the read barrier gives for `r`'s
        // object, a live `T` the transaction holds, whose header word is
        // `word`.
        unsafe { self.th.ref_in_body::<T, U>(body, word, field) }.map(Ref::new)
    }

    /// The length of an array.
    pub fn len(&mut self, array: Ref<'v, RefArray>) -> usize {
        let (body, _) = self.readable(array);
        // SAFETY: `body` is the array's (or a version's) body.
        unsafe { header::array_length(body) }
    }

    /// Element `i` of an array, as an object of type `U`.
    ///
    /// # Panics
    /// If `i` is out of bounds or the element is not a `U`.
    pub fn get<U: HeapType>(&mut self, array: Ref<'v, RefArray>, i: usize) -> Option<Ref<'v, U>> {
        let (body, _) = self.readable(array);
        // SAFETY: `body` is the body the read barrier gives for the array.
        unsafe { self.th.element_in_body::<U, false>(body, i) }.map(Ref::new)
    }
}
