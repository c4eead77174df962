//! The task runner: unordered runs end as some serial order would, and
//! ordered runs of conflicting tasks give exactly the sequential loop's
//! heap and results; an event dispatcher whose handlers run in parallel
//! and whose effects appear one after the other, in event order.

mod common;
use common::*;
use std::sync::Arc;
use strata::{GlobalRoot, Heap, Object, RefArray, TaskRunner, Thread, Tx, TxCounter, TxQueue};

#[derive(Clone, Copy)]
struct Cell {
    n: u64,
}
impl Object for Cell {}

const CELLS: usize = 8;

fn make_cells(t: &mut Thread) -> GlobalRoot<RefArray> {
    let root = t
        .atomically(|tx| {
            let array = tx.alloc_array(CELLS);
            for i in 0..CELLS {
                let cell = tx.alloc(Cell { n: i as u64 });
                tx.set(array, i, Some(cell));
            }
            tx.root(array)
        })
        .unwrap();
    t.global(&root)
}

/// Task `i`: reads one cell and mixes it into another, in a way that
/// depends on the order of the tasks (few cells: many real conflicts).
fn mix(tx: &mut Tx<'_>, cells: &GlobalRoot<RefArray>, i: u64) -> u64 {
    let array = tx.get_global(cells);
    let from = tx.get::<Cell>(array, (i % CELLS as u64) as usize).unwrap();
    let to = tx
        .get::<Cell>(array, ((i * 3 + 1) % CELLS as u64) as usize)
        .unwrap();
    let a = tx.read(from).n;
    let n = tx.read(to).n.wrapping_mul(31).wrapping_add(a ^ i);
    tx.write(to, Cell { n });
    n
}

fn contents(t: &mut Thread, cells: &GlobalRoot<RefArray>) -> Vec<u64> {
    t.atomically(|tx| {
        let array = tx.get_global(cells);
        (0..CELLS)
            .map(|i| {
                let cell = tx.get::<Cell>(array, i).unwrap();
                tx.read(cell).n
            })
            .collect()
    })
    .unwrap()
}

fn ordered_equals_sequential(heap: Heap, tasks: u64) {
    // The sequential loop, on a heap of its own.
    let sequential_heap = plain_heap();
    let mut s = sequential_heap.attach().unwrap();
    let cells = make_cells(&mut s);
    let expected: Vec<u64> = (0..tasks)
        .map(|i| s.atomically(|tx| mix(tx, &cells, i)).unwrap())
        .collect();
    let expected_cells = contents(&mut s, &cells);

    let mut main = heap.attach().unwrap();
    let cells = make_cells(&mut main);
    let runner = main.blocking(|| TaskRunner::new(&heap, 4)).unwrap();
    // The tasks borrow the root: the call returns after they all ended.
    let cells_ref = &cells;
    let jobs: Vec<_> = (0..tasks)
        .map(|i| move |tx: &mut Tx<'_>| mix(tx, cells_ref, i))
        .collect();
    let results = main.blocking(|| runner.run_ordered(jobs)).unwrap();
    main.blocking(|| drop(runner));
    assert_eq!(results, expected);
    assert_eq!(contents(&mut main, &cells), expected_cells);
}

#[test]
fn an_ordered_run_of_conflicting_tasks_equals_the_sequential_loop() {
    ordered_equals_sequential(plain_heap(), scaled(2_000) as u64);
}

#[test]
fn an_ordered_run_with_a_collection_at_every_commit() {
    ordered_equals_sequential(zealous_heap(), scaled(100) as u64);
}

#[test]
fn an_unordered_run_ends_as_a_serial_order_would() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let cells = make_cells(&mut main);
    let runner = main.blocking(|| TaskRunner::new(&heap, 3)).unwrap();
    let tasks = scaled(3_000) as u64;
    // Each task moves one unit between two cells: the total stays.
    let cells_ref = &cells;
    let jobs: Vec<_> = (0..tasks)
        .map(|i| {
            move |tx: &mut Tx<'_>| {
                let array = tx.get_global(cells_ref);
                let from = tx.get::<Cell>(array, (i % 8) as usize).unwrap();
                let to = tx.get::<Cell>(array, ((i / 8) % 8) as usize).unwrap();
                tx.update(from, |c| c.n = c.n.wrapping_sub(1));
                tx.update(to, |c| c.n = c.n.wrapping_add(1));
                i
            }
        })
        .collect();
    let results = main.blocking(|| runner.run(jobs)).unwrap();
    main.blocking(|| drop(runner));
    assert_eq!(results, (0..tasks).collect::<Vec<_>>());
    let total: u64 = contents(&mut main, &cells)
        .into_iter()
        .fold(0, u64::wrapping_add);
    assert_eq!(total, (0..CELLS as u64).sum::<u64>());
}

/// Tasks and their results may borrow the caller's data, in both modes:
/// each call returns after every task ended.
#[test]
fn tasks_and_results_borrow_from_the_caller() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let runner = main.blocking(|| TaskRunner::new(&heap, 3)).unwrap();
    let words: Vec<String> = (0..scaled(500)).map(|i| format!("word {i}")).collect();
    let jobs = || {
        words
            .iter()
            .map(|word| move |_: &mut Tx<'_>| (word.as_str(), word.len()))
    };
    let unordered = main.blocking(|| runner.run(jobs())).unwrap();
    let ordered = main.blocking(|| runner.run_ordered(jobs())).unwrap();
    main.blocking(|| drop(runner));
    let expected: Vec<(&str, usize)> = words.iter().map(|w| (w.as_str(), w.len())).collect();
    assert_eq!(unordered, expected);
    assert_eq!(ordered, expected);
}

#[test]
fn an_ordered_tasks_panic_is_raised_after_the_others_ran() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let counter = Arc::new(TxCounter::new(&mut main).unwrap());
    let runner = main.blocking(|| TaskRunner::new(&heap, 2)).unwrap();
    let jobs: Vec<_> = (0..10)
        .map(|i| {
            let counter = counter.clone();
            move |tx: &mut Tx<'_>| {
                assert!(i != 3, "task three fails");
                counter.add(tx, 1);
            }
        })
        .collect();
    let outcome = main.blocking(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run_ordered(jobs)))
    });
    assert!(outcome.is_err());
    assert_eq!(main.atomically(|tx| counter.get(tx)).unwrap(), 9);
    main.blocking(|| drop(runner));
}

#[test]
fn an_ordered_task_that_retries_panics_instead_of_sleeping_forever() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let runner = main.blocking(|| TaskRunner::new(&heap, 2)).unwrap();
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            move |tx: &mut Tx<'_>| {
                if i == 2 {
                    tx.retry();
                }
                i
            }
        })
        .collect();
    let outcome = main.blocking(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run_ordered(jobs)))
    });
    let message = outcome.expect_err("the retry panics");
    let message = match message.downcast_ref::<&str>() {
        Some(text) => text.to_string(),
        None => message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
    };
    assert!(message.contains("run_ordered"), "{message}");
    // The runner still works, and unordered tasks may retry.
    let again = main.blocking(|| runner.run(vec![|_: &mut Tx<'_>| 5]));
    assert_eq!(again.unwrap(), vec![5]);
    main.blocking(|| drop(runner));
}

/// The event dispatcher: every handler does work of its own (on an
/// object nobody else touches) and then logs the event; the handlers run
/// in parallel on the runner, and the log shows them one after the other,
/// in the order of the events.
#[test]
fn dispatched_events_appear_one_after_the_other_in_order() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let events = scaled(500);
    let log = Arc::new(TxQueue::<u64>::new(&mut main, events).unwrap());
    let state = Arc::new(TxCounter::new(&mut main).unwrap());
    let runner = main.blocking(|| TaskRunner::new(&heap, 4)).unwrap();
    let handlers: Vec<_> = (0..events as u64)
        .map(|event| {
            let (log, state) = (log.clone(), state.clone());
            move |tx: &mut Tx<'_>| {
                let scratch = tx.alloc(Cell { n: event });
                for _ in 0..100 {
                    tx.update(scratch, |c| {
                        c.n = c.n.wrapping_mul(6_364_136_223_846_793_005)
                    });
                }
                state.add(tx, 1);
                log.put(tx, event)
                    .expect("the log has room for every event");
                tx.read(scratch).n
            }
        })
        .collect();
    main.blocking(|| runner.run_ordered(handlers)).unwrap();
    main.blocking(|| drop(runner));
    let logged: Vec<u64> = main
        .atomically(|tx| std::iter::from_fn(|| log.take(tx)).collect())
        .unwrap();
    assert_eq!(logged, (0..events as u64).collect::<Vec<_>>());
    assert_eq!(main.atomically(|tx| state.get(tx)).unwrap(), events as i64);
}

/// Ordered runs called from two threads at once on one runner, with an
/// unordered run beside them: each equals its own sequential loop (their
/// chunks are queued together, so neither waits behind the other's).
#[test]
fn concurrent_ordered_runs_on_one_runner_each_equal_their_loop() {
    const TASKS: u64 = 300;
    let sequential_heap = plain_heap();
    let mut s = sequential_heap.attach().unwrap();
    let cells = make_cells(&mut s);
    let expected: Vec<u64> = (0..TASKS)
        .map(|i| s.atomically(|tx| mix(tx, &cells, i)).unwrap())
        .collect();
    let expected_cells = contents(&mut s, &cells);

    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let sets: Vec<Arc<GlobalRoot<RefArray>>> =
        (0..2).map(|_| Arc::new(make_cells(&mut main))).collect();
    let counter = Arc::new(TxCounter::new(&mut main).unwrap());
    let runner = main.blocking(|| TaskRunner::new(&heap, 3)).unwrap();
    let results = main.blocking(|| {
        std::thread::scope(|scope| {
            let ordered: Vec<_> = sets
                .iter()
                .map(|cells| {
                    let runner = &runner;
                    scope.spawn(move || {
                        let jobs: Vec<_> = (0..TASKS)
                            .map(|i| {
                                let cells = cells.clone();
                                move |tx: &mut Tx<'_>| mix(tx, &cells, i)
                            })
                            .collect();
                        runner.run_ordered(jobs).unwrap()
                    })
                })
                .collect();
            let adds: Vec<_> = (0..TASKS)
                .map(|_| {
                    let counter = counter.clone();
                    move |tx: &mut Tx<'_>| counter.add(tx, 1)
                })
                .collect();
            runner.run(adds).unwrap();
            ordered
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    main.blocking(|| drop(runner));
    for (set, result) in sets.iter().zip(results) {
        assert_eq!(result, expected);
        assert_eq!(contents(&mut main, set), expected_cells);
    }
    assert_eq!(main.atomically(|tx| counter.get(tx)).unwrap(), TASKS as i64);
}

/// Tasks that all conflict (each appends to one log), more workers than
/// cores: every task is doomed or aborted by its predecessor again and
/// again, and the log still comes out in the tasks' order, run after run
/// (a task aborted often enough used to run its next attempt inevitable
/// before its turn and commit out of order).
#[test]
fn an_ordered_run_of_tasks_that_all_conflict_keeps_its_order() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let tasks = scaled(3000) as u64;
    let runner = main.blocking(|| TaskRunner::new(&heap, 8)).unwrap();
    for _ in 0..3 {
        let log = Arc::new(TxQueue::<u64>::new(&mut main, tasks as usize).unwrap());
        let jobs: Vec<_> = (0..tasks)
            .map(|i| {
                let log = log.clone();
                move |tx: &mut Tx<'_>| {
                    log.put(tx, i).expect("the log has room for every task");
                    log.len(tx)
                }
            })
            .collect();
        let lengths = main.blocking(|| runner.run_ordered(jobs)).unwrap();
        let logged: Vec<u64> = main
            .atomically(|tx| std::iter::from_fn(|| log.take(tx)).collect())
            .unwrap();
        assert_eq!(logged, (0..tasks).collect::<Vec<_>>());
        assert_eq!(lengths, (1..=tasks as usize).collect::<Vec<_>>());
    }
    main.blocking(|| drop(runner));
}
