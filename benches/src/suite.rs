//! `suite`: short versions of every workload with every available runtime
//! (about two minutes on two cores), a table with each figure and Strata's
//! ratio to each peer, and an HTML report with SVG charts under
//! `target/strata-report/`. `suite --rounds N` runs every configuration N
//! times round-robin and reports medians (N times as long): on a noisy
//! machine one run of each can put a slow stretch on one runtime only. The
//! ratios are then the medians of the per-round ratios, with their range.

use crate::cli::Args;
use crate::report;
use crate::result::RunResult;
use crate::workloads;
use std::fmt::Write as _;

/// The suite's runs: (command line, thread counts).
const RUNS: &[(&str, &str)] = &[
    ("binary-trees --depth 17", "1,2"),
    ("gcbench --max-depth 16", "1"),
    ("bank --accounts 4096 --read-every 0 --seconds 2", "1,2"),
    ("bank --accounts 4096 --read-every 10 --seconds 2", "1,2"),
    (
        "bank --accounts 4096 --read-every 0 --seconds 2 --partitioned",
        "1,2",
    ),
    (
        "bank --accounts 1000000 --read-every 0 --seconds 2 --runtime strata,mutex",
        "1,2",
    ),
    (
        "intset --structure list --range 256 --update 20 --seconds 1",
        "1,2",
    ),
    (
        "intset --structure hash --range 4096 --update 20 --seconds 1",
        "1,2",
    ),
    (
        "intset --structure rbtree --range 4096 --update 20 --seconds 1",
        "1,2",
    ),
    (
        "intset --structure skiplist --range 4096 --update 20 --seconds 1",
        "1,2",
    ),
    ("churn --live-mb 32 --seconds 4", "1"),
    ("pauses --seconds 3", "1,2"),
    ("host --program parallel-map --scale 2", "1,2"),
];

pub fn run(args: &Args) -> Vec<RunResult> {
    let mut all = Vec::new();
    let mut groups = Vec::new();
    for (i, (line, threads)) in RUNS.iter().enumerate() {
        let words = format!("{line} --threads {threads}");
        let mut run_args =
            Args::parse(words.split_whitespace().map(str::to_owned)).expect("suite lines parse");
        run_args.json = args.json;
        run_args.rounds = args.rounds;
        eprintln!("[{}/{}] {words}", i + 1, RUNS.len());
        match workloads::run(&run_args) {
            Ok(results) => {
                if args.json {
                    for r in &results {
                        println!("{}", r.to_json());
                    }
                }
                groups.push((words, results.clone()));
                all.extend(results);
            }
            Err(e) => eprintln!("strata-bench: suite line {line:?}: {e}"),
        }
    }
    if !args.json {
        report::print_table(&all);
        println!();
        print_ratios(&groups, args.rounds);
    }
    match write_report(&groups) {
        Ok(path) => println!("report: {path}"),
        Err(e) => eprintln!("strata-bench: writing the report failed: {e}"),
    }
    all
}

/// Strata's throughput relative to one peer: the median of the
/// per-round ratios and their range (all three equal with one round).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ratio {
    median: f64,
    low: f64,
    high: f64,
}

/// Strata's throughput divided by a peer's. With rounds, round `i` of
/// every configuration ran in the same pass over the configurations, so
/// the ratio is taken round by round (a slow stretch of the machine weighs
/// on both sides of it) and the median of those is reported; with one run,
/// it is the ratio of the two runs. `None` when the peer did nothing.
fn ratio(strata: &RunResult, peer: &RunResult) -> Option<Ratio> {
    let (s, p) = (&strata.round_ops_per_sec, &peer.round_ops_per_sec);
    let mut per_round: Vec<f64> = if s.len() > 1 && s.len() == p.len() {
        s.iter()
            .zip(p)
            .filter(|(_, &p)| p > 0.0)
            .map(|(s, p)| s / p)
            .collect()
    } else if peer.ops_per_sec() > 0.0 {
        vec![strata.ops_per_sec() / peer.ops_per_sec()]
    } else {
        Vec::new()
    };
    if per_round.is_empty() {
        return None;
    }
    per_round.sort_by(f64::total_cmp);
    let n = per_round.len();
    let median = if n % 2 == 1 {
        per_round[n / 2]
    } else {
        (per_round[n / 2 - 1] + per_round[n / 2]) / 2.0
    };
    Some(Ratio {
        median,
        low: per_round[0],
        high: per_round[n - 1],
    })
}

/// Strata's throughput relative to each peer, per thread count (for
/// `strata-raw`, the ratio is the cost of running in transactions).
fn ratios(results: &[RunResult]) -> Vec<(String, usize, Ratio)> {
    let mut out = Vec::new();
    for s in results.iter().filter(|r| r.runtime == "strata") {
        for peer in results
            .iter()
            .filter(|r| r.runtime != "strata" && r.threads == s.threads)
        {
            if let Some(r) = ratio(s, peer) {
                out.push((peer.runtime.clone(), s.threads, r));
            }
        }
    }
    out
}

fn print_ratios(groups: &[(String, Vec<RunResult>)], rounds: usize) {
    println!("Strata's throughput relative to each peer (>1: Strata faster; against");
    println!("strata-raw it is the cost of transactions). Peak RSS is the process's, so it");
    println!("includes what earlier runs left in the allocators.");
    if rounds > 1 {
        println!("Every row of the table is its configuration's median run of {rounds} rounds,");
        println!("run round-robin. Each ratio is the median of the {rounds} per-round ratios");
        println!("(round i of both sides ran in the same pass), their range in brackets.");
    }
    for (line, results) in groups {
        let r = ratios(results);
        if r.is_empty() {
            continue;
        }
        let cells: Vec<String> = r
            .iter()
            .map(|(peer, t, x)| {
                if rounds > 1 {
                    format!("{peer} x{t}: {:.2} [{:.2}-{:.2}]", x.median, x.low, x.high)
                } else {
                    format!("{peer} x{t}: {:.2}", x.median)
                }
            })
            .collect();
        println!("  {line}\n    {}", cells.join(", "));
    }
}

fn write_report(groups: &[(String, Vec<RunResult>)]) -> std::io::Result<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/strata-report");
    std::fs::create_dir_all(&dir)?;
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>strata-bench suite</title>\
         <style>body{font-family:sans-serif;max-width:960px;margin:auto}\
         table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}\
         </style><h1>strata-bench suite</h1>",
    );
    let _ = write!(html, "<p>{}</p>", machine_line());
    for (line, results) in groups {
        let _ = write!(html, "<h2>{}</h2>", escape(line));
        html.push_str(&throughput_chart(results));
        html.push_str("<table><tr><th>runtime</th><th>threads</th><th>ops/s</th><th>commits</th><th>aborts</th><th>peak RSS MB</th><th>pause max µs</th><th>p99 µs</th><th>check</th></tr>");
        for r in results {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.runtime,
                r.threads,
                r.ops_per_sec(),
                r.commits.map_or("-".into(), |c| c.to_string()),
                r.aborts.map_or("-".into(), |c| c.to_string()),
                r.peak_rss_bytes.map_or("-".into(), |b| (b >> 20).to_string()),
                r.gc_pause_max_us.map_or("-".into(), |u| format!("{u:.0}")),
                r.gc_pause_p99_us.map_or("-".into(), |u| format!("{u:.0}")),
                escape(&r.check)
            );
        }
        html.push_str("</table>");
        for r in results
            .iter()
            .filter(|r| !r.pause_histogram.is_empty() && r.runtime == "strata")
        {
            let _ = write!(
                html,
                "<h3>pause histogram, {} x{}</h3>",
                r.runtime, r.threads
            );
            html.push_str(&histogram_chart(&r.pause_histogram));
        }
        if line.starts_with("churn") {
            for r in results {
                let _ = write!(
                    html,
                    "<h3>memory over time, {} x{}</h3>",
                    r.runtime, r.threads
                );
                html.push_str(&memory_chart(&r.rss_series, r.live_bytes.unwrap_or(0)));
            }
        }
    }
    let path = dir.join("index.html");
    std::fs::write(&path, html)?;
    Ok(path.canonicalize()?.display().to_string())
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Bars of ops/s, one per (runtime, threads).
fn throughput_chart(results: &[RunResult]) -> String {
    let max = results
        .iter()
        .map(RunResult::ops_per_sec)
        .fold(0.0, f64::max);
    if max <= 0.0 {
        return String::new();
    }
    let mut svg = format!(
        "<svg width=720 height={} xmlns='http://www.w3.org/2000/svg'>",
        results.len() * 22 + 10
    );
    for (i, r) in results.iter().enumerate() {
        let width = 480.0 * r.ops_per_sec() / max;
        let color = if r.runtime.starts_with("strata") {
            "#2a7"
        } else {
            "#888"
        };
        let y = i * 22 + 5;
        let _ = write!(
            svg,
            "<text x=0 y={} font-size=12>{} x{}</text><rect x=130 y={y} width={width:.1} height=16 fill='{color}'/><text x={:.1} y={} font-size=12>{:.3e}</text>",
            y + 13,
            r.runtime,
            r.threads,
            136.0 + width,
            y + 13,
            r.ops_per_sec()
        );
    }
    svg.push_str("</svg>");
    svg
}

fn histogram_chart(buckets: &[u64]) -> String {
    let max = buckets.iter().copied().max().unwrap_or(0).max(1) as f64;
    // 14 px of headroom above the tallest bar for its count.
    let mut svg = String::from("<svg width=720 height=172 xmlns='http://www.w3.org/2000/svg'>");
    for (i, &n) in buckets.iter().enumerate() {
        let h = 120.0 * n as f64 / max;
        let x = i * 40 + 10;
        let _ = write!(
            svg,
            "<rect x={x} y={:.1} width=34 height={h:.1} fill='#2a7'/><text x={x} y=167 font-size=10>{}µs</text><text x={x} y={:.1} font-size=10>{n}</text>",
            142.0 - h,
            1u64 << i,
            138.0 - h
        );
    }
    svg.push_str("</svg>");
    svg
}

fn memory_chart(series: &[(f64, usize)], live: u64) -> String {
    let (Some(&(t_end, _)), Some(max)) = (series.last(), series.iter().map(|s| s.1).max()) else {
        return String::new();
    };
    let max = max.max(live as usize).max(1) as f64;
    let t_end = t_end.max(1e-3);
    let points: Vec<String> = series
        .iter()
        .map(|&(t, b)| {
            format!(
                "{:.1},{:.1}",
                40.0 + 640.0 * t / t_end,
                170.0 - 150.0 * b as f64 / max
            )
        })
        .collect();
    let live_y = 170.0 - 150.0 * live as f64 / max;
    format!(
        "<svg width=720 height=190 xmlns='http://www.w3.org/2000/svg'><polyline fill=none stroke='#2a7' points='{}'/>\
         <line x1=40 x2=680 y1={live_y:.1} y2={live_y:.1} stroke='#c33' stroke-dasharray=4/>\
         <text x=40 y=185 font-size=11>RSS over {t_end:.1} s (peak {} MB); dashed: live bytes after the last major collection ({} MB)</text></svg>",
        points.join(" "),
        (max as u64) >> 20,
        live >> 20
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(runtime: &str, ops_per_sec: f64, rounds: &[f64]) -> RunResult {
        let mut r = RunResult::new("bank", runtime, 2, json!({}));
        r.seconds = 1.0;
        r.ops = ops_per_sec as u64;
        r.round_ops_per_sec = rounds.to_vec();
        r
    }

    #[test]
    fn rounds_are_compared_round_by_round() {
        // Each side's median run (20 and 5) comes from a different round,
        // and their ratio is 4; round by round, Strata is 3, 2 and 5 times
        // the peer: the median of those is 3, the range 2 to 5.
        let strata = run("strata", 20.0, &[30.0, 10.0, 20.0]);
        let peer = run("libitm", 5.0, &[10.0, 5.0, 4.0]);
        let r = ratio(&strata, &peer).unwrap();
        assert_eq!((r.median, r.low, r.high), (3.0, 2.0, 5.0));
        // An even number of rounds takes the mean of the middle two.
        let strata = run("strata", 30.0, &[30.0, 10.0, 30.0, 40.0]);
        let peer = run("libitm", 10.0, &[10.0, 2.0, 10.0, 10.0]);
        let r = ratio(&strata, &peer).unwrap();
        assert_eq!((r.median, r.low, r.high), (3.5, 3.0, 5.0));
    }

    #[test]
    fn one_run_is_the_plain_ratio_and_an_idle_peer_none() {
        let strata = run("strata", 30.0, &[]);
        let peer = run("mutex", 12.0, &[]);
        assert_eq!(
            ratio(&strata, &peer),
            Some(Ratio {
                median: 2.5,
                low: 2.5,
                high: 2.5
            })
        );
        assert_eq!(ratio(&strata, &run("mutex", 0.0, &[])), None);
    }
}
