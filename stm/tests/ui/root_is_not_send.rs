#[derive(Clone, Copy)]
struct Cell {
    value: u64,
}
impl strata::Object for Cell {}

fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut thread = heap.attach().unwrap();
    let root = thread
        .atomically(|tx| {
            let cell = tx.alloc(Cell { value: 1 });
            tx.root(cell)
        })
        .unwrap();
    // A root lives in its thread's handle table; share a GlobalRoot instead.
    std::thread::spawn(move || drop(root));
}
