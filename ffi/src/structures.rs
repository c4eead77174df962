//! The conflict-free structures from C: a counter, a map from 64-bit keys
//! to 64-bit values and a bounded queue of 64-bit values, over
//! `strata::TxCounter`, `TxHashMap<u64, u64>` and `TxQueue<u64>` (see
//! `DESIGN.md`, "Conflict-free structures" and "C ABI", "Structures").
//!
//! A structure is made outside a transaction and used inside the caller's
//! open one (`Thread::with_manual_tx`), except the queue's blocking take,
//! which runs its own. Handles are boxes listed in a checked registry per
//! kind (`registry::Checked`), as global roots are: a call checks its
//! handle without a lock while nothing was made or freed, and a heap's
//! destroy frees the structures still listed on it.

use crate::registry::Checked;
use crate::status::{boundary, non_null, write_optional, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};
use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use strata_rs::{Tx, TxCounter, TxHashMap, TxQueue};

/// `strata_counter`, opaque to C.
pub struct strata_counter(TxCounter);
/// `strata_map`, opaque to C.
pub struct strata_map(TxHashMap<u64, u64>);
/// `strata_queue`, opaque to C.
pub struct strata_queue(TxQueue<u64>);

/// A structure of the C ABI: what its registry and the heap check need.
trait Structure: Sized + 'static {
    const KIND: &'static str;
    fn live() -> &'static Checked;
    fn belongs_to(&self, heap: &strata_rs::Heap) -> bool;
}

macro_rules! structure {
    ($ty:ty, $kind:literal, $changes:ident, $last:ident, $registry:ident) => {
        static $changes: AtomicU64 = AtomicU64::new(0);
        thread_local! {
            static $last: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
        }
        static $registry: Checked = Checked::new(
            &$changes,
            &$last,
            $kind,
            concat!($kind, " (freed, or never made)"),
            Status::InvalidStructure,
        );
        impl Structure for $ty {
            const KIND: &'static str = $kind;
            fn live() -> &'static Checked {
                &$registry
            }
            fn belongs_to(&self, heap: &strata_rs::Heap) -> bool {
                self.0.belongs_to(heap)
            }
        }
    };
}

structure!(
    strata_counter,
    "counter",
    COUNTERS_CHANGED,
    LAST_COUNTER,
    COUNTERS
);
structure!(strata_map, "map", MAPS_CHANGED, LAST_MAP, MAPS);
structure!(strata_queue, "queue", QUEUES_CHANGED, LAST_QUEUE, QUEUES);

/// Makes a structure with `make` on `thread`, outside a transaction, and
/// stores its listed box in `*out`.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn make<S: Structure>(
    thread: *mut strata_thread,
    out: *mut *mut S,
    make: impl FnOnce(&mut strata_rs::Thread) -> Result<S, strata_rs::Error>,
) -> Result<(), Failure> {
    non_null(out, "out")?;
    let structure = with_thread(thread, WhenBlocked::Refuse, |handle| {
        if handle.thread.in_transaction() {
            return Err(Failure::new(
                Status::InTransaction,
                format!("a {} is made outside a transaction", S::KIND),
            ));
        }
        Ok(make(&mut handle.thread)?)
    })?;
    let boxed = Box::into_raw(Box::new(structure));
    S::live().add(boxed);
    // SAFETY: checked, and writable by the caller's promise.
    unsafe { out.write(boxed) };
    Ok(())
}

/// Runs `f` on the structure in the open transaction of `thread`, after
/// checking both.
fn in_tx<S: Structure, R>(
    thread: *mut strata_thread,
    structure: *const S,
    f: impl for<'tx> FnOnce(&S, &mut Tx<'tx>) -> R,
) -> Result<R, Failure> {
    with_thread(thread, WhenBlocked::Refuse, |handle| {
        let structure = checked(&handle.thread, structure)?;
        Ok(handle.thread.with_manual_tx(|tx| f(structure, tx))?)
    })
}

/// The structure behind a listed handle of the thread's heap.
fn checked<'s, S: Structure>(
    thread: &strata_rs::Thread,
    structure: *const S,
) -> Result<&'s S, Failure> {
    S::live().check(structure)?;
    // SAFETY: listed, so alive; freeing it while a call uses it is the
    // host's breach of the free rule (module doc).
    let structure = unsafe { &*structure };
    if !structure.belongs_to(thread.heap()) {
        return Err(Failure::new(
            Status::OtherHeap,
            format!("the {} belongs to another heap", S::KIND),
        ));
    }
    Ok(structure)
}

/// Unlists and frees a structure.
fn free<S: Structure>(structure: *mut S) -> Result<(), Failure> {
    S::live().remove(structure)?;
    // SAFETY: the box was listed, so alive, and is now unlisted: no other
    // call can reach it.
    drop(unsafe { Box::from_raw(structure) });
    Ok(())
}

/// Frees every structure of `heap` still listed, for its destroy.
pub(crate) fn free_structures_of(heap: &strata_rs::Heap) {
    fn free_kind<S: Structure>(heap: &strata_rs::Heap) {
        let freed = S::live().remove_where(|s| {
            // SAFETY: listed, so alive, and the registry's lock keeps it so
            // while `remove_where` runs.
            unsafe { &*(s as *const S) }.belongs_to(heap)
        });
        for s in freed {
            // SAFETY: unlisted now: no other call can reach it.
            drop(unsafe { Box::from_raw(s as *mut S) });
        }
    }
    free_kind::<strata_counter>(heap);
    free_kind::<strata_map>(heap);
    free_kind::<strata_queue>(heap);
}

/// `strata_counter_new`: see the header.
///
/// # Safety
/// `counter_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_counter_new(
    thread: *mut strata_thread,
    counter_out: *mut *mut strata_counter,
) -> Status {
    boundary("strata_counter_new", || {
        // SAFETY: the caller's promise.
        unsafe {
            make(thread, counter_out, |t| {
                TxCounter::new(t).map(strata_counter)
            })
        }
    })
}

/// `strata_counter_add`: see the header.
///
/// # Safety
/// None beyond the header's rules: the handles are checked before use.
#[no_mangle]
pub unsafe extern "C" fn strata_counter_add(
    thread: *mut strata_thread,
    counter: *const strata_counter,
    delta: i64,
) -> Status {
    boundary("strata_counter_add", || {
        in_tx(thread, counter, |c, tx| c.0.add(tx, delta))
    })
}

/// `strata_counter_get`: see the header.
///
/// # Safety
/// `value_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_counter_get(
    thread: *mut strata_thread,
    counter: *const strata_counter,
    value_out: *mut i64,
) -> Status {
    boundary("strata_counter_get", || {
        non_null(value_out, "value_out")?;
        let value = in_tx(thread, counter, |c, tx| c.0.get(tx))?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { value_out.write(value) };
        Ok(())
    })
}

/// `strata_counter_free`: see the header.
///
/// # Safety
/// None beyond the header's rules: the handle is checked before use.
#[no_mangle]
pub unsafe extern "C" fn strata_counter_free(counter: *mut strata_counter) -> Status {
    boundary("strata_counter_free", || free(counter))
}

/// `strata_map_new`: see the header.
///
/// # Safety
/// `map_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_new(
    thread: *mut strata_thread,
    capacity: usize,
    map_out: *mut *mut strata_map,
) -> Status {
    boundary("strata_map_new", || {
        if capacity > MAX_CAPACITY {
            return Err(too_large("map", capacity));
        }
        // SAFETY: the caller's promise.
        unsafe {
            make(thread, map_out, |t| {
                TxHashMap::new(t, capacity).map(strata_map)
            })
        }
    })
}

/// The largest capacity a map or a queue is made with: one object per
/// bucket or place, made in one transaction.
const MAX_CAPACITY: usize = 1 << 24;

fn too_large(kind: &str, capacity: usize) -> Failure {
    Failure::new(
        Status::BadSize,
        format!("a {kind} of capacity {capacity}: at most {MAX_CAPACITY}"),
    )
}

/// `strata_map_get`: see the header.
///
/// # Safety
/// `value_out` and `found_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_get(
    thread: *mut strata_thread,
    map: *const strata_map,
    key: u64,
    value_out: *mut u64,
    found_out: *mut bool,
) -> Status {
    boundary("strata_map_get", || {
        non_null(found_out, "found_out")?;
        let value = in_tx(thread, map, |m, tx| m.0.get(tx, &key))?;
        // SAFETY: the caller's promise.
        unsafe {
            write_optional(found_out, value.is_some());
            write_optional(value_out, value.unwrap_or(0));
        }
        Ok(())
    })
}

/// `strata_map_insert`: see the header.
///
/// # Safety
/// `previous_out` and `had_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_insert(
    thread: *mut strata_thread,
    map: *const strata_map,
    key: u64,
    value: u64,
    previous_out: *mut u64,
    had_out: *mut bool,
) -> Status {
    boundary("strata_map_insert", || {
        let previous = in_tx(thread, map, |m, tx| m.0.insert(tx, key, value))?;
        // SAFETY: the caller's promise.
        unsafe {
            write_optional(had_out, previous.is_some());
            write_optional(previous_out, previous.unwrap_or(0));
        }
        Ok(())
    })
}

/// `strata_map_remove`: see the header.
///
/// # Safety
/// `previous_out` and `had_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_remove(
    thread: *mut strata_thread,
    map: *const strata_map,
    key: u64,
    previous_out: *mut u64,
    had_out: *mut bool,
) -> Status {
    boundary("strata_map_remove", || {
        let previous = in_tx(thread, map, |m, tx| m.0.remove(tx, &key))?;
        // SAFETY: the caller's promise.
        unsafe {
            write_optional(had_out, previous.is_some());
            write_optional(previous_out, previous.unwrap_or(0));
        }
        Ok(())
    })
}

/// `strata_map_len`: see the header.
///
/// # Safety
/// `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_map_len(
    thread: *mut strata_thread,
    map: *const strata_map,
    len_out: *mut usize,
) -> Status {
    boundary("strata_map_len", || {
        non_null(len_out, "len_out")?;
        let len = in_tx(thread, map, |m, tx| m.0.len(tx))?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { len_out.write(len) };
        Ok(())
    })
}

/// `strata_map_free`: see the header.
///
/// # Safety
/// None beyond the header's rules: the handle is checked before use.
#[no_mangle]
pub unsafe extern "C" fn strata_map_free(map: *mut strata_map) -> Status {
    boundary("strata_map_free", || free(map))
}

/// `strata_queue_new`: see the header.
///
/// # Safety
/// `queue_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_new(
    thread: *mut strata_thread,
    capacity: usize,
    queue_out: *mut *mut strata_queue,
) -> Status {
    boundary("strata_queue_new", || {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(too_large("queue", capacity));
        }
        // SAFETY: the caller's promise.
        unsafe {
            make(thread, queue_out, |t| {
                TxQueue::new(t, capacity).map(strata_queue)
            })
        }
    })
}

/// `strata_queue_put`: see the header.
///
/// # Safety
/// `put_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_put(
    thread: *mut strata_thread,
    queue: *const strata_queue,
    value: u64,
    put_out: *mut bool,
) -> Status {
    boundary("strata_queue_put", || {
        non_null(put_out, "put_out")?;
        let put = in_tx(thread, queue, |q, tx| q.0.put(tx, value).is_ok())?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { put_out.write(put) };
        Ok(())
    })
}

/// `strata_queue_take`: see the header.
///
/// # Safety
/// `value_out` and `took_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_take(
    thread: *mut strata_thread,
    queue: *const strata_queue,
    value_out: *mut u64,
    took_out: *mut bool,
) -> Status {
    boundary("strata_queue_take", || {
        non_null(took_out, "took_out")?;
        let value = in_tx(thread, queue, |q, tx| q.0.take(tx))?;
        // SAFETY: the caller's promise.
        unsafe {
            write_optional(took_out, value.is_some());
            write_optional(value_out, value.unwrap_or(0));
        }
        Ok(())
    })
}

/// `strata_queue_take_timeout`: see the header.
///
/// # Safety
/// `value_out` and `took_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_take_timeout(
    thread: *mut strata_thread,
    queue: *const strata_queue,
    timeout_ns: u64,
    value_out: *mut u64,
    took_out: *mut bool,
) -> Status {
    boundary("strata_queue_take_timeout", || {
        non_null(took_out, "took_out")?;
        let value = with_thread(thread, WhenBlocked::Refuse, |handle| {
            if handle.thread.in_transaction() {
                return Err(Failure::new(
                    Status::InTransaction,
                    "strata_queue_take_timeout runs a transaction of its own: \
                     call it outside one",
                ));
            }
            let queue = checked(&handle.thread, queue)?;
            let timeout = Duration::from_nanos(timeout_ns);
            // A deadline past what `Instant` holds waits as long as it can.
            let timeout = match Instant::now().checked_add(timeout) {
                Some(_) => timeout,
                None => Duration::from_secs(u32::MAX.into()),
            };
            Ok(queue.0.take_timeout(&mut handle.thread, timeout)?)
        })?;
        // SAFETY: the caller's promise.
        unsafe {
            write_optional(took_out, value.is_some());
            write_optional(value_out, value.unwrap_or(0));
        }
        Ok(())
    })
}

/// `strata_queue_len`: see the header.
///
/// # Safety
/// `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_len(
    thread: *mut strata_thread,
    queue: *const strata_queue,
    len_out: *mut usize,
) -> Status {
    boundary("strata_queue_len", || {
        non_null(len_out, "len_out")?;
        let len = in_tx(thread, queue, |q, tx| q.0.len(tx))?;
        // SAFETY: checked, and writable by the caller's promise.
        unsafe { len_out.write(len) };
        Ok(())
    })
}

/// `strata_queue_free`: see the header.
///
/// # Safety
/// None beyond the header's rules: the handle is checked before use.
#[no_mangle]
pub unsafe extern "C" fn strata_queue_free(queue: *mut strata_queue) -> Status {
    boundary("strata_queue_free", || free(queue))
}
