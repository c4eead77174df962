#[derive(Clone, Copy)]
struct Cell {
    value: u64,
}
impl strata::Object for Cell {}

fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut thread = heap.attach().unwrap();
    let mut saved = None;
    // Storing a handle outside the closure is refused (its brand is the
    // closure's own lifetime).
    thread
        .atomically(|tx| {
            saved = Some(tx.alloc(Cell { value: 1 }));
        })
        .unwrap();
    let _ = saved;
}
