//! Helpers shared by the collector's integration tests: a tree node type,
//! building and checksumming trees through the raw API.

#![allow(dead_code)]

use strata_gc::{Address, FixedType, GcOptions, Heap, HeapConfig, Mutator, TypeDesc};

/// A heap with a tiny nursery, collections at every opportunity and the
/// verifier on: the rare paths made common.
pub fn zealous_heap(nursery_bytes: usize, max_heap_bytes: usize) -> Heap {
    Heap::with_options(
        HeapConfig {
            nursery_bytes,
            max_heap_bytes,
            min_major_bytes: 1 << 20,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            major_every_minor: true,
            parallel_mark_always: false,
        },
    )
    .unwrap()
}

/// Registers the node type: left, right, value.
pub fn node_type(heap: &Heap, m: &mut Mutator) -> FixedType {
    let id = heap
        .register_type(TypeDesc::fixed("node", 24).with_ref_offsets(&[0, 8]))
        .unwrap();
    m.fixed_type(id).unwrap()
}

/// Builds a complete tree of `depth`, parents before children (so the
/// write barrier sees old parents of young children), values numbered from
/// `*next`.
pub fn build(m: &mut Mutator, node: FixedType, depth: u32, next: &mut u64) -> Address {
    let obj = m.alloc_fixed(node).unwrap();
    // SAFETY: `obj` is a fresh node; offset 16 is its value word.
    unsafe {
        strata_gc::header::body(obj)
            .offset(16)
            .as_ptr::<u64>()
            .write(*next)
    };
    *next += 1;
    if depth == 0 {
        return obj;
    }
    // SAFETY: `obj` is live; the shadow stack keeps it across allocations.
    unsafe { m.push_root(obj) };
    let left = build(m, node, depth - 1, next);
    let parent = m.peek_root(0).unwrap();
    // SAFETY: `parent` is the current address of a live node.
    unsafe { m.write_ref(parent, 0, left) };
    let right = build(m, node, depth - 1, next);
    let parent = m.pop_root().unwrap();
    // SAFETY: as above.
    unsafe { m.write_ref(parent, 8, right) };
    parent
}

/// Sum and count of the values of the tree at `obj`.
pub fn checksum(m: &Mutator, obj: Address) -> (u64, u64) {
    if obj.is_null() {
        return (0, 0);
    }
    // SAFETY: `obj` is a live node; no allocation happens while we read.
    let (value, left, right) = unsafe {
        (
            strata_gc::header::body(obj)
                .offset(16)
                .as_ptr::<u64>()
                .read(),
            m.read_ref(obj, 0),
            m.read_ref(obj, 8),
        )
    };
    let (ls, lc) = checksum(m, left);
    let (rs, rc) = checksum(m, right);
    (value + ls + rs, 1 + lc + rc)
}

/// The expected checksum of a tree of `depth` numbered from `first`.
pub fn expected(depth: u32, first: u64) -> (u64, u64) {
    let count = (1u64 << (depth + 1)) - 1;
    (count * first + count * (count - 1) / 2, count)
}

/// Resident set size of this process, in bytes.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}
