//! The library's side of `strata.h`'s inline fast paths (see `DESIGN.md`,
//! "C ABI", "Inline fast paths" and "The inline window").
//!
//! A `strata_thread` starts with a [`Prefix`] (`strata_thread_prefix` in
//! the header). Its `fast_owner` is the OS thread (`pthread_self()`) that
//! owns the handle while the inline paths may be taken on it, that is
//! between two calls, while an attempt is open, not poisoned, and the
//! thread not in a blocking section; 0 otherwise, and always during a call.
//! The inline code compares it with its own `pthread_self()`, so another
//! thread's handle never matches. The rest of the prefix is the *window*:
//! the nursery range, shadow stack and type facts the inline paths use.
//! Every checked call takes the window back first ([`absorb`]) and hands
//! it out again last ([`publish`]); only the owning thread writes the
//! prefix, the library during its calls and the host's inline paths
//! between them.
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
use strata_rs::InlineWindow;

/// The calling OS thread as the header's inline paths name it.
pub fn this_os_thread() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

/// Entries of the prefix's type table (`STRATA_FAST_TYPES`).
pub const FAST_TYPES: usize = 4;

/// A free type-table entry's id (`STRATA_NO_TYPE`): never registered.
pub const NO_TYPE: u32 = u32::MAX;

/// Free shadow-stack entries a window hands out at least.
const SPARE_ROOTS: usize = 16;

/// Free read-log entries a window hands out at least.
const SPARE_READS: usize = 64;

/// `strata_fast_type`: what the inline allocation and reference store
/// know of a fixed-size type.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FastType {
    pub type_id: u32,
    /// Bytes of an object, header included.
    pub object_bytes: u32,
    /// Bit `i`: body word `i` is a reference slot.
    pub ref_mask: u64,
}

/// `strata_thread_prefix` (module doc; the table in `DESIGN.md`, "The
/// inline window"). Only the owning thread reads or writes it, but for
/// `fast_owner`, which other threads' inline paths read.
#[repr(C)]
pub struct Prefix {
    pub fast_owner: AtomicUsize,
    /// `alloc_cursor` to `snapshot` in the header.
    pub window: InlineWindow,
    /// The global root `strata_global_get` found last (0: none), its
    /// object, its `made_at` and the registry's change count then.
    pub global: usize,
    pub global_obj: usize,
    pub global_since: u64,
    pub global_changes: u64,
    pub types: [FastType; FAST_TYPES],
}

impl Prefix {
    /// A prefix that takes no inline path.
    pub fn new() -> Prefix {
        Prefix {
            fast_owner: AtomicUsize::new(0),
            window: InlineWindow::default(),
            global: 0,
            global_obj: 0,
            global_since: 0,
            global_changes: 0,
            types: [FastType {
                type_id: NO_TYPE,
                object_bytes: 0,
                ref_mask: 0,
            }; FAST_TYPES],
        }
    }
}

/// Takes the window back from the host's inline paths at the start of a
/// call on `handle`, and closes them for the call's duration.
#[inline]
pub fn absorb(handle: &mut strata_thread) {
    if handle.prefix.fast_owner.load(Ordering::Relaxed) == 0 {
        return;
    }
    handle.prefix.fast_owner.store(0, Ordering::Relaxed);
    let window = &handle.prefix.window;
    let entry = size_of::<usize>();
    let depth = (window.roots_top - window.roots_base) / entry;
    let reads = (window.reads_top - window.reads_base) / entry;
    // SAFETY: `fast_owner` was set by the `publish` that ended the last
    // call on this handle and handed this window out; every call starts
    // here, so since then only the header's inline paths used it, which
    // keep the cursor and the tops in their ranges, make objects as the
    // nursery does, push only objects the host holds (the header's
    // contract) and log only unowned committed anchors they read.
    unsafe {
        handle
            .thread
            .absorb_inline_window(window.alloc_cursor, depth, reads)
    };
}

/// Hands the window out at the end of a call on `handle` if the inline
/// paths may be taken until the next one (module doc).
#[inline]
pub fn publish(handle: &mut strata_thread) {
    if handle.blocked {
        return;
    }
    let window = &mut handle.prefix.window;
    if handle
        .thread
        .publish_inline_window(window, SPARE_ROOTS, SPARE_READS)
    {
        handle
            .prefix
            .fast_owner
            .store(handle.os_thread, Ordering::Relaxed);
    }
}

/// Enters type `type_id` in the prefix's type table if it is a fixed-size
/// type of the handle's heap, for the inline allocation and reference
/// store (its entry is `type_id % FAST_TYPES`).
pub fn cache_type(handle: &mut strata_thread, type_id: u32) {
    let entry = &mut handle.prefix.types[type_id as usize % FAST_TYPES];
    if entry.type_id == type_id {
        return;
    }
    if let Some(info) = handle.thread.inline_type(strata_rs::TypeId(type_id)) {
        *entry = FastType {
            type_id,
            object_bytes: info.object_bytes,
            ref_mask: info.ref_mask,
        };
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
        // its prefix is written again, so that the memory keeps a
        // `fast_owner` of 0 for the inline paths (module doc).
        unsafe {
            self.0
                .as_ref()
                .prefix
                .fast_owner
                .store(0, Ordering::Relaxed);
            std::ptr::drop_in_place(memory);
            std::ptr::addr_of_mut!((*memory).prefix).write(Prefix::new());
        }
        SPARE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memory as usize);
    }
}
