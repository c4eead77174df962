//! Objects from C: allocation, the read and write barriers, reference
//! stores, the shadow stack and global roots, over the call-by-call API of
//! `strata::Thread` (see `DESIGN.md`, "Transactions from C"). An object is
//! the address of its header; the barriers return body addresses.
//!
//! Object pointers other than NULL are the host's promise (a live object
//! the transaction holds, at its current address): the library cannot
//! check them. Global root handles are listed in `GLOBALS`, a registry
//! checked without its lock while it has not changed (`registry::Checked`;
//! its change count is `strata_globals_changed_`, which the header's
//! inline `strata_global_get` compares too): a transaction reading its
//! bank through one root takes no lock that every thread shares.

use crate::fast_path::cache_type;
use crate::registry::Checked;
use crate::status::{boundary, non_null, write_optional, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use strata_rs::{Address, GlobalRoot, TypeId, Untyped, HEADER_TYPE_MASK};

fn address(obj: *const c_void) -> Address {
    Address::from_usize(obj as usize)
}

fn required(obj: *const c_void, name: &str) -> Result<Address, Failure> {
    non_null(obj, name).map(|()| address(obj))
}

/// The type id in `obj`'s header word 0.
///
/// # Safety
/// `obj` is the current address of a live object.
unsafe fn header_type(obj: Address) -> u32 {
    // SAFETY: word 0 of a live object, 8-aligned; other threads may store
    // into it (a shared object's owner), hence the atomic load.
    let word = unsafe { &*obj.as_ptr::<AtomicU64>() }.load(Ordering::Relaxed);
    (word & HEADER_TYPE_MASK) as u32
}

/// `strata_alloc_slow`, behind the header's inline `strata_alloc`: see
/// the header. Failures name `strata_alloc`, the function the host called.
///
/// # Safety
/// `obj_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_alloc_slow(
    thread: *mut strata_thread,
    type_id: u32,
    obj_out: *mut *mut c_void,
) -> Status {
    boundary("strata_alloc", || {
        non_null(obj_out, "obj_out")?;
        let obj = with_thread(thread, WhenBlocked::Refuse, |handle| {
            let obj = handle.thread.alloc_manual(TypeId(type_id))?;
            cache_type(handle, type_id);
            Ok(obj)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { obj_out.write(obj.as_ptr()) };
        Ok(())
    })
}

/// `strata_alloc_array`: see the header.
///
/// # Safety
/// `obj_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_alloc_array(
    thread: *mut strata_thread,
    type_id: u32,
    length: usize,
    obj_out: *mut *mut c_void,
) -> Status {
    boundary("strata_alloc_array", || {
        non_null(obj_out, "obj_out")?;
        let obj = with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.alloc_array_manual(TypeId(type_id), length)?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { obj_out.write(obj.as_ptr()) };
        Ok(())
    })
}

/// `strata_read_slow`, behind the header's inline `strata_read`: see the
/// header. Failures name `strata_read`, the function the host called.
///
/// # Safety
/// `obj` is NULL or a live object the transaction holds, at its current
/// address; `body_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_read_slow(
    thread: *mut strata_thread,
    obj: *const c_void,
    body_out: *mut *const c_void,
) -> Status {
    boundary("strata_read", || {
        let obj = required(obj, "obj")?;
        non_null(body_out, "body_out")?;
        let body = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.read_manual(obj) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { body_out.write(body.as_ptr::<c_void>().cast_const()) };
        Ok(())
    })
}

/// `strata_write_slow`, behind the header's inline `strata_write`: see
/// the header. Failures name `strata_write`, the function the host called.
///
/// # Safety
/// `obj` is NULL or a live object the transaction holds, at its current
/// address; `body_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_write_slow(
    thread: *mut strata_thread,
    obj: *mut c_void,
    body_out: *mut *mut c_void,
) -> Status {
    boundary("strata_write", || {
        let obj = required(obj, "obj")?;
        non_null(body_out, "body_out")?;
        let body = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.write_manual(obj) }?)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { body_out.write(body.as_ptr()) };
        Ok(())
    })
}

/// `strata_write_ref_slow`, behind the header's inline `strata_write_ref`:
/// see the header. Failures name `strata_write_ref`.
///
/// # Safety
/// `obj` is NULL or, like `value` when it is not NULL, a live object the
/// transaction holds, at its current address.
#[no_mangle]
pub unsafe extern "C" fn strata_write_ref_slow(
    thread: *mut strata_thread,
    obj: *mut c_void,
    offset: usize,
    value: *mut c_void,
) -> Status {
    boundary("strata_write_ref", || {
        let obj = required(obj, "obj")?;
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            unsafe { handle.thread.write_ref_manual(obj, offset, address(value)) }?;
            // SAFETY: as above; the store did not move `obj` when it was
            // private (in place), and its type is in its header either way.
            cache_type(handle, unsafe { header_type(obj) });
            Ok(())
        })
    })
}

/// `strata_push_root_slow`, behind the header's inline `strata_push_root`: see
/// the header. Failures name `strata_push_root`.
///
/// # Safety
/// `obj` is NULL or a live object the thread holds, at its current address.
#[no_mangle]
pub unsafe extern "C" fn strata_push_root_slow(
    thread: *mut strata_thread,
    obj: *mut c_void,
) -> Status {
    boundary("strata_push_root", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            unsafe { handle.thread.push_root_manual(address(obj)) };
            Ok(())
        })
    })
}

/// `strata_pop_root_slow`, behind the header's inline `strata_pop_root`: see
/// the header. Failures name `strata_pop_root`.
///
/// # Safety
/// `obj_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_pop_root_slow(
    thread: *mut strata_thread,
    obj_out: *mut *mut c_void,
) -> Status {
    boundary("strata_pop_root", || {
        let obj = with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.pop_root_manual()?)
        })?;
        // SAFETY: NULL or writable by the caller's promise.
        unsafe { write_optional(obj_out, obj.as_ptr()) };
        Ok(())
    })
}

/// `strata_peek_root_slow`, behind the header's inline `strata_peek_root`: see
/// the header. Failures name `strata_peek_root`.
///
/// # Safety
/// `obj_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_peek_root_slow(
    thread: *mut strata_thread,
    depth: usize,
    obj_out: *mut *mut c_void,
) -> Status {
    boundary("strata_peek_root", || {
        non_null(obj_out, "obj_out")?;
        let obj = with_thread(thread, WhenBlocked::Refuse, |handle| {
            handle.thread.peek_root_manual(depth).ok_or_else(|| {
                Failure::new(
                    Status::RootStack,
                    format!("the shadow stack holds no entry {depth} from the top"),
                )
            })
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { obj_out.write(obj.as_ptr()) };
        Ok(())
    })
}

/// `strata_global`, opaque to C.
pub struct strata_global {
    root: GlobalRoot<Untyped>,
}

/// A change count on a cache line of its own: every transaction of every
/// thread that reads a global root loads it.
#[repr(C, align(64))]
pub struct ChangeCount(AtomicU64);

/// How many times `GLOBALS` has changed, exported under the C name the
/// header's inline `strata_global_get` loads (`DESIGN.md`, "The inline
/// window").
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static strata_globals_changed_: ChangeCount = ChangeCount(AtomicU64::new(0));

thread_local! {
    /// The root this thread found listed last, and the count then.
    static LAST_GLOBAL: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
}

/// The live global roots (module doc).
static GLOBALS: Checked = Checked::new(
    &strata_globals_changed_.0,
    &LAST_GLOBAL,
    "global",
    "global root (freed, or never made)",
    Status::InvalidGlobal,
);

/// `strata_global_new`: see the header.
///
/// # Safety
/// `obj` is NULL or a live committed object the thread holds, at its
/// current address; `global_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_global_new(
    thread: *mut strata_thread,
    obj: *mut c_void,
    global_out: *mut *mut strata_global,
) -> Status {
    boundary("strata_global_new", || {
        let obj = required(obj, "obj")?;
        non_null(global_out, "global_out")?;
        let root = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.global_manual(obj) }?)
        })?;
        let global = Box::into_raw(Box::new(strata_global { root }));
        GLOBALS.add(global);
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { global_out.write(global) };
        Ok(())
    })
}

/// `strata_global_get_slow`, behind the header's inline
/// `strata_global_get`: see the header. Failures name `strata_global_get`.
///
/// # Safety
/// `obj_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_global_get_slow(
    thread: *mut strata_thread,
    global: *const strata_global,
    obj_out: *mut *mut c_void,
) -> Status {
    boundary("strata_global_get", || {
        non_null(obj_out, "obj_out")?;
        let obj = with_thread(thread, WhenBlocked::Refuse, |handle| {
            let changes = GLOBALS.check(global)?;
            // SAFETY: listed, so alive (module doc).
            let root = unsafe { &(*global).root };
            let obj = handle.thread.get_global_manual(root)?;
            // For the inline path: this root, while the registry has not
            // changed since it was found listed.
            let prefix = &mut handle.prefix;
            prefix.global = global as usize;
            prefix.global_obj = obj.as_usize();
            prefix.global_since = root.made_at();
            prefix.global_changes = changes;
            Ok(obj)
        })?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { obj_out.write(obj.as_ptr()) };
        Ok(())
    })
}

/// Frees every live global root of `heap`, for its destroy: their objects
/// die with the heap, and a later call on one of them is refused as on a
/// freed root. Returns how many there were.
pub(crate) fn free_globals_of(heap: &strata_rs::Heap) -> usize {
    let freed = GLOBALS.remove_where(|global| {
        // SAFETY: listed, so alive, and the lock keeps it so (module doc).
        unsafe { &*(global as *const strata_global) }
            .root
            .belongs_to(heap)
    });
    for &global in &freed {
        // SAFETY: the box was listed, so alive, and is now unlisted: no
        // other call can reach it (module doc).
        drop(unsafe { Box::from_raw(global as *mut strata_global) });
    }
    freed.len()
}

/// `strata_global_free`: see the header.
///
/// # Safety
/// None beyond the header's rules: `global` is checked before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_global_free(global: *mut strata_global) -> Status {
    boundary("strata_global_free", || {
        GLOBALS.remove(global)?;
        // SAFETY: the box was listed, so alive, and is now unlisted: no
        // other call can reach it (module doc).
        drop(unsafe { Box::from_raw(global) });
        Ok(())
    })
}

/// `strata_identity`: see the header.
///
/// # Safety
/// `obj` is NULL or a live object the thread holds, at its current
/// address; `id_out` and `hash_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_identity(
    thread: *mut strata_thread,
    obj: *const c_void,
    id_out: *mut u64,
    hash_out: *mut u64,
) -> Status {
    boundary("strata_identity", || {
        let obj = required(obj, "obj")?;
        let (id, hash) = with_thread(thread, WhenBlocked::Refuse, |handle| {
            // SAFETY: the caller's promise.
            Ok(unsafe { handle.thread.identity_manual(obj) }?)
        })?;
        // SAFETY: NULL or writable by the caller's promise.
        unsafe {
            write_optional(id_out, id);
            write_optional(hash_out, hash);
        }
        Ok(())
    })
}
