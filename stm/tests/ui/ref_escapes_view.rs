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
            // A reference is a bare address, valid only inside its view:
            // returning it is refused.
            let escaped = tx.view(|v| v.enter(cell));
            let _ = escaped;
        })
        .unwrap();
}
