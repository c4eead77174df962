//! `strata-bench clock`: the measurements behind the choice of Strata's
//! commit clock (`DESIGN.md`, "The commit clock: why one counter").
//!
//! A hardware clock (the invariant TSC, as in Ordo) would replace the
//! shared counter only if its uncertainty is small against a transaction:
//! the clocks of two cores can differ by up to a bound `B`, and every
//! update commit would have to wait about `2B` before it returns so that
//! a transaction that begins after it, on any core, sees it. `B` cannot be
//! read off the machine; it is bounded from above, as Ordo does, by the
//! smallest one-way difference `tsc(receiver) - tsc(sender)` over many
//! messages passed between two threads, in each direction (the message's
//! travel time is in every sample, so the bound is at least one transfer
//! of a cache line between the cores). The probe reports that bound beside
//! what the counter costs: one thread's `fetch_add` and load, and two
//! threads taking turns on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages each way for the one-way bound.
const MESSAGES: usize = 100_000;
/// Operations of the counter loops.
const COUNTER_OPS: u64 = 5_000_000;

/// A word alone on its pair of cache lines.
#[repr(align(128))]
#[derive(Default)]
struct Line(AtomicU64);

/// Runs the probe and prints its report.
pub fn run() -> Result<(), String> {
    let (invariant, flags) = invariant_tsc();
    println!(
        "invariant TSC (constant_tsc and nonstop_tsc in /proc/cpuinfo): {invariant} ({flags})"
    );
    let ghz = tsc_ghz();
    println!("TSC rate: {ghz:.3} GHz");
    println!("one TSC read (rdtscp): {:.1} cycles", tsc_read_cycles());
    let (there, back) = one_way_bounds();
    let bound = there.max(back);
    println!(
        "one-way bound, thread A to B: {there} cycles, B to A: {back} cycles; B <= {bound} cycles = {:.0} ns",
        bound as f64 / ghz
    );
    println!(
        "a TSC clock's wait at every update commit (2B): {:.0} ns",
        2.0 * bound as f64 / ghz
    );
    let alone = counter_alone();
    println!("the counter, one thread: a fetch_add and a load in {alone:.1} ns");
    let turns = counter_shared();
    println!("the counter, two threads adding in turn: {turns:.1} ns a fetch_add and a load");
    Ok(())
}

/// Whether /proc/cpuinfo shows an invariant TSC, and the flags it found.
fn invariant_tsc() -> (bool, String) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .unwrap_or_default();
    let found: Vec<&str> = ["constant_tsc", "nonstop_tsc", "rdtscp"]
        .into_iter()
        .filter(|f| flags.split_whitespace().any(|w| w == *f))
        .collect();
    let invariant = found.contains(&"constant_tsc") && found.contains(&"nonstop_tsc");
    (invariant, found.join(" "))
}

#[cfg(target_arch = "x86_64")]
fn tsc() -> u64 {
    let mut aux = 0u32;
    // SAFETY: rdtscp is present on every x86-64 processor this probe is
    // run on (the flag is reported above); it reads a counter and writes
    // `aux`, nothing else.
    unsafe { std::arch::x86_64::__rdtscp(&mut aux) }
}

#[cfg(not(target_arch = "x86_64"))]
fn tsc() -> u64 {
    // No TSC: nanoseconds of the monotonic clock stand in, so the probe
    // still reports the counter's costs.
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// TSC ticks per nanosecond, over 100 ms of the monotonic clock.
fn tsc_ghz() -> f64 {
    let (t0, c0) = (Instant::now(), tsc());
    std::thread::sleep(Duration::from_millis(100));
    let (t1, c1) = (Instant::now(), tsc());
    (c1 - c0) as f64 / (t1 - t0).as_nanos() as f64
}

fn tsc_read_cycles() -> f64 {
    let n = 1_000_000u64;
    let start = tsc();
    let mut sink = 0u64;
    for _ in 0..n {
        sink = sink.wrapping_add(tsc());
    }
    std::hint::black_box(sink);
    (tsc() - start) as f64 / n as f64
}

/// The smallest `tsc(receiver) - tsc(sender)` over [`MESSAGES`] messages
/// from A to B and back: each message is the sender's TSC, stored into a
/// line the receiver spins on.
fn one_way_bounds() -> (i64, i64) {
    let ping = Arc::new(Line::default());
    let pong = Arc::new(Line::default());
    let peer = {
        let (ping, pong) = (ping.clone(), pong.clone());
        std::thread::spawn(move || {
            let (mut least, mut last) = (i64::MAX, 0);
            for _ in 0..MESSAGES {
                let sent = wait_for_new(&ping.0, last);
                last = sent;
                least = least.min(tsc() as i64 - sent as i64);
                std::sync::atomic::fence(Ordering::SeqCst);
                pong.0.store(tsc(), Ordering::Release);
            }
            least
        })
    };
    let (mut least, mut last) = (i64::MAX, 0);
    for _ in 0..MESSAGES {
        std::sync::atomic::fence(Ordering::SeqCst);
        ping.0.store(tsc(), Ordering::Release);
        let sent = wait_for_new(&pong.0, last);
        last = sent;
        least = least.min(tsc() as i64 - sent as i64);
    }
    (peer.join().expect("the probe's peer thread"), least)
}

/// Spins until `word` holds a value other than `last`, and returns it.
fn wait_for_new(word: &AtomicU64, last: u64) -> u64 {
    loop {
        let v = word.load(Ordering::Acquire);
        if v != last {
            return v;
        }
        std::hint::spin_loop();
    }
}

/// Nanoseconds a `fetch_add` and a load of a counter take on one thread.
fn counter_alone() -> f64 {
    let clock = Line::default();
    let start = Instant::now();
    for _ in 0..COUNTER_OPS {
        clock.0.fetch_add(1, Ordering::SeqCst);
        std::hint::black_box(clock.0.load(Ordering::SeqCst));
    }
    start.elapsed().as_nanos() as f64 / COUNTER_OPS as f64
}

/// Nanoseconds a `fetch_add` and a load take when two threads add to one
/// counter in turn (each waits for the other's add before its next), the
/// pattern of two threads committing disjoint transactions.
fn counter_shared() -> f64 {
    let clock = Arc::new(Line::default());
    let go = Arc::new(AtomicBool::new(false));
    let spawn = |parity: u64| {
        let (clock, go) = (clock.clone(), go.clone());
        std::thread::spawn(move || {
            while !go.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            for _ in 0..COUNTER_OPS / 2 {
                while clock.0.load(Ordering::SeqCst) % 2 != parity {
                    std::hint::spin_loop();
                }
                clock.0.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let (a, b) = (spawn(0), spawn(1));
    let start = Instant::now();
    go.store(true, Ordering::Release);
    a.join().expect("a counter thread");
    b.join().expect("a counter thread");
    start.elapsed().as_nanos() as f64 / COUNTER_OPS as f64
}
