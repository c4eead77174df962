//! The `libitm-stm` runtime: libitm in its STM method (`ml_wt`: many
//! ownership records, write-through) at every thread count. By default
//! libitm runs a lone thread serial-irrevocable, with no instrumentation at
//! all, so the `libitm` row of one thread is not an STM's. libitm picks its
//! method once per process, from `ITM_DEFAULT_METHOD`, so this runtime runs
//! the `libitm` configuration in a child `strata-bench` with the variable
//! set, and takes the child's result as its own.

use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use std::process::Command;

/// The method libitm runs in for this runtime.
const METHOD: &str = "ml_wt";

pub fn run(args: &Args, threads: usize) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| format!("libitm-stm: {e}"))?;
    let mut child = Command::new(exe);
    child.arg(&args.workload).args([
        "--runtime",
        "libitm",
        "--threads",
        &threads.to_string(),
        "--seconds",
        &args.seconds.to_string(),
        "--json",
    ]);
    for (name, value) in &args.options {
        child.arg(format!("--{name}"));
        if !value.is_empty() {
            child.arg(value);
        }
    }
    let out = child
        .env("ITM_DEFAULT_METHOD", METHOD)
        .output()
        .map_err(|e| format!("libitm-stm: cannot run strata-bench: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().rev().find(|l| l.starts_with('{')) else {
        return Err(format!(
            "libitm-stm: the child run printed no result ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    };
    let value = serde_json::from_str(line).map_err(|e| format!("libitm-stm: {e}: {line}"))?;
    let mut result = RunResult::from_json(&value)?;
    result.runtime = "libitm-stm".into();
    Ok(result.into())
}
