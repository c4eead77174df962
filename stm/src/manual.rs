//! Attempts driven call by call, for hosts that cannot pass a closure to
//! [`Thread::atomically`] (the C ABI; see `DESIGN.md`, "Transactions from
//! C"). The same begin, barriers, commit and abort run, on the same
//! thread state; what differs is that objects are raw addresses, and that
//! a conflict found by a barrier never unwinds out of this module: it is
//! caught here and leaves the attempt poisoned (doomed), as when a closure
//! swallows the unwinding, and the host learns it from the call's result,
//! [`Thread::manual_doomed`] or [`Thread::commit_manual`].
//!
//! The functions that take an [`Address`] are `unsafe`: the address must
//! be the current address of a live object the attempt holds (made or
//! read by it, or held on the shadow stack, or a global root's), which a
//! C host promises and Rust cannot check.

use crate::object::{GlobalRoot, Obj, Object};
use crate::thread::{AbortSignal, Thread};
use crate::tx::{Conflict, Tx};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use strata_gc::header;
use strata_gc::{Address, AllocError, Layout, RefSlots, TypeId, TypeInfo};

/// Why a call of the manual API refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualError {
    /// The call needs an open attempt and there is none.
    NoTransaction,
    /// The call needs no open attempt and there is one.
    InTransaction,
    /// The attempt is doomed: nothing it did will remain. Commit or abort
    /// it, then run the block again.
    Doomed,
    /// An allocation failed. From [`Thread::alloc_manual`] the attempt goes
    /// on; from a write (its private copy) the attempt is doomed too.
    Alloc(AllocError),
    /// A pop of an empty shadow stack, or below its depth at begin.
    RootStack,
    /// The offset is not a reference slot of the object.
    NotARefSlot { offset: usize },
    /// A global root of another heap.
    OtherHeap,
    /// The object is not of the structure the call works on (a map or
    /// queue object: `ManualMap`, `ManualQueue`).
    WrongStructure { expected: &'static str },
}

impl fmt::Display for ManualError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManualError::NoTransaction => write!(f, "no transaction is open"),
            ManualError::InTransaction => write!(f, "a transaction is open"),
            ManualError::Doomed => write!(
                f,
                "the transaction is doomed (a conflict): commit or abort it, then run it again"
            ),
            ManualError::Alloc(e) => e.fmt(f),
            ManualError::RootStack => write!(
                f,
                "the shadow stack is empty, or holds no entry pushed since the transaction began"
            ),
            ManualError::NotARefSlot { offset } => {
                write!(f, "byte {offset} of the body is not a reference slot")
            }
            ManualError::OtherHeap => write!(f, "the global root belongs to another heap"),
            ManualError::WrongStructure { expected } => {
                write!(f, "the object is not a {expected}")
            }
        }
    }
}

impl std::error::Error for ManualError {}

/// The type of the objects global roots of the manual API hold: whatever
/// the host registered.
pub enum Untyped {}

/// The bytes of an object's header: its body starts this far from its
/// address. The C ABI's inline fast paths bake it into a host.
pub const OBJECT_HEADER_BYTES: usize = header::HEADER_BYTES;

/// Header word 0's `PRIVATE` bit: the object is the running attempt's own
/// (see `DESIGN.md`, "Header word 0"). The C ABI's inline fast paths bake
/// it into a host.
pub const PRIVATE_BIT: u64 = header::PRIVATE;

/// The bits of header word 0 that hold the object's type id. The C ABI's
/// inline reference store bakes it into a host.
pub const HEADER_TYPE_MASK: u64 = header::TYPE_MASK;

/// The bits of header word 0 that hold the slot of the thread writing the
/// object (0: nobody). The C ABI's inline shared read bakes it into a host,
/// with the link word's offset ([`OBJECT_LINK_OFFSET`]).
pub const HEADER_OWNER_MASK: u64 = header::OWNER_MASK;

/// The offset of header word 1, the link to an anchor's version records (0:
/// it has none, and its body is its only version).
pub const OBJECT_LINK_OFFSET: usize = header::LINK_OFFSET;

/// The bytes of a version record's header: a private copy's body starts
/// this far from its address. The C ABI's inline paths bake it into a
/// host, for the copy of the anchor a transaction wrote last.
pub const VERSION_HEADER_BYTES: usize = header::VERSION_HEADER_BYTES;

/// Header word 0's `REMEMBERED` bit: an old object the next minor
/// collection scans for young references. The C ABI's inline reference
/// store bakes it into a host.
pub const REMEMBERED_BIT: u64 = header::REMEMBERED;

/// What the manual API keeps between calls: the shadow stack's depth at
/// begin, and whether the next attempt must be inevitable.
#[derive(Default)]
pub(crate) struct ManualState {
    /// The shadow stack's depth when the open attempt began.
    pub depth_at_begin: usize,
    /// The last attempt aborted because it could not become inevitable:
    /// the next one begins inevitably (as in `atomically`).
    pub next_inevitable: bool,
    /// The fixed-size type whose reference store was checked last and its
    /// reference slots, bit `i` for body word `i` (see
    /// [`Thread::is_ref_slot`]): type ids never change meaning, so a store
    /// into that type again skips the registry.
    pub ref_slots: Option<(u32, u64)>,
    /// The fixed-size type a first write copied last and its body's bytes
    /// ([`Thread::write_manual`]): the next first write of that type
    /// copies with no type lookup.
    pub copied_type: Option<(u32, usize)>,
}

/// The largest fixed body whose reference slots [`ManualState::ref_slots`]
/// holds: one bit per word of a `u64`.
const FIXED_SLOT_BYTES: usize = 64 * 8;

/// The reference slots of a fixed-size type with a body of at most
/// [`FIXED_SLOT_BYTES`], bit `i` for body word `i` (a type with a trace
/// callback: every word), or `None` for any other type.
pub(crate) fn fixed_ref_mask(info: &TypeInfo) -> Option<u64> {
    let Layout::Fixed { body_bytes } = info.layout else {
        return None;
    };
    if body_bytes > FIXED_SLOT_BYTES {
        return None;
    }
    let words = body_bytes / 8;
    Some(match &info.refs {
        RefSlots::None => 0,
        RefSlots::Trace(_) => (0..words).fold(0, |m, w| m | 1u64 << w),
        RefSlots::Offsets(offsets) => offsets
            .iter()
            .filter(|&&o| (o as usize) + 8 <= body_bytes)
            .fold(0, |m, &o| m | 1u64 << (o / 8)),
    })
}

impl Thread {
    /// Whether an attempt is open.
    pub fn in_transaction(&self) -> bool {
        self.tx.active
    }

    fn open(&self) -> Result<(), ManualError> {
        match self.tx.active {
            true => Ok(()),
            false => Err(ManualError::NoTransaction),
        }
    }

    /// Runs a barrier that may end the attempt by unwinding: a conflict
    /// becomes [`ManualError::Doomed`] (or the allocation error that
    /// poisoned it); any other panic goes on unwinding.
    fn catch_conflict<R>(&mut self, f: impl FnOnce(&mut Thread) -> R) -> Result<R, ManualError> {
        if self.tx.poisoned.is_some() {
            return Err(ManualError::Doomed);
        }
        match panic::catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(result) => Ok(result),
            Err(payload) if payload.is::<AbortSignal>() => match &self.tx.poisoned {
                Some(Conflict::Alloc(e)) => Err(ManualError::Alloc(e.clone())),
                _ => Err(ManualError::Doomed),
            },
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    /// Begins an attempt. `aborts_in_a_row` counts the host's attempts of
    /// this block that aborted: after an abort it backs off as
    /// [`Thread::atomically`] does, and from `max_retries` on the attempt
    /// is inevitable, so that the block eventually commits.
    #[inline]
    pub fn begin_manual(&mut self, aborts_in_a_row: u32) -> Result<(), ManualError> {
        if self.tx.active {
            return Err(ManualError::InTransaction);
        }
        let inevitable = std::mem::take(&mut self.manual.next_inevitable)
            || aborts_in_a_row >= self.heap.tx_config.max_retries;
        if aborts_in_a_row > 0 && !inevitable {
            self.backoff(aborts_in_a_row);
        }
        self.begin(inevitable);
        self.manual.depth_at_begin = self.m.shadow_stack_depth();
        Ok(())
    }

    /// Commits the open attempt: `true` when it committed, `false` when it
    /// aborted (nothing it did remains: run the block again).
    #[inline]
    pub fn commit_manual(&mut self) -> Result<bool, ManualError> {
        self.open()?;
        if let Some(conflict) = self.tx.poisoned.take() {
            self.abort_manual_attempt(conflict);
            return Ok(false);
        }
        match self.commit() {
            Ok(()) => Ok(true),
            Err(conflict) => {
                self.abort_manual_attempt(conflict);
                Ok(false)
            }
        }
    }

    /// Aborts the open attempt on the host's request.
    pub fn abort_manual(&mut self) -> Result<(), ManualError> {
        self.open()?;
        self.abort_open_attempt();
        Ok(())
    }

    /// Aborts the attempt left open by a host that drops its thread.
    pub(crate) fn abort_open_attempt(&mut self) {
        self.tx.poisoned = None;
        self.abort_manual_attempt(Conflict::Requested);
    }

    /// Cuts the shadow stack back to its depth at begin (what the attempt
    /// pushed is its garbage, which must not be promoted and kept), then
    /// aborts.
    fn abort_manual_attempt(&mut self, conflict: Conflict) {
        self.manual.next_inevitable = conflict == Conflict::Inevitable;
        while self.m.shadow_stack_depth() > self.manual.depth_at_begin {
            self.m.pop_root();
        }
        self.abort(conflict);
    }

    /// Whether an attempt is open and not poisoned: then its private
    /// objects are read and written in place with no other check, which is
    /// what the C ABI's inline fast paths do without a call (a doom that
    /// another thread set is found, as by the barriers, at the next write
    /// of a shared object or at commit).
    #[inline]
    pub fn manual_attempt_live(&self) -> bool {
        self.tx.active && self.tx.poisoned.is_none()
    }

    /// Whether the open attempt is doomed: it will abort at commit.
    pub fn manual_doomed(&self) -> Result<bool, ManualError> {
        self.open()?;
        Ok(self.tx.poisoned.is_some() || self.is_doomed())
    }

    /// Makes the open attempt inevitable: once this returns `Ok` it will
    /// commit (do irreversible work after it). When another thread is
    /// inevitable, or the snapshot cannot move to the present, the attempt
    /// is doomed instead, and the next one begins inevitably.
    pub fn become_inevitable_manual(&mut self) -> Result<(), ManualError> {
        self.open()?;
        if self.tx.poisoned.is_some() {
            return Err(ManualError::Doomed);
        }
        self.become_inevitable().map_err(|conflict| {
            self.tx.poisoned = Some(conflict);
            ManualError::Doomed
        })
    }

    /// Whether the open attempt is inevitable.
    pub fn manual_inevitable(&self) -> Result<bool, ManualError> {
        self.open()?;
        Ok(self.tx.inevitable)
    }

    /// Whether the open attempt has allocated `break_bytes`, so that a
    /// host cutting long work into transactions should end it now.
    pub fn manual_should_break(&self) -> Result<bool, ManualError> {
        self.open()?;
        Ok(self.allocated_past_break())
    }

    /// The stable identity of `obj` (its old-space address, reserved now
    /// for a young object) and its identity hash: both survive every
    /// collection. Does not collect.
    ///
    /// # Safety
    /// `obj` is the current address of a live object this thread holds.
    pub unsafe fn identity_manual(&mut self, obj: Address) -> Result<(u64, u64), ManualError> {
        // SAFETY: caller's invariant.
        let id = unsafe { self.m.identity(obj) }.map_err(ManualError::Alloc)?;
        // SAFETY: as above; the identity is reserved now.
        let hash = unsafe { self.m.identity_hash(obj) }.map_err(ManualError::Alloc)?;
        Ok((id, hash))
    }

    /// Runs `f` if and after the open attempt commits.
    pub fn on_commit_manual(&mut self, f: impl FnOnce() + 'static) -> Result<(), ManualError> {
        self.open()?;
        self.tx.on_commit.push(Box::new(f));
        Ok(())
    }

    /// Runs `f` if the open attempt aborts.
    pub fn on_abort_manual(&mut self, f: impl FnOnce() + 'static) -> Result<(), ManualError> {
        self.open()?;
        self.tx.on_abort.push(Box::new(f));
        Ok(())
    }

    /// A zeroed object of type `ty` (an array type: of length 0), made by
    /// the open attempt. Its address is valid until the next call that may
    /// collect.
    #[inline]
    pub fn alloc_manual(&mut self, ty: TypeId) -> Result<Address, ManualError> {
        self.open()?;
        self.m.alloc(ty).map_err(ManualError::Alloc)
    }

    /// A zeroed array of `len` elements of type `ty`, made by the open
    /// attempt.
    pub fn alloc_array_manual(&mut self, ty: TypeId, len: usize) -> Result<Address, ManualError> {
        self.open()?;
        self.m.alloc_array(ty, len).map_err(ManualError::Alloc)
    }

    /// The body of the version of `obj` the open attempt sees (recorded in
    /// its read set). Never fails for a conflict: a doomed attempt still
    /// reads its snapshot.
    ///
    /// # Safety
    /// `obj` is the current address of a live object the attempt holds.
    #[inline]
    pub unsafe fn read_manual(&mut self, obj: Address) -> Result<Address, ManualError> {
        self.open()?;
        Ok(self.readable(obj))
    }

    /// The body to write `obj`'s data (non-reference) fields into: its
    /// own when the attempt made it, else the attempt's private copy. May
    /// collect (a first write allocates the copy).
    ///
    /// # Safety
    /// `obj` is the current address of a live object the attempt holds.
    #[inline]
    pub unsafe fn write_manual(&mut self, obj: Address) -> Result<Address, ManualError> {
        self.open()?;
        // SAFETY: caller's invariant. No root is needed: only a shared
        // anchor's first write collects, and an anchor does not move; what
        // the attempt holds, the collector keeps.
        self.catch_conflict(|th| unsafe { th.writable_object_manual(obj) }.1)
    }

    /// Stores `value` into the reference slot at byte `offset` of `obj`'s
    /// body, through the transactional and the generational write barrier.
    /// May collect.
    ///
    /// # Safety
    /// `obj` is the current address of a live object the attempt holds,
    /// `value` null or one.
    #[inline]
    pub unsafe fn write_ref_manual(
        &mut self,
        obj: Address,
        offset: usize,
        value: Address,
    ) -> Result<(), ManualError> {
        self.open()?;
        // SAFETY: caller's invariant.
        if !unsafe { self.is_ref_slot(obj, offset) }? {
            return Err(ManualError::NotARefSlot { offset });
        }
        // SAFETY: caller's invariant.
        let word = unsafe { header::word0(obj) }.load(std::sync::atomic::Ordering::Relaxed);
        if word & header::PRIVATE != 0 && self.tx.poisoned.is_none() {
            // The attempt's own object is written in place: no copy is
            // made, so nothing collects, nothing needs rooting and nothing
            // can conflict (what `writable` does for it, without the
            // arena entries).
            // SAFETY: `obj` is private to this attempt, `offset` one of
            // its reference slots (checked above); `value` is live and
            // held; the barrier records old-to-young.
            unsafe {
                self.m
                    .write_ref_slot(obj, obj.offset(header::HEADER_BYTES + offset), value)
            };
            return Ok(());
        }
        // SAFETY: caller's invariant; the arena entries keep both rooted
        // (and updated) while the first write may collect.
        let index = unsafe { self.m.push_client_root(obj) };
        // SAFETY: as above.
        unsafe { self.m.push_client_root(value) };
        let written = self.catch_conflict(|th| {
            let (dest, body) = th.writable(index as u32);
            // SAFETY: the entry pushed above, updated by any collection.
            let value = unsafe { th.m.client_root_unchecked(index + 1) };
            // SAFETY: `dest` is private to this attempt and `body` its
            // body, `offset` one of its reference slots (checked above);
            // `value` is live and held; the barrier records old-to-young.
            unsafe { th.m.write_ref_slot(dest, body.offset(offset), value) };
        });
        self.m.truncate_client_roots(index);
        written
    }

    /// Whether byte `offset` of `obj`'s body is one of its reference
    /// slots, as far as its type says (a type with a trace callback: any
    /// aligned word of its body).
    ///
    /// # Safety
    /// `obj` is the current address of a live object.
    unsafe fn is_ref_slot(&mut self, obj: Address, offset: usize) -> Result<bool, ManualError> {
        // SAFETY: caller's invariant.
        let word = unsafe { header::word0(obj) }.load(std::sync::atomic::Ordering::Relaxed);
        let ty = header::type_id_of_word(word);
        if let Some((cached, slots)) = self.manual.ref_slots {
            if cached == ty && offset.is_multiple_of(8) && offset < FIXED_SLOT_BYTES {
                return Ok(slots >> (offset / 8) & 1 != 0);
            }
        }
        // Borrowed, not cloned: a clone would write the reference count
        // that every thread shares, at every reference store.
        let info = self.m.type_ref(ty).map_err(ManualError::Alloc)?;
        if let Some(slots) = fixed_ref_mask(info) {
            self.manual.ref_slots = Some((ty, slots));
            if offset.is_multiple_of(8) && offset < FIXED_SLOT_BYTES {
                return Ok(slots >> (offset / 8) & 1 != 0);
            }
            return Ok(false);
        }
        // SAFETY: caller's invariant.
        let body_bytes = unsafe { info.body_bytes(obj) };
        if !offset.is_multiple_of(8) || offset + 8 > body_bytes {
            return Ok(false);
        }
        let fixed_end = match info.layout {
            Layout::Fixed { body_bytes } => body_bytes,
            Layout::Array { fixed_bytes, .. } => header::ARRAY_LENGTH_BYTES + fixed_bytes,
        };
        let is_array = matches!(info.layout, Layout::Array { .. });
        Ok(match &info.refs {
            // The count word of an array is never a reference.
            RefSlots::Trace(_) => !is_array || offset >= header::ARRAY_LENGTH_BYTES,
            RefSlots::Offsets(offsets) if offset < fixed_end => offsets.contains(&(offset as u32)),
            _ => offset >= fixed_end && info.element_refs,
        })
    }

    /// Runs `f` on the open attempt as a [`Tx`]: operations written
    /// against the Rust API (the conflict-free structures) for a host that
    /// drives attempts call by call. A conflict `f` meets leaves the
    /// attempt doomed ([`ManualError::Doomed`]), as a barrier's does; the
    /// handles `f` made end with it. `f` should not retry: a `Tx::retry`
    /// dooms the attempt, and its abort (at the host's commit or abort)
    /// then waits for a change of what it read, as a rerun of
    /// `Thread::atomically` would, which blocks the host's call; an
    /// `Tx::or_else` is not supported here (the host's next attempt does
    /// not rerun the closure). The C ABI's operations never retry.
    pub fn with_manual_tx<R>(
        &mut self,
        f: impl for<'tx> FnOnce(&mut Tx<'tx>) -> R,
    ) -> Result<R, ManualError> {
        self.open()?;
        let handles = self.m.client_roots_len();
        let result = self.catch_conflict(|th| f(&mut Tx::new(th)));
        self.m.truncate_client_roots(handles);
        result
    }

    /// Runs `f` on `obj` as an `S` in the open attempt ([`Thread::with_manual_tx`]),
    /// after checking that its heap type is `S`'s (else
    /// [`ManualError::WrongStructure`], naming `expected`): the structures
    /// the manual API hands out as objects (`manual_map.rs`,
    /// `manual_queue.rs`).
    ///
    /// # Safety
    /// `obj` is the current address of a live object the attempt holds.
    pub(crate) unsafe fn on_structure<S: Object, R>(
        &mut self,
        obj: Address,
        expected: &'static str,
        f: impl for<'tx> FnOnce(&mut Tx<'tx>, Obj<'tx, S>) -> R,
    ) -> Result<R, ManualError> {
        self.with_manual_tx(|tx| {
            let wanted = tx.th.type_id_of::<S>();
            // SAFETY: the caller's promise.
            if unsafe { header::type_id(obj) } != wanted {
                return Err(ManualError::WrongStructure { expected });
            }
            let obj = tx.handle::<S>(obj);
            Ok(f(tx, obj))
        })?
    }

    /// Pushes `obj` on the shadow stack, which collections update.
    ///
    /// # Safety
    /// `obj` is null or the current address of a live object this thread
    /// holds.
    #[inline]
    pub unsafe fn push_root_manual(&mut self, obj: Address) {
        // SAFETY: caller's invariant.
        unsafe { self.m.push_root(obj) };
    }

    /// Pops the shadow stack's top (its current address). Inside an
    /// attempt only what the attempt pushed can be popped.
    #[inline]
    pub fn pop_root_manual(&mut self) -> Result<Address, ManualError> {
        let floor = match self.tx.active {
            true => self.manual.depth_at_begin,
            false => 0,
        };
        if self.m.shadow_stack_depth() <= floor {
            return Err(ManualError::RootStack);
        }
        Ok(self.m.pop_root().expect("a shadow stack above its floor"))
    }

    /// The current address of the shadow stack's entry `depth` from the top
    /// (0: the top), or `None` past its bottom.
    #[inline]
    pub fn peek_root_manual(&self, depth: usize) -> Option<Address> {
        self.m.peek_root(depth)
    }

    /// Makes a global root of `obj`, shareable with other threads. Outside
    /// an attempt (the object is committed then).
    ///
    /// # Safety
    /// `obj` is the current address of a live committed object this thread
    /// holds (on its shadow stack).
    pub unsafe fn global_manual(
        &mut self,
        obj: Address,
    ) -> Result<GlobalRoot<Untyped>, ManualError> {
        if self.tx.active {
            return Err(ManualError::InTransaction);
        }
        // SAFETY: caller's invariant.
        Ok(unsafe { self.global_of(obj) })
    }

    /// The object `root` holds, for the open attempt: a root made after the
    /// attempt's snapshot moves the snapshot forward first, or dooms the
    /// attempt when something it read has changed since (as
    /// [`Tx::get_global`](crate::Tx::get_global) does).
    pub fn get_global_manual<T>(&mut self, root: &GlobalRoot<T>) -> Result<Address, ManualError> {
        self.open()?;
        if root.heap_id != self.heap.gc.id() {
            return Err(ManualError::OtherHeap);
        }
        // Like a read, it works in a doomed attempt (which commit aborts).
        if root.since > self.tx.snapshot && !self.extend() {
            self.tx.poisoned = Some(Conflict::Validation);
            return Err(ManualError::Doomed);
        }
        Ok(root.root.get())
    }
}
