//! Criterion benches of the collector: a minor collection by surviving
//! bytes, a major collection by live bytes (a list), and a major collection
//! of a binary tree (a deep structure).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};
use strata_gc::{Address, FixedType, GcOptions, Heap, HeapConfig, Mutator, TypeDesc};

fn list(m: &mut Mutator, ty: FixedType, nodes: usize) -> Address {
    let mut head = Address::NULL;
    for _ in 0..nodes {
        // SAFETY: `head` is current; rooted across the allocation.
        unsafe { m.push_root(head) };
        let node = m.alloc_fixed(ty).unwrap();
        let next = m.pop_root().unwrap();
        // SAFETY: `node` is fresh; offset 0 is its reference slot.
        unsafe { m.write_ref(node, 0, next) };
        head = node;
    }
    head
}

fn heap() -> (Heap, TypeDesc) {
    let heap = Heap::with_options(HeapConfig::default(), GcOptions::default()).unwrap();
    (heap, TypeDesc::fixed("node", 16).with_ref_offsets(&[0]))
}

fn minor(c: &mut Criterion) {
    let (heap, desc) = heap();
    let id = heap.register_type(desc).unwrap();
    let mut m = heap.attach().unwrap();
    let ty = m.fixed_type(id).unwrap();
    let mut group = c.benchmark_group("minor collection by surviving bytes");
    for kib in [0usize, 64, 512, 2048] {
        let nodes = kib * 1024 / 32;
        group.throughput(Throughput::Bytes((nodes * 32) as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{kib} KiB")),
            &nodes,
            |b, &nodes| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let head = list(&mut m, ty, nodes);
                        // SAFETY: current.
                        unsafe { m.push_root(head) };
                        // Garbage beside the survivors.
                        list(&mut m, ty, 1000);
                        let start = Instant::now();
                        m.collect_minor_only();
                        total += start.elapsed();
                        m.pop_root();
                        // What the allocation slow path does in a program:
                        // without it only minors would run and every
                        // promotion would fault in fresh pages.
                        m.collect_major_if_grown();
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

fn major(c: &mut Criterion) {
    let mut group = c.benchmark_group("major collection by live bytes");
    group.sample_size(10);
    for mib in [8usize, 64] {
        let (heap, desc) = heap();
        let id = heap.register_type(desc).unwrap();
        let mut m = heap.attach().unwrap();
        let ty = m.fixed_type(id).unwrap();
        let head = list(&mut m, ty, mib << 20 >> 5);
        // SAFETY: current.
        let _slot = unsafe { m.root(head) };
        m.collect_major();
        group.throughput(Throughput::Bytes((mib << 20) as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("{mib} MiB")), |b| {
            b.iter(|| m.collect_major())
        });
    }
    group.finish();
}

fn tree(m: &mut Mutator, ty: FixedType, depth: u32) -> Address {
    if depth == 0 {
        return m.alloc_fixed(ty).unwrap();
    }
    let left = tree(m, ty, depth - 1);
    // SAFETY: `left` is current; rooted across the allocations below.
    unsafe { m.push_root(left) };
    let right = tree(m, ty, depth - 1);
    // SAFETY: as above.
    unsafe { m.push_root(right) };
    let node = m.alloc_fixed(ty).unwrap();
    let right = m.pop_root().unwrap();
    let left = m.pop_root().unwrap();
    // SAFETY: `node` is fresh; offsets 0 and 8 are its reference slots.
    unsafe {
        m.write_ref(node, 0, left);
        m.write_ref(node, 8, right);
    }
    node
}

/// A deep structure: the mark stack of a binary tree stays short, however
/// big the tree (a list cannot be marked in parallel at all).
fn major_tree(c: &mut Criterion) {
    let mut group = c.benchmark_group("major collection of a binary tree");
    group.sample_size(10);
    let heap = Heap::new(HeapConfig::default()).unwrap();
    let id = heap
        .register_type(TypeDesc::fixed("node", 16).with_ref_offsets(&[0, 8]))
        .unwrap();
    let mut m = heap.attach().unwrap();
    let ty = m.fixed_type(id).unwrap();
    // 2^19 - 1 nodes of 32 bytes: 16 MiB.
    let root = tree(&mut m, ty, 18);
    // SAFETY: current.
    let _slot = unsafe { m.root(root) };
    m.collect_major();
    group.throughput(Throughput::Bytes(((1u64 << 19) - 1) * 32));
    group.bench_function("16 MiB", |b| b.iter(|| m.collect_major()));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = minor, major, major_tree
}
criterion_main!(benches);
