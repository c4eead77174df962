//! What the tests that compile C programs share: building `libstrata`
//! once, compiling against it, and running programs with a deadline.
//!
//! `cargo test` does not build a package's `cdylib` and `staticlib` for
//! its integration tests (they link only an rlib, which this package has
//! not: see `DESIGN.md`, "C ABI"), so the first test to need the library
//! builds it with cargo, into the target directory and profile of this
//! test (cargo holds no lock while tests run).

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a compiler or a program may run: far above what each takes.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// How long building the library may take (from clean, on a slow machine).
const BUILD_DEADLINE: Duration = Duration::from_secs(1800);

pub const C_FLAGS: &[&str] = &["-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror"];

/// Valgrind's checks: any error, or memory definitely lost, fails the run.
pub const VALGRIND_FLAGS: &[&str] = &[
    "--quiet",
    "--error-exitcode=1",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
];

pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// This build's `libstrata.so` and `libstrata.a`, built once, up to date:
/// the directory that holds them.
pub fn library_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // This test is `<target>/<profile dir>/deps/<test>-<hash>`.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
        let target_dir = profile_dir.parent().unwrap();
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--lib", "--manifest-path"])
            .arg(crate_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("release") => cargo.arg("--release"),
            _ => cargo.args(["--profile", "test"]),
        };
        run_within(cargo, "cargo build -p strata-ffi", BUILD_DEADLINE);
        for library in ["libstrata.so", "libstrata.a"] {
            assert!(
                profile_dir.join(library).exists(),
                "no {library} in {}",
                profile_dir.display()
            );
        }
        profile_dir
    })
}

pub fn output_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// What a finished program did.
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end within `deadline` (panics if it runs longer
/// or cannot start). The output goes to files, which a chatty program
/// cannot fill as it can a pipe nobody reads while we wait.
pub fn outcome_within(mut command: Command, what: &str, deadline: Duration) -> Outcome {
    let log = |stream: &str| {
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        output_path(&format!(
            "{}.{stream}",
            &name[name.len().saturating_sub(60)..]
        ))
    };
    let (stdout, stderr) = (log("stdout"), log("stderr"));
    let mut child = command
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > deadline {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("{what}: still running after {deadline:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        status,
        stdout: std::fs::read_to_string(&stdout).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr).unwrap_or_default(),
    }
}

/// Runs `command` to its end within `deadline`; panics with its output if
/// it fails.
pub fn run_within(command: Command, what: &str, deadline: Duration) {
    let outcome = outcome_within(command, what, deadline);
    assert!(
        outcome.status.success(),
        "{what}: {}\n--- stdout\n{}--- stderr\n{}",
        outcome.status,
        outcome.stdout,
        outcome.stderr
    );
}

/// Runs a compiler or a test program.
pub fn run(command: Command, what: &str) {
    run_within(command, what, DEADLINE);
}

/// `cc` with the tests' flags, compiling `sources` into `exe`.
pub fn cc(sources: &[PathBuf], exe: &Path) -> Command {
    let mut cc = Command::new("cc");
    cc.args(C_FLAGS).args(sources).arg("-o").arg(exe);
    cc
}

/// Adds the header and the shared library to a compiler's command.
pub fn use_shared_library(compiler: &mut Command) {
    let lib = library_dir();
    compiler
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-L")
        .arg(lib)
        .arg("-lstrata")
        .arg("-lpthread")
        .arg(format!("-Wl,-rpath,{}", lib.display()));
}

/// Whether `program` can be run (`--version` answers).
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}
