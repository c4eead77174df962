//! The locks, condition variables and atomics of the stop-the-world
//! handshake (`safepoint.rs`) and of parallel marking (`work_pool.rs`), swapped
//! for loom's under `--cfg loom` so that the model checks (`loom_model.rs`,
//! `work_pool.rs`) run the real protocols.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize},
    Condvar, Mutex, MutexGuard,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize},
    Condvar, Mutex, MutexGuard,
};
