//! Runs the C tests in `tests/c/`: each program is compiled with the
//! system C compiler (`cc`, strict C11, every warning an error) against
//! `include/strata.h`, linked against `libstrata.so` (and once
//! `libstrata.a`), and run with the heap verifier on and a deadline, so
//! that a hang (a collection waiting for a thread forever) fails the test.
//! The header is also compiled as C++ when a C++ compiler is installed,
//! and when valgrind is installed (CI installs it) each program linked
//! against the shared library runs once more under it: no invalid read or
//! write, no use of uninitialised memory, no memory definitely lost (a
//! handle left by a thread that exits attached must be freed).
//!
//! `cargo test` does not build a package's `cdylib` and `staticlib` for
//! its integration tests (they link only an rlib, which this package has
//! not: see `DESIGN.md`, "C ABI"), so the first test to need the library
//! builds it with cargo, into the target directory and profile of this
//! test (cargo holds no lock while tests run).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a compiler or a program may run: far above what each takes.
const DEADLINE: Duration = Duration::from_secs(120);

/// How long building the library may take (from clean, on a slow machine).
const BUILD_DEADLINE: Duration = Duration::from_secs(1800);

const C_FLAGS: &[&str] = &["-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror"];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// This build's `libstrata.so` and `libstrata.a`, built once, up to date:
/// the directory that holds them.
fn library_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // This test is `<target>/<profile dir>/deps/c_programs-<hash>`.
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

fn output_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Runs `command` to its end within `deadline`; panics with its output if
/// it fails. The output goes to files, which a chatty program cannot fill
/// as it can a pipe nobody reads while we wait.
fn run_within(mut command: Command, what: &str, deadline: Duration) {
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
    assert!(
        status.success(),
        "{what}: {status}\n--- stdout\n{}--- stderr\n{}",
        std::fs::read_to_string(&stdout).unwrap_or_default(),
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
}

/// Runs a compiler or a test program.
fn run(command: Command, what: &str) {
    run_within(command, what, DEADLINE);
}

/// The system libraries a program linked with `libstrata.a` needs, as
/// `strata.pc` lists them (what `rustc --print native-static-libs` says on
/// Linux).
fn static_libs() -> Vec<String> {
    let pc = std::fs::read_to_string(crate_dir().join("strata.pc.in")).unwrap();
    let libs = pc
        .lines()
        .find_map(|line| line.strip_prefix("Libs.private:"))
        .expect("strata.pc.in has Libs.private");
    libs.split_whitespace().map(str::to_owned).collect()
}

/// How a test program is linked.
enum Linking {
    Shared,
    Static,
}

/// `cc` with the tests' flags, compiling `source` into `exe`.
fn cc(source: &Path, exe: &Path) -> Command {
    let mut cc = Command::new("cc");
    cc.args(C_FLAGS).arg(source).arg("-o").arg(exe);
    cc
}

/// Adds the header and the shared library to a compiler's command.
fn use_shared_library(compiler: &mut Command) {
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

/// Compiles `tests/c/<name>.c`, linked as `linking` says, and runs it.
fn compile_and_run(name: &str, linking: Linking) {
    let source = crate_dir().join("tests/c").join(format!("{name}.c"));
    let exe = output_path(&format!(
        "{name}-{}",
        match linking {
            Linking::Shared => "shared",
            Linking::Static => "static",
        }
    ));
    let mut cc = cc(&source, &exe);
    match linking {
        Linking::Shared => use_shared_library(&mut cc),
        Linking::Static => {
            cc.arg("-I")
                .arg(crate_dir().join("include"))
                .arg(library_dir().join("libstrata.a"))
                .args(static_libs());
        }
    }
    run(cc, &format!("cc {}", source.display()));
    let mut program = Command::new(&exe);
    program.env("STRATA_VERIFY", "1");
    run(program, &exe.display().to_string());
    if matches!(linking, Linking::Shared) && installed("valgrind") {
        let mut valgrind = Command::new("valgrind");
        valgrind
            .args(VALGRIND_FLAGS)
            .arg(&exe)
            .env("STRATA_VERIFY", "1");
        run(valgrind, &format!("valgrind {}", exe.display()));
    }
}

/// Valgrind's checks: any error, or memory definitely lost, fails the run.
const VALGRIND_FLAGS: &[&str] = &[
    "--quiet",
    "--error-exitcode=1",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
];

/// Whether `program` can be run (`--version` answers).
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn lifecycle() {
    compile_and_run("lifecycle", Linking::Shared);
}

#[test]
fn types() {
    compile_and_run("types", Linking::Shared);
}

#[test]
fn transactions() {
    compile_and_run("transactions", Linking::Shared);
}

#[test]
fn bad_input() {
    compile_and_run("bad_input", Linking::Shared);
}

#[test]
fn lifecycle_linked_statically() {
    compile_and_run("lifecycle", Linking::Static);
}

/// The example of `ffi/README.md`, written to `<name>.c` (one file per
/// test: tests run at once).
fn readme_example_source(name: &str) -> PathBuf {
    let readme = std::fs::read_to_string(crate_dir().join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("README.md has a C example") + "```c\n".len();
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    let source = output_path(&format!("{name}.c"));
    std::fs::write(&source, example).unwrap();
    source
}

/// The example of `ffi/README.md` compiles as it stands and runs.
#[test]
fn readme_example() {
    let exe = output_path("readme_example");
    let mut cc = cc(&readme_example_source("readme_example"), &exe);
    use_shared_library(&mut cc);
    run(cc, "cc README.md's example");
    run(Command::new(&exe), "README.md's example");
}

/// After `install.sh`, `pkg-config --cflags --libs strata` is all a
/// program needs to compile and link.
#[test]
fn installed_with_pkg_config() {
    if !installed("pkg-config") {
        eprintln!("no pkg-config: the install check is skipped");
        return;
    }
    let prefix = output_path("prefix");
    let _ = std::fs::remove_dir_all(&prefix);
    let mut install = Command::new("sh");
    install
        .arg(crate_dir().join("install.sh"))
        .arg(&prefix)
        .arg(library_dir());
    run(install, "install.sh");
    let pkg_config = |args: &[&str]| {
        let output = Command::new("pkg-config")
            .args(args)
            .arg("strata")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .output()
            .unwrap();
        assert!(output.status.success(), "pkg-config {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(
        pkg_config(&["--modversion"]).trim(),
        env!("CARGO_PKG_VERSION")
    );
    let exe = output_path("pkg_config_example");
    let mut cc = cc(&readme_example_source("pkg_config_example"), &exe);
    cc.args(pkg_config(&["--cflags", "--libs"]).split_whitespace())
        .arg("-lpthread");
    run(cc, "cc $(pkg-config --cflags --libs strata)");
    let mut example = Command::new(&exe);
    example.env("LD_LIBRARY_PATH", prefix.join("lib"));
    run(example, "the example built with pkg-config");
}

#[test]
fn header_compiles_as_cplusplus() {
    if !installed("c++") {
        eprintln!("no C++ compiler (c++): the header's C++ check is skipped");
        return;
    }
    let exe = output_path("cplusplus");
    let mut cxx = Command::new("c++");
    cxx.args(["-std=c++11", "-pedantic", "-Wall", "-Wextra", "-Werror"])
        .arg(crate_dir().join("tests/c/cplusplus.cpp"))
        .arg("-o")
        .arg(&exe);
    use_shared_library(&mut cxx);
    run(cxx, "c++ tests/c/cplusplus.cpp");
    run(Command::new(&exe), "cplusplus");
}
