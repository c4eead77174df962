//! An event dispatcher on the ordered task runner: each event's handler
//! runs in a transaction of its own, handlers run in parallel on a pool of
//! workers, and their effects appear one after the other, in the events'
//! order, as if a single thread had dispatched them in a loop.
//!
//! The events are deposits and withdrawals on a few accounts (a
//! `TxHashMap`); a withdrawal that would overdraw is refused, so the
//! outcome depends on the order. Every handler appends what it did to a
//! log (a `TxQueue`). The dispatcher checks both against the plain loop.
//!
//! `cargo run --release -p strata --example event_dispatch [EVENTS] [WORKERS]`

use std::sync::Arc;
use strata::{Heap, HeapConfig, TaskRunner, Tx, TxHashMap, TxQueue};

/// An event: an amount for an account (negative: a withdrawal).
#[derive(Clone, Copy)]
struct Event {
    account: u64,
    amount: i64,
}

const ACCOUNTS: u64 = 8;

/// The events of a run: a fixed pseudo-random sequence.
fn events(n: usize) -> Vec<Event> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            Event {
                account: state % ACCOUNTS,
                amount: (state >> 8) as i64 % 200 - 90,
            }
        })
        .collect()
}

/// What the handler of `event` does to `balances`: the new balance, or
/// the refused overdraft as `None`. Plain code, shared by both sides.
fn apply(balance: i64, event: Event) -> Option<i64> {
    let after = balance + event.amount;
    (after >= 0).then_some(after)
}

/// A log entry: the event's number and whether it was applied.
fn entry(number: usize, applied: bool) -> u64 {
    (number as u64) << 1 | u64::from(applied)
}

fn main() -> Result<(), strata::Error> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(10_000, |a| a.parse().expect("EVENTS"));
    let workers: usize = args.next().map_or(2, |a| a.parse().expect("WORKERS"));
    let events = events(n);

    // The plain loop: what the dispatcher must reproduce.
    let mut balances = [0i64; ACCOUNTS as usize];
    let mut expected_log = Vec::with_capacity(n);
    for (number, &event) in events.iter().enumerate() {
        let slot = &mut balances[event.account as usize];
        let applied = apply(*slot, event);
        if let Some(after) = applied {
            *slot = after;
        }
        expected_log.push(entry(number, applied.is_some()));
    }

    let heap = Heap::new(HeapConfig::default())?;
    let mut main = heap.attach()?;
    let accounts = Arc::new(TxHashMap::<u64, i64>::new(&mut main, ACCOUNTS as usize)?);
    let log = Arc::new(TxQueue::<u64>::new(&mut main, n)?);
    let runner = main.blocking(|| TaskRunner::new(&heap, workers))?;
    let handlers: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(number, &event)| {
            let (accounts, log) = (accounts.clone(), log.clone());
            move |tx: &mut Tx<'_>| {
                let balance = accounts.get(tx, &event.account).unwrap_or(0);
                let applied = apply(balance, event);
                if let Some(after) = applied {
                    accounts.insert(tx, event.account, after);
                }
                log.put(tx, entry(number, applied.is_some()))
                    .expect("the log has room for every event");
            }
        })
        .collect();
    let started = std::time::Instant::now();
    main.blocking(|| runner.run_ordered(handlers))?;
    let elapsed = started.elapsed();
    main.blocking(|| drop(runner));

    let logged: Vec<u64> = main.atomically(|tx| std::iter::from_fn(|| log.take(tx)).collect())?;
    let final_balances: Vec<i64> = main.atomically(|tx| {
        (0..ACCOUNTS)
            .map(|a| accounts.get(tx, &a).unwrap_or(0))
            .collect()
    })?;
    assert_eq!(logged, expected_log, "the log is the loop's, in order");
    assert_eq!(final_balances, balances, "the balances are the loop's");
    let refused = logged.iter().filter(|&&e| e & 1 == 0).count();
    println!(
        "{n} events on {workers} workers in {:.1} ms: the same log ({refused} overdrafts refused) \
         and balances as the sequential loop: {final_balances:?}",
        elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}
