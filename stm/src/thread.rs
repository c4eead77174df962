//! An attached thread: its collector mutator, its registered types, and the
//! state of the transaction it runs. `atomically` is the retry loop.

use crate::error::Error;
use crate::heap::Heap;
use crate::object::sealed::Shape;
use crate::object::{FreedRoots, GlobalRoot, HeapType, Obj, Object, Root};
use crate::tx::{Conflict, Tx};
use crate::write_set::WriteSet;
use std::any::TypeId as RustTypeId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use strata_gc::{Address, FixedType, HandleSlot, Mutator, TypeDesc, TypeId};

/// Hashes keys that are already well mixed (type ids, addresses).
#[derive(Default)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 29;
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64 ^ (n >> 64) as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

pub(crate) type MixMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

/// The state of the running transaction.
#[derive(Default)]
pub(crate) struct TxState {
    pub active: bool,
    pub snapshot: u64,
    pub inevitable: bool,
    /// Why the attempt must abort, once it has been told so: it never
    /// commits then, whatever the closure does with the unwinding.
    pub poisoned: Option<Conflict>,
    /// Anchor -> client-root index of its private copy.
    pub write_set: WriteSet,
    /// The last write-set entry looked up, as (anchor, copy address), or
    /// nulls. Copies live in the old space and never move, so their
    /// address can be kept.
    pub last_copy: (Address, Address),
    /// An anchor this transaction owns that is not in the write set yet
    /// (its first write is under way), or null. The anchors it owns are
    /// the write set's and this one.
    pub acquiring: Address,
    pub roots_made: Vec<HandleSlot>,
    /// Roots changed by this transaction and what they held before.
    pub root_undo: Vec<(HandleSlot, Address)>,
    pub promoted: Vec<Address>,
    pub on_commit: Vec<Box<dyn FnOnce()>>,
    pub on_abort: Vec<Box<dyn FnOnce()>>,
    pub allocated_at_start: u64,
    pub commits: u64,
    pub aborts: u64,
    /// Attempts ended since the working lists were last trimmed.
    pub since_trim: u32,
}

static NEXT_THREAD_ID: AtomicU64 = AtomicU64::new(1);

/// A thread attached to a [`Heap`]; it runs transactions. Not `Send`.
///
/// ```
/// #[derive(Clone, Copy)]
/// struct Counter {
///     n: u64,
/// }
/// impl strata::Object for Counter {}
///
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let counter = thread
///     .atomically(|tx| {
///         let c = tx.alloc(Counter { n: 0 });
///         tx.root(c)
///     })
///     .unwrap();
/// for _ in 0..10 {
///     thread
///         .atomically(|tx| {
///             let c = tx.get_root(&counter);
///             tx.update(c, |c| c.n += 1);
///         })
///         .unwrap();
/// }
/// let n = thread
///     .atomically(|tx| {
///         let c = tx.get_root(&counter);
///         tx.read(c).n
///     })
///     .unwrap();
/// assert_eq!(n, 10);
/// ```
pub struct Thread {
    pub(crate) heap: Heap,
    pub(crate) m: Mutator,
    pub(crate) tx: TxState,
    pub(crate) slot: u32,
    pub(crate) id: u64,
    types: MixMap<RustTypeId, Registered>,
    /// The key of the type looked up last (a one-entry cache before
    /// `types`); at first a key no heap type has, so that the hit test is
    /// one comparison of keys.
    last_key: RustTypeId,
    /// What `last_key` is registered as: a separate field, so that a hit
    /// reads the words it needs in place (a hit on a (key, registration)
    /// pair copied the pair to the stack first).
    last: Registered,
    pub(crate) ref_array: TypeId,
    pub(crate) freed_roots: FreedRoots,
    seed: u64,
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

/// The payload a conflict unwinds the transaction's closure with.
pub(crate) struct AbortSignal;

impl Thread {
    pub(crate) fn new(heap: Heap) -> Result<Thread, Error> {
        let mut m = heap.gc.attach()?;
        let slot = m.slot();
        heap.stm.register_slot(slot);
        let ref_array = heap.stm.ref_array;
        m.type_info(ref_array.0)?;
        let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        Ok(Thread {
            heap,
            m,
            tx: TxState::default(),
            slot,
            id,
            types: MixMap::default(),
            last_key: RustTypeId::of::<NotAHeapType>(),
            last: Registered {
                id: TypeId(0),
                fixed: None,
            },
            ref_array,
            freed_roots: FreedRoots::default(),
            seed: id.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        })
    }

    /// The heap this thread is attached to.
    pub fn heap(&self) -> &Heap {
        &self.heap
    }

    /// The allocation type of `T`, registering it on first use. Loops
    /// usually touch one type: a one-entry cache before the map.
    #[inline(always)]
    pub(crate) fn type_of<T: Object>(&mut self) -> FixedType {
        if self.last_key == RustTypeId::of::<T>() {
            if let Some(ty) = self.last.fixed {
                return ty;
            }
        }
        match self.registered_slow::<T>().fixed {
            Some(ty) => ty,
            None => unreachable!("an Object is registered as a fixed type"),
        }
    }

    /// A new handle (next entry of the handle arena) to `obj`, a live
    /// object the running transaction holds, with the caller's brand.
    #[inline(always)]
    pub(crate) fn handle<'tx, T>(&mut self, obj: Address) -> Obj<'tx, T> {
        // SAFETY: `obj` is a live object the transaction holds.
        let index = unsafe { self.m.push_client_root(obj) };
        Obj::new(index as u32)
    }

    /// The heap's type id of `U`, registering it on first use (the same
    /// one-entry cache as [`Thread::type_of`]).
    #[inline(always)]
    pub(crate) fn type_id_of<U: HeapType>(&mut self) -> u32 {
        if self.last_key == RustTypeId::of::<U>() {
            return self.last.id.0;
        }
        self.registered_slow::<U>().id.0
    }

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

    /// The length of the reference array `array` (its version this
    /// transaction sees).
    ///
    /// # Safety
    /// `array` is a live `RefArray` held by the running transaction.
    #[inline(always)]
    pub(crate) unsafe fn array_len(&mut self, array: Address) -> usize {
        let body = self.readable(array);
        // SAFETY: an array body starts with its length.
        unsafe { body.as_ptr::<u64>().read() as usize }
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
            let len = body.as_ptr::<u64>().read() as usize;
            if i >= len {
                crate::tx::out_of_bounds(i, len);
            }
            body.offset(8 + i * 8).as_ptr::<Address>().read()
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
            (word & strata_gc::header::TYPE_MASK) as u32
        } else {
            self.type_id_of::<U>()
        }
    }

    #[cold]
    #[inline(never)]
    fn registered_slow<U: HeapType>(&mut self) -> Registered {
        let key = RustTypeId::of::<U>();
        let ty = match self.types.get(&key) {
            Some(&ty) => ty,
            None => self.register::<U>(),
        };
        self.last_key = key;
        self.last = ty;
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
        self.types.insert(RustTypeId::of::<U>(), ty);
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

    /// Ends the running attempt for `conflict`: poisons it (it will not
    /// commit, even if the closure catches the unwinding) and unwinds the
    /// closure to [`Thread::atomically`].
    #[cold]
    #[inline(never)]
    pub(crate) fn abort_attempt(&mut self, conflict: Conflict) -> ! {
        self.tx.poisoned = Some(conflict);
        panic::resume_unwind(Box::new(AbortSignal))
    }

    /// Runs `f` as a transaction until it commits, and returns its result.
    ///
    /// `f` may run several times (each conflict aborts and re-runs it); only
    /// the run that commits has effects on the heap. A panic in `f` aborts
    /// the transaction and is propagated. An allocation failure aborts it and
    /// is returned as [`Error::Alloc`].
    pub fn atomically<R>(
        &mut self,
        mut f: impl for<'tx> FnMut(&mut Tx<'tx>) -> R,
    ) -> Result<R, Error> {
        let mut attempts = 0u32;
        let mut inevitable = false;
        loop {
            self.begin(inevitable);
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                let mut tx = Tx::new(self);
                f(&mut tx)
            }));
            // An attempt told to abort stays aborted even if the closure
            // caught the unwinding and returned (or panicked otherwise).
            let conflict = match outcome {
                Err(payload) if !payload.is::<AbortSignal>() => {
                    self.tx.poisoned = None;
                    self.abort(Conflict::Panic);
                    panic::resume_unwind(payload);
                }
                Ok(result) if self.tx.poisoned.is_none() => match self.commit() {
                    Ok(()) => return Ok(result),
                    Err(conflict) => conflict,
                },
                _ => self
                    .tx
                    .poisoned
                    .take()
                    .expect("an attempt told to abort is poisoned"),
            };
            match conflict {
                Conflict::Alloc(e) => {
                    self.abort(Conflict::Alloc(e.clone()));
                    return Err(Error::Alloc(e));
                }
                Conflict::Inevitable => {
                    self.abort(Conflict::Inevitable);
                    inevitable = true;
                    continue;
                }
                other => self.abort(other),
            }
            attempts += 1;
            if attempts >= self.heap.tx_config.max_retries {
                inevitable = true;
            } else {
                self.backoff(attempts);
            }
        }
    }

    fn backoff(&mut self, attempts: u32) {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let limit = 1u64 << attempts.min(12);
        for _ in 0..(self.seed % limit) * 8 {
            std::hint::spin_loop();
        }
        if attempts > 6 {
            std::thread::yield_now();
        }
        self.m.safepoint();
    }

    /// Makes a global root of `root`'s object, shareable with other threads.
    /// Call it outside a transaction (the object is committed then).
    pub fn global<T>(&mut self, root: &Root<T>) -> GlobalRoot<T> {
        self.check_root(root);
        let obj = self.m.rooted(root.slot);
        // SAFETY: a live root holds a live, committed object of this thread.
        let global = unsafe { self.m.global_root(obj) };
        GlobalRoot::new(global, self.heap.gc.id(), self.heap.stm.now())
    }

    pub(crate) fn check_root<T>(&self, root: &Root<T>) {
        assert_eq!(
            root.thread_id, self.id,
            "strata: a Root used on a thread that did not make it"
        );
        assert!(
            !self.m.rooted(root.slot).is_null(),
            "strata: a Root made by a transaction that aborted"
        );
    }

    /// Frees the slots of roots dropped since the last call.
    pub(crate) fn free_dropped_roots(&mut self) {
        if self.freed_roots.borrow().is_empty() {
            return;
        }
        let freed = std::mem::take(&mut *self.freed_roots.borrow_mut());
        for slot in freed {
            self.m.unroot(slot);
        }
    }

    /// Leaves the heap while `f` runs (it must not use heap objects), so
    /// that collections do not wait for this thread: use it around blocking
    /// calls, sleeps and joins.
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.m.blocking(f)
    }

    /// Answers a pending stop-the-world request (threads that run no
    /// transaction for a long time should call it now and then).
    pub fn safepoint(&mut self) {
        self.m.safepoint()
    }

    /// Runs a major collection now.
    pub fn collect(&mut self) {
        self.m.collect_major()
    }

    /// Commits and aborts of this thread's transactions so far.
    pub fn tx_counts(&self) -> (u64, u64) {
        (self.tx.commits, self.tx.aborts)
    }

    /// The collector's statistics, including this thread's recent counts.
    pub fn gc_stats(&mut self) -> strata_gc::GcStats {
        self.m.stats()
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        self.heap
            .stm
            .commits
            .fetch_add(self.tx.commits, Ordering::Relaxed);
        self.heap
            .stm
            .aborts
            .fetch_add(self.tx.aborts, Ordering::Relaxed);
    }
}
