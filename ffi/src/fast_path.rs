//! The library's side of `strata.h`'s inline fast paths (`strata_read` and
//! `strata_write` on an object the open attempt made, without a call; see
//! `DESIGN.md`, "C ABI", "Inline fast paths").
//!
//! A `strata_thread` starts with `fast_owner` (`strata_thread_prefix` in
//! the header): the OS thread (`pthread_self()`) that owns the handle while
//! the inline paths may be taken on it, that is while an attempt is open,
//! not poisoned, and the thread not in a blocking section; 0 otherwise.
//! Only the owning thread stores it, after each call on the handle
//! ([`update_fast_owner`]); the inline code compares it with its own
//! `pthread_self()`, so another thread's handle never matches.
//!
//! The inline code reads `fast_owner` before the library has checked the
//! handle, so a handle's memory is never given back to the allocator
//! ([`HandleBox`]): a detached handle stays readable, with `fast_owner` 0,
//! and the next attach reuses it. What the header promises for stale
//! handles thus holds for the inline paths too.

use crate::thread::strata_thread;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The calling OS thread as the header's inline paths name it.
pub fn this_os_thread() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

/// Stores in `handle.fast_owner` whether the inline paths may be taken on
/// it now (module doc).
#[inline]
pub fn update_fast_owner(handle: &strata_thread) {
    let fast = !handle.blocked && handle.thread.manual_attempt_live();
    let owner = if fast { handle.os_thread } else { 0 };
    if handle.fast_owner.load(Ordering::Relaxed) != owner {
        handle.fast_owner.store(owner, Ordering::Relaxed);
    }
}

/// Handle memory of detached threads, for the next attach (never freed).
static SPARE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// A thread handle in memory that is never freed (module doc): it owns the
/// handle, and dropping it drops the handle and keeps the memory, with
/// `fast_owner` 0, for the next [`HandleBox::new`].
pub struct HandleBox(NonNull<strata_thread>);

impl HandleBox {
    pub fn new(handle: strata_thread) -> HandleBox {
        let spare = SPARE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let memory = match spare {
            Some(address) => address as *mut strata_thread,
            None => Box::into_raw(Box::<std::mem::MaybeUninit<strata_thread>>::new_uninit()).cast(),
        };
        // SAFETY: `memory` is allocated for a `strata_thread` and holds
        // none (fresh, or dropped in place by `drop`).
        unsafe { memory.write(handle) };
        // SAFETY: not null: a box's, or one listed in SPARE.
        HandleBox(unsafe { NonNull::new_unchecked(memory) })
    }

    pub fn as_ptr(&self) -> *mut strata_thread {
        self.0.as_ptr()
    }
}

impl Deref for HandleBox {
    type Target = strata_thread;
    fn deref(&self) -> &strata_thread {
        // SAFETY: the handle lives until `drop`.
        unsafe { self.0.as_ref() }
    }
}

impl DerefMut for HandleBox {
    fn deref_mut(&mut self) -> &mut strata_thread {
        // SAFETY: the handle lives until `drop`, and is this box's alone.
        unsafe { self.0.as_mut() }
    }
}

impl Drop for HandleBox {
    fn drop(&mut self) {
        let memory = self.0.as_ptr();
        // SAFETY: the handle is alive and this box's; after it is dropped
        // its first field is written again, so that the memory keeps a
        // `fast_owner` of 0 for the inline paths (module doc).
        unsafe {
            self.0.as_ref().fast_owner.store(0, Ordering::Relaxed);
            std::ptr::drop_in_place(memory);
            std::ptr::addr_of_mut!((*memory).fast_owner).write(AtomicUsize::new(0));
        }
        SPARE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memory as usize);
    }
}
