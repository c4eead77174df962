//! Runs the host interpreter of `examples/host/`: it is compiled with the
//! system C compiler against `strata.h` and `libstrata.so` (built as
//! `common` says), and every program of `examples/host/programs/` runs in
//! every mode (GIL-less with the default transaction length, GIL-less
//! with three steps per transaction, `--gil`) at 1, 2 and 8 threads; its
//! output must be the program's `.out` file, its error output its `.err`
//! file (none: nothing), and its exit status 1 with an `.err`, else 0.
//! Then some programs run with a 4 KiB nursery, a major collection after
//! every minor one and the heap verifier on; under ASan and UBSan when
//! the compiler has them; and under valgrind when it is installed. And
//! threads adding keys of their own to one dictionary run with no abort.

mod common;

use common::{
    cc, crate_dir, installed, outcome_within, output_path, run, use_shared_library, Outcome,
    DEADLINE, VALGRIND_FLAGS,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn host_dir() -> PathBuf {
    crate_dir().join("../examples/host")
}

fn programs_dir() -> PathBuf {
    host_dir().join("programs")
}

/// The interpreter's C files.
fn sources() -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(host_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    sources.sort();
    sources
}

/// Compiles the interpreter into `name` with `extra` flags.
fn compile(name: &str, extra: &[&str]) -> PathBuf {
    let exe = output_path(name);
    let mut cc = cc(&sources(), &exe);
    cc.args(extra);
    use_shared_library(&mut cc);
    run(cc, &format!("cc examples/host ({name})"));
    exe
}

/// The interpreter, compiled once.
fn host() -> &'static Path {
    static HOST: OnceLock<PathBuf> = OnceLock::new();
    HOST.get_or_init(|| compile("host", &["-O2"]))
}

/// The names of the programs (`<name>.scm`), sorted.
fn programs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(programs_dir())
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name()?.to_str()?.strip_suffix(".scm")?.to_owned();
            Some(name)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 5, "programs: {names:?}");
    names
}

/// Runs `program` (a command line without the program's file) in the
/// programs' directory, so that messages name the file as `<name>.scm`.
fn run_program(mut command: Command, name: &str, what: &str) -> Outcome {
    command
        .arg(format!("{name}.scm"))
        .current_dir(programs_dir());
    outcome_within(command, what, DEADLINE)
}

/// Checks a run of `name` against its expected output.
fn expect_output(outcome: &Outcome, name: &str, what: &str) {
    let expected = std::fs::read_to_string(programs_dir().join(format!("{name}.out"))).unwrap();
    let expected_errors =
        std::fs::read_to_string(programs_dir().join(format!("{name}.err"))).unwrap_or_default();
    assert_eq!(
        outcome.stdout, expected,
        "{what}: output\n--- stderr\n{}",
        outcome.stderr
    );
    assert_eq!(outcome.stderr, expected_errors, "{what}: error output");
    let code = if expected_errors.is_empty() { 0 } else { 1 };
    assert_eq!(outcome.status.code(), Some(code), "{what}: exit status");
}

#[test]
fn every_program_in_every_mode_at_1_2_and_8_threads() {
    let modes: &[&[&str]] = &[&[], &["--tx-length", "3"], &["--gil"]];
    for name in programs() {
        for mode in modes {
            for threads in ["1", "2", "8"] {
                let mut command = Command::new(host());
                command.args(*mode).args(["--threads", threads]);
                let what = format!("{name} {mode:?} --threads {threads}");
                expect_output(&run_program(command, &name, &what), &name, &what);
            }
        }
    }
}

/// Objects move at every few allocations, and every minor collection is
/// followed by a major one, with the verifier checking the heap after
/// each: the shadow stack must hold everything the interpreter keeps.
#[test]
fn tiny_nursery_and_a_major_collection_after_every_minor() {
    for name in ["bank", "pipeline", "deterministic"] {
        let mut command = Command::new(host());
        command
            .args(["--threads", "2"])
            .env("STRATA_NURSERY_BYTES", "4096")
            .env("STRATA_GC_ZEAL", "1")
            .env("STRATA_VERIFY", "1");
        let what = format!("{name} with a 4 KiB nursery and zeal");
        expect_output(&run_program(command, name, &what), name, &what);
    }
}

#[test]
fn every_program_under_asan_and_ubsan() {
    let flags = [
        "-O1",
        "-g",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=undefined",
        "-fno-omit-frame-pointer",
    ];
    // A compiler without the sanitizers' runtimes cannot link this.
    let probe = output_path("sanitizer_probe");
    let probe_source = output_path("sanitizer_probe.c");
    std::fs::write(&probe_source, "int main(void) { return 0; }\n").unwrap();
    let linked = Command::new("cc")
        .args(flags)
        .arg(&probe_source)
        .arg("-o")
        .arg(&probe)
        .output()
        .is_ok_and(|output| output.status.success());
    if !linked {
        eprintln!("cc cannot link ASan and UBSan: the sanitizer runs are skipped");
        return;
    }
    let exe = compile("host-sanitized", &flags);
    for name in programs() {
        let mut command = Command::new(&exe);
        command.args(["--threads", "8"]);
        let what = format!("{name} under ASan and UBSan");
        expect_output(&run_program(command, &name, &what), &name, &what);
    }
}

#[test]
fn under_valgrind() {
    if !installed("valgrind") {
        eprintln!("no valgrind: the valgrind run is skipped");
        return;
    }
    let mut command = Command::new("valgrind");
    command
        .args(VALGRIND_FLAGS)
        .arg(host())
        .args(["--threads", "2"]);
    let what = "shared-dict under valgrind";
    expect_output(
        &run_program(command, "shared-dict", what),
        "shared-dict",
        what,
    );
}

/// Runs `source` as a program; returns its outcome.
fn run_source(name: &str, source: &str, args: &[&str]) -> Outcome {
    let dir = output_path("host-sources");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.scm")), source).unwrap();
    let mut command = Command::new(host());
    command
        .args(args)
        .arg(format!("{name}.scm"))
        .current_dir(&dir);
    outcome_within(command, name, DEADLINE)
}

#[test]
fn syntax_errors_name_the_file_the_line_and_what_was_expected() {
    let cases = [
        (
            "unclosed",
            "(print 1)\n(define (f x)\n  (+ x 1)\n",
            "unclosed.scm:4: syntax error: expected ')' to close the list opened at line 2\n",
        ),
        (
            "stray",
            "(print 1))\n",
            "stray.scm:1: syntax error: unexpected ')'\n",
        ),
        (
            "bad_if",
            "\n(if 1)\n",
            "bad_if.scm:2: syntax error: if: expected (if test then [else]), got 1 parts\n",
        ),
        (
            "bad_let",
            "(let ((x)) x)\n",
            "bad_let.scm:1: syntax error: let: expected a binding (name value)\n",
        ),
        (
            "string",
            "(print \"abc)\n",
            "string.scm:1: syntax error: expected '\"' to end the string begun here\n",
        ),
    ];
    for (name, source, message) in cases {
        let outcome = run_source(name, source, &[]);
        assert_eq!(outcome.stderr, message, "{name}");
        assert_eq!(outcome.stdout, "", "{name}: nothing runs");
        assert_eq!(outcome.status.code(), Some(2), "{name}");
    }
}

/// A program error ends its thread and no other; an atomic block that
/// fails is undone, while what the thread did before it stays.
#[test]
fn a_program_error_ends_its_thread_and_undoes_its_atomic_block() {
    let source = "(define d (make-dict))\n\
                  (dict-set! d 'x 1)\n\
                  (define (fails) (dict-set! d 'y 1) (atomic (dict-set! d 'x 2) (nope)))\n\
                  (print (join (spawn fails)))\n\
                  (print (dict-ref d 'x) (dict-ref d 'y))\n\
                  (print (+ 1 \"a\"))\n\
                  (print \"not reached\")\n";
    for mode in [&[][..], &["--gil"][..]] {
        let outcome = run_source("errors", source, mode);
        assert_eq!(outcome.stdout, "#f\n1 1\n", "{mode:?}");
        assert_eq!(
            outcome.stderr,
            "errors.scm:3: error in thread 1: unbound variable 'nope' (the atomic block is undone)\n\
             errors.scm:6: error: +: argument 2: expected an integer, got a string\n",
            "{mode:?}"
        );
        assert_eq!(outcome.status.code(), Some(1), "{mode:?}");
    }
}

/// The interpreter sets each thread's marker to the line it runs, so the
/// conflict profile (`STRATA_PROFILE`) of a bank whose tellers conflict
/// names the program's lines on both sides of a conflict. Whether 8
/// tellers meet depends on the scheduler (on a loaded machine they may run
/// one after the other), so the bank runs up to five times for a profile
/// with aborts; each run's output is checked.
#[test]
fn conflict_reports_name_the_programs_lines() {
    let profile = output_path("host-bank-profile.json");
    let mut json = String::new();
    for _ in 0..5 {
        let _ = std::fs::remove_file(&profile);
        let mut command = Command::new(host());
        command
            .args(["--threads", "8"])
            .env("STRATA_PROFILE", &profile);
        let outcome = run_program(command, "bank", "bank with a profile");
        expect_output(&outcome, "bank", "bank with a profile");
        json = std::fs::read_to_string(&profile).expect("the profile is written at destroy");
        if !json.contains("\"aborts\":0,") {
            break;
        }
    }
    assert!(
        !json.contains("\"aborts\":0,"),
        "8 tellers never conflicted in five runs: {json}"
    );
    assert!(
        json.contains("\"marker\":\"bank.scm:") && json.contains("\"other_marker\":\"bank.scm:"),
        "{json}"
    );
}

/// The number `define`d as `name` in `source` (`(define name N)`), or given
/// to `(make-dict N)` when `name` is `make-dict`.
fn number_in(source: &str, name: &str) -> usize {
    let prefix = match name {
        "make-dict" => "(make-dict ".to_owned(),
        _ => format!("(define {name} "),
    };
    let start = source.find(&prefix).expect(&prefix) + prefix.len();
    let digits: String = source[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect(&prefix)
}

/// Threads that add new keys to one dictionary, each its own keys, one a
/// transaction, do not abort each other: a dictionary is a map object, on
/// which an insert writes only its key's bucket (`DESIGN.md`, "Host
/// interpreter"). Checked first: the program's keys (integers `0 ..
/// keys`, hashed as `builtins.c`'s `key_hash` does) fall in distinct
/// buckets of its dictionary, so no conflict is possible however the
/// threads interleave. On the former dictionaries, one bucket array that
/// every insert wrote, the same run aborted tens to hundreds of times.
#[test]
fn threads_adding_keys_of_their_own_to_one_dictionary_never_abort() {
    let source = std::fs::read_to_string(programs_dir().join("distinct-keys.scm")).unwrap();
    let (keys, capacity) = (number_in(&source, "keys"), number_in(&source, "make-dict"));
    let heap = strata_rs::Heap::new(strata_rs::HeapConfig::default()).unwrap();
    let mut thread = heap.attach().unwrap();
    let mut buckets: Vec<usize> = thread
        .atomically(|tx| {
            let map = strata_rs::ManualMap::alloc(tx, capacity);
            (0..keys as u64)
                .map(|k| {
                    let hash = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    strata_rs::ManualMap::bucket_of(tx, map, &hash)
                })
                .collect()
        })
        .unwrap();
    buckets.sort_unstable();
    buckets.dedup();
    assert_eq!(
        buckets.len(),
        keys,
        "two of the program's keys share a bucket"
    );
    for _ in 0..3 {
        let mut command = Command::new(host());
        command.args(["--threads", "8", "--stats"]);
        let outcome = run_program(command, "distinct-keys", "distinct-keys --stats");
        let expected = std::fs::read_to_string(programs_dir().join("distinct-keys.out")).unwrap();
        assert_eq!(outcome.stdout, expected);
        assert!(
            outcome.stderr.starts_with("stats: commits=") && outcome.stderr.contains(" aborts=0 "),
            "{}",
            outcome.stderr
        );
    }
}
