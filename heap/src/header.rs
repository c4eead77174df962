//! The object header: two 64-bit words in front of every object, and a third
//! (the commit stamp) in front of a version record.
//!
//! Word 0 (`AtomicU64`):
//!
//! | bits | field | meaning |
//! |---|---|---|
//! | 0..32 | type id | index into the type registry; 0 is never valid |
//! | 32 | `FORWARDED` | young object copied by a minor collection; word 1 is the new address |
//! | 33 | `REMEMBERED` | old object is in its writer's remembered set |
//! | 34 | `VERSION` | version record; word 2 is its commit stamp |
//! | 35 | `HAS_ID` | young object has a reserved old-space slot for its identity |
//! | 36 | `LARGE` | object lives in the large-object space |
//! | 37 | `PRIVATE` | object allocated by its owner's running transaction, not yet committed (young or old) |
//! | 38..48 | reserved | zero |
//! | 48..64 | owner | slot (1-based) of the thread whose transaction owns the object, 0 when none |
//!
//! Word 1 (`AtomicUsize`, the *link*): the forwarding address of a
//! `FORWARDED` young object; the newest version record of an anchor (0: its
//! inline body is the only version); the next older record of a version record.
//!
//! An array's body starts with its element count (64 bits, see
//! [`ARRAY_LENGTH_BYTES`]), then the type's fixed part, then the elements;
//! [`array_element_offset`] places the elements of a reference array.
//!
//! All accessors take an [`Address`] that must satisfy the crate's address
//! invariant (see the crate docs): it points at a live object's header.

use crate::address::Address;
use crate::sync::{AtomicU64, AtomicUsize};
use std::sync::atomic::Ordering;

/// Offset of the link (word 1) from the header's start.
pub const LINK_OFFSET: usize = std::mem::size_of::<AtomicU64>();
/// Bytes of an ordinary object's header.
pub const HEADER_BYTES: usize = align_up(LINK_OFFSET + std::mem::size_of::<AtomicUsize>());
/// Offset of a version record's commit stamp (word 2).
pub const STAMP_OFFSET: usize = HEADER_BYTES;
/// Bytes of a version record's header (the ordinary header and the stamp).
pub const VERSION_HEADER_BYTES: usize = STAMP_OFFSET + std::mem::size_of::<AtomicU64>();

// The header is two words and a record's third word its stamp (see
// `DESIGN.md`, "Objects"); only loom's wider atomics change the offsets.
#[cfg(not(loom))]
const _: () = assert!(LINK_OFFSET == 8 && HEADER_BYTES == 16 && VERSION_HEADER_BYTES == 24);
/// Every object starts at and is sized to a multiple of this.
pub const ALIGN: usize = 16;

/// Bits of word 0 that hold the type id.
pub const TYPE_MASK: u64 = 0xffff_ffff;
/// Young object copied out; its link is the new address.
pub const FORWARDED: u64 = 1 << 32;
/// Old object recorded in a remembered set.
pub const REMEMBERED: u64 = 1 << 33;
/// Object is a version record with a commit stamp.
pub const VERSION: u64 = 1 << 34;
/// Young object with a reserved old-space slot.
pub const HAS_ID: u64 = 1 << 35;
/// Object in the large-object space.
pub const LARGE: u64 = 1 << 36;
/// Old object allocated by a running transaction and not yet committed.
pub const PRIVATE: u64 = 1 << 37;
/// First bit of the owner field.
pub const OWNER_SHIFT: u32 = 48;
/// Bits of word 0 that hold the owner field.
pub const OWNER_MASK: u64 = 0xffff << OWNER_SHIFT;
/// The largest owner value (a thread slot) the field can hold.
pub const MAX_OWNER: u64 = 0xffff;

/// Bytes of the element count at the start of an array's body.
pub const ARRAY_LENGTH_BYTES: usize = 8;

/// The owner field of header word 0 `word`: the 1-based slot of the thread
/// whose transaction owns the object, 0 when none.
#[inline(always)]
pub const fn owner_of(word: u64) -> u32 {
    (word >> OWNER_SHIFT) as u32
}

/// Header word 0 bits that make thread slot `slot` the owner.
#[inline(always)]
pub const fn owner_bits(slot: u32) -> u64 {
    (slot as u64) << OWNER_SHIFT
}

/// The type id in header word 0 `word`.
#[inline(always)]
pub const fn type_id_of_word(word: u64) -> u32 {
    (word & TYPE_MASK) as u32
}

/// The element count of the array whose body starts at `body`.
///
/// # Safety
/// `body` is the body of a live array or of one of its versions.
#[inline(always)]
pub unsafe fn array_length(body: Address) -> usize {
    // SAFETY: an array body starts with its element count.
    unsafe { body.as_ptr::<u64>().read() as usize }
}

/// Element `i` of the reference array whose body starts at `body`.
///
/// # Safety
/// `body` is the body of a live reference array or of one of its versions,
/// and `i` is below its length.
#[inline(always)]
pub unsafe fn array_element(body: Address, i: usize) -> Address {
    // SAFETY: the caller keeps `i` in bounds; elements are 8-byte words.
    unsafe {
        body.offset(array_element_offset(i))
            .as_ptr::<Address>()
            .read()
    }
}

/// Byte offset of element `i` from the start of the body of an array of
/// 8-byte elements with no fixed part (a reference array): past the
/// element count. With a fixed part, the elements start that many bytes
/// further.
#[inline(always)]
pub const fn array_element_offset(i: usize) -> usize {
    ARRAY_LENGTH_BYTES + i * 8
}

/// Rounds `bytes` up to the object alignment.
#[inline(always)]
pub const fn align_up(bytes: usize) -> usize {
    (bytes + ALIGN - 1) & !(ALIGN - 1)
}

/// Word 0 of the object at `obj`.
///
/// # Safety
/// `obj` points at a live object's header (crate address invariant).
#[inline(always)]
pub unsafe fn word0<'a>(obj: Address) -> &'a AtomicU64 {
    // SAFETY: the header is 16-byte aligned, live and its first word is only
    // ever accessed atomically or before publication.
    unsafe { &*obj.as_ptr::<AtomicU64>() }
}

/// Word 1 (the link) of the object at `obj`.
///
/// # Safety
/// `obj` points at a live object's header (crate address invariant).
#[inline(always)]
pub unsafe fn link<'a>(obj: Address) -> &'a AtomicUsize {
    // SAFETY: as for `word0`, eight bytes further.
    unsafe { &*obj.offset(LINK_OFFSET).as_ptr::<AtomicUsize>() }
}

/// Prefetches what the link of the object at `obj` points at (an anchor's
/// newest version record, a record's next older one), if anything: a
/// reader or marker that will follow the link soon gets the line early.
///
/// # Safety
/// `obj` points at a live object's header (crate address invariant).
#[inline(always)]
pub unsafe fn prefetch_linked(obj: Address) {
    // SAFETY: caller's invariant.
    let link = unsafe { link(obj) }.load(Ordering::Relaxed);
    if link != 0 {
        Address::from_usize(link).prefetch();
    }
}

/// The commit stamp of the version record at `obj`.
///
/// # Safety
/// `obj` points at a live version record (its `VERSION` flag is set).
#[inline(always)]
pub unsafe fn stamp<'a>(obj: Address) -> &'a AtomicU64 {
    // SAFETY: a version record's header has a third word.
    unsafe { &*obj.offset(STAMP_OFFSET).as_ptr::<AtomicU64>() }
}

/// Writes a fresh header: type id, flags, link 0.
///
/// # Safety
/// `obj` points at at least `HEADER_BYTES` of memory that this thread owns
/// and that no other thread can reach yet.
#[inline(always)]
pub unsafe fn init(obj: Address, type_id: u32, flags: u64) {
    // SAFETY: the memory is ours and unpublished; plain writes are enough.
    unsafe {
        obj.as_ptr::<u64>().write(type_id as u64 | flags);
        obj.offset(LINK_OFFSET).as_ptr::<usize>().write(0);
    }
}

/// Builds the header words of an object of a loom model in place: word 0,
/// the link and, for a version record, the stamp.
///
/// # Safety
/// `obj` points at `VERSION_HEADER_BYTES` (`HEADER_BYTES` without a stamp)
/// of 16-byte aligned memory that nothing else uses.
#[cfg(loom)]
pub unsafe fn construct(obj: Address, word: u64, link: usize, stamp: Option<u64>) {
    // SAFETY: the memory is the caller's, aligned, and large enough.
    unsafe {
        obj.as_ptr::<AtomicU64>().write(AtomicU64::new(word));
        obj.offset(LINK_OFFSET)
            .as_ptr::<AtomicUsize>()
            .write(AtomicUsize::new(link));
        if let Some(stamp) = stamp {
            obj.offset(STAMP_OFFSET)
                .as_ptr::<AtomicU64>()
                .write(AtomicU64::new(stamp));
        }
    }
}

/// The type id of the object at `obj`.
///
/// # Safety
/// `obj` points at a live object's header.
#[inline(always)]
pub unsafe fn type_id(obj: Address) -> u32 {
    // SAFETY: caller's address invariant.
    (unsafe { word0(obj) }.load(Ordering::Relaxed) & TYPE_MASK) as u32
}

/// Whether `flag` is set in the object's word 0.
///
/// # Safety
/// `obj` points at a live object's header.
#[inline(always)]
pub unsafe fn has_flag(obj: Address, flag: u64) -> bool {
    // SAFETY: caller's address invariant.
    unsafe { word0(obj) }.load(Ordering::Relaxed) & flag != 0
}

/// Sets `flag` in the object's word 0.
///
/// # Safety
/// `obj` points at a live object's header.
#[inline(always)]
pub unsafe fn set_flag(obj: Address, flag: u64) {
    // SAFETY: caller's address invariant.
    unsafe { word0(obj) }.fetch_or(flag, Ordering::Relaxed);
}

/// Clears `flag` in the word 0 of an object no other thread can reach, with
/// a plain store instead of an atomic read-modify-write.
///
/// # Safety
/// `obj` points at a live object's header that only the caller accesses.
#[inline(always)]
pub unsafe fn clear_flag_unshared(obj: Address, flag: u64) {
    // SAFETY: caller's address invariant; nobody else reads or writes it.
    let word = unsafe { word0(obj) };
    word.store(word.load(Ordering::Relaxed) & !flag, Ordering::Relaxed);
}

/// Clears `flag` in the object's word 0.
///
/// # Safety
/// `obj` points at a live object's header.
#[inline(always)]
pub unsafe fn clear_flag(obj: Address, flag: u64) {
    // SAFETY: caller's address invariant.
    unsafe { word0(obj) }.fetch_and(!flag, Ordering::Relaxed);
}

/// Offset of the body from the header: 24 for a version record, else 16.
///
/// # Safety
/// `obj` points at a live object's header.
#[inline(always)]
pub unsafe fn body_offset(obj: Address) -> usize {
    // SAFETY: caller's address invariant.
    if unsafe { has_flag(obj, VERSION) } {
        VERSION_HEADER_BYTES
    } else {
        HEADER_BYTES
    }
}

/// Address of the object's body.
///
/// # Safety
/// `obj` points at a live object's header.
#[inline(always)]
pub unsafe fn body(obj: Address) -> Address {
    // SAFETY: caller's address invariant.
    obj.offset(unsafe { body_offset(obj) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_do_not_overlap_type_or_owner() {
        let flags = [FORWARDED, REMEMBERED, VERSION, HAS_ID, LARGE, PRIVATE];
        let mut seen = 0u64;
        for flag in flags {
            assert_eq!(flag.count_ones(), 1);
            assert_eq!(flag & (TYPE_MASK | OWNER_MASK), 0);
            assert_eq!(seen & flag, 0);
            seen |= flag;
        }
        assert_eq!(MAX_OWNER << OWNER_SHIFT, OWNER_MASK);
    }

    #[test]
    fn owner_of_reads_only_the_owner_field() {
        let word = 42u64 | PRIVATE | REMEMBERED;
        assert_eq!(owner_of(word), 0);
        assert_eq!(owner_of(word | (7 << OWNER_SHIFT)), 7);
        assert_eq!(owner_of(u64::MAX), MAX_OWNER as u32);
    }

    #[test]
    fn array_elements_follow_the_length() {
        assert_eq!(array_element_offset(0), ARRAY_LENGTH_BYTES);
        assert_eq!(array_element_offset(3), 32);
    }

    #[test]
    fn header_round_trip() {
        let mut words = [0u64; 3];
        let obj = Address::from_ptr(words.as_mut_ptr());
        // SAFETY: `words` is a local buffer of three aligned words.
        unsafe {
            init(obj, 7, REMEMBERED);
            assert_eq!(type_id(obj), 7);
            assert!(has_flag(obj, REMEMBERED));
            assert!(!has_flag(obj, VERSION));
            assert_eq!(body_offset(obj), HEADER_BYTES);
            set_flag(obj, VERSION);
            assert_eq!(body_offset(obj), VERSION_HEADER_BYTES);
            clear_flag(obj, REMEMBERED);
            assert!(!has_flag(obj, REMEMBERED));
            assert_eq!(type_id(obj), 7);
        }
    }
}
