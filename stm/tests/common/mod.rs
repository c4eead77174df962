//! Helpers for the transaction tests: heaps with the rare paths made common,
//! and a bank of accounts.

#![allow(dead_code)]

use strata::{GcOptions, GlobalRoot, Heap, HeapConfig, Obj, Object, RefArray, Thread, Tx};

#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub balance: i64,
}
impl Object for Account {}

/// A heap with the default nursery and the verifier as the build says.
pub fn plain_heap() -> Heap {
    Heap::new(HeapConfig::default()).unwrap()
}

/// A tiny nursery, a major collection at every minor one (so at every
/// commit), the verifier on.
pub fn zealous_heap() -> Heap {
    Heap::with_options(
        HeapConfig {
            nursery_bytes: 16 << 10,
            min_major_bytes: 1 << 20,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            major_every_minor: true,
            parallel_mark_always: false,
        },
    )
    .unwrap()
}

/// Like [`zealous_heap`], with every major collection marked by three
/// threads at once (version chains trimmed by whichever marks the anchor).
pub fn parallel_marking_heap() -> Heap {
    Heap::with_options(
        HeapConfig {
            nursery_bytes: 16 << 10,
            min_major_bytes: 1 << 20,
            gc_threads: 3,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            major_every_minor: true,
            parallel_mark_always: true,
        },
    )
    .unwrap()
}

/// How much to scale stress loops: `STRATA_STRESS_SCALE` (default 1.0).
pub fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("STRATA_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale) as usize).max(1)
}

/// Makes `n` accounts of `balance` each in a global array.
pub fn make_bank(thread: &mut Thread, n: usize, balance: i64) -> GlobalRoot<RefArray> {
    let root = thread
        .atomically(|tx| {
            let array = tx.alloc_array(n);
            for i in 0..n {
                let account = tx.alloc(Account { balance });
                tx.set(array, i, Some(account));
            }
            tx.root(array)
        })
        .unwrap();
    thread.global(&root)
}

/// The sum of all balances, in one transaction, by a scan without handles
/// ([`strata::Tx::for_each_value`]).
pub fn scanned_total(thread: &mut Thread, bank: &GlobalRoot<RefArray>) -> i64 {
    thread
        .atomically(|tx| {
            let array = tx.get_global(bank);
            let mut sum = 0;
            tx.for_each_value::<Account>(array, |_, account| {
                sum += account.expect("every slot holds an account").balance
            });
            sum
        })
        .unwrap()
}

/// The sum of all balances, in one transaction.
pub fn total(thread: &mut Thread, bank: &GlobalRoot<RefArray>) -> i64 {
    thread
        .atomically(|tx| {
            let array = tx.get_global(bank);
            let n = tx.len(array);
            (0..n)
                .map(|i| {
                    let account = tx.get::<Account>(array, i).unwrap();
                    tx.read(account).balance
                })
                .sum()
        })
        .unwrap()
}

/// A thread that, when told, adds to one account of a bank in a
/// transaction of its own and says when that has committed: the commit
/// another transaction meets in the middle of its run.
pub struct Interloper {
    go: std::sync::mpsc::Sender<()>,
    committed: std::sync::mpsc::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Interloper {
    /// Starts the thread; it adds `amount` to account `index` when told.
    pub fn start(
        heap: &Heap,
        bank: &std::sync::Arc<GlobalRoot<RefArray>>,
        index: usize,
        amount: i64,
    ) -> Interloper {
        Interloper::start_with(heap, bank, move |tx, array| {
            let account = tx.get::<Account>(array, index).unwrap();
            tx.update(account, |a| a.balance += amount);
        })
    }

    /// Starts the thread; when told, it runs `write` on the bank's array in
    /// a transaction of its own.
    pub fn start_with(
        heap: &Heap,
        bank: &std::sync::Arc<GlobalRoot<RefArray>>,
        write: impl for<'tx> Fn(&mut Tx<'tx>, Obj<'tx, RefArray>) + Send + 'static,
    ) -> Interloper {
        let (go, wait_go) = std::sync::mpsc::channel::<()>();
        let (committed, wait_committed) = std::sync::mpsc::channel::<()>();
        let (heap, bank) = (heap.clone(), bank.clone());
        let thread = std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            t.blocking(|| wait_go.recv().unwrap());
            t.atomically(|tx| {
                let array = tx.get_global(&bank);
                write(tx, array);
            })
            .unwrap();
            committed.send(()).unwrap();
        });
        Interloper {
            go,
            committed: wait_committed,
            thread,
        }
    }

    /// Lets its transaction run and waits until it has committed. Called
    /// inside a transaction, wrap it in `tx.blocking`, so that a collection
    /// the commit starts (`STRATA_GC_ZEAL`) does not wait for the caller.
    pub fn commit_now(&self) {
        self.go.send(()).unwrap();
        self.committed.recv().unwrap();
    }

    /// Waits for the thread to end (outside the heap).
    pub fn join(self, thread: &mut Thread) {
        thread.blocking(|| self.thread.join().unwrap());
    }
}

/// A small xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
