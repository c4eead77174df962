//! Scans: every element of a reference array read in one loop that makes
//! no handles and fetches ahead, so the cache misses of scattered elements
//! overlap (see `DESIGN.md`, "Scans"). A scan of a committed array records
//! one *scan entry* in the read set for all its elements; validation
//! (`commit.rs`) expands it.

use crate::barrier::visible_body;
use crate::object::{Object, RefArray};
use crate::thread::Thread;
use crate::tx::{data_ptr, Tx};
use crate::Obj;
use std::sync::atomic::Ordering;
use strata_gc::header::{self, OWNER_MASK, PRIVATE};
use strata_gc::Address;

/// The low bit of a read-set entry that stands for every element of the
/// array's version visible at the snapshot (a *scan entry*; objects are
/// 16-byte aligned, so an anchor's address never has it).
pub(crate) const SCAN_ENTRY: usize = 1;
const _: () = assert!(SCAN_ENTRY & !strata_gc::READ_ROOT_TAG_BITS == 0);

impl<'tx> Tx<'tx> {
    /// Calls `f(i, value)` with the value of every element of `array` in
    /// order (`None` for a null element): a scan that makes no handles and
    /// fetches the objects a few elements ahead, so the cache misses of
    /// scattered elements overlap. Reads are recorded like [`Tx::read`]'s.
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
    /// let total = thread
    ///     .atomically(|tx| {
    ///         let bank = tx.alloc_array(3);
    ///         for i in 0..3 {
    ///             let account = tx.alloc(Account { balance: 10 * i as i64 });
    ///             tx.set(bank, i, Some(account));
    ///         }
    ///         let mut total = 0;
    ///         tx.for_each_value::<Account>(bank, |_, account| {
    ///             total += account.map_or(0, |a| a.balance)
    ///         });
    ///         total
    ///     })
    ///     .unwrap();
    /// assert_eq!(total, 30);
    /// ```
    ///
    /// # Panics
    /// If an element is not a `U`.
    pub fn for_each_value<U: Object>(
        &mut self,
        array: Obj<'tx, RefArray>,
        f: impl FnMut(usize, Option<U>),
    ) {
        let addr = self.address(array);
        let covered = self.th.scans_committed(addr);
        let body = self.th.readable(addr);
        if covered {
            let entry = Address::from_usize(addr.as_usize() | SCAN_ENTRY);
            // SAFETY: `addr` is a committed array: old and live; the tag
            // is in the bits read roots leave to the client.
            unsafe { self.th.m.push_read_root(entry) };
        }
        let expected = self.th.type_id_of::<U>();
        // One loop for each case, so that the read-set test is decided once.
        if covered {
            scan_elements::<U, true>(self.th, body, expected, f);
        } else {
            scan_elements::<U, false>(self.th, body, expected, f);
        }
    }
}

impl Thread {
    /// Whether a scan of `array` reads a committed version of it (neither
    /// an object this transaction made nor its private copy), so that one
    /// scan entry in the read set covers the elements it reads. The answer
    /// cannot change during the transaction: only this transaction could
    /// make the array its own.
    pub(crate) fn scans_committed(&self, array: Address) -> bool {
        // SAFETY: `array` is a live object held by the transaction.
        let word = unsafe { header::word0(array) }.load(Ordering::Relaxed);
        word & PRIVATE == 0 && header::owner_of(word) != self.slot
    }

    /// The body a read of `target` (a non-null element of a scanned array)
    /// sees, after checking that its type is `expected` (else `Err` with its
    /// type): the read barrier with its straight path inline. The element
    /// is recorded in the read set unless the scan's entry covers it
    /// (`COVERED`). `snapshot` is the transaction's, which a read never
    /// moves: the scan loads it once.
    #[inline(always)]
    pub(crate) fn read_element<const COVERED: bool>(
        &mut self,
        target: Address,
        expected: u32,
        snapshot: u64,
    ) -> Result<Address, u32> {
        // SAFETY: a non-null element of a live array is a live object.
        let word = unsafe { header::word0(target) }.load(Ordering::SeqCst);
        // A committed, unowned object of the expected type with no flag set
        // (the common element) is the type id alone: one comparison.
        if word != u64::from(expected) {
            let actual = header::type_id_of_word(word);
            if actual != expected {
                return Err(actual);
            }
            if word & (PRIVATE | OWNER_MASK) != 0 {
                return Ok(self.readable(target));
            }
        }
        if !COVERED {
            // SAFETY: `target` is a shared anchor: committed, so old and
            // live.
            unsafe { self.m.push_read_root(target) };
        }
        debug_assert_eq!(snapshot, self.tx.snapshot);
        // SAFETY: `target` is a live anchor; our snapshot is part of the
        // collector's horizon.
        Ok(unsafe { visible_body(target, snapshot) })
    }
}

/// The panic of a scanned element of the wrong type.
#[cold]
#[inline(never)]
fn wrong_element<U>(i: usize, actual: u32, expected: u32) -> ! {
    panic!(
        "strata: element {i} is not a {} (type id {actual}, expected {expected})",
        std::any::type_name::<U>()
    )
}

/// The loop of [`Tx::for_each_value`] over the elements of an array `body`
/// whose elements should be `expected` (`U`'s type); `COVERED` when a scan
/// entry in the read set stands for the elements.
#[inline(always)]
fn scan_elements<U: Object, const COVERED: bool>(
    th: &mut Thread,
    body: Address,
    expected: u32,
    mut f: impl FnMut(usize, Option<U>),
) {
    /// Elements whose header is fetched ahead of the one read.
    const AHEAD: usize = 16;
    // Nothing allocates during the scan (`f` has no access to the
    // transaction), so `body` and the elements stay where they are.
    // SAFETY: an array body is its length then its elements.
    let len = unsafe { header::array_length(body) };
    // SAFETY: `i < len`: an element of the array.
    let element = |i: usize| unsafe { header::array_element(body, i) };
    // Its header was fetched a few elements ago: fetch the newest
    // version record it links to.
    let fetch_record = |i: usize| {
        let ahead = element(i);
        if !ahead.is_null() {
            // SAFETY: a non-null element is a live object.
            unsafe { header::prefetch_linked(ahead) };
        }
    };
    let snapshot = th.tx.snapshot;
    // The steady loop fetches ahead with no test of the end; the tail
    // fetches nothing past it.
    let steady = len.saturating_sub(AHEAD);
    for i in 0..steady {
        element(i + AHEAD).prefetch();
        fetch_record(i + AHEAD / 2);
        visit_element::<U, COVERED>(th, element(i), i, expected, snapshot, &mut f);
    }
    for i in steady..len {
        if i + AHEAD / 2 < len {
            fetch_record(i + AHEAD / 2);
        }
        visit_element::<U, COVERED>(th, element(i), i, expected, snapshot, &mut f);
    }
}

/// Calls `f` with element `i` of a scan, `target`: its value as the
/// transaction sees it, or `None` for a null element. A function rather
/// than a closure so that both loops of [`scan_elements`] inline it.
#[inline(always)]
fn visit_element<U: Object, const COVERED: bool>(
    th: &mut Thread,
    target: Address,
    i: usize,
    expected: u32,
    snapshot: u64,
    f: &mut impl FnMut(usize, Option<U>),
) {
    if target.is_null() {
        return f(i, None);
    }
    match th.read_element::<COVERED>(target, expected, snapshot) {
        // SAFETY: `value_body` is the body of `target` or of one of its
        // versions; it holds a `U` after the references.
        Ok(value_body) => f(i, Some(unsafe { data_ptr::<U>(value_body).read() })),
        Err(actual) => wrong_element::<U>(i, actual, expected),
    }
}
