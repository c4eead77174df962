//! bank: accounts starting at 1000; each transaction moves a random amount
//! between two random distinct accounts; every K-th transaction (K > 0) sums
//! all accounts and checks the sum. Runs for `--seconds`; the final total
//! must be exact. ops = transactions committed.
//!
//! With `--partitioned` thread `t` of `T` transfers only among its own block
//! of accounts (`t * N / T` up to `(t + 1) * N / T`), so that the threads
//! share no account and only the runtime's own shared state can keep them
//! from scaling; audits still sum the whole bank.

use super::{on_threads, Outcome};
use crate::cli::Args;
use crate::result::RunResult;
use crate::rng::{thread_seed, Rng};
use crate::rss;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

pub const RUNTIMES: &[&str] = &[
    "strata",
    "strata-c",
    "libitm",
    "libitm-stm",
    "stm-core",
    "mutex",
];

/// The accounts a thread transfers among: `len` (at least 2) from `first`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accounts {
    pub first: usize,
    pub len: usize,
}

/// What thread `t` of `threads` transfers among, out of `n` accounts.
pub fn accounts_of(t: usize, threads: usize, n: usize, partitioned: bool) -> Accounts {
    if partitioned {
        let first = t * n / threads;
        Accounts {
            first,
            len: (t + 1) * n / threads - first,
        }
    } else {
        Accounts { first: 0, len: n }
    }
}

/// One transfer's parameters, drawn the same way by every runtime (and by
/// `c/itm_bank.c`).
#[inline]
pub fn draw(rng: &mut Rng, among: Accounts) -> (usize, usize, i64) {
    let Accounts { first, len } = among;
    let from = rng.below(len as u64) as usize;
    let to = (from + 1 + rng.below(len as u64 - 1) as usize) % len;
    let amount = rng.below(100) as i64;
    (first + from, first + to, amount)
}

/// The shape of one run.
#[derive(Clone, Copy)]
struct Bank {
    n: usize,
    read_every: u64,
    threads: usize,
    partitioned: bool,
    duration: Duration,
}

impl Bank {
    fn accounts_of(&self, t: usize) -> Accounts {
        accounts_of(t, self.threads, self.n, self.partitioned)
    }
}

/// What one thread did.
#[derive(Default)]
struct ThreadCount {
    ops: u64,
    wrong_sums: u64,
}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let n = args.number("accounts", 4096)? as usize;
    let read_every = args.number("read-every", 0)?;
    let partitioned = args.flag("partitioned");
    if n < 2 {
        return Err("--accounts must be at least 2".into());
    }
    if partitioned && n / threads < 2 {
        return Err(format!(
            "--partitioned with {threads} threads needs at least {} accounts",
            2 * threads
        ));
    }
    let mut result = RunResult::new(
        "bank",
        runtime,
        threads,
        json!({ "accounts": n, "read_every": read_every, "partitioned": partitioned }),
    );
    let bank = Bank {
        n,
        read_every,
        threads,
        partitioned,
        duration: Duration::from_secs_f64(args.seconds),
    };
    let sampler = rss::Sampler::start();
    let start = Instant::now();
    super::take_window();
    let (counts, final_total) = match runtime {
        "mutex" => mutex(bank),
        "stm-core" => stm_core(bank),
        "libitm" => libitm(bank),
        "strata-c" => strata_c(bank, &mut result),
        _ => strata_bank(bank, &mut result),
    };
    result.seconds = super::take_window().unwrap_or_else(|| start.elapsed().as_secs_f64());
    let (peak, series) = sampler.finish();
    result.peak_rss_bytes = Some(peak as u64);
    result.rss_series = series;
    result.ops = counts.iter().map(|c| c.ops).sum();
    let wrong: u64 = counts.iter().map(|c| c.wrong_sums).sum();
    if wrong > 0 {
        result.fail(format!(
            "{wrong} audits saw a sum other than {}",
            n as i64 * 1000
        ));
    }
    if final_total != n as i64 * 1000 {
        result.fail(format!("final total {final_total} != {}", n as i64 * 1000));
    }
    Ok(result.into())
}

/// Runs `body(t, stopped)` on each thread; `stopped()` turns true when the
/// time is up. The wall time of the timed phase is recorded for
/// [`super::take_window`].
pub fn timed<R: Send>(
    threads: usize,
    duration: Duration,
    body: impl Fn(usize, &dyn Fn() -> bool) -> R + Sync,
) -> Vec<R> {
    let stop = AtomicBool::new(false);
    super::measure_window(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(duration);
                stop.store(true, Ordering::Relaxed);
            });
            on_threads(threads, |t| body(t, &|| stop.load(Ordering::Relaxed)))
        })
    })
}

/// Like [`timed`], for C loops: `body(t, stop)` gets the flag the C code
/// polls (as a volatile int), set when the time is up.
pub fn timed_c<R: Send>(
    threads: usize,
    duration: Duration,
    body: impl Fn(usize, &AtomicI32) -> R + Sync,
) -> Vec<R> {
    let stop = AtomicI32::new(0);
    super::measure_window(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(duration);
                stop.store(1, Ordering::SeqCst);
            });
            on_threads(threads, |t| body(t, &stop))
        })
    })
}

/// The loop every Rust runtime shares.
fn drive(
    t: usize,
    stopped: &dyn Fn() -> bool,
    mut op: impl FnMut(&mut Rng, u64) -> bool,
) -> ThreadCount {
    let mut rng = Rng::new(thread_seed(t));
    let mut count = ThreadCount::default();
    while !stopped() {
        for _ in 0..64 {
            count.ops += 1;
            if !op(&mut rng, count.ops) {
                count.wrong_sums += 1;
            }
        }
    }
    count
}

fn mutex(bank: Bank) -> (Vec<ThreadCount>, i64) {
    let Bank { n, read_every, .. } = bank;
    let accounts = std::sync::Mutex::new(vec![1000i64; n]);
    let expected = n as i64 * 1000;
    let counts = timed(bank.threads, bank.duration, |t, stopped| {
        let among = bank.accounts_of(t);
        drive(t, stopped, |rng, k| {
            if read_every > 0 && k % read_every == 0 {
                return accounts.lock().unwrap().iter().sum::<i64>() == expected;
            }
            let (from, to, amount) = draw(rng, among);
            let mut a = accounts.lock().unwrap();
            a[from] -= amount;
            a[to] += amount;
            true
        })
    });
    let total = accounts.lock().unwrap().iter().sum();
    (counts, total)
}

fn stm_core(bank: Bank) -> (Vec<ThreadCount>, i64) {
    use stm_core::{atomically, TVar};
    let Bank { n, read_every, .. } = bank;
    let accounts: Vec<TVar<i64>> = (0..n).map(|_| TVar::new(1000)).collect();
    let expected = n as i64 * 1000;
    let counts = timed(bank.threads, bank.duration, |t, stopped| {
        let among = bank.accounts_of(t);
        drive(t, stopped, |rng, k| {
            if read_every > 0 && k % read_every == 0 {
                let sum = atomically(|tx| {
                    let mut sum = 0;
                    for a in &accounts {
                        sum += a.read(tx)?;
                    }
                    Ok(sum)
                });
                return sum == expected;
            }
            let (from, to, amount) = draw(rng, among);
            atomically(|tx| {
                let a = accounts[from].read(tx)?;
                accounts[from].write(tx, a - amount)?;
                let b = accounts[to].read(tx)?;
                accounts[to].write(tx, b + amount)
            });
            true
        })
    });
    let total = accounts.iter().map(|a| a.read_atomic()).sum();
    (counts, total)
}

fn libitm(bank: Bank) -> (Vec<ThreadCount>, i64) {
    let n = bank.n;
    let mut accounts = vec![1000i64; n];
    let base = accounts.as_mut_ptr() as usize;
    let counts = timed_c(bank.threads, bank.duration, |t, stop| {
        let among = bank.accounts_of(t);
        let mut ops = 0u64;
        // SAFETY: the accounts outlive the scope and `among` lies within
        // them; every access in C is inside __transaction_atomic; `stop` is
        // read as a volatile int.
        let wrong = unsafe {
            crate::ffi::itm_bank_run(
                base as *mut i64,
                n,
                among.first,
                among.len,
                thread_seed(t),
                bank.read_every as u32,
                stop.as_ptr(),
                &mut ops,
            )
        };
        ThreadCount {
            ops,
            wrong_sums: wrong,
        }
    });
    (counts, accounts.iter().sum())
}

/// The bank in C against `strata.h` (`c/strata_bank.c`): the thread that
/// makes the bank waits in a blocking section while each timed thread
/// attaches, runs its loop and detaches, as in [`strata_bank`].
fn strata_c(bank: Bank, result: &mut RunResult) -> (Vec<ThreadCount>, i64) {
    use crate::ffi::{strata_ok, StrataBank, StrataCounts};
    let mut made: *mut StrataBank = std::ptr::null_mut();
    // SAFETY: `made` is writable; the bank is used from this thread and the
    // timed threads as `c/strata_bank.c` allows, and freed once, below.
    strata_ok(
        unsafe { crate::ffi::strata_bank_new(bank.n, &mut made) },
        "strata_bank_new",
    );
    let shared = made as usize;
    let counts = timed_c(bank.threads, bank.duration, |t, stop| {
        let among = bank.accounts_of(t);
        let (mut ops, mut wrong_sums) = (0, 0);
        // SAFETY: the bank lives until `strata_bank_finish` below, after
        // every timed thread has returned; `among` lies within it; `stop`
        // is read as a volatile int.
        let status = unsafe {
            crate::ffi::strata_bank_run(
                shared as *mut StrataBank,
                among.first,
                among.len,
                thread_seed(t),
                bank.read_every as u32,
                stop.as_ptr(),
                &mut ops,
                &mut wrong_sums,
            )
        };
        strata_ok(status, "strata_bank_run");
        ThreadCount { ops, wrong_sums }
    });
    let (mut total, mut stats) = (0, StrataCounts::default());
    // SAFETY: on the thread that made the bank, which nothing uses now.
    let status = unsafe { crate::ffi::strata_bank_finish(made, &mut total, &mut stats) };
    strata_ok(status, "strata_bank_finish");
    stats.record(result);
    (counts, total)
}

fn strata_bank(bank_shape: Bank, result: &mut RunResult) -> (Vec<ThreadCount>, i64) {
    use strata::Heap;
    let Bank { n, read_every, .. } = bank_shape;

    let heap = Heap::from_env().expect("heap configuration");
    let mut main = heap.attach().expect("attach");
    let bank = main
        .atomically(|tx| {
            let array = tx.alloc_array(n);
            for i in 0..n {
                let account = tx.alloc(Account { balance: 1000 });
                tx.set(array, i, Some(account));
            }
            tx.root(array)
        })
        .expect("heap limit");
    let bank = main.global(&bank);
    let expected = n as i64 * 1000;
    let counts = main.blocking(|| {
        timed(bank_shape.threads, bank_shape.duration, |t, stopped| {
            let among = bank_shape.accounts_of(t);
            let mut th = heap.attach().expect("attach");
            drive(t, stopped, |rng, k| {
                if read_every > 0 && k % read_every == 0 {
                    let total = th
                        .atomically(|tx| {
                            let array = tx.get_global(&bank);
                            sum(tx, array, n)
                        })
                        .expect("heap limit");
                    return total == expected;
                }
                let (from, to, amount) = draw(rng, among);
                th.atomically(|tx| {
                    let array = tx.get_global(&bank);
                    let a = tx.get_for_update::<Account>(array, from).expect("account");
                    let b = tx.get_for_update::<Account>(array, to).expect("account");
                    tx.update(a, |a| a.balance -= amount);
                    tx.update(b, |b| b.balance += amount);
                })
                .expect("heap limit");
                true
            })
        })
    });
    let total = main
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            sum(tx, array, n)
        })
        .expect("heap limit");
    result.set_gc(&main.gc_stats());
    drop(main);
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    (counts, total)
}

#[derive(Clone, Copy)]
struct Account {
    balance: i64,
}
impl strata::Object for Account {}

/// The audit: the sum of all accounts, in the caller's transaction.
fn sum<'tx>(tx: &mut strata::Tx<'tx>, array: strata::Obj<'tx, strata::RefArray>, n: usize) -> i64 {
    let mut total = 0;
    let mut seen = 0;
    tx.for_each_value::<Account>(array, |_, account| {
        total += account.expect("account").balance;
        seen += 1;
    });
    assert_eq!(seen, n, "the bank has {n} accounts");
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::in_process;

    /// Every runtime of this process runs a short bank on `threads` threads
    /// with `extra` options and keeps the total.
    fn every_runtime_keeps_the_total_with(threads: usize, extra: &[&str]) {
        let words = [
            "bank",
            "--accounts",
            "16",
            "--read-every",
            "5",
            "--seconds",
            "0.2",
        ];
        let args =
            crate::cli::Args::parse(words.iter().chain(extra).map(|s| s.to_string())).unwrap();
        for runtime in in_process(RUNTIMES) {
            match run(runtime, threads, &args).unwrap() {
                Outcome::Done(r) => {
                    assert_eq!(r.check, "ok", "{runtime}");
                    assert!(r.ops > 0, "{runtime} did nothing");
                }
                Outcome::Skipped(note) => panic!("{note}"),
            }
        }
    }

    #[test]
    fn every_runtime_keeps_the_total() {
        every_runtime_keeps_the_total_with(2, &[]);
    }

    #[test]
    fn partitioned_threads_draw_only_their_own_accounts() {
        let blocks: Vec<Accounts> = (0..3).map(|t| accounts_of(t, 3, 10, true)).collect();
        assert_eq!(
            blocks,
            [(0, 3), (3, 3), (6, 4)].map(|(first, len)| Accounts { first, len })
        );
        for (t, &among) in blocks.iter().enumerate() {
            let mut rng = Rng::new(thread_seed(t));
            for _ in 0..1000 {
                let (from, to, _) = draw(&mut rng, among);
                assert_ne!(from, to);
                for a in [from, to] {
                    assert!(
                        (among.first..among.first + among.len).contains(&a),
                        "{a} of {among:?}"
                    );
                }
            }
        }
        assert_eq!(accounts_of(2, 3, 10, false), Accounts { first: 0, len: 10 });
    }

    #[test]
    fn every_runtime_keeps_the_total_partitioned() {
        every_runtime_keeps_the_total_with(3, &["--partitioned"]);
    }

    #[test]
    fn a_wrong_total_is_reported() {
        let mut r = RunResult::new("bank", "x", 1, json!({}));
        r.fail("final total 1 != 2");
        assert_ne!(r.check, "ok");
    }
}
