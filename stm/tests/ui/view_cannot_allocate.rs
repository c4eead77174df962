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
            // The view borrows the transaction: nothing inside it can
            // allocate (which could move what its references point at).
            tx.view(|v| {
                let r = v.enter(cell);
                let _other = tx.alloc(Cell { value: 2 });
                v.read(r).value
            });
        })
        .unwrap();
}
