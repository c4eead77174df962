//! [`TxCounter`]: a counter whose concurrent adds never conflict. One
//! stripe object per thread slot (modulo the stripe count): an add writes
//! only its thread's stripe, a read of the value reads them all (see
//! `DESIGN.md`, "Conflict-free structures").

use crate::error::Error;
use crate::object::{GlobalRoot, Obj, Object, RefArray};
use crate::thread::Thread;
use crate::tx::Tx;

/// Stripes of a counter made by [`TxCounter::new`]: at least as many as the
/// threads that add to it at the same time, for adds never to conflict.
pub const DEFAULT_STRIPES: usize = 64;

/// One thread slot's share of a counter.
#[derive(Clone, Copy)]
struct Stripe {
    value: i64,
}
impl Object for Stripe {}

/// A transactional counter for values many transactions change and few
/// read, such as reference counts and sizes: [`TxCounter::add`]s of
/// concurrent transactions never conflict (as long as at most `stripes`
/// threads are attached), and [`TxCounter::get`] sees every committed add
/// (a transaction that reads the value conflicts with a concurrent add).
///
/// ```
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let counter = strata::TxCounter::new(&mut thread).unwrap();
/// thread.atomically(|tx| counter.add(tx, 5)).unwrap();
/// thread.atomically(|tx| counter.add(tx, -2)).unwrap();
/// assert_eq!(thread.atomically(|tx| counter.get(tx)).unwrap(), 3);
/// ```
pub struct TxCounter {
    stripes: GlobalRoot<RefArray>,
}

impl TxCounter {
    /// A counter at 0 with [`DEFAULT_STRIPES`] stripes, made in a
    /// transaction of `thread` (call it outside a transaction).
    pub fn new(thread: &mut Thread) -> Result<TxCounter, Error> {
        TxCounter::with_stripes(thread, DEFAULT_STRIPES)
    }

    /// A counter at 0 with `stripes` stripes: adds of threads whose slots
    /// differ modulo `stripes` never conflict; [`TxCounter::get`] reads
    /// `stripes` objects.
    ///
    /// # Panics
    /// If `stripes` is 0.
    pub fn with_stripes(thread: &mut Thread, stripes: usize) -> Result<TxCounter, Error> {
        let root = thread.atomically(|tx| {
            let array = alloc_stripes(tx, stripes);
            tx.root(array)
        })?;
        Ok(TxCounter {
            stripes: thread.global(&root),
        })
    }

    /// Whether this counter was made on `heap`.
    pub fn belongs_to(&self, heap: &crate::Heap) -> bool {
        self.stripes.belongs_to(heap)
    }

    /// Adds `delta` (which may be negative) in the running transaction.
    /// Writes only the calling thread's stripe and reads nothing that
    /// another add writes.
    pub fn add(&self, tx: &mut Tx<'_>, delta: i64) {
        let stripes = tx.get_global(&self.stripes);
        add_to(tx, stripes, delta);
    }

    /// The value as the running transaction sees it: the sum of the
    /// stripes, each read (so the transaction conflicts with an add that
    /// commits before it does).
    pub fn get(&self, tx: &mut Tx<'_>) -> i64 {
        let stripes = tx.get_global(&self.stripes);
        sum_of(tx, stripes)
    }
}

/// A fresh array of `stripes` zero stripes (for structures that keep a
/// counter in their own objects).
///
/// # Panics
/// If `stripes` is 0.
pub(crate) fn alloc_stripes<'tx>(tx: &mut Tx<'tx>, stripes: usize) -> Obj<'tx, RefArray> {
    assert!(stripes > 0, "strata: a counter needs at least one stripe");
    let array = tx.alloc_array(stripes);
    for i in 0..stripes {
        let stripe = tx.alloc(Stripe { value: 0 });
        tx.set(array, i, Some(stripe));
    }
    array
}

/// Adds `delta` to the calling thread's stripe of `stripes`.
pub(crate) fn add_to<'tx>(tx: &mut Tx<'tx>, stripes: Obj<'tx, RefArray>, delta: i64) {
    // Slots are 1-based and dense (the collector reuses the lowest freed
    // ones), so threads attached together have distinct stripes while
    // they are at most as many as the stripes.
    let index = (tx.th.slot as usize - 1) % tx.len(stripes);
    let stripe = tx
        .get_for_update::<Stripe>(stripes, index)
        .expect("every stripe is made with its counter");
    tx.update(stripe, |s| s.value += delta);
}

/// The sum of `stripes`, every stripe read.
pub(crate) fn sum_of<'tx>(tx: &mut Tx<'tx>, stripes: Obj<'tx, RefArray>) -> i64 {
    let mut sum = 0;
    tx.for_each_value::<Stripe>(stripes, |_, stripe| {
        sum += stripe.expect("every stripe is made with its counter").value;
    });
    sum
}
