//! Platform memory: every mapping and `madvise` of the heap goes through
//! here, and each mapping says what it is for.

use memmap2::{MmapMut, MmapOptions};
use std::io;

/// What a mapping holds, for error messages.
#[derive(Debug, Clone, Copy)]
pub enum MappingPurpose {
    OldSpace,
    Nursery,
}

/// Maps `len` bytes of zeroed anonymous memory without reserving swap for it
/// (`MAP_NORESERVE`): the kernel commits pages when they are first touched.
pub fn map_reserved(len: usize, purpose: MappingPurpose) -> io::Result<MmapMut> {
    MmapOptions::new()
        .len(len)
        .no_reserve_swap()
        .map_anon()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("mapping {len} bytes for {purpose:?}: {e}"),
            )
        })
}

/// Gives the pages of `[start, start + len)` back to the operating system;
/// they read as zero when next touched.
///
/// # Safety
/// The range must lie inside a live anonymous mapping, and nothing may hold a
/// reference into it (its contents are discarded).
pub unsafe fn release(start: *mut u8, len: usize) {
    // SAFETY: the caller guarantees the range lies in one of our private
    // anonymous mappings, where MADV_DONTNEED only drops contents.
    let rc = unsafe { libc::madvise(start.cast(), len, libc::MADV_DONTNEED) };
    debug_assert_eq!(rc, 0, "madvise({start:?}, {len}) failed");
}
