//! The readable table.

use crate::result::RunResult;

fn human(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.2} G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} k", n / 1e3)
    } else {
        format!("{n:.1}")
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// Prints one row per run.
pub fn print_table(results: &[RunResult]) {
    println!(
        "{:<13} {:<10} {:>3} {:>8} {:>11} {:>10} {:>8} {:>9} {:>7} {:>9} {:>9}  check",
        "workload",
        "runtime",
        "thr",
        "seconds",
        "ops/s",
        "commits",
        "aborts",
        "peak RSS",
        "GCs",
        "pause max",
        "p99"
    );
    for r in results {
        let gcs = match (r.minor_gcs, r.major_gcs) {
            (Some(a), Some(b)) => format!("{a}/{b}"),
            (Some(a), None) => a.to_string(),
            _ => "-".into(),
        };
        println!(
            "{:<13} {:<10} {:>3} {:>8.3} {:>11} {:>10} {:>8} {:>9} {:>7} {:>9} {:>9}  {}",
            r.workload,
            r.runtime,
            r.threads,
            r.seconds,
            human(r.ops_per_sec()),
            opt(r.commits),
            opt(r.aborts),
            r.peak_rss_bytes
                .map_or("-".into(), |b| format!("{} MB", b >> 20)),
            gcs,
            r.gc_pause_max_us
                .map_or("-".into(), |us| format!("{us:.0} us")),
            r.gc_pause_p99_us
                .map_or("-".into(), |us| format!("{us:.0} us")),
            r.check
        );
    }
}
