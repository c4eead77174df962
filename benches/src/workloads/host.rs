//! host: a program of the C interpreter in `examples/host/` (`--program
//! NAME`, default `parallel-map`, at `--scale S`, default 8), run with
//! `--threads` threads, GIL-less (`strata`) or under its global lock
//! (`gil`), `--tx-length` steps per transaction at most (the
//! interpreter's default when not given). The interpreter is compiled
//! once per process against `libstrata.so`, which is built first when the
//! target directory lacks it. ops = the program's scale (a run is `scale`
//! units of work), seconds = the interpreter's wall time; commits, aborts
//! and collections are its heap's (`--stats`). The check: the exit status
//! is 0 and the output is what the same program prints at the same scale
//! under the lock on one thread.

use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

pub const RUNTIMES: &[&str] = &["strata", "gil"];

fn workspace_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The directory of this binary's profile (`target/release`, or
/// `target/debug` for a test binary in its `deps/`).
fn profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut dir = exe.parent().ok_or("no exe directory")?.to_owned();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    Ok(dir)
}

fn run_tool(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Builds `libstrata.so` when missing and compiles the interpreter
/// against it: the interpreter's path.
fn build_interpreter() -> Result<PathBuf, String> {
    let dir = profile_dir()?;
    if !dir.join("libstrata.so").exists() {
        let target = dir.parent().ok_or("no target directory")?;
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .args(["build", "--quiet", "-p", "strata-ffi", "--manifest-path"])
            .arg(workspace_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target);
        match dir.file_name().and_then(|name| name.to_str()) {
            Some("release") => cargo.arg("--release"),
            _ => cargo.args(["--profile", "test"]),
        };
        run_tool(&mut cargo, "cargo build -p strata-ffi")?;
    }
    let host_dir = workspace_dir().join("examples/host");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&host_dir)
        .map_err(|e| format!("{}: {e}", host_dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    sources.retain(|path| path.extension().is_some_and(|ext| ext == "c"));
    sources.sort();
    let exe = dir.join("strata-host");
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(workspace_dir().join("ffi/include"))
        .args(&sources)
        .arg("-L")
        .arg(&dir)
        .args(["-lstrata", "-lpthread"])
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .arg("-o")
        .arg(&exe);
    run_tool(&mut cc, "cc examples/host")?;
    Ok(exe)
}

fn interpreter() -> Result<&'static Path, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(build_interpreter)
        .as_deref()
        .map_err(Clone::clone)
}

/// What one run of the interpreter did.
struct Run {
    seconds: f64,
    stdout: String,
    stats: BTreeMap<String, u64>,
}

fn run_interpreter(program: &Path, flags: &[String]) -> Result<Run, String> {
    let start = Instant::now();
    let output = Command::new(interpreter()?)
        .args(flags)
        .arg("--stats")
        .arg(program)
        .output()
        .map_err(|e| format!("the interpreter: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{} {flags:?}: {}\n{stderr}",
            program.display(),
            output.status
        ));
    }
    Ok(Run {
        seconds,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stats: parse_stats(&stderr),
    })
}

/// The counters of the interpreter's `stats:` line (`name=value`
/// words), by name.
fn parse_stats(stderr: &str) -> BTreeMap<String, u64> {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("stats: "))
        .into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(|word| {
            let (name, value) = word.split_once('=')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The output of the reference run (the lock, one thread) of a program
/// at a scale, run once per process.
fn reference_output(program: &Path, scale: u64) -> Result<String, String> {
    static OUTPUTS: Mutex<BTreeMap<(PathBuf, u64), String>> = Mutex::new(BTreeMap::new());
    let key = (program.to_owned(), scale);
    if let Some(output) = OUTPUTS.lock().unwrap().get(&key) {
        return Ok(output.clone());
    }
    let flags = ["--gil", "--threads", "1", "--scale"].map(str::to_owned);
    let mut flags = flags.to_vec();
    flags.push(scale.to_string());
    let output = run_interpreter(program, &flags)?.stdout;
    OUTPUTS.lock().unwrap().insert(key, output.clone());
    Ok(output)
}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let name = args.text("program", "parallel-map");
    let scale = args.number("scale", 8)?;
    let program = workspace_dir().join(format!("examples/host/programs/{name}.scm"));
    if !program.exists() {
        return Err(format!("--program {name}: no {}", program.display()));
    }
    let mut flags = vec![
        "--threads".to_owned(),
        threads.to_string(),
        "--scale".to_owned(),
        scale.to_string(),
    ];
    if let Some(length) = args.options.get("tx-length") {
        flags.extend(["--tx-length".to_owned(), length.clone()]);
    }
    if runtime == "gil" {
        flags.push("--gil".to_owned());
    }
    let expected = reference_output(&program, scale)?;
    let run = run_interpreter(&program, &flags)?;
    let mut result = RunResult::new(
        "host",
        runtime,
        threads,
        json!({ "program": name, "scale": scale, "tx_length": args.options.get("tx-length") }),
    );
    result.seconds = run.seconds;
    result.ops = scale;
    result.commits = run.stats.get("commits").copied();
    result.aborts = run.stats.get("aborts").copied();
    result.minor_gcs = run.stats.get("minor_collections").copied();
    result.major_gcs = run.stats.get("major_collections").copied();
    if run.stdout != expected {
        result.fail(format!(
            "output differs from the --gil 1-thread run:\n{}\nexpected:\n{expected}",
            run.stdout
        ));
    }
    Ok(result.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stats_line_is_read_by_name() {
        let stats = parse_stats(
            "a message\nstats: commits=12 aborts=3 write_write=1 validation=2 doomed=0 \
             inevitable=0 out_of_memory=0 requested=0 minor_collections=7 \
             major_collections=1\n",
        );
        assert_eq!(stats["commits"], 12);
        assert_eq!(stats["aborts"], 3);
        assert_eq!(stats["write_write"], 1);
        assert_eq!(stats["validation"], 2);
        assert_eq!(stats["out_of_memory"], 0);
        assert_eq!(stats["minor_collections"], 7);
        assert_eq!(stats["major_collections"], 1);
        assert_eq!(stats.len(), 10);
    }

    #[test]
    fn a_program_runs_in_both_runtimes_and_checks_its_output() {
        let args = Args::parse(
            "host --program shared-dict --scale 1"
                .split_whitespace()
                .map(str::to_owned),
        )
        .unwrap();
        for runtime in RUNTIMES {
            let Outcome::Done(result) = run(runtime, 2, &args).unwrap() else {
                panic!("{runtime}: skipped");
            };
            assert_eq!(result.check, "ok", "{runtime}");
            assert!(result.commits.unwrap() > 0, "{runtime}");
        }
    }
}
