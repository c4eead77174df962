//! Conflict reports from C (see `DESIGN.md`, "Conflict reports"): the
//! thread's marker, marker files, the thread's slot, and
//! `strata_last_abort_info`, over `strata::Thread::set_marker` and
//! `last_abort_info`. Recording is switched on by the environment
//! (`STRATA_PROFILE`, `STRATA_EVENTS`) as for a Rust heap.

use crate::heap::{heap_of, strata_heap};
use crate::status::{boundary, non_null, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};
use std::ffi::{c_char, CStr, CString};
use strata_rs::{AbortInfo, Marker};

/// `strata_abort_kind`: no abort yet, then [`strata_rs::AbortKind`]'s
/// kinds in their order, from 1.
pub const STRATA_ABORT_NONE: u32 = 0;

/// `strata_abort_info`: see the header for each field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strata_abort_info {
    pub kind: u32,
    pub type_id: u32,
    pub type_name: *const c_char,
    pub object_id: u64,
    pub other_thread: u32,
    pub marker_file: u32,
    pub marker_line: u32,
    pub other_marker_file: u32,
    pub other_marker_line: u32,
    pub timed: bool,
    pub wasted_nanos: u64,
}

impl strata_abort_info {
    /// `info` for C, its type name pointing into `name` (which the
    /// thread's handle keeps until its next call for the info).
    fn new(info: Option<&AbortInfo>, name: Option<&CString>) -> strata_abort_info {
        let Some(info) = info else {
            return strata_abort_info {
                kind: STRATA_ABORT_NONE,
                type_id: 0,
                type_name: std::ptr::null(),
                object_id: 0,
                other_thread: 0,
                marker_file: 0,
                marker_line: 0,
                other_marker_file: 0,
                other_marker_line: 0,
                timed: false,
                wasted_nanos: 0,
            };
        };
        strata_abort_info {
            kind: info.kind.index() as u32 + 1,
            type_id: info.object.as_ref().map_or(0, |o| o.type_id.0),
            type_name: name.map_or(std::ptr::null(), |name| name.as_ptr()),
            object_id: info.object.as_ref().map_or(0, |o| o.id),
            other_thread: info.other_slot.unwrap_or(0),
            marker_file: info.marker.file,
            marker_line: info.marker.line,
            other_marker_file: info.other_marker.file,
            other_marker_line: info.other_marker.line,
            timed: info.wasted.is_some(),
            wasted_nanos: info
                .wasted
                .map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64),
        }
    }
}

/// `strata_set_marker`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_set_marker(
    thread: *mut strata_thread,
    file: u32,
    line: u32,
) -> Status {
    boundary("strata_set_marker", || {
        with_thread(thread, WhenBlocked::Allow, |handle| {
            handle.thread.set_marker(Marker::new(file, line));
            Ok(())
        })
    })
}

/// `strata_marker_file`: see the header.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `file_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn strata_marker_file(
    heap: *mut strata_heap,
    name: *const c_char,
    file_out: *mut u32,
) -> Status {
    boundary("strata_marker_file", || {
        let heap = heap_of(heap)?;
        non_null(name, "name")?;
        non_null(file_out, "file_out")?;
        // SAFETY: not NULL, and NUL-terminated by the caller's promise.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let file = heap.marker_file(&name);
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { file_out.write(file) };
        Ok(())
    })
}

/// `strata_thread_slot`: see the header.
///
/// # Safety
/// `slot_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_thread_slot(
    thread: *mut strata_thread,
    slot_out: *mut u32,
) -> Status {
    boundary("strata_thread_slot", || {
        non_null(slot_out, "slot_out")?;
        let slot = with_thread(thread, WhenBlocked::Allow, |handle| {
            Ok(handle.thread.slot_id())
        })?;
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { slot_out.write(slot) };
        Ok(())
    })
}

/// `strata_last_abort_info`: see the header.
///
/// # Safety
/// `info_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_last_abort_info(
    thread: *mut strata_thread,
    info_out: *mut strata_abort_info,
) -> Status {
    boundary("strata_last_abort_info", || {
        non_null(info_out, "info_out")?;
        let info = with_thread(thread, WhenBlocked::Refuse, |handle| {
            let info = handle.thread.last_abort_info();
            handle.abort_type_name = match info.as_ref().and_then(|i| i.object.as_ref()) {
                Some(object) => {
                    Some(CString::new(object.type_name.as_str()).map_err(|_| {
                        Failure::new(Status::Internal, "a type name holds a NUL byte")
                    })?)
                }
                None => None,
            };
            Ok(strata_abort_info::new(
                info.as_ref(),
                handle.abort_type_name.as_ref(),
            ))
        })?;
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { info_out.write(info) };
        Ok(())
    })
}
