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
            let cell = tx.alloc(Cell { value: 1 });
            // While the transaction waits outside the heap, a collection may
            // move its objects: the wait cannot reach the transaction.
            tx.blocking(|| tx.read(cell).value)
        })
        .unwrap();
}
