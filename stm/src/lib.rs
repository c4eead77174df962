//! Strata: a multi-threaded, transactional, garbage-collected object heap.
//!
//! Threads attach to a [`Heap`] and run **atomic blocks** with
//! [`Thread::atomically`]. Blocks of many threads run in parallel; each sees
//! the heap as if it ran alone, in some serial order. A conflict aborts and
//! re-runs a block, so a program is always correct and only its speed
//! depends on how rarely blocks conflict. Readers never abort and never wait
//! for writers: a transaction reads the versions of one snapshot.
//!
//! Hosts that cannot pass a closure (the C ABI, `strata-ffi`) drive
//! attempts call by call instead, on objects of types registered at run
//! time ([`Heap::register_type`]): [`Thread::begin_manual`] and the rest of
//! the manual API (see `DESIGN.md`, "Transactions from C").
//!
//! ```
//! use strata::{Heap, HeapConfig, Object};
//!
//! #[derive(Clone, Copy)]
//! struct Account {
//!     balance: i64,
//! }
//! impl Object for Account {}
//!
//! let heap = Heap::new(HeapConfig::default()).unwrap();
//! let mut main = heap.attach().unwrap();
//! let accounts = main
//!     .atomically(|tx| {
//!         let array = tx.alloc_array(2);
//!         for i in 0..2 {
//!             let account = tx.alloc(Account { balance: 100 });
//!             tx.set(array, i, Some(account));
//!         }
//!         tx.root(array)
//!     })
//!     .unwrap();
//! let accounts = main.global(&accounts);
//!
//! // While the other thread works, `main` waits outside the heap (so that a
//! // collection the other thread starts does not wait for it).
//! main.blocking(|| std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let mut t = heap.attach().unwrap();
//!         t.atomically(|tx| {
//!             let array = tx.get_global(&accounts);
//!             let from = tx.get::<Account>(array, 0).unwrap();
//!             let to = tx.get::<Account>(array, 1).unwrap();
//!             tx.update(from, |a| a.balance -= 30);
//!             tx.update(to, |a| a.balance += 30);
//!         })
//!         .unwrap();
//!     });
//! }));
//!
//! let total = main
//!     .atomically(|tx| {
//!         let array = tx.get_global(&accounts);
//!         (0..2)
//!             .map(|i| {
//!                 let account = tx.get::<Account>(array, i).unwrap();
//!                 tx.read(account).balance
//!             })
//!             .sum::<i64>()
//!     })
//!     .unwrap();
//! assert_eq!(total, 200);
//! ```
//!
//! The semantics (snapshots, commit, inevitability, progress) and every
//! invariant the unsafe code relies on are in `DESIGN.md`.
//!
//! # Unwinding is required
//!
//! A conflict ends an attempt by unwinding its closure back to
//! [`Thread::atomically`], which re-runs it. A program built with
//! `panic = "abort"` would therefore end at its first conflict, so this
//! crate does not compile with it. A closure may catch the unwinding
//! (`catch_unwind`), but the attempt stays aborted: it never commits.
//!
//! # Invariants the unsafe code relies on
//!
//! - **Empty nursery at begin.** Every commit and abort ends with a minor
//!   collection, so every young object during a transaction is its own.
//! - **Handles are arena indices.** An [`Obj`] names a client root of the
//!   thread's mutator, which collections keep alive and update; the `'tx`
//!   brand keeps it inside its transaction.
//! - **No collection during a view.** A [`View`] exposes nothing that
//!   allocates or polls a safepoint and borrows its thread for its whole
//!   life, so the bare addresses of its [`Ref`]s neither move nor die; the
//!   `'v` brand keeps them inside the view.
//! - **What commit touches is rooted.** Validation and publication read
//!   anchors no handle may hold any more: the read set is a list of read
//!   roots, and the anchors written, their copies and the objects a changed
//!   root held before are old roots, so no collection of the attempt frees
//!   them.
//! - **Ownership before copy.** A transaction writes a shared anchor only
//!   through a private copy, made after it owns the anchor; it publishes
//!   copies only after promoting them and only while it owns their anchors.

// A conflict ends an attempt by unwinding its closure to
// `Thread::atomically`; with `panic = "abort"` the first conflict would end
// the process instead.
#[cfg(panic = "abort")]
compile_error!(
    "strata needs panic = \"unwind\": conflicts abort a transaction by unwinding its closure \
     (set panic = \"unwind\" in the profile that builds this program)"
);

mod abort_counts;
mod abort_info;
mod barrier;
mod collections;
mod commit;
mod conflict_profile;
mod contention;
mod data_array;
mod error;
mod event_log;
mod heap;
mod inevitable;
mod inline_window;
#[cfg(all(test, loom))]
mod loom_model;
mod manual;
mod manual_map;
mod manual_queue;
mod mix_hash;
mod object;
mod reads;
mod recorder;
mod retry;
mod runner;
mod scan;
mod shared;
mod sync;
mod thread;
mod tx;
mod type_cache;
mod view;
mod write_set;

pub use abort_counts::AbortCounts;
pub use abort_info::{AbortInfo, AbortKind, ConflictObject, Marker};
pub use collections::counter::{TxCounter, DEFAULT_STRIPES};
pub use collections::hash_map::TxHashMap;
pub use collections::map_object::TxHashMapObject;
pub use collections::queue::TxQueue;
pub use collections::queue_object::TxQueueObject;
pub use conflict_profile::{ConflictProfile, ProfileLine};
pub use error::Error;
pub use event_log::EVENT_LOG_HEADER;
pub use heap::{Heap, TxConfig};
pub use inline_window::{InlineType, InlineWindow};
pub use manual::{
    ManualError, Untyped, HEADER_OWNER_MASK, HEADER_TYPE_MASK, OBJECT_HEADER_BYTES,
    OBJECT_LINK_OFFSET, PRIVATE_BIT, REMEMBERED_BIT, VERSION_HEADER_BYTES,
};
pub use manual_map::ManualMap;
pub use manual_queue::ManualQueue;
pub use object::{DataArray, Element, GlobalRoot, HeapType, Lift, Obj, Object, RefArray, Root};
pub use recorder::ReportConfig;
pub use runner::TaskRunner;
pub use strata_gc::{
    Address, AllocError, GcOptions, GcStats, HeapConfig, HeapError, Layout, PauseKind, RefSlots,
    TraceFn, TypeDesc, TypeError, TypeId, VisitFn,
};
pub use thread::Thread;
pub use tx::Tx;
pub use view::{Ref, View};
