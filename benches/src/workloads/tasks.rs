//! tasks: the `TaskRunner` on mostly independent tasks. Batches of
//! `--batch` tasks (default 1000) run one after the other until the time is
//! up; each task does `--work` rounds of arithmetic (default 200) and adds
//! one to a random account of `--accounts` (default 4096), so tasks of one
//! batch seldom conflict. Runtimes: `strata` (`TaskRunner::run`, any serial
//! order) and `strata-ordered` (`TaskRunner::run_ordered`, committing in
//! the tasks' order); threads = workers. The check: the accounts sum to
//! the tasks run, and (ordered) every batch's results are in order.
//! ops = tasks.

use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use crate::rng::Rng;
use serde_json::json;
use std::time::{Duration, Instant};
use strata::{GlobalRoot, Heap, Object, RefArray, TaskRunner, Tx};

pub const RUNTIMES: &[&str] = &["strata", "strata-ordered"];

#[derive(Clone, Copy)]
struct Account {
    count: u64,
}
impl Object for Account {}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let batch = args.number("batch", 1000)?;
    let work = args.number("work", 200)?;
    let accounts = args.number("accounts", 4096)?;
    if batch == 0 || accounts == 0 {
        return Err("--batch and --accounts must be positive".into());
    }
    let ordered = runtime == "strata-ordered";
    let mut result = RunResult::new(
        "tasks",
        runtime,
        threads,
        json!({ "batch": batch, "work": work, "accounts": accounts }),
    );
    let heap = Heap::from_env().expect("heap configuration");
    let mut main = heap.attach().expect("attach");
    let bank = main
        .atomically(|tx| {
            let array = tx.alloc_array(accounts as usize);
            for i in 0..accounts as usize {
                let account = tx.alloc(Account { count: 0 });
                tx.set(array, i, Some(account));
            }
            tx.root(array)
        })
        .expect("heap limit");
    let bank = main.global(&bank);
    let bank = &bank;
    let runner = main
        .blocking(|| TaskRunner::new(&heap, threads))
        .expect("attach");
    let duration = Duration::from_secs_f64(args.seconds);
    let mut rng = Rng::new(0x7a5c);
    let mut unordered_batches = 0u64;
    let start = Instant::now();
    let tasks = main.blocking(|| {
        let mut tasks = 0u64;
        while start.elapsed() < duration {
            let jobs: Vec<_> = (0..batch)
                .map(|i| {
                    let account = rng.below(accounts) as usize;
                    move |tx: &mut Tx<'_>| task(tx, bank, account, work, i)
                })
                .collect();
            let results = if ordered {
                runner.run_ordered(jobs)
            } else {
                runner.run(jobs)
            }
            .expect("heap limit");
            unordered_batches += u64::from(results.iter().map(|r| r.0).ne(0..batch));
            tasks += batch;
        }
        drop(runner);
        tasks
    });
    result.seconds = start.elapsed().as_secs_f64();
    result.ops = tasks;
    let sum = main
        .atomically(|tx| {
            let array = tx.get_global(bank);
            let mut sum = 0;
            tx.for_each_value::<Account>(array, |_, a| sum += a.expect("account").count);
            sum
        })
        .expect("heap limit");
    result.set_gc(&main.gc_stats());
    drop(main);
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    if sum != tasks {
        result.fail(format!("accounts sum to {sum} after {tasks} tasks"));
    }
    if unordered_batches > 0 {
        result.fail(format!("{unordered_batches} batches returned out of order"));
    }
    Ok(result.into())
}

/// One task: `work` rounds of arithmetic, then one added to `account`;
/// returns its index and the arithmetic's result.
fn task(
    tx: &mut Tx<'_>,
    bank: &GlobalRoot<RefArray>,
    account: usize,
    work: u64,
    i: u64,
) -> (u64, u64) {
    let mut x = i | 1;
    for _ in 0..work {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
    }
    let array = tx.get_global(bank);
    let account = tx
        .get_for_update::<Account>(array, account)
        .expect("account");
    tx.update(account, |a| a.count += 1);
    (i, std::hint::black_box(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::run_checked;

    #[test]
    fn both_runtimes_pass_their_checks() {
        for runtime in RUNTIMES {
            run_checked(run, runtime, 2, "tasks --batch 100 --seconds 0.2");
        }
    }
}
