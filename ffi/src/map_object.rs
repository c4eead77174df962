//! The map object from C: a map from 64-bit keys to objects that is itself
//! a heap object, made and used inside the caller's open transaction, over
//! `strata::ManualMap` (see `DESIGN.md`, "Conflict-free structures" and
//! "C ABI", "Structures"). Unlike the structures of `structures.rs` it is
//! no handle: the host stores it in its own objects, and the collector
//! keeps it and its values while something references it.
//!
//! Objects other than NULL (the map, a value) are the host's promise, as
//! everywhere in `objects.rs`; what the library checks is that the map is
//! a map object, the thread's attempt, and NULL.

use crate::status::{boundary, non_null, write_optional, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};
use std::ffi::c_void;
use strata_rs::Address;

/// The largest capacity a map or queue object is made with: one bucket or
/// place object per unit of capacity, made in the caller's transaction
/// (the handles' `strata_map_new` and `strata_queue_new` have the same
/// bound).
pub(crate) const MAX_CAPACITY: usize = 1 << 24;

/// The address of an object pointer from C.
pub(crate) fn address(obj: *const c_void) -> Address {
    Address::from_usize(obj as usize)
}

/// An object for C, NULL for none.
pub(crate) fn pointer(obj: Option<Address>) -> *mut c_void {
    obj.map_or(std::ptr::null_mut(), |obj| obj.as_ptr())
}

/// `strata_map_object_new`: see the header.
///
/// # Safety
/// `map_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_new(
    thread: *mut strata_thread,
    capacity: usize,
    map_out: *mut *mut c_void,
) -> Status {
    boundary("strata_map_object_new", || {
        non_null(map_out, "map_out")?;
        if capacity > MAX_CAPACITY {
            return Err(Failure::new(
                Status::BadSize,
                format!("a map object of capacity {capacity}: at most {MAX_CAPACITY}"),
            ));
        }
        let map = with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.alloc_map_manual(capacity)?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { map_out.write(map.as_ptr()) };
        Ok(())
    })
}

/// `strata_map_object_get`: see the header.
///
/// # Safety
/// `map` is NULL or a live object the transaction holds, at its current
/// address; `value_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_get(
    thread: *mut strata_thread,
    map: *const c_void,
    key: u64,
    value_out: *mut *mut c_void,
) -> Status {
    boundary("strata_map_object_get", || {
        non_null(map, "map")?;
        non_null(value_out, "value_out")?;
        let value = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.map_get_manual(address(map), key) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { value_out.write(pointer(value)) };
        Ok(())
    })
}

/// `strata_map_object_insert`: see the header.
///
/// # Safety
/// `map` and `value` are NULL or live objects the transaction holds, at
/// their current addresses; `previous_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_insert(
    thread: *mut strata_thread,
    map: *mut c_void,
    key: u64,
    value: *mut c_void,
    previous_out: *mut *mut c_void,
) -> Status {
    boundary("strata_map_object_insert", || {
        non_null(map, "map")?;
        non_null(value, "value")?;
        let previous = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise; `value` is not NULL.
            Ok(unsafe {
                handle
                    .thread
                    .map_insert_manual(address(map), key, address(value))
            }?)
        })?;
        // SAFETY: NULL or writable by the caller's promise.
        unsafe { write_optional(previous_out, pointer(previous)) };
        Ok(())
    })
}

/// `strata_map_object_remove`: see the header.
///
/// # Safety
/// `map` is NULL or a live object the transaction holds, at its current
/// address; `previous_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_remove(
    thread: *mut strata_thread,
    map: *mut c_void,
    key: u64,
    previous_out: *mut *mut c_void,
) -> Status {
    boundary("strata_map_object_remove", || {
        non_null(map, "map")?;
        let previous = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.map_remove_manual(address(map), key) }?)
        })?;
        // SAFETY: NULL or writable by the caller's promise.
        unsafe { write_optional(previous_out, pointer(previous)) };
        Ok(())
    })
}

/// `strata_map_object_len`: see the header.
///
/// # Safety
/// `map` is NULL or a live object the transaction holds, at its current
/// address; `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_len(
    thread: *mut strata_thread,
    map: *const c_void,
    len_out: *mut usize,
) -> Status {
    boundary("strata_map_object_len", || {
        non_null(map, "map")?;
        non_null(len_out, "len_out")?;
        let len = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.map_len_manual(address(map)) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { len_out.write(len) };
        Ok(())
    })
}

/// `strata_map_object_keys`: see the header.
///
/// # Safety
/// `map` is NULL or a live object the transaction holds, at its current
/// address; `keys` is NULL or has room for `capacity` keys; `count_out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_keys(
    thread: *mut strata_thread,
    map: *const c_void,
    keys: *mut u64,
    capacity: usize,
    count_out: *mut usize,
) -> Status {
    boundary("strata_map_object_keys", || {
        non_null(map, "map")?;
        non_null(count_out, "count_out")?;
        if capacity > 0 {
            non_null(keys, "keys")?;
        }
        let count = with_thread(thread, WhenBlocked::Refuse, |handle| {
            let mut count = 0;
            // SAFETY: the caller's promise.
            unsafe {
                handle.thread.map_keys_manual(address(map), |key| {
                    if count < capacity {
                        // SAFETY: `count < capacity` places, writable by
                        // the caller's promise.
                        keys.add(count).write(key);
                    }
                    count += 1;
                })
            }?;
            Ok(count)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { count_out.write(count) };
        Ok(())
    })
}

/// `strata_map_object_bucket`: see the header.
///
/// # Safety
/// `map` is NULL or a live object the transaction holds, at its current
/// address; `bucket_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_object_bucket(
    thread: *mut strata_thread,
    map: *const c_void,
    key: u64,
    bucket_out: *mut usize,
) -> Status {
    boundary("strata_map_object_bucket", || {
        non_null(map, "map")?;
        non_null(bucket_out, "bucket_out")?;
        let bucket = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.map_bucket_manual(address(map), key) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { bucket_out.write(bucket) };
        Ok(())
    })
}
