//! Runs the C tests in `tests/c/`: each program is compiled with the
//! system C compiler (`cc`, strict C11, every warning an error) against
//! `include/strata.h`, linked against `libstrata.so` (and once
//! `libstrata.a`), and run with the heap verifier on and a deadline, so
//! that a hang (a collection waiting for a thread forever) fails the test.
//! The header is also compiled as C++ when a C++ compiler is installed,
//! and when valgrind is installed (CI installs it) each program linked
//! against the shared library runs once more under it: no invalid read or
//! write, no use of uninitialised memory, no memory definitely lost (a
//! handle left by a thread that exits attached must be freed). The
//! library is built as `common` says.

mod common;

use common::{
    cc, crate_dir, installed, library_dir, output_path, run, use_shared_library, VALGRIND_FLAGS,
};
use std::path::PathBuf;
use std::process::Command;

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
    let mut cc = cc(std::slice::from_ref(&source), &exe);
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
fn inline_window() {
    compile_and_run("inline_window", Linking::Shared);
}

#[test]
fn structures() {
    compile_and_run("structures", Linking::Shared);
}

#[test]
fn map_object() {
    compile_and_run("map_object", Linking::Shared);
}

#[test]
fn queue_object() {
    compile_and_run("queue_object", Linking::Shared);
}

#[test]
fn conflict_reports() {
    compile_and_run("conflict_reports", Linking::Shared);
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
    let mut cc = cc(&[readme_example_source("readme_example")], &exe);
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
    let mut cc = cc(&[readme_example_source("pkg_config_example")], &exe);
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
