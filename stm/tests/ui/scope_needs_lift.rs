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
            let outer = tx.alloc(Cell { value: 1 });
            // An outer handle enters a scope only through `lift`.
            tx.scope(|tx, _| tx.read(outer).value);
        })
        .unwrap();
}
