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

/// Bytes of a transparent huge page (x86-64 and aarch64 with 4 KiB pages).
pub const HUGE_PAGE_BYTES: usize = 2 << 20;

/// Maps `len` bytes of zeroed anonymous memory without reserving swap for it
/// (`MAP_NORESERVE`): the kernel commits pages when they are first touched.
/// With `huge`, the mapping is advised `MADV_HUGEPAGE` (see `DESIGN.md`,
/// "Transparent huge pages"); a kernel that refuses the advice (no THP
/// support) leaves it on ordinary pages, which is not an error.
pub fn map_reserved(len: usize, purpose: MappingPurpose, huge: bool) -> io::Result<MmapMut> {
    let mut map = MmapOptions::new()
        .len(len)
        .no_reserve_swap()
        .map_anon()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("mapping {len} bytes for {purpose:?}: {e}"),
            )
        })?;
    if huge {
        advise_huge(&mut map);
    }
    Ok(map)
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

#[cfg(target_os = "linux")]
fn advise_huge(map: &mut MmapMut) {
    // SAFETY: the range is exactly our fresh private anonymous mapping;
    // MADV_HUGEPAGE changes how the kernel backs it, never its contents. The
    // result is ignored on purpose: EINVAL means a kernel without THP.
    unsafe { libc::madvise(map.as_mut_ptr().cast(), map.len(), libc::MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_map: &mut MmapMut) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The kernel's THP mode: the bracketed word of the `enabled` file.
    fn thp_mode() -> Option<String> {
        let text = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
        let start = text.find('[')? + 1;
        let end = text[start..].find(']')? + start;
        Some(text[start..end].to_owned())
    }

    /// `AnonHugePages` (KiB) of the mapping of this process that holds `addr`.
    fn anon_huge_kib(addr: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let first = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = first.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = (lo..hi).contains(&addr);
                    continue;
                }
            }
            if inside {
                if let Some(rest) = line.strip_prefix("AnonHugePages:") {
                    return rest.trim().trim_end_matches("kB").trim().parse().unwrap();
                }
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    /// The kernel's count of huge-page faults that fell back to small
    /// pages (memory too fragmented to find 2 MiB).
    fn thp_fallbacks() -> u64 {
        std::fs::read_to_string("/proc/vmstat")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("thp_fault_fallback "))
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Maps and touches 8 MiB: the `AnonHugePages` it got, and whether the
    /// kernel tried a huge page and fell back (in any process, meanwhile).
    fn touched_mapping(huge: bool) -> (MmapMut, u64, bool) {
        let fallbacks = thp_fallbacks();
        let mut map = map_reserved(8 << 20, MappingPurpose::Nursery, huge).unwrap();
        map.fill(1);
        let kib = anon_huge_kib(map.as_ptr() as usize);
        (map, kib, thp_fallbacks() > fallbacks)
    }

    #[test]
    fn huge_page_advice_is_taken_where_the_kernel_offers_it() {
        match thp_mode().as_deref() {
            Some("madvise") => {
                let (_map, kib, fell_back) = touched_mapping(true);
                assert!(
                    kib > 0 || fell_back,
                    "advised mapping got no huge page, and the kernel did not try"
                );
                let (_map, kib, _) = touched_mapping(false);
                assert_eq!(kib, 0, "a mapping not advised got huge pages");
            }
            Some("always") => {
                let (_map, kib, fell_back) = touched_mapping(true);
                assert!(kib > 0 || fell_back);
            }
            mode => eprintln!("THP mode {mode:?}: nothing to check"),
        }
    }
}
