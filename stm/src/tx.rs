//! The transaction handle: allocation, typed reads and writes, references,
//! arrays, roots, inevitability and callbacks. Every access goes through the
//! barriers of `barrier.rs`.

use crate::abort_info::Marker;
use crate::manual::Untyped;
use crate::object::{Brand, GlobalRoot, HeapType, Lift, Obj, Object, RefArray, Root};
use crate::thread::Thread;
use crate::view::View;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use strata_gc::header;
use strata_gc::{Address, AllocError};

/// Why a transaction attempt ends without committing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// Another transaction owns an object this one writes.
    WriteWrite,
    /// Something this transaction read changed before it committed.
    Validation,
    /// An inevitable transaction needs this one's objects.
    Doomed,
    /// The transaction must re-run as inevitable.
    Inevitable,
    /// An allocation failed.
    Alloc(AllocError),
    /// The closure panicked.
    Panic,
    /// The host aborted the attempt (the manual API's `abort_manual`).
    Requested,
    /// The transaction retried (`Tx::retry`): wait for a change of what it
    /// read, then run it again.
    Retry,
    /// The first branch of an `or_else` retried: run the transaction again
    /// at the same snapshot, taking the second branch there.
    OrElse,
}

/// An open transaction, given to the closure of
/// [`Thread::atomically`](crate::Thread::atomically). `'tx` brands the
/// handles it makes.
///
/// ```
/// use strata::{Heap, HeapConfig, Object};
///
/// #[derive(Clone, Copy)]
/// struct Node {
///     value: u64,
/// }
/// impl Object for Node {
///     const REFS: usize = 1; // next
/// }
///
/// let heap = Heap::new(HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let sum = thread
///     .atomically(|tx| {
///         // A two-node list, built and read in one transaction.
///         let tail = tx.alloc(Node { value: 2 });
///         let head = tx.alloc(Node { value: 1 });
///         tx.set_ref(head, 0, Some(tail));
///         tx.update(tail, |n| n.value += 10);
///         let next = tx.get_ref::<Node, Node>(head, 0).unwrap();
///         tx.read(head).value + tx.read(next).value
///     })
///     .unwrap();
/// assert_eq!(sum, 13);
/// ```
pub struct Tx<'tx> {
    pub(crate) th: &'tx mut Thread,
    _brand: Brand<'tx>,
}

/// The panic of an array index at or past the array's length.
#[cold]
#[inline(never)]
pub(crate) fn out_of_bounds(i: usize, len: usize) -> ! {
    panic!("strata: index {i} out of bounds of an array of {len}")
}

/// The panic of a handle asked for as the wrong type.
#[cold]
#[inline(never)]
pub(crate) fn wrong_type<U>(actual: u32, expected: u32) -> ! {
    panic!(
        "strata: the object is not a {} (type id {actual}, expected {expected})",
        std::any::type_name::<U>()
    )
}

impl<'tx> Tx<'tx> {
    pub(crate) fn new(th: &'tx mut Thread) -> Self {
        Tx {
            th,
            _brand: PhantomData,
        }
    }

    #[inline(always)]
    pub(crate) fn handle<T>(&mut self, obj: Address) -> Obj<'tx, T> {
        self.th.handle(obj)
    }

    #[inline(always)]
    pub(crate) fn address<T>(&self, obj: Obj<'tx, T>) -> Address {
        // SAFETY: an `Obj` of this brand was made by `handle`, and the arena is
        // cut back only when a handle scope ends, to its length at the
        // scope's start: handles of the scope's brand die with it, and
        // every handle of an enclosing brand is below that length.
        unsafe { self.th.m.client_root_unchecked(obj.index as usize) }
    }

    /// Allocates a new object holding `value`, with null references. It is
    /// private to this transaction until it commits.
    #[inline(always)]
    pub fn alloc<T: Object>(&mut self, value: T) -> Obj<'tx, T> {
        let ty = self.th.fixed_type_of::<T>();
        let bytes = const { crate::object::object_bytes::<T>() };
        // SAFETY: `fixed_type_of` gives `T`'s type with objects of `bytes`.
        let obj = match unsafe { self.th.m.try_alloc_young(ty, bytes) } {
            Some(obj) => obj,
            None => self.th.alloc_fixed_slow(ty, bytes),
        };
        // SAFETY: `obj` is a fresh object of `T`'s type (not a version
        // record: its body follows the two-word header): REFS slots then `T`.
        unsafe { data_ptr::<T>(obj.offset(header::HEADER_BYTES)).write(value) };
        self.handle(obj)
    }

    /// Allocates an array of `len` null references.
    pub fn alloc_array(&mut self, len: usize) -> Obj<'tx, RefArray> {
        let ty = self.th.ref_array;
        let obj = match self.th.m.alloc_array(ty, len) {
            Ok(obj) => obj,
            Err(e) => self.th.abort_attempt(Conflict::Alloc(e)),
        };
        self.handle(obj)
    }

    /// The value of `obj` as this transaction sees it.
    #[inline]
    pub fn read<T: Object>(&mut self, obj: Obj<'tx, T>) -> T {
        let addr = self.address(obj);
        let body = self.th.readable(addr);
        // SAFETY: `body` is the body of `obj` or of one of its versions, live
        // while this transaction runs; it holds a `T` after the references.
        unsafe { data_ptr::<T>(body).read() }
    }

    /// Replaces the value of `obj` (its references are unchanged).
    #[inline]
    pub fn write<T: Object>(&mut self, obj: Obj<'tx, T>, value: T) {
        let (_, body) = self.th.writable_as::<T>(obj.index);
        // SAFETY: `body` is private to this transaction and holds a `T`.
        unsafe { data_ptr::<T>(body).write(value) };
    }

    /// Reads, changes and writes back the value of `obj`. If `f` panics,
    /// nothing is written.
    ///
    /// One write barrier and no read: the first write to a shared object
    /// copies its newest version (see `DESIGN.md`, "Barriers"), which is
    /// what a read would see, and the object is not added to the read set.
    #[inline]
    pub fn update<T: Object, R>(&mut self, obj: Obj<'tx, T>, f: impl FnOnce(&mut T) -> R) -> R {
        let (_, body) = self.th.writable_as::<T>(obj.index);
        // SAFETY: `body` is private to this transaction (the object itself,
        // or this transaction's copy of it) and holds a `T`; `f` cannot
        // reach the heap, so nothing moves it meanwhile.
        let data = unsafe { data_ptr::<T>(body) };
        // SAFETY: as above.
        let mut value = unsafe { data.read() };
        let result = f(&mut value);
        // SAFETY: as above.
        unsafe { data.write(value) };
        result
    }

    /// Reference slot `field` of `obj`, as an object of type `U`.
    ///
    /// # Panics
    /// If `field >= T::REFS`, or the object there is not a `U`.
    #[inline(always)]
    pub fn get_ref<T: Object, U: HeapType>(
        &mut self,
        obj: Obj<'tx, T>,
        field: usize,
    ) -> Option<Obj<'tx, U>> {
        let addr = self.address(obj);
        // SAFETY: `addr` is a live object the transaction holds; an
        // `Obj<T>` holds a `T`.
        let target = unsafe { self.th.ref_slot::<T, U>(addr, field) }?;
        Some(self.handle(target))
    }

    /// Sets reference slot `field` of `obj` to `value`.
    ///
    /// # Panics
    /// If `field >= T::REFS`.
    #[inline(always)]
    pub fn set_ref<T: Object, U: HeapType>(
        &mut self,
        obj: Obj<'tx, T>,
        field: usize,
        value: Option<Obj<'tx, U>>,
    ) {
        self.set_ref_untyped(obj, field, value);
    }

    /// Reference slot `field` of `obj`, whatever the type of the object
    /// there (a C host's object; [`Tx::checked_as`] gives it a type).
    ///
    /// # Panics
    /// If `field >= T::REFS`.
    pub(crate) fn get_ref_untyped<T: Object>(
        &mut self,
        obj: Obj<'tx, T>,
        field: usize,
    ) -> Option<Obj<'tx, Untyped>> {
        let addr = self.address(obj);
        // SAFETY: `addr` is a live object the transaction holds; an
        // `Obj<T>` holds a `T`.
        let target = unsafe { self.th.ref_slot_untyped::<T>(addr, field) }?;
        Some(self.handle(target))
    }

    /// [`Tx::set_ref`] of an object of any type (a C host's object).
    ///
    /// # Panics
    /// If `field >= T::REFS`.
    #[inline(always)]
    pub(crate) fn set_ref_untyped<T: Object, U>(
        &mut self,
        obj: Obj<'tx, T>,
        field: usize,
        value: Option<Obj<'tx, U>>,
    ) {
        assert!(
            field < T::REFS,
            "strata: reference slot {field} of a type with {}",
            T::REFS
        );
        self.store_ref(obj.index, field * 8, value.map(|v| v.index));
    }

    /// `obj`, checked to be a `U`.
    ///
    /// # Panics
    /// If it is not.
    pub(crate) fn checked_as<U: HeapType>(&mut self, obj: Obj<'tx, Untyped>) -> Obj<'tx, U> {
        let addr = self.address(obj);
        let expected = self.th.type_id_of::<U>();
        self.th.checked_word::<U>(addr, expected);
        Obj::new(obj.index)
    }

    /// The length of an array.
    pub fn len(&mut self, array: Obj<'tx, RefArray>) -> usize {
        let addr = self.address(array);
        // SAFETY: `addr` is a live array the transaction holds.
        unsafe { self.th.array_len(addr) }
    }

    /// Element `i` of an array, as an object of type `U`.
    ///
    /// # Panics
    /// If `i` is out of bounds or the element is not a `U`.
    #[inline(always)]
    pub fn get<U: HeapType>(&mut self, array: Obj<'tx, RefArray>, i: usize) -> Option<Obj<'tx, U>> {
        self.element::<U, false>(array, i)
    }

    /// Element `i` of an array, as an object of type `U` that the
    /// transaction is about to write: [`Tx::get`], after asking the CPU for
    /// the object's header line in a state ready for writing. When another
    /// core wrote the object last, that saves an exchange between the
    /// cores at the first write (see `DESIGN.md`, "Barriers"). It is a hint:
    /// nothing else differs from `get`, and an object fetched this way but
    /// only read reads the same. Objects that several threads only read are
    /// better fetched with `get`, or the threads take the line from each
    /// other.
    ///
    /// # Panics
    /// If `i` is out of bounds or the element is not a `U`.
    ///
    /// # Example
    /// ```
    /// use strata::{Heap, HeapConfig, Object};
    ///
    /// #[derive(Clone, Copy)]
    /// struct Account {
    ///     balance: i64,
    /// }
    /// impl Object for Account {}
    ///
    /// let heap = Heap::new(HeapConfig::default()).unwrap();
    /// let mut thread = heap.attach().unwrap();
    /// let balance = thread
    ///     .atomically(|tx| {
    ///         let accounts = tx.alloc_array(1);
    ///         let account = tx.alloc(Account { balance: 10 });
    ///         tx.set(accounts, 0, Some(account));
    ///         let account = tx.get_for_update::<Account>(accounts, 0).unwrap();
    ///         tx.update(account, |a| a.balance += 5);
    ///         tx.read(account).balance
    ///     })
    ///     .unwrap();
    /// assert_eq!(balance, 15);
    /// ```
    #[inline(always)]
    pub fn get_for_update<U: HeapType>(
        &mut self,
        array: Obj<'tx, RefArray>,
        i: usize,
    ) -> Option<Obj<'tx, U>> {
        self.element::<U, true>(array, i)
    }

    /// [`Tx::get`] and [`Tx::get_for_update`] (`FOR_UPDATE`).
    #[inline(always)]
    fn element<U: HeapType, const FOR_UPDATE: bool>(
        &mut self,
        array: Obj<'tx, RefArray>,
        i: usize,
    ) -> Option<Obj<'tx, U>> {
        let addr = self.address(array);
        // SAFETY: `addr` is a live array the transaction holds.
        let target = unsafe { self.th.element::<U, FOR_UPDATE>(addr, i) }?;
        Some(self.handle(target))
    }

    /// Sets element `i` of an array.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    #[inline]
    pub fn set<U: HeapType>(
        &mut self,
        array: Obj<'tx, RefArray>,
        i: usize,
        value: Option<Obj<'tx, U>>,
    ) {
        let len = self.len(array);
        if i >= len {
            out_of_bounds(i, len);
        }
        self.store_ref(
            array.index,
            header::array_element_offset(i),
            value.map(|v| v.index),
        );
    }

    /// Stores the object of handle `value` (or null) at byte `offset` of
    /// the body of handle `target`'s object. A store into one of the
    /// transaction's own objects (the common case of a structure being
    /// built) is inlined: a young one is the transaction's own with no look
    /// at its header (which, after a big subtree was built, is no longer
    /// in the cache) and needs no barrier; an old one is tested for
    /// `PRIVATE`. A store into a shared object goes through the write
    /// barrier out of line.
    #[inline(always)]
    fn store_ref(&mut self, target: u32, offset: usize, value: Option<u32>) {
        let obj = self.address::<()>(Obj::new(target));
        // A private object is an ordinary object (not a version record):
        // its body follows the two-word header.
        let slot = obj.offset(header::HEADER_BYTES + offset);
        if self.th.m.is_young(obj) {
            // SAFETY: a young object is live.
            debug_assert!(unsafe { header::has_flag(obj, header::PRIVATE) });
            let value = self.value_of(value);
            // SAFETY: the nursery was empty when the transaction began, so
            // a young object is one it made (`PRIVATE`, see `DESIGN.md`,
            // "Private objects"); `slot` is one of its reference slots, and
            // a store into a young object records nothing.
            unsafe { slot.as_ptr::<Address>().write(value) };
            return;
        }
        // SAFETY: an `Obj`'s object is live and held by the transaction.
        let word = unsafe { header::word0(obj) }.load(Ordering::SeqCst);
        if word & header::PRIVATE == 0 {
            return self.store_ref_shared(target, offset, value);
        }
        let value = self.value_of(value);
        // SAFETY: `obj` is private to this transaction and `slot` one of its
        // reference slots; `value` is a live object this transaction holds;
        // the barrier records old-to-young.
        unsafe { self.th.m.write_ref_slot(obj, slot, value) };
    }

    /// [`Tx::store_ref`] into an object that is not private: the write
    /// barrier gives the private copy (taking the object at its first
    /// write, which may collect: `value` is looked up after it).
    #[inline(never)]
    fn store_ref_shared(&mut self, target: u32, offset: usize, value: Option<u32>) {
        let (dest, body) = self.th.writable(target);
        let value = self.value_of(value);
        // SAFETY: `dest` is private to this transaction and `body` its body;
        // `value` is a live object this transaction holds; the barrier
        // records old-to-young.
        unsafe { self.th.m.write_ref_slot(dest, body.offset(offset), value) };
    }

    /// The current address of the object of handle `value`, or null.
    #[inline(always)]
    fn value_of(&self, value: Option<u32>) -> Address {
        value.map_or(Address::NULL, |v| {
            // SAFETY: `v` is the index of an `Obj` of this transaction's
            // brand (see `Tx::address`).
            unsafe { self.th.m.client_root_unchecked(v as usize) }
        })
    }

    /// Keeps `obj` alive past this transaction, on this thread. If this
    /// transaction aborts, the root is dead (using it panics).
    pub fn root<T>(&mut self, obj: Obj<'tx, T>) -> Root<T> {
        let addr = self.address(obj);
        // SAFETY: `addr` is a live object this transaction holds.
        let slot = unsafe { self.th.m.root(addr) };
        self.th.tx.roots_made.push(slot);
        Root::new(slot, self.th.id, self.th.freed_roots.clone())
    }

    /// The object a root holds.
    ///
    /// # Panics
    /// If the root belongs to another thread or was made by a transaction
    /// that aborted.
    pub fn get_root<T>(&mut self, root: &Root<T>) -> Obj<'tx, T> {
        self.th.check_root(root);
        let addr = self.th.m.rooted(root.slot);
        self.handle(addr)
    }

    /// Changes the object a root holds (takes effect if this transaction
    /// commits, and is undone if it aborts).
    pub fn set_root<T>(&mut self, root: &Root<T>, obj: Obj<'tx, T>) {
        self.th.check_root(root);
        let previous = self.th.m.rooted(root.slot);
        let addr = self.address(obj);
        // SAFETY: `addr` is live and held by this transaction.
        unsafe { self.th.m.set_rooted(root.slot, addr) };
        // An abort puts `previous` back, so it must outlive the attempt's
        // collections. A young one was set earlier in this attempt and is
        // overwritten by an older entry when the undo runs.
        if !self.th.m.is_young(previous) {
            // SAFETY: a root holds a live object; this one is old.
            unsafe { self.th.m.push_old_root(previous) };
        }
        self.th.tx.root_undo.push((root.slot, previous));
    }

    /// The object a global root holds. A root made after this transaction's
    /// snapshot (received in the middle of it) moves the snapshot forward
    /// first, or aborts the attempt when something read has changed since.
    ///
    /// # Panics
    /// If the global root belongs to another heap.
    #[inline]
    pub fn get_global<T>(&mut self, root: &GlobalRoot<T>) -> Obj<'tx, T> {
        assert_eq!(
            root.heap_id,
            self.th.heap.gc.id(),
            "strata: a GlobalRoot of another heap"
        );
        // An object made global after the snapshot may have been committed
        // after it too: its inline body is then newer than the snapshot.
        if root.since > self.th.tx.snapshot {
            self.th.extend_or_abort();
        }
        let addr = root.root.get();
        self.handle(addr)
    }

    /// Makes this transaction inevitable: once this returns it will commit.
    /// Use it before I/O or other work that cannot be undone. Only one
    /// transaction is inevitable at a time; see `DESIGN.md`.
    pub fn become_inevitable(&mut self) {
        self.th.tx.promised = true;
        if let Err(conflict) = self.th.become_inevitable() {
            self.th.abort_attempt(conflict);
        }
    }

    /// Whether this transaction is inevitable.
    pub fn is_inevitable(&self) -> bool {
        self.th.tx.inevitable
    }

    /// Whether an inevitable transaction has doomed this one: it will abort
    /// at its next first write or at commit, unless it has written nothing
    /// (a read-only transaction commits whatever the flag says).
    pub fn is_doomed(&self) -> bool {
        self.th.is_doomed()
    }

    /// Whether this transaction has run long enough (allocated
    /// `break_bytes`) that an interpreter should end it at the next
    /// convenient point.
    pub fn should_break(&self) -> bool {
        self.th.allocated_past_break()
    }

    /// Runs `f` if and after this transaction commits.
    pub fn on_commit(&mut self, f: impl FnOnce() + 'static) {
        self.th.tx.on_commit.push(Box::new(f));
    }

    /// Runs `f` if this transaction aborts.
    pub fn on_abort(&mut self, f: impl FnOnce() + 'static) {
        self.th.tx.on_abort.push(Box::new(f));
    }

    /// Runs `f` in a handle scope: the handles it makes die when it returns,
    /// so a long transaction that visits many objects keeps its handle arena
    /// (and the work of every minor collection inside it) small. `f` gets
    /// the scope's transaction and a [`Lift`] that brings this
    /// transaction's handles in; nothing made in the scope can be returned
    /// from it, except through a [`Root`]. Writes made in the scope are the
    /// transaction's like any other.
    ///
    /// ```
    /// #[derive(Clone, Copy)]
    /// struct Account {
    ///     balance: i64,
    /// }
    /// impl strata::Object for Account {}
    ///
    /// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    /// let mut thread = heap.attach().unwrap();
    /// thread
    ///     .atomically(|tx| {
    ///         let bank = tx.alloc_array(1000);
    ///         for i in 0..1000 {
    ///             let account = tx.alloc(Account { balance: 1 });
    ///             tx.set(bank, i, Some(account));
    ///         }
    ///         let before = tx.handle_count();
    ///         for i in 0..1000 {
    ///             // Pay interest: one handle per account, dropped each time.
    ///             tx.scope(|tx, lift| {
    ///                 let account = tx.get::<Account>(lift.lift(bank), i).unwrap();
    ///                 tx.update(account, |a| a.balance += 1);
    ///             });
    ///         }
    ///         assert!(tx.handle_count() < before + 10);
    ///     })
    ///     .unwrap();
    /// ```
    pub fn scope<R>(&mut self, f: impl for<'s> FnOnce(&mut Tx<'s>, Lift<'tx, 's>) -> R) -> R {
        let mark = self.th.m.client_roots_len();
        let result = f(&mut Tx::new(&mut *self.th), Lift::new());
        self.th.truncate_handles(mark);
        result
    }

    /// Runs `f` with a read-only [`View`] of this transaction: references
    /// ([`Ref`](crate::Ref)) that are bare addresses, valid until `f`
    /// returns, so a traversal that only reads makes no handles. `f` cannot
    /// allocate, write or reach this `Tx` (it is borrowed for the whole
    /// call). See [`View`] for an example.
    #[inline]
    pub fn view<R>(&mut self, f: impl for<'v> FnOnce(&mut View<'v, 'tx>) -> R) -> R {
        f(&mut View::new(&mut *self.th))
    }

    /// Runs `f` outside the heap, so that collections other threads need
    /// do not wait for this transaction while `f` waits (I/O in an
    /// inevitable transaction, a channel, a sleep). `f` cannot reach this
    /// `Tx`, so it cannot touch heap objects; the transaction's handles,
    /// snapshot and ownership are kept.
    ///
    /// ```
    /// #[derive(Clone, Copy)]
    /// struct Line {
    ///     number: u64,
    /// }
    /// impl strata::Object for Line {}
    ///
    /// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    /// let mut thread = heap.attach().unwrap();
    /// let number = thread
    ///     .atomically(|tx| {
    ///         tx.become_inevitable();
    ///         let line = tx.alloc(Line { number: 1 });
    ///         // Irreversible work that may wait: collections go on meanwhile.
    ///         tx.blocking(|| println!("line {}", 1));
    ///         tx.read(line).number
    ///     })
    ///     .unwrap();
    /// assert_eq!(number, 1);
    /// ```
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.th.blocking(f)
    }

    /// Sets this thread's marker ([`Thread::set_marker`]).
    #[inline]
    pub fn set_marker(&mut self, marker: Marker) {
        self.th.set_marker(marker)
    }

    /// How many handles the transaction holds (its handle arena's length):
    /// one per handle made, until the transaction or the enclosing
    /// [`Tx::scope`] ends.
    pub fn handle_count(&self) -> usize {
        self.th.m.client_roots_len()
    }

    /// A nested atomic block: it flattens into this transaction.
    pub fn atomically<R>(&mut self, f: impl FnOnce(&mut Tx<'tx>) -> R) -> R {
        f(self)
    }

    /// This transaction's snapshot time.
    pub fn snapshot(&self) -> u64 {
        self.th.tx.snapshot
    }
}

/// Where `T`'s data starts in a body (after its reference slots).
///
/// # Safety
/// `body` is the body of a live object or version of `T`'s type.
#[inline(always)]
pub(crate) unsafe fn data_ptr<T: Object>(body: Address) -> *mut T {
    body.offset(T::REFS * 8).as_ptr::<T>()
}
