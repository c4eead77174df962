//! The old space through its public API, with the test acting as the
//! collector: many threads allocating at once through their own caches
//! (no fixed number of threads, no lock on the fast path) never receive
//! overlapping memory, a sweep with nothing marked frees every page, and
//! the pages it empties go back to the OS, so the resident set falls.

use std::sync::{Arc, Barrier};
use strata_heap::size_class::{CLASS_BYTES, LARGE_THRESHOLD};
use strata_heap::{Address, AllocCache, HeapConfig, OldSpace, PAGE_BYTES};

/// The resident set of this process in bytes (`/proc/self/statm`).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize
}

/// What thread `t` writes into its `i`-th object: nobody else's object
/// can hold it.
fn tag(t: usize, i: usize) -> u64 {
    ((t as u64) << 48) | i as u64
}

/// Fills the `bytes` at `addr` with `value`, word by word.
fn fill(addr: Address, bytes: usize, value: u64) {
    for word in 0..bytes / 8 {
        // SAFETY: the caller's object is `bytes` long and its own.
        unsafe { addr.offset(word * 8).as_ptr::<u64>().write(value) };
    }
}

/// Whether every word of the `bytes` at `addr` still holds `value`.
fn holds(addr: Address, bytes: usize, value: u64) -> bool {
    // SAFETY: as for `fill`.
    (0..bytes / 8).all(|word| unsafe { addr.offset(word * 8).as_ptr::<u64>().read() } == value)
}

#[test]
fn threads_allocating_at_once_get_disjoint_memory_and_a_sweep_gives_it_back() {
    const THREADS: usize = 12;
    const OBJECTS: usize = 4000;
    let space = Arc::new(
        OldSpace::new(&HeapConfig {
            max_heap_bytes: 1 << 30,
            huge_pages: false,
            ..HeapConfig::default()
        })
        .unwrap(),
    );
    let start = Arc::new(Barrier::new(THREADS));
    let before = resident_bytes();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (space, start) = (space.clone(), start.clone());
            std::thread::spawn(move || {
                let mut cache = AllocCache::default();
                start.wait();
                // Every size class in turn, and now and then a large
                // object of one to three pages.
                let objects: Vec<(usize, usize)> = (0..OBJECTS)
                    .map(|i| {
                        let bytes = if i % 97 == 0 {
                            LARGE_THRESHOLD + 16 + (i % 3) * PAGE_BYTES
                        } else {
                            CLASS_BYTES[(i + t) % CLASS_BYTES.len()]
                        };
                        let addr = cache.alloc(&space, bytes).unwrap();
                        assert_eq!(addr.as_usize() % 16, 0, "unaligned object");
                        assert!(space.contains(addr), "outside the reservation");
                        fill(addr, bytes, tag(t, i));
                        (addr.as_usize(), bytes)
                    })
                    .collect();
                // As a thread does when it detaches: its pages go back to
                // the space (the cache is not `Send`).
                space.release_cache(&mut cache);
                objects
            })
        })
        .collect();
    let mut all = Vec::new();
    for (t, thread) in threads.into_iter().enumerate() {
        let objects = thread.join().unwrap();
        all.extend(
            objects
                .into_iter()
                .enumerate()
                .map(|(i, (addr, bytes))| (addr, bytes, t, i)),
        );
    }
    // Every object still holds what its thread wrote, and no two overlap.
    for &(addr, bytes, t, i) in &all {
        assert!(
            holds(Address::from_usize(addr), bytes, tag(t, i)),
            "object {i} of thread {t} was overwritten"
        );
    }
    all.sort_unstable();
    for pair in all.windows(2) {
        assert!(
            pair[0].0 + pair[0].1 <= pair[1].0,
            "objects overlap: {pair:?}"
        );
    }
    let allocated: usize = all.iter().map(|o| o.1).sum();
    let used = space.stats().pages_in_use * PAGE_BYTES;
    assert!(
        used >= allocated,
        "{used} bytes of pages hold {allocated} bytes of objects"
    );
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown >= allocated / 2,
        "the objects were written but RSS grew by {grown} only"
    );

    // The world is stopped (every allocating thread has ended): sweep
    // with nothing marked, and keep no empty page for the next cycle.
    // SAFETY: this thread is the only one using the space, as a collector.
    let live = unsafe { space.sweep(false) };
    assert_eq!(live, 0);
    assert_eq!(space.stats().pages_in_use, 0);
    space.trim_retained(0);
    assert_eq!(space.retained_bytes(), 0);
    let after = resident_bytes();
    assert!(
        after + allocated / 2 <= before + grown,
        "RSS did not fall: {before} before, +{grown} with {allocated} bytes of objects, {after} after the sweep"
    );

    // The freed memory is handed out again.
    let mut cache = AllocCache::default();
    let again = cache.alloc(&space, 64).unwrap();
    assert!(space.contains(again));
    assert_eq!(space.stats().pages_in_use, 1);
}
