//! The read and write barriers (see `DESIGN.md`, "Barriers").
//!
//! Both take the current address of an object the transaction holds and
//! return the object whose body to access: the object itself when it is
//! private, the transaction's copy when it owns it, or (reads) the version
//! its snapshot sees. No safepoint is polled while an address is held,
//! except where noted for old anchors, which never move.

use crate::contention::Contended;
use crate::object::{body_bytes, Object};
use crate::shared::{StmShared, COMMITTING};
use crate::thread::Thread;
use crate::tx::Conflict;
use std::sync::atomic::Ordering;
use strata_gc::header::{self, HEADER_BYTES, OWNER_MASK, PRIVATE, VERSION_HEADER_BYTES};
use strata_gc::versions::{newest_stamp, visible_from};
use strata_gc::{Address, AllocError, Layout};

/// The body of the version of `anchor` that a reader at `snapshot` sees:
/// the anchor's inline body or a version record's.
///
/// # Safety
/// `anchor` is a live anchor, and the versions `snapshot` sees are kept by
/// the collector (it is part of the horizon).
#[inline(always)]
pub(crate) unsafe fn visible_body(anchor: Address, snapshot: u64) -> Address {
    // SAFETY: caller's invariant.
    let head = unsafe { header::link(anchor) }.load(Ordering::Acquire);
    // Most anchors have no records: their body, with no further test.
    if head == 0 {
        return anchor.offset(HEADER_BYTES);
    }
    // SAFETY: caller's invariant; `head` is the anchor's link.
    let version = unsafe { visible_from(anchor, Address::from_usize(head), snapshot) };
    if version == anchor {
        anchor.offset(HEADER_BYTES)
    } else {
        version.offset(VERSION_HEADER_BYTES)
    }
}

/// Waits while `obj`'s owner is publishing versions that a reader in thread
/// slot `me` with `snapshot` must see (the owner's commit word is
/// `COMMITTING` or a time at most `snapshot`).
///
/// # Safety
/// `obj` is a live anchor.
pub(crate) unsafe fn wait_for_publication(stm: &StmShared, me: u32, snapshot: u64, obj: Address) {
    let mut spins = 0u32;
    loop {
        // SAFETY: caller's invariant.
        let word = unsafe { header::word0(obj) }.load(Ordering::SeqCst);
        let owner = header::owner_of(word);
        if owner == 0 || owner == me {
            return;
        }
        let commit = stm.slot(owner).commit.load(Ordering::SeqCst);
        if commit == 0 || (commit != COMMITTING && commit > snapshot) {
            return;
        }
        spins += 1;
        if spins < 64 {
            crate::sync::spin();
        } else {
            crate::sync::yield_now();
        }
    }
}

/// Takes ownership of `anchor` for thread slot `slot` if nobody owns it
/// (compare-and-swap of the owner field, see `DESIGN.md`, "Ownership
/// word"); else returns the owner's slot.
///
/// # Safety
/// `anchor` is a live old anchor.
#[inline]
pub(crate) unsafe fn try_own(anchor: Address, slot: u32) -> Result<(), u32> {
    // SAFETY: caller's invariant.
    let cell = unsafe { header::word0(anchor) };
    let mut word = cell.load(Ordering::SeqCst);
    loop {
        let owner = header::owner_of(word);
        if owner != 0 {
            return Err(owner);
        }
        match cell.compare_exchange(
            word,
            word | header::owner_bits(slot),
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            Ok(_) => return Ok(()),
            Err(now) => word = now,
        }
    }
}

/// A private copy and its body.
#[inline(always)]
fn with_body(copy: Address) -> (Address, Address) {
    (copy, copy.offset(VERSION_HEADER_BYTES))
}

impl Thread {
    /// The body a read of `obj` sees: its own (private objects), its
    /// private copy's (objects this transaction owns), or the version its
    /// snapshot sees. Reads do not check for doom: they see one snapshot
    /// whatever happens, and a doomed transaction stops at its next write or
    /// at commit.
    #[inline]
    pub(crate) fn readable(&mut self, obj: Address) -> Address {
        self.readable_word(obj).0
    }

    /// [`Thread::readable`], with the header word of `obj` it read (its
    /// type id, for a caller that checks a reference against it).
    #[inline]
    pub(crate) fn readable_word(&mut self, obj: Address) -> (Address, u64) {
        // SAFETY: `obj` is a live object held by the transaction.
        let word = unsafe { header::word0(obj) }.load(Ordering::SeqCst);
        // One test sends the common shared, unowned object down the straight
        // path. Young objects are `PRIVATE` too, so the second test covers
        // everything this transaction made.
        if word & (PRIVATE | OWNER_MASK) != 0 {
            if word & PRIVATE != 0 {
                return (obj.offset(HEADER_BYTES), word);
            }
            if let Some(copy) = self.readable_owned(obj, word) {
                return (copy, word);
            }
        }
        // Consecutive reads of one object are recorded once.
        if self.m.last_read_root() != Some(obj) {
            // SAFETY: `obj` is a shared anchor: committed, so old and live.
            unsafe { self.m.push_read_root(obj) };
        }
        // SAFETY: `obj` is a live anchor; the versions our snapshot sees are
        // kept by the collector (our snapshot is part of its horizon).
        (unsafe { visible_body(obj, self.tx.snapshot) }, word)
    }

    /// A read of an owned anchor: our copy's body if we own it; else waits
    /// until its owner's publication no longer concerns our snapshot and
    /// returns `None` (read the versions).
    #[inline(never)]
    fn readable_owned(&mut self, obj: Address, word: u64) -> Option<Address> {
        let owner = header::owner_of(word);
        if owner == self.slot {
            return Some(self.copy_of(obj).offset(VERSION_HEADER_BYTES));
        }
        // SAFETY: `obj` is a live anchor.
        unsafe { wait_for_publication(&self.heap.stm, self.slot, self.tx.snapshot, obj) };
        None
    }

    /// The transaction's private copy of an anchor it owns (the last one
    /// looked up is cached: writes and reads of one object come in runs).
    #[inline(always)]
    fn copy_of(&mut self, anchor: Address) -> Address {
        let (cached, copy) = self.tx.last_copy;
        if cached == anchor {
            copy
        } else {
            self.look_up_copy(anchor)
        }
    }

    /// The write-set lookup behind [`Thread::copy_of`]'s one-entry cache.
    #[inline(never)]
    fn look_up_copy(&mut self, anchor: Address) -> Address {
        let copy = self
            .tx
            .write_set
            .get(self.m.old_root_pairs(), anchor)
            .expect("an anchor this transaction owns has a copy");
        self.tx.last_copy = (anchor, copy);
        copy
    }

    /// The object a write to the object at client root `index` changes, and
    /// its body: private objects in place, shared anchors through a private
    /// copy (a version record) made at the first write.
    #[inline]
    pub(crate) fn writable(&mut self, index: u32) -> (Address, Address) {
        // SAFETY: `index` comes from an `Obj` of the running transaction
        // (see `Tx::address`).
        let obj = unsafe { self.m.client_root_unchecked(index as usize) };
        // SAFETY: an `Obj`'s object is live and held by the transaction.
        unsafe { self.writable_object(obj) }
    }

    /// [`Thread::writable`] of an object of the Rust type `T` (what a
    /// handle of `T` points at): a first write copies a body of `T`'s
    /// size, a constant, with no type lookup.
    #[inline(always)]
    pub(crate) fn writable_as<T: Object>(&mut self, index: u32) -> (Address, Address) {
        // SAFETY: as in `writable`.
        let obj = unsafe { self.m.client_root_unchecked(index as usize) };
        // SAFETY: as in `writable`.
        match unsafe { self.writable_in_place(obj) } {
            Some(writable) => writable,
            None => with_body(self.first_write_as::<T>(obj)),
        }
    }

    /// [`Thread::writable`] of an object given by its address. A first
    /// write may collect; it happens only to a shared anchor, which is old
    /// and does not move, so `obj` needs no root to stay valid.
    ///
    /// # Safety
    /// `obj` is the current address of a live object the transaction
    /// holds, reachable from its roots (what it read or wrote, its shadow
    /// stack, a global root) or made by it.
    #[inline]
    pub(crate) unsafe fn writable_object(&mut self, obj: Address) -> (Address, Address) {
        // SAFETY: caller's invariant.
        match unsafe { self.writable_in_place(obj) } {
            Some(writable) => writable,
            None => with_body(self.first_write(obj)),
        }
    }

    /// [`Thread::writable_object`] for the C ABI: a first write of an
    /// object of the fixed-size type copied last takes its body size from
    /// [`ManualState::copied_type`](crate::manual::ManualState) and is
    /// inline, as a typed first write is; any other first write caches its
    /// type when it is fixed-size.
    ///
    /// # Safety
    /// As for [`Thread::writable_object`].
    #[inline(always)]
    pub(crate) unsafe fn writable_object_manual(&mut self, obj: Address) -> (Address, Address) {
        // SAFETY: caller's invariant.
        if let Some(writable) = unsafe { self.writable_in_place(obj) } {
            return writable;
        }
        // SAFETY: `obj` is a live shared anchor.
        let id = unsafe { header::type_id(obj) };
        match self.manual.copied_type {
            // SAFETY: `body_bytes` is the body size of `obj`'s type, a
            // fixed-size one (every object of it has that body).
            Some((cached, body_bytes)) if cached == id => unsafe {
                with_body(self.first_write_sized(obj, body_bytes))
            },
            _ => with_body(self.first_write_caching_type(obj, id)),
        }
    }

    /// The first write of `anchor`, of type `id`, for the C ABI when its
    /// type is not the one cached: a fixed-size type is entered in
    /// [`ManualState::copied_type`](crate::manual::ManualState) and its
    /// size used at once; any other takes [`Thread::first_write`].
    #[cold]
    #[inline(never)]
    fn first_write_caching_type(&mut self, anchor: Address, id: u32) -> Address {
        let fixed = match self.m.type_ref(id) {
            Ok(info) => match info.layout {
                Layout::Fixed { body_bytes } => Some(body_bytes),
                _ => None,
            },
            Err(_) => None,
        };
        match fixed {
            Some(body_bytes) => {
                self.manual.copied_type = Some((id, body_bytes));
                // SAFETY: `body_bytes` is the body size of `anchor`'s type.
                unsafe { self.first_write_sized(anchor, body_bytes) }
            }
            None => self.first_write(anchor),
        }
    }

    /// [`Thread::writable_object`] when it needs no first write: `obj`
    /// itself if it is private, our copy if we own it; `None` for an
    /// anchor this transaction does not own yet.
    ///
    /// # Safety
    /// As for [`Thread::writable_object`].
    #[inline(always)]
    unsafe fn writable_in_place(&mut self, obj: Address) -> Option<(Address, Address)> {
        // SAFETY: `obj` is a live object held by the transaction.
        let word = unsafe { header::word0(obj) }.load(Ordering::SeqCst);
        if word & PRIVATE != 0 {
            return Some((obj, obj.offset(HEADER_BYTES)));
        }
        (header::owner_of(word) == self.slot).then(|| with_body(self.copy_of(obj)))
    }

    /// The first write of a shared anchor: ownership, then a private copy
    /// of its newest version, entered in the write set. The body size comes
    /// from the anchor's type.
    #[cold]
    #[inline(never)]
    fn first_write(&mut self, anchor: Address) -> Address {
        self.acquire(anchor);
        // SAFETY: `anchor` is an old anchor held in the arena (rooted),
        // owned now, and our snapshot is at or past its newest stamp (and
        // part of the collector's horizon).
        let copy = unsafe { self.m.alloc_version_copy(anchor) };
        self.enter_copy(anchor, copy)
    }

    /// [`Thread::first_write`] of an anchor of the Rust type `T`, whose
    /// body size is a constant: inline at the typed writes (every update
    /// transaction runs one), its slow paths calls.
    #[inline(always)]
    fn first_write_as<T: Object>(&mut self, anchor: Address) -> Address {
        // SAFETY: the anchor is a `T` (a handle of `T` points at one),
        // whose body is `body_bytes::<T>()` long.
        unsafe { self.first_write_sized(anchor, const { body_bytes::<T>() }) }
    }

    /// [`Thread::first_write`] of an anchor whose body size the caller
    /// knows (a constant for a typed write: the size class and the copy
    /// then resolve at compile time).
    ///
    /// # Safety
    /// `body_bytes` is the size of `anchor`'s body.
    #[inline(always)]
    unsafe fn first_write_sized(&mut self, anchor: Address, body_bytes: usize) -> Address {
        self.acquire(anchor);
        // SAFETY: as in `first_write`, and the caller's promise on
        // `body_bytes`.
        let copy = unsafe { self.m.alloc_version_copy_sized(anchor, body_bytes) };
        self.enter_copy(anchor, copy)
    }

    /// Enters the private copy a first write of `anchor` made in the write
    /// set (or aborts the attempt if it could not be allocated).
    #[inline(always)]
    fn enter_copy(&mut self, anchor: Address, copy: Result<Address, AllocError>) -> Address {
        let copy = match copy {
            Ok(copy) => copy,
            Err(e) => self.abort_attempt(Conflict::Alloc(e)),
        };
        // SAFETY: `copy` is a fresh old object, and `anchor` a live old
        // one. The pair is the write set's entry, and keeps the anchor alive
        // while the transaction owns it, even once no handle holds it
        // (commit and abort write its header).
        unsafe { self.m.push_old_root_pair(anchor, copy) };
        self.tx.acquiring = Address::NULL;
        self.tx.last_copy = (anchor, copy);
        copy
    }

    /// Takes ownership of `anchor` for this transaction and moves the
    /// snapshot past its newest version, or aborts the attempt.
    #[inline(always)]
    fn acquire(&mut self, anchor: Address) {
        // The common case: not doomed, and nobody owns the anchor.
        // SAFETY: `anchor` is a live old anchor.
        if self.is_doomed() || unsafe { try_own(anchor, self.slot) }.is_err() {
            if let Err(conflict) = self.acquire_contended(anchor) {
                self.abort_attempt(conflict);
            }
        }
        self.tx.acquiring = anchor;
        // SAFETY: as above.
        if unsafe { newest_stamp(anchor) } > self.tx.snapshot {
            self.extend_or_abort();
        }
    }

    /// [`Thread::acquire`]'s ownership when its first try failed: doomed,
    /// or the anchor owned (wait for the owner to let go, or give up).
    #[cold]
    #[inline(never)]
    fn acquire_contended(&mut self, anchor: Address) -> Result<(), Conflict> {
        let mut spins = 0u32;
        loop {
            if self.is_doomed() {
                self.note_doomer();
                return Err(Conflict::Doomed);
            }
            // SAFETY: `anchor` is a live old anchor.
            let owner = match unsafe { try_own(anchor, self.slot) } {
                Ok(()) => return Ok(()),
                Err(owner) => owner,
            };
            if !self.tx.inevitable {
                // The owner's attempt-end counter, then its ownership
                // again: if it still owns the anchor, the counter is its
                // running attempt's (see `contention.rs`).
                let ends = self.heap.stm.attempt_ends(owner);
                // SAFETY: `anchor` is a live old anchor.
                let word = unsafe { header::word0(anchor) }.load(Ordering::SeqCst);
                if header::owner_of(word) != owner {
                    continue;
                }
                self.tx.contended = Some(Contended { slot: owner, ends });
                self.note_culprit(anchor, owner);
                return Err(Conflict::WriteWrite);
            }
            // Inevitable: the owner must give way. Doom it and wait, polling
            // the safepoint (the owner may be parked for a collection; the
            // anchor is old and does not move).
            self.heap
                .stm
                .slot(owner)
                .doomed
                .store(self.slot, Ordering::SeqCst);
            spins += 1;
            if spins > 64 {
                crate::sync::yield_now();
            }
            self.m.safepoint();
        }
    }

    /// Whether an inevitable transaction has doomed this one.
    #[inline(always)]
    pub(crate) fn is_doomed(&self) -> bool {
        self.own_slot().doomed.load(Ordering::Relaxed) != 0 && !self.tx.inevitable
    }
}
