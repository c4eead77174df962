#[derive(Clone, Copy)]
struct Cell {
    value: u64,
}
impl strata::Object for Cell {}

fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut thread = heap.attach().unwrap();
    // A handle is only valid inside its transaction: returning it is refused.
    let escaped = thread.atomically(|tx| tx.alloc(Cell { value: 1 })).unwrap();
    let _ = escaped;
}
