//! The atomics and waits of the commit protocol, swapped for loom's under
//! `--cfg loom` so that the model check (`loom_model.rs`) runs the real
//! protocol: the clock, the commit words, the doomed flags, the spins
//! of readers, committers and token holders, and the waits of retries (loom explores other threads
//! only at its own yields, so a spin must yield to loom).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex};

/// One turn of a busy wait that expects the awaited change soon.
#[inline(always)]
pub(crate) fn spin() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

/// One turn of a wait that may last: gives the core to another thread.
#[inline]
pub(crate) fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}
