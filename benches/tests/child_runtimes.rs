//! Runtimes that run in a child `strata-bench`: `libitm-stm` (libitm in its
//! STM method, chosen per process) reports the child's run as its own row,
//! beside the default `libitm` row, for both workloads that have it, with
//! the workload's options passed through.

use std::process::Command;

fn rows(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_strata-bench"))
        .args(args)
        .args(["--seconds", "0.2", "--json"])
        .output()
        .expect("strata-bench runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn libitm_stm_is_a_row_of_its_own_with_the_options_passed_through() {
    let bank = rows(&[
        "bank",
        "--runtime",
        "libitm,libitm-stm",
        "--threads",
        "1,2",
        "--accounts",
        "64",
        "--read-every",
        "7",
        "--partitioned",
    ]);
    let runtimes: Vec<_> = bank
        .iter()
        .map(|r| r["runtime"].as_str().unwrap())
        .collect();
    assert_eq!(runtimes, ["libitm", "libitm", "libitm-stm", "libitm-stm"]);
    for row in &bank {
        assert_eq!(row["check"], "ok");
        assert!(row["ops"].as_u64().unwrap() > 0);
        assert_eq!(row["params"]["accounts"], 64);
        assert_eq!(row["params"]["read_every"], 7);
        assert_eq!(row["params"]["partitioned"], true);
    }
    let intset = rows(&[
        "intset",
        "--runtime",
        "libitm-stm",
        "--threads",
        "2",
        "--range",
        "256",
    ]);
    assert_eq!(intset.len(), 1);
    assert_eq!(intset[0]["runtime"], "libitm-stm");
    assert_eq!(intset[0]["check"], "ok");
    assert_eq!(intset[0]["params"]["range"], 256);
}
