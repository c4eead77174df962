//! The atomics of object headers, swapped for loom's under `--cfg loom`.
//!
//! The commit protocol (`stm`) and version chains (`strata-gc`) work on
//! header words through [`crate::header`]'s accessors. Under loom those
//! accessors return loom atomics, which a model builds in place in the
//! memory of its objects (`header::construct`, built only under loom), so that loom
//! explores the interleavings of the real accessors' loads and stores. A
//! loom atomic is wider than eight bytes, so the header's word offsets are
//! computed from these types' sizes; without loom they are 0, 8 and 16.

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicU64, AtomicUsize};
