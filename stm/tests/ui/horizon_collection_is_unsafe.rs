fn main() {
    let heap = strata_gc::Heap::new(strata_gc::HeapConfig::default()).unwrap();
    let mut m = heap.attach().unwrap();
    // A horizon past a running snapshot frees versions it still reads.
    m.collect_major_with_horizon(5);
}
