//! `strata-bench`: runs Strata's workloads side by side with the runtimes a
//! user would pick instead, checks every result, and prints a table or JSON
//! lines. `strata-bench suite` is the README's main job. See
//! `benches/README.md` for every workload, runtime and how to reproduce the
//! figures.

mod cli;
mod clock_probe;
mod ffi;
mod profile;
mod progress;
mod report;
mod result;
mod rng;
mod rss;
mod suite;
mod workloads;

use std::process::ExitCode;

fn main() -> ExitCode {
    let words: Vec<String> = std::env::args().skip(1).collect();
    if words.first().map(String::as_str) == Some("profile") {
        return profile::run(&words[1..]);
    }
    let args = match cli::Args::parse(words.into_iter()) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("strata-bench: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    if args.workload == "clock" {
        return match clock_probe::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("strata-bench: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let results = if args.workload == "suite" {
        suite::run(&args)
    } else {
        match workloads::run(&args) {
            Ok(results) => results,
            Err(message) => {
                eprintln!("strata-bench: {message}");
                return ExitCode::from(2);
            }
        }
    };
    if args.workload != "suite" {
        if args.json {
            for r in &results {
                println!("{}", r.to_json());
            }
        } else {
            report::print_table(&results);
        }
    }
    let failed: Vec<_> = results.iter().filter(|r| r.check != "ok").collect();
    for r in &failed {
        eprintln!(
            "strata-bench: CHECK FAILED: {} {} {} threads: {}",
            r.workload, r.runtime, r.threads, r.check
        );
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
