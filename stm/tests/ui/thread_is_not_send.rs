fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let thread = heap.attach().unwrap();
    // An attached thread belongs to the OS thread that attached it.
    std::thread::spawn(move || drop(thread));
}
