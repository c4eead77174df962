//! Criterion benches of the transactional fast paths: the read barrier, the
//! first and a repeated write barrier, commit by write-set size, a scan of
//! an array's values, and the allocation fast path. Times are measured inside one transaction where
//! the operation is cheaper than a transaction (`iter_custom`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};
use strata::{Heap, HeapConfig, Object, RefArray, Root, Thread};

#[derive(Clone, Copy)]
struct Cell {
    value: u64,
    _pad: [u64; 1],
}
impl Object for Cell {}

fn setup(n: usize) -> (Thread, Root<RefArray>) {
    let heap = Heap::new(HeapConfig::default()).unwrap();
    let mut t = heap.attach().unwrap();
    let cells = t
        .atomically(|tx| {
            let a = tx.alloc_array(n);
            for i in 0..n {
                let c = tx.alloc(Cell {
                    value: i as u64,
                    _pad: [0],
                });
                tx.set(a, i, Some(c));
            }
            tx.root(a)
        })
        .unwrap();
    (t, cells)
}

fn barriers(c: &mut Criterion) {
    let (mut t, cells) = setup(1024);
    c.bench_function("read barrier (shared 16-byte object)", |b| {
        b.iter_custom(|iters| {
            t.atomically(|tx| {
                let a = tx.get_root(&cells);
                let cell = tx.get::<Cell>(a, 7).unwrap();
                let start = Instant::now();
                let mut sum = 0;
                for _ in 0..iters {
                    sum += tx.read(std::hint::black_box(cell)).value;
                }
                std::hint::black_box(sum);
                start.elapsed()
            })
            .unwrap()
        })
    });
    c.bench_function("repeated write barrier", |b| {
        b.iter_custom(|iters| {
            t.atomically(|tx| {
                let a = tx.get_root(&cells);
                let cell = tx.get::<Cell>(a, 9).unwrap();
                tx.write(
                    cell,
                    Cell {
                        value: 0,
                        _pad: [0],
                    },
                );
                let start = Instant::now();
                for i in 0..iters {
                    tx.write(
                        std::hint::black_box(cell),
                        Cell {
                            value: i,
                            _pad: [0],
                        },
                    );
                }
                start.elapsed()
            })
            .unwrap()
        })
    });
    c.bench_function("first write of a 32-byte object", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let batch = (iters - done).min(1000);
                total += t
                    .atomically(|tx| {
                        let a = tx.get_root(&cells);
                        let handles: Vec<_> = (0..batch as usize)
                            .map(|i| tx.get::<Cell>(a, i).unwrap())
                            .collect();
                        let start = Instant::now();
                        for &h in &handles {
                            tx.write(
                                h,
                                Cell {
                                    value: 1,
                                    _pad: [0],
                                },
                            );
                        }
                        start.elapsed()
                    })
                    .unwrap();
                done += batch;
            }
            total
        })
    });
    let mut group = c.benchmark_group("commit by write-set size");
    for size in [0usize, 1, 4, 16, 64] {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            b.iter(|| {
                t.atomically(|tx| {
                    let a = tx.get_root(&cells);
                    for i in 0..size {
                        let cell = tx.get::<Cell>(a, i).unwrap();
                        tx.update(cell, |c| c.value += 1);
                    }
                })
                .unwrap()
            })
        });
    }
    group.finish();
}

fn scans(c: &mut Criterion) {
    const N: usize = 4096;
    let mut group = c.benchmark_group("scan of 4096 objects (for_each_value)");
    group.throughput(Throughput::Elements(N as u64));
    for versions in [false, true] {
        let (mut t, cells) = setup(N);
        if versions {
            // Every object gets a newer version record: a read follows the
            // anchor's link to it.
            t.atomically(|tx| {
                let a = tx.get_root(&cells);
                for i in 0..N {
                    let cell = tx.get::<Cell>(a, i).unwrap();
                    tx.update(cell, |c| c.value += 1);
                }
            })
            .unwrap();
        }
        let name = if versions {
            "newest in a record"
        } else {
            "inline"
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                t.atomically(|tx| {
                    let a = tx.get_root(&cells);
                    let mut sum = 0;
                    tx.for_each_value::<Cell>(a, |_, c| sum += c.map_or(0, |c| c.value));
                    sum
                })
                .unwrap()
            })
        });
    }
    group.finish();
}

fn allocation(c: &mut Criterion) {
    use strata_gc::TypeDesc;
    let heap = strata_gc::Heap::new(HeapConfig::default()).unwrap();
    let id = heap
        .register_type(TypeDesc::fixed("pair", 16).with_ref_offsets(&[0, 8]))
        .unwrap();
    let mut m = heap.attach().unwrap();
    let ty = m.fixed_type(id).unwrap();
    c.bench_function("allocation fast path (32-byte object, raw)", |b| {
        b.iter(|| std::hint::black_box(m.alloc_fixed(ty).unwrap()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = barriers, scans, allocation
}
criterion_main!(benches);
