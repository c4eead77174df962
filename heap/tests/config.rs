//! `HeapConfig::from_env`: the environment overrides that let hosts and tests
//! shrink a heap without recompiling, and the errors that name a bad value.
//! The environment belongs to the process, so each case runs this binary's
//! ignored `report_from_env` test in a child process with exactly the
//! Strata variables it sets, and reads back what the child found.

use std::process::Command;
use strata_heap::HeapConfig;

/// Every variable `from_env` reads.
const VARIABLES: [&str; 4] = [
    "STRATA_NURSERY_BYTES",
    "STRATA_MAX_HEAP_BYTES",
    "STRATA_GC_THREADS",
    "STRATA_HUGE_PAGES",
];

/// The line `report_from_env` prints for the configuration (or error) that
/// `from_env` returns in a process whose Strata variables are `vars`.
fn from_env_with(vars: &[(&str, &str)]) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "report_from_env",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for name in VARIABLES {
        child.env_remove(name);
    }
    child.envs(vars.iter().copied());
    let output = child.output().unwrap();
    assert!(output.status.success(), "child failed: {output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    // The harness prints the test's name on the same line first.
    stdout
        .lines()
        .find_map(|line| line.find("FROM_ENV ").map(|at| line[at..].to_string()))
        .unwrap_or_else(|| panic!("no report in the child's output: {stdout}"))
}

#[test]
#[ignore = "run by the other tests of this file, in a child process"]
fn report_from_env() {
    match HeapConfig::from_env() {
        Ok(c) => println!(
            "FROM_ENV ok nursery={} max={} gc_threads={} huge_pages={}",
            c.nursery_bytes, c.max_heap_bytes, c.gc_threads, c.huge_pages
        ),
        Err(e) => println!("FROM_ENV error {e}"),
    }
}

#[test]
fn without_variables_the_defaults_hold() {
    let d = HeapConfig::default();
    assert_eq!(d.nursery_bytes, 4 << 20);
    assert_eq!(
        from_env_with(&[]),
        format!(
            "FROM_ENV ok nursery={} max={} gc_threads={} huge_pages={}",
            d.nursery_bytes, d.max_heap_bytes, d.gc_threads, d.huge_pages
        )
    );
}

#[test]
fn sizes_with_suffixes_override_the_nursery_and_the_limit() {
    let d = HeapConfig::default();
    assert_eq!(
        from_env_with(&[
            ("STRATA_NURSERY_BYTES", "64K"),
            ("STRATA_MAX_HEAP_BYTES", "16MiB")
        ]),
        format!(
            "FROM_ENV ok nursery=65536 max=16777216 gc_threads={} huge_pages={}",
            d.gc_threads, d.huge_pages
        )
    );
    assert_eq!(
        from_env_with(&[
            ("STRATA_NURSERY_BYTES", "1048576"),
            ("STRATA_GC_THREADS", "3"),
            ("STRATA_HUGE_PAGES", "0"),
        ]),
        format!(
            "FROM_ENV ok nursery=1048576 max={} gc_threads=3 huge_pages=false",
            d.max_heap_bytes
        )
    );
}

#[test]
fn a_bad_value_is_an_error_that_names_it() {
    let cases = [
        (
            ("STRATA_NURSERY_BYTES", "lots"),
            "STRATA_NURSERY_BYTES=\"lots\" is not a byte count",
        ),
        (
            ("STRATA_MAX_HEAP_BYTES", "12Q"),
            "STRATA_MAX_HEAP_BYTES=\"12Q\" is not a byte count",
        ),
        (
            ("STRATA_NURSERY_BYTES", "100"),
            "nursery_bytes 100 is below the minimum",
        ),
        (
            ("STRATA_MAX_HEAP_BYTES", "1K"),
            "max_heap_bytes 1024 is below the minimum",
        ),
        (
            ("STRATA_GC_THREADS", "-1"),
            "STRATA_GC_THREADS=\"-1\" is not a count",
        ),
        (
            ("STRATA_HUGE_PAGES", "yes"),
            "STRATA_HUGE_PAGES=\"yes\" is neither 0 nor 1",
        ),
    ];
    for ((name, value), message) in cases {
        let report = from_env_with(&[(name, value)]);
        assert!(
            report.starts_with("FROM_ENV error invalid heap configuration: ")
                && report.contains(message),
            "{name}={value}: {report}"
        );
    }
}
