//! One run's measurements, as a table row or a JSON line.

use serde_json::{json, Value};

/// The outcome of one workload run on one runtime and thread count.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub workload: String,
    pub runtime: String,
    pub threads: usize,
    pub params: Value,
    pub seconds: f64,
    pub ops: u64,
    pub commits: Option<u64>,
    pub aborts: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub minor_gcs: Option<u64>,
    pub major_gcs: Option<u64>,
    pub gc_pause_max_us: Option<f64>,
    pub gc_pause_p99_us: Option<f64>,
    /// Total time in minor and in major collections (all threads' pauses).
    pub gc_minor_seconds: Option<f64>,
    pub gc_major_seconds: Option<f64>,
    /// "ok" or what failed.
    pub check: String,
    /// Extra series for the report (RSS over time, pause histogram).
    pub rss_series: Vec<(f64, usize)>,
    pub pause_histogram: Vec<u64>,
    /// Live bytes after the last major collection (churn).
    pub live_bytes: Option<u64>,
    /// With `--rounds N` (N > 1): the throughput of every round, in the
    /// order run; this result is the median round's.
    pub round_ops_per_sec: Vec<f64>,
}

impl RunResult {
    pub fn new(workload: &str, runtime: &str, threads: usize, params: Value) -> RunResult {
        RunResult {
            workload: workload.to_owned(),
            runtime: runtime.to_owned(),
            threads,
            params,
            seconds: 0.0,
            ops: 0,
            commits: None,
            aborts: None,
            peak_rss_bytes: None,
            minor_gcs: None,
            major_gcs: None,
            gc_pause_max_us: None,
            gc_pause_p99_us: None,
            gc_minor_seconds: None,
            gc_major_seconds: None,
            check: "ok".into(),
            rss_series: Vec::new(),
            pause_histogram: Vec::new(),
            live_bytes: None,
            round_ops_per_sec: Vec::new(),
        }
    }

    pub fn ops_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ops as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Records a failed check (the first one wins).
    pub fn fail(&mut self, message: impl Into<String>) {
        if self.check == "ok" {
            self.check = message.into();
        }
    }

    /// Fills the collector fields from Strata's statistics.
    pub fn set_gc(&mut self, stats: &strata_gc::GcStats) {
        self.minor_gcs = Some(stats.minor_collections);
        self.major_gcs = Some(stats.major_collections);
        let max = stats.minor_pause_max.max(stats.major_pause_max);
        self.gc_pause_max_us = Some(max.as_secs_f64() * 1e6);
        self.gc_minor_seconds = Some(stats.minor_time.as_secs_f64());
        self.gc_major_seconds = Some(stats.major_time.as_secs_f64());
        let mut all: Vec<u64> = stats
            .minor_pauses_sorted_nanos
            .iter()
            .chain(&stats.major_pauses_sorted_nanos)
            .copied()
            .collect();
        all.sort_unstable();
        self.gc_pause_p99_us = if all.is_empty() {
            None
        } else {
            let rank = ((all.len() - 1) as f64 * 0.99).round() as usize;
            Some(all[rank] as f64 / 1000.0)
        };
        self.pause_histogram = stats.pause_histogram();
        self.live_bytes = Some(stats.live_bytes_after_major);
    }

    /// A result read back from [`RunResult::to_json`]'s line (a child
    /// run's), without the report's series, which the line does not carry.
    pub fn from_json(v: &Value) -> Result<RunResult, String> {
        let text = |key: &str| {
            v[key]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("result line without {key:?}"))
        };
        let number = |key: &str| {
            v[key]
                .as_u64()
                .ok_or(format!("result line without {key:?}"))
        };
        let mut r = RunResult::new(
            &text("workload")?,
            &text("runtime")?,
            number("threads")? as usize,
            v["params"].clone(),
        );
        r.seconds = v["seconds"]
            .as_f64()
            .ok_or("result line without \"seconds\"")?;
        r.ops = number("ops")?;
        r.check = text("check")?;
        r.commits = v["commits"].as_u64();
        r.aborts = v["aborts"].as_u64();
        r.peak_rss_bytes = v["peak_rss_bytes"].as_u64();
        r.minor_gcs = v["minor_gcs"].as_u64();
        r.major_gcs = v["major_gcs"].as_u64();
        r.gc_pause_max_us = v["gc_pause_max_us"].as_f64();
        r.gc_pause_p99_us = v["gc_pause_p99_us"].as_f64();
        r.gc_minor_seconds = v["gc_minor_seconds"].as_f64();
        r.gc_major_seconds = v["gc_major_seconds"].as_f64();
        if let Some(rounds) = v["round_ops_per_sec"].as_array() {
            r.round_ops_per_sec = rounds.iter().filter_map(Value::as_f64).collect();
        }
        Ok(r)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "workload": self.workload,
            "runtime": self.runtime,
            "threads": self.threads,
            "params": self.params,
            "seconds": self.seconds,
            "ops": self.ops,
            "ops_per_sec": self.ops_per_sec(),
            "commits": self.commits,
            "aborts": self.aborts,
            "peak_rss_bytes": self.peak_rss_bytes,
            "minor_gcs": self.minor_gcs,
            "major_gcs": self.major_gcs,
            "gc_pause_max_us": self.gc_pause_max_us,
            "gc_pause_p99_us": self.gc_pause_p99_us,
            "gc_minor_seconds": self.gc_minor_seconds,
            "gc_major_seconds": self.gc_major_seconds,
            "check": self.check,
            "rounds": (!self.round_ops_per_sec.is_empty()).then_some(self.round_ops_per_sec.len()),
            "round_ops_per_sec": (!self.round_ops_per_sec.is_empty()).then_some(&self.round_ops_per_sec),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_every_field_and_nulls() {
        let mut r = RunResult::new("bank", "mutex", 2, json!({"accounts": 4}));
        r.seconds = 2.0;
        r.ops = 10;
        let v = r.to_json();
        for key in [
            "workload",
            "runtime",
            "threads",
            "params",
            "seconds",
            "ops",
            "ops_per_sec",
            "commits",
            "aborts",
            "peak_rss_bytes",
            "minor_gcs",
            "major_gcs",
            "gc_pause_max_us",
            "gc_pause_p99_us",
            "gc_minor_seconds",
            "gc_major_seconds",
            "check",
        ] {
            assert!(v.get(key).is_some(), "{key} missing");
        }
        assert_eq!(v["ops_per_sec"], 5.0);
        assert!(v["commits"].is_null());
        r.fail("total 3 != 4");
        r.fail("second");
        assert_eq!(r.to_json()["check"], "total 3 != 4");
    }

    #[test]
    fn a_json_line_reads_back_as_the_result_it_was() {
        let mut r = RunResult::new("bank", "libitm", 2, json!({"accounts": 4}));
        r.seconds = 1.5;
        r.ops = 12;
        r.aborts = Some(3);
        r.peak_rss_bytes = Some(1 << 20);
        r.gc_pause_max_us = Some(2.5);
        r.round_ops_per_sec = vec![4.0, 8.0];
        r.fail("total 3 != 4");
        let back = RunResult::from_json(&r.to_json()).unwrap();
        assert_eq!(back.to_json(), r.to_json());
        assert!(RunResult::from_json(&json!({"workload": "bank"})).is_err());
    }
}
