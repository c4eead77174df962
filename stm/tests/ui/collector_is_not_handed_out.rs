fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    // The collector underneath has functions that can break the heap's
    // invariants: a transactional heap does not hand it out.
    let _collector = heap.gc();
}
