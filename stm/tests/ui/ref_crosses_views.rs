#[derive(Clone, Copy)]
struct Cell {
    value: u64,
}
impl strata::Object for Cell {}

fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut a = heap.attach().unwrap();
    let other = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut b = other.attach().unwrap();
    a.atomically(|tx| {
        let cell = tx.alloc(Cell { value: 1 });
        tx.view(|v| {
            let r = v.enter(cell);
            // A reference of one view cannot be read through another.
            b.atomically(|tx2| tx2.view(|w| w.read(r).value)).unwrap()
        })
    })
    .unwrap();
}
