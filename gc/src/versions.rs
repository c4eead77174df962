//! Version chains: reading the version a snapshot sees, publishing a new
//! version, and trimming what no snapshot can see any more (see `DESIGN.md`,
//! "Versions").
//!
//! An *anchor* is a shared object: its inline body is its oldest retained
//! version and its link points at version records, newest first. A version
//! record carries the `VERSION` flag, a commit stamp and a copy of the body.
//! Records are immutable once published; an anchor's link changes only by a
//! release store of the committing owner, or by a collector with the world
//! stopped.

use std::sync::atomic::Ordering;
use strata_heap::header::{self, VERSION};
use strata_heap::{Address, TypeInfo};

/// The object whose body a reader with snapshot `snapshot` sees for
/// `anchor`: a version record, or the anchor itself (its inline body).
///
/// # Safety
/// `anchor` is a live anchor, kept alive (with its chain) for as long as the
/// result is used.
#[inline]
pub unsafe fn visible_version(anchor: Address, snapshot: u64) -> Address {
    // SAFETY: caller's invariant; published records are immutable.
    let head = Address::from_usize(unsafe { header::link(anchor) }.load(Ordering::Acquire));
    // SAFETY: as above.
    unsafe { visible_from(anchor, head, snapshot) }
}

/// [`visible_version`] for a caller that loaded the anchor's link already
/// (`head`, with acquire ordering).
///
/// # Safety
/// As for [`visible_version`]; `head` is what `anchor`'s link held.
#[inline]
pub unsafe fn visible_from(anchor: Address, head: Address, snapshot: u64) -> Address {
    let mut record = head;
    while !record.is_null() {
        // SAFETY: records on a live anchor's chain are live.
        if unsafe { header::stamp(record) }.load(Ordering::Relaxed) <= snapshot {
            return record;
        }
        // SAFETY: as above.
        record = Address::from_usize(unsafe { header::link(record) }.load(Ordering::Acquire));
    }
    anchor
}

/// The stamp of `anchor`'s newest version record, or 0 when it has none.
///
/// # Safety
/// `anchor` is a live anchor.
#[inline]
pub unsafe fn newest_stamp(anchor: Address) -> u64 {
    // SAFETY: caller's invariant.
    let head = unsafe { header::link(anchor) }.load(Ordering::Acquire);
    if head == 0 {
        0
    } else {
        // SAFETY: the head record is live while the anchor is.
        unsafe { header::stamp(Address::from_usize(head)) }.load(Ordering::Relaxed)
    }
}

/// Publishes `record` (an old, fully written version record of `anchor`'s
/// type) as `anchor`'s newest version with `stamp`.
///
/// # Safety
/// `anchor` and `record` are live old objects; the caller owns `anchor` for
/// writing (no concurrent publisher) and `stamp` is larger than every stamp
/// on the chain.
#[inline]
pub unsafe fn publish_version(anchor: Address, record: Address, stamp: u64) {
    // SAFETY: caller's invariants: both live, we are the only publisher.
    unsafe {
        debug_assert!(
            header::has_flag(record, VERSION),
            "{record:?} is not a version record"
        );
        let head = header::link(anchor).load(Ordering::Relaxed);
        header::stamp(record).store(stamp, Ordering::Relaxed);
        header::link(record).store(head, Ordering::Relaxed);
        header::link(anchor).store(record.as_usize(), Ordering::Release);
    }
}

/// Trims `anchor`'s chain for `horizon`, the oldest snapshot any running
/// transaction holds: keeps the records newer than the horizon, copies the
/// newest record at or below it over the inline body, and drops that record
/// and everything older. Returns the records kept, for the caller to mark
/// and trace.
///
/// # Safety
/// The world is stopped; `anchor` is a live anchor of type `info`.
pub unsafe fn trim(anchor: Address, info: &TypeInfo, horizon: u64, kept: &mut Vec<Address>) {
    kept.clear();
    // SAFETY: the world is stopped, so nobody reads or writes the chain.
    unsafe {
        let mut previous: Option<Address> = None;
        let mut record = Address::from_usize(header::link(anchor).load(Ordering::Relaxed));
        while !record.is_null() {
            if header::stamp(record).load(Ordering::Relaxed) <= horizon {
                let bytes = info.body_bytes(record);
                copy_body(header::body(record), header::body(anchor), bytes);
                match previous {
                    Some(newer) => header::link(newer).store(0, Ordering::Relaxed),
                    None => header::link(anchor).store(0, Ordering::Relaxed),
                }
                return;
            }
            kept.push(record);
            previous = Some(record);
            record = Address::from_usize(header::link(record).load(Ordering::Relaxed));
        }
    }
}

/// Copies a body of `bytes` (objects are small: a word loop beats a call to
/// `memcpy`).
///
/// # Safety
/// Both ranges are valid, `dst` writable, and they do not overlap.
#[inline(always)]
unsafe fn copy_body(src: Address, dst: Address, bytes: usize) {
    let words = bytes / 8;
    // SAFETY: caller's invariant; the fixed-size moves, the loop and the
    // tail copy stay inside `bytes`.
    unsafe {
        // The common small bodies (a word or two of data after a reference
        // or two) as single moves.
        match bytes {
            8 => return dst.as_ptr::<u64>().write(src.as_ptr::<u64>().read()),
            16 => {
                return dst
                    .as_ptr::<[u64; 2]>()
                    .write(src.as_ptr::<[u64; 2]>().read())
            }
            24 => {
                return dst
                    .as_ptr::<[u64; 3]>()
                    .write(src.as_ptr::<[u64; 3]>().read())
            }
            32 => {
                return dst
                    .as_ptr::<[u64; 4]>()
                    .write(src.as_ptr::<[u64; 4]>().read())
            }
            _ => {}
        }
        for i in 0..words {
            dst.as_ptr::<u64>()
                .add(i)
                .write(src.as_ptr::<u64>().add(i).read());
        }
        if !bytes.is_multiple_of(8) {
            std::ptr::copy_nonoverlapping(
                src.offset(words * 8).as_ptr::<u8>(),
                dst.offset(words * 8).as_ptr::<u8>(),
                bytes % 8,
            );
        }
    }
}

impl crate::Mutator {
    /// Allocates a private version record of `anchor` holding a copy of its
    /// newest version; its stamp and link are 0 until [`publish_version`].
    /// The record is allocated in the old space, where it will be
    /// published: a commit that only wrote shared objects has nothing to
    /// promote.
    ///
    /// # Safety
    /// `anchor` is a live old anchor reachable from this thread's roots,
    /// which the caller owns for writing (nobody publishes a newer version
    /// meanwhile) and whose newest version the caller may read (its snapshot
    /// is at or after that version's stamp, so it survives collections).
    #[inline]
    pub unsafe fn alloc_version_copy(
        &mut self,
        anchor: Address,
    ) -> Result<Address, strata_heap::AllocError> {
        // SAFETY: caller's invariant.
        let id = unsafe { header::type_id(anchor) };
        // Every version of an object has the same body size (arrays keep
        // their length), so the anchor's tells the record's.
        // SAFETY: as above.
        let body_bytes = unsafe { self.type_ref(id)?.body_bytes(anchor) };
        // SAFETY: caller's invariant; `body_bytes` is the anchor's.
        unsafe { self.alloc_version_copy_sized(anchor, body_bytes) }
    }

    /// [`Mutator::alloc_version_copy`] for a caller that knows the body
    /// size of `anchor`'s type (a typed API: with `body_bytes` a constant,
    /// the size class and the copy are resolved at compile time and no type
    /// is looked up).
    ///
    /// # Safety
    /// As for [`Mutator::alloc_version_copy`], and `body_bytes` is the size
    /// of `anchor`'s body.
    #[inline(always)]
    pub unsafe fn alloc_version_copy_sized(
        &mut self,
        anchor: Address,
        body_bytes: usize,
    ) -> Result<Address, strata_heap::AllocError> {
        // SAFETY: caller's invariant.
        let id = unsafe { header::type_id(anchor) };
        let bytes = header::align_up(header::VERSION_HEADER_BYTES + body_bytes);
        let record = self.alloc_old_uninit(id, bytes, VERSION)?;
        // The source is the newest version, read after the allocation,
        // which may collect (and trim the chain: the newest version then
        // stays its head or moves into the inline body). With the anchor
        // owned by the caller and its snapshot past the newest stamp, that
        // is the version the caller's snapshot sees, with no walk.
        // SAFETY: `record` is fresh and `bytes` long; `anchor` is live and
        // did not move (old objects never move); its newest version is live
        // (caller's invariant), and a record's body follows its stamp.
        unsafe {
            header::stamp(record).store(0, Ordering::Relaxed);
            let head = header::link(anchor).load(Ordering::Acquire);
            let source = match head {
                0 => anchor.offset(header::HEADER_BYTES),
                _ => Address::from_usize(head).offset(header::VERSION_HEADER_BYTES),
            };
            copy_body(
                source,
                record.offset(header::VERSION_HEADER_BYTES),
                body_bytes,
            );
        }
        Ok(record)
    }
}
