//! The queue object from C: a bounded FIFO queue of objects that is itself
//! a heap object, made and used inside the caller's open transaction,
//! over `strata::ManualQueue` (see `DESIGN.md`, "Conflict-free
//! structures" and "C ABI", "Structures"). Like the map object it is no
//! handle: the host stores it in its own objects, and the collector keeps
//! it and its elements while something references it.

use crate::map_object::{address, pointer, MAX_CAPACITY};
use crate::status::{boundary, non_null, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};
use std::ffi::c_void;

/// `strata_queue_object_new`: see the header.
///
/// # Safety
/// `queue_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_object_new(
    thread: *mut strata_thread,
    capacity: usize,
    queue_out: *mut *mut c_void,
) -> Status {
    boundary("strata_queue_object_new", || {
        non_null(queue_out, "queue_out")?;
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(Failure::new(
                Status::BadSize,
                format!("a queue object of capacity {capacity}: 1 to {MAX_CAPACITY}"),
            ));
        }
        let queue = with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.alloc_queue_manual(capacity)?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { queue_out.write(queue.as_ptr()) };
        Ok(())
    })
}

/// `strata_queue_object_put`: see the header.
///
/// # Safety
/// `queue` and `value` are NULL or live objects the transaction holds, at
/// their current addresses; `put_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_object_put(
    thread: *mut strata_thread,
    queue: *mut c_void,
    value: *mut c_void,
    put_out: *mut bool,
) -> Status {
    boundary("strata_queue_object_put", || {
        non_null(queue, "queue")?;
        non_null(value, "value")?;
        non_null(put_out, "put_out")?;
        let put = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise; `value` is not NULL.
            Ok(unsafe {
                handle
                    .thread
                    .queue_put_manual(address(queue), address(value))
            }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { put_out.write(put) };
        Ok(())
    })
}

/// `strata_queue_object_take`: see the header.
///
/// # Safety
/// `queue` is NULL or a live object the transaction holds, at its current
/// address; `value_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_object_take(
    thread: *mut strata_thread,
    queue: *mut c_void,
    value_out: *mut *mut c_void,
) -> Status {
    boundary("strata_queue_object_take", || {
        non_null(queue, "queue")?;
        non_null(value_out, "value_out")?;
        let value = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.queue_take_manual(address(queue)) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { value_out.write(pointer(value)) };
        Ok(())
    })
}

/// `strata_queue_object_len`: see the header.
///
/// # Safety
/// `queue` is NULL or a live object the transaction holds, at its current
/// address; `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_object_len(
    thread: *mut strata_thread,
    queue: *const c_void,
    len_out: *mut usize,
) -> Status {
    boundary("strata_queue_object_len", || {
        non_null(queue, "queue")?;
        non_null(len_out, "len_out")?;
        let len = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.queue_len_manual(address(queue)) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { len_out.write(len) };
        Ok(())
    })
}
