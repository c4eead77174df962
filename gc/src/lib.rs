//! The collector of a Strata heap: attached threads, roots, the write
//! barrier, minor and major collections, safepoints, version reclamation,
//! the heap verifier and statistics.
//!
//! [`Heap`] is shared by all threads; each thread that allocates attaches and
//! gets a [`Mutator`]. This crate's object API is raw ([`Address`]es that a
//! collection may invalidate, `unsafe` where misuse could break the heap);
//! the typed, safe API is built on it by the `strata` crate.
//!
//! # Invariants the unsafe code relies on
//!
//! - **Young objects are thread-private.** A reference to a young object is
//!   held only by its own thread: its roots, its young objects, and old
//!   objects in its remembered set. So a minor collection stops nobody.
//! - **Every old object that holds a young reference is remembered**
//!   (`REMEMBERED` set, in its writer's remembered set): the write barrier.
//! - **Roots are complete.** Every address a thread will use after a
//!   collection is in its shadow stack, handle slots or client roots.
//! - **A stopped world.** A major collection starts only when every other
//!   attached thread is parked (nursery empty, roots published) or blocked
//!   (the same, published on entry); it touches pages, headers and version
//!   chains only then.
//! - **Version records are immutable once published**; only their anchor's
//!   owner publishes, and only a collector with the world stopped trims.

mod allocation;
mod barrier;
mod error;
mod heap;
mod identity;
#[cfg(all(test, loom))]
mod loom_model;
mod major;
mod minor;
mod mutator;
mod pretenure;
mod promotion_log;
mod roots;
mod safepoint;
mod stats;
mod sync;
mod types;
mod verify;
pub mod versions;
mod work_pool;

pub use allocation::{FixedType, NurseryWindow};
pub use error::HeapError;
pub use heap::{GcOptions, Heap};
pub use mutator::Mutator;
pub use roots::{GlobalRoot, HandleSlot, READ_ROOT_TAG_BITS};
pub use safepoint::{MAX_MUTATORS, NO_SNAPSHOT};
pub use stats::{GcStats, PauseKind};
pub use strata_heap::Address;
pub use strata_heap::{
    header, AllocError, ConfigError, HeapConfig, Layout, RefSlots, TraceFn, TypeDesc, TypeError,
    TypeId, TypeInfo, VisitFn,
};
