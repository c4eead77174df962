//! Thread handles: attach and detach, blocking sections, safepoints and
//! explicit collections, and the lookup through which every call reaches a
//! handle (see `DESIGN.md`, "C ABI", "Handles").
//!
//! # Where handles live
//!
//! Each OS thread's attachments are boxes owned by its thread-local list
//! `ATTACHED`: a box is made by attach and pushed there, and taken out by
//! detach or, at thread exit, by the list's destructor, which is what
//! detaches a thread that exits without detaching. A handle is read only
//! after it was found, by address, in the calling thread's list, so only
//! its own thread ever reads it, and only while it is alive.
//!
//! `CALLS.last_used` is the handle of this thread's list that a call found
//! last, or NULL: set only to a handle found in the list (or just pushed
//! there), cleared in the handle's `Drop`, so it is always a live handle of
//! this thread, and a call on it skips the search. `CALLS.in_call` is true
//! while a call runs on one of this thread's handles: a strata call from inside a
//! callback that Strata runs then (a trace callback) is refused, so no
//! handle is ever borrowed twice, and none is freed while borrowed.
//!
//! `LIVE_THREADS` lists every live handle's address, of every thread: an
//! address is added before its box is handed out and removed in the box's
//! `Drop`, before its memory is freed. It is never used to read a handle,
//! only to tell another thread's handle (`STRATA_ERROR_WRONG_THREAD`) from
//! a dead one (`STRATA_ERROR_NOT_ATTACHED`) when the lookup fails.

use crate::fast_path::{absorb, publish, this_os_thread, HandleBox, Prefix};
use crate::heap::{heap_of, strata_heap};
use crate::registry::Registry;
use crate::status::{boundary, non_null, Failure, Status};
use std::cell::{Cell, RefCell};

/// `strata_thread`, opaque to C but for its first field,
/// `strata_thread_prefix` in the header (see `fast_path.rs`).
#[repr(C)]
pub struct strata_thread {
    /// `strata_thread_prefix`: the OS thread that may take the header's
    /// inline paths on this handle now, or 0, and their window
    /// (`fast_path.rs`).
    pub(crate) prefix: Prefix,
    /// The OS thread that attached, as `fast_owner` names it.
    pub(crate) os_thread: usize,
    pub(crate) thread: strata_rs::Thread,
    /// Between `strata_thread_enter_blocking` and `..._leave_blocking`.
    pub(crate) blocked: bool,
    /// Attempts of the host's current block that aborted in a row (see
    /// `tx.rs`).
    pub(crate) aborts_in_a_row: u32,
    /// The type name `strata_last_abort_info` gave out last, which it
    /// owns until its next call (`reports.rs`).
    pub(crate) abort_type_name: Option<std::ffi::CString>,
}

impl Drop for strata_thread {
    fn drop(&mut self) {
        // The cursor and stack top the host's inline paths left, before
        // the thread's last collection reads them.
        absorb(self);
        let calls = calls();
        if std::ptr::eq(calls.last_used.get(), self) {
            calls.last_used.set(std::ptr::null_mut());
        }
        LIVE_THREADS
            .lock()
            .retain(|&t| t != self as *mut strata_thread as usize);
        if self.blocked {
            // SAFETY: the thread entered the blocking section that
            // `blocked` records. It must be back in the heap before its
            // `Thread` drops (a last minor collection).
            unsafe { self.thread.leave_blocking() };
        }
    }
}

thread_local! {
    /// This OS thread's live handles, one per heap it is attached to.
    /// Boxed: a handle's address is what C holds, so it must not move
    /// when the list grows.
    static ATTACHED: RefCell<Vec<HandleBox>> = const { RefCell::new(Vec::new()) };
    /// What every call checks first (see the module doc): one
    /// thread-local, so that a call from the shared library, where each
    /// thread-local's address is a `__tls_get_addr` call, makes one.
    static CALLS: Calls = const {
        Calls {
            last_used: Cell::new(std::ptr::null_mut()),
            in_call: Cell::new(false),
        }
    };
}

/// The calling thread's [`Calls`], by address from one `with`: the state
/// has no destructor (const initialised, `Cell`s only), so it lives as
/// long as its thread, and the reference cannot leave the thread (`Calls`
/// is not `Sync`). Callers keep it only for the call they run.
fn calls() -> &'static Calls {
    // SAFETY: as above: the pointer is to this thread's `CALLS`, alive
    // until the thread ends, which no call outlives.
    CALLS.with(|calls| unsafe { &*(calls as *const Calls) })
}

/// The calling thread's call state.
struct Calls {
    /// The handle a call found last.
    last_used: Cell<*mut strata_thread>,
    /// Whether a call on one of this thread's handles is running.
    in_call: Cell<bool>,
}

/// Marks a call on a handle as running until it is dropped (also when the
/// call panics, which `boundary` catches).
struct InCall<'a>(&'a Cell<bool>);

impl InCall<'_> {
    fn enter(in_call: &Cell<bool>) -> Result<InCall<'_>, Failure> {
        if in_call.replace(true) {
            return Err(reentered());
        }
        Ok(InCall(in_call))
    }
}

impl Drop for InCall<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

static LIVE_THREADS: Registry = Registry::new();

/// Why `thread`, not found in the calling thread's list, is refused.
fn not_ours(thread: *const strata_thread) -> Failure {
    if LIVE_THREADS.lock().contains(&(thread as usize)) {
        Failure::new(
            Status::WrongThread,
            format!("{thread:p} is attached on another OS thread: only that thread may use it"),
        )
    } else {
        Failure::new(
            Status::NotAttached,
            format!("{thread:p} is not an attached thread (detached already, or never attached)"),
        )
    }
}

/// A list borrow that failed: a strata call from inside a callback that
/// Strata runs while it holds this thread's list (a trace callback).
fn reentered() -> Failure {
    Failure::new(
        Status::Internal,
        "a strata function was called from inside a callback that Strata runs",
    )
}

/// Whether a call may run on a handle in a blocking section.
#[derive(PartialEq)]
pub(crate) enum WhenBlocked {
    Refuse,
    Allow,
}

/// Runs `f` on `thread`, which must be a live handle of the calling thread.
#[inline]
pub(crate) fn with_thread<R>(
    thread: *mut strata_thread,
    when_blocked: WhenBlocked,
    f: impl FnOnce(&mut strata_thread) -> Result<R, Failure>,
) -> Result<R, Failure> {
    non_null(thread, "thread")?;
    let calls = calls();
    let _in_call = InCall::enter(&calls.in_call)?;
    if calls.last_used.get() != thread {
        if !listed(thread)? {
            return Err(not_ours(thread));
        }
        calls.last_used.set(thread);
    }
    // SAFETY: `thread` is `last_used`, a live handle of this thread's list
    // (module doc), and `in_call` keeps any other call from borrowing or
    // freeing it until this one returns.
    let handle = unsafe { &mut *thread };
    if handle.blocked && when_blocked == WhenBlocked::Refuse {
        return Err(Failure::new(
            Status::Blocked,
            "the thread is in a blocking section: leave it first",
        ));
    }
    absorb(handle);
    let result = f(handle);
    publish(handle);
    result
}

/// Whether `thread` is in the calling thread's list.
#[cold]
fn listed(thread: *mut strata_thread) -> Result<bool, Failure> {
    ATTACHED.with(|attached| {
        let attached = attached.try_borrow().map_err(|_| reentered())?;
        Ok(attached.iter().any(|h| h.as_ptr() == thread))
    })
}

/// `strata_thread_attach`: see the header.
///
/// # Safety
/// `thread_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_attach(
    heap: *mut strata_heap,
    thread_out: *mut *mut strata_thread,
) -> Status {
    boundary("strata_thread_attach", || {
        let heap = heap_of(heap)?;
        non_null(thread_out, "thread_out")?;
        let _in_call = InCall::enter(&calls().in_call)?;
        let handle = HandleBox::new(strata_thread {
            prefix: Prefix::new(),
            os_thread: this_os_thread(),
            thread: heap.attach()?,
            blocked: false,
            aborts_in_a_row: 0,
            abort_type_name: None,
        });
        let address = handle.as_ptr();
        LIVE_THREADS.lock().push(address as usize);
        ATTACHED.with(|attached| {
            attached
                .try_borrow_mut()
                .map_err(|_| reentered())
                .map(|mut attached| attached.push(handle))
        })?;
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { thread_out.write(address) };
        Ok(())
    })
}

/// `strata_thread_detach`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_detach(thread: *mut strata_thread) -> Status {
    boundary("strata_thread_detach", || {
        non_null(thread, "thread")?;
        let _in_call = InCall::enter(&calls().in_call)?;
        let handle = ATTACHED.with(|attached| {
            let mut attached = attached.try_borrow_mut().map_err(|_| reentered())?;
            let index = attached
                .iter()
                .position(|h| h.as_ptr() == thread)
                .ok_or_else(|| not_ours(thread))?;
            Ok::<_, Failure>(attached.swap_remove(index))
        })?;
        // Dropped outside the list's borrow: the last minor collection may
        // run the host's trace callbacks.
        drop(handle);
        Ok(())
    })
}

/// `strata_thread_enter_blocking`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_enter_blocking(thread: *mut strata_thread) -> Status {
    boundary("strata_thread_enter_blocking", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: until `leave_blocking` every call on this handle but
            // leave and detach is refused (`blocked`), and detach leaves
            // first: the thread does not use the heap meanwhile.
            unsafe { handle.thread.enter_blocking() };
            handle.blocked = true;
            Ok(())
        })
    })
}

/// `strata_thread_leave_blocking`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_leave_blocking(thread: *mut strata_thread) -> Status {
    boundary("strata_thread_leave_blocking", || {
        with_thread(thread, WhenBlocked::Allow, |handle| {
            if !handle.blocked {
                return Err(Failure::new(
                    Status::NotBlocked,
                    "the thread is not in a blocking section",
                ));
            }
            // SAFETY: `blocked` says the thread entered a blocking section.
            unsafe { handle.thread.leave_blocking() };
            handle.blocked = false;
            Ok(())
        })
    })
}

/// `strata_thread_safepoint`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_safepoint(thread: *mut strata_thread) -> Status {
    boundary("strata_thread_safepoint", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            handle.thread.safepoint();
            Ok(())
        })
    })
}

/// `strata_thread_collect_minor`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_collect_minor(thread: *mut strata_thread) -> Status {
    boundary("strata_thread_collect_minor", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            handle.thread.collect_minor();
            Ok(())
        })
    })
}

/// `strata_thread_collect_major`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_collect_major(thread: *mut strata_thread) -> Status {
    boundary("strata_thread_collect_major", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            if handle.thread.in_transaction() {
                return Err(Failure::new(
                    Status::InTransaction,
                    "a major collection runs between transactions",
                ));
            }
            handle.thread.collect();
            Ok(())
        })
    })
}
