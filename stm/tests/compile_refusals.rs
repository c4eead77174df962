//! Programs that the compiler must refuse after type checking, when their
//! constants are evaluated (which `cargo check`, and so trybuild, does not
//! do): each is built for real, as a scratch crate depending on this one.
//!
//! - An [`Object`](strata::Object) with more reference slots than the
//!   collector's 32-bit offsets address (`REFS` near 2^29 used to wrap them).
//! - Any program built with `panic = "abort"`: conflicts travel as unwinding
//!   payloads, so it would die at its first conflict.
//!
//! The scratch crates build in their own target directory (its first run
//! builds this workspace's dependencies once, offline, from the lock file).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds a crate whose `main.rs` is `source` and whose profile adds
/// `profile` lines, and returns the compiler's output if the build failed.
fn build_failure(name: &str, source: &str, profile: &str) -> Option<String> {
    let stm = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = stm.parent().expect("stm/ is in the workspace");
    let root = workspace.join("target").join("compile-refusals");
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nstrata = {{ path = {stm:?} }}\n\n[workspace]\n\n\
         [profile.dev]\n{profile}\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), source).unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--target-dir"])
        .arg(PathBuf::from(&root).join("target"))
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    (!output.status.success()).then(|| String::from_utf8_lossy(&output.stderr).into_owned())
}

const SMALL_PROGRAM: &str = r#"
#[derive(Clone, Copy)]
struct Cell {
    value: u64,
}
impl strata::Object for Cell {
    const REFS: usize = REFS_HERE;
}

fn main() {
    let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    let mut thread = heap.attach().unwrap();
    let value = thread.atomically(|tx| {
        let cell = tx.alloc(Cell { value: 7 });
        tx.read(cell).value
    });
    assert_eq!(value.unwrap(), 7);
}
"#;

#[test]
fn the_scratch_program_builds_as_it_stands() {
    // The refusals below must come from what they change, not from the set-up.
    let failure = build_failure("fits", &SMALL_PROGRAM.replace("REFS_HERE", "2"), "");
    assert_eq!(failure, None);
}

#[test]
fn an_object_with_too_many_reference_slots_does_not_compile() {
    let failure = build_failure(
        "too_many_refs",
        &SMALL_PROGRAM.replace("REFS_HERE", "1 << 29"),
        "",
    )
    .expect("REFS = 2^29 must not compile");
    assert!(
        failure.contains("Object::REFS is at most 1 << 24"),
        "the error names the limit:\n{failure}"
    );
}

#[test]
fn a_program_built_to_abort_on_panic_does_not_compile() {
    let failure = build_failure(
        "panic_abort",
        &SMALL_PROGRAM.replace("REFS_HERE", "0"),
        "panic = \"abort\"",
    )
    .expect("panic = \"abort\" must not compile");
    assert!(
        failure.contains("strata needs panic = \"unwind\""),
        "the error says why:\n{failure}"
    );
}
