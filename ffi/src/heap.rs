//! Heap handles: `strata_heap_create_checked` (behind the header's inline
//! `strata_heap_create`, which passes the header's ABI version),
//! `strata_heap_destroy`, and the registry of live heaps through which
//! every call reaches a heap (see `DESIGN.md`, "C ABI", "Handles").
//!
//! # The registry
//!
//! `LIVE_HEAPS` lists the address of every `strata_heap` box that is alive:
//! an address is added after its box is made and removed, under the same
//! lock, before its box is freed. So while the lock is held and the list
//! holds an address, the box there is alive and may be read.

use crate::config::strata_config;
use crate::registry::{self, Registry};
use crate::status::{boundary, non_null, Failure, Status};
use crate::version::ABI_VERSION;

/// `strata_heap`, opaque to C.
pub struct strata_heap {
    heap: strata_rs::Heap,
}

static LIVE_HEAPS: Registry = Registry::new();

/// Where the registry `live` lists `heap`, which must be a live heap handle.
fn position(live: &[usize], heap: *const strata_heap) -> Result<usize, Failure> {
    let what = "heap (destroyed, or never created)";
    registry::position(live, heap, "heap", Status::InvalidHeap, what)
}

/// The Rust heap behind `heap`, which must be a live heap handle. The
/// clone keeps it alive through the call whatever another thread does.
pub fn heap_of(heap: *const strata_heap) -> Result<strata_rs::Heap, Failure> {
    let live = LIVE_HEAPS.lock();
    position(&live, heap)?;
    // SAFETY: the registry lists `heap` and its lock is held: its box is
    // alive (module invariant).
    Ok(unsafe { &*heap }.heap.clone())
}

/// `strata_heap_create_checked`: see the header.
///
/// # Safety
/// `config` is NULL or points at a readable `strata_config` of
/// `config_size` bytes; `heap_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_heap_create_checked(
    abi_version: u32,
    config_size: usize,
    config: *const strata_config,
    heap_out: *mut *mut strata_heap,
) -> Status {
    boundary("strata_heap_create", || {
        if abi_version != ABI_VERSION || config_size != size_of::<strata_config>() {
            return Err(Failure::new(
                Status::AbiMismatch,
                format!(
                    "the program was compiled against ABI version {abi_version} \
                     (strata_config of {config_size} bytes), this library has ABI version \
                     {ABI_VERSION} ({} bytes)",
                    size_of::<strata_config>()
                ),
            ));
        }
        non_null(config, "config")?;
        non_null(heap_out, "heap_out")?;
        // SAFETY: not NULL, and of this library's layout (checked above) by
        // the caller's promise.
        let (heap_config, tx_config) = unsafe { config.read() }.to_rust();
        let heap = strata_rs::Heap::new(heap_config)?.with_tx_config(tx_config);
        let handle = Box::into_raw(Box::new(strata_heap { heap }));
        LIVE_HEAPS.lock().push(handle as usize);
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { heap_out.write(handle) };
        Ok(())
    })
}

/// `strata_heap_destroy`: see the header.
///
/// # Safety
/// None beyond the header's rules: `heap` is checked before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_heap_destroy(heap: *mut strata_heap) -> Status {
    boundary("strata_heap_destroy", || {
        let mut live = LIVE_HEAPS.lock();
        let index = position(&live, heap)?;
        // SAFETY: the registry lists `heap` and its lock is held: its box is
        // alive (module invariant).
        let attached = unsafe { &*heap }.heap.attached_threads();
        if attached > 0 {
            return Err(Failure::new(
                Status::HeapBusy,
                format!("{attached} thread(s) are still attached: detach them first"),
            ));
        }
        live.swap_remove(index);
        drop(live);
        // SAFETY: the box was listed, so alive, and is now unlisted: no
        // other call can reach it (module invariant).
        let heap = unsafe { Box::from_raw(heap) };
        // The roots and structures hold the heap's memory: left live, they
        // would keep it all until freed (and a host that forgets them,
        // forever).
        crate::objects::free_globals_of(&heap.heap);
        crate::structures::free_structures_of(&heap.heap);
        drop(heap);
        Ok(())
    })
}
