//! Memory and objects of a Strata heap: the old-space reservation and its
//! pages, per-thread nurseries, the object header and the type registry.
//!
//! This crate knows nothing of threads, roots or collection policy (that is
//! `strata-gc`); it provides the places objects live in and the words that
//! describe them. The layouts are tabled in `DESIGN.md`.
//!
//! # Invariants the unsafe code relies on
//!
//! - **Addresses.** An [`Address`] handed to the header accessors points at the
//!   16-byte header of an object that is allocated (in a nursery below its
//!   cursor, or in an old-space slot whose alloc bit is set) and whose type id
//!   is registered. Callers of the `unsafe` accessors promise this.
//! - **Page ownership.** A small page's allocation state is changed only by the
//!   one thread whose [`AllocCache`] holds it, or by a collector while the
//!   world is stopped; mark state only by a collector while the world is
//!   stopped. [`OldSpace`] functions that touch page state say which of the two
//!   their caller must be.
//! - **Mappings.** Every mapping is made in `sys.rs` and lives as long as the
//!   structure that owns it; nothing hands out a pointer past that lifetime.

mod address;
mod config;
mod error;
pub mod header;
mod nursery;
mod old_space;
mod page;
pub mod size_class;
pub mod sync;
mod sys;
mod types;
pub mod words;

pub use address::Address;
pub use config::{HeapConfig, MAX_GC_THREADS};
pub use error::{AllocError, ConfigError, TypeError};
pub use nursery::Nursery;
pub use old_space::{AllocCache, OldSpace, OldSpaceStats, POISON};
pub use page::{PageKind, PAGE_BYTES};
pub use types::{
    lookup_type, Layout, RefSlots, TraceFn, TypeDesc, TypeId, TypeInfo, TypeRegistry, VisitFn,
};
