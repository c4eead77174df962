#[derive(Clone, Copy)]
struct Cell {
    value: u64,
}
impl strata::Object for Cell {}

fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut thread = heap.attach().unwrap();
    thread
        .atomically(|tx| {
            // A handle made in a scope dies with it: returning it is refused.
            let escaped = tx.scope(|tx, _| tx.alloc(Cell { value: 1 }));
            let _ = escaped;
        })
        .unwrap();
}
