//! Builds the C peers: the libitm workloads (`gcc -fgnu-tm`), the
//! `strata-c` workloads (against `ffi/include/strata.h`; their `strata_*`
//! calls resolve into the `strata-c-abi` rlib this package depends on) and,
//! when pkg-config finds Boehm GC (`bdw-gc`), the Boehm workloads. Without
//! libgc the `boehm` runtime reports itself as skipped.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=c");
    println!("cargo:rustc-check-cfg=cfg(strata_boehm)");

    cc::Build::new()
        .file("c/itm_bank.c")
        .file("c/itm_intset.c")
        .file("c/itm_ordered.c")
        .file("c/intset_driver.c")
        .flag("-fgnu-tm")
        // A transaction restart is a longjmp; the loop variables gcc warns
        // about are not changed inside transactions.
        .flag("-Wno-clobbered")
        .opt_level(2)
        .compile("strata_itm");
    println!("cargo:rustc-link-lib=itm");

    println!("cargo:rerun-if-changed=../ffi/include/strata.h");
    cc::Build::new()
        .file("c/strata_c.c")
        .file("c/strata_bank.c")
        .file("c/strata_trees.c")
        .include("../ffi/include")
        .flag("-std=c11")
        .warnings_into_errors(true)
        .extra_warnings(true)
        .opt_level(2)
        .compile("strata_c");

    let libs = Command::new("pkg-config")
        .args(["--libs", "--cflags", "bdw-gc"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(out) = libs {
        let flags = String::from_utf8_lossy(&out.stdout).to_string();
        let mut build = cc::Build::new();
        build.file("c/boehm.c").opt_level(2);
        for flag in flags.split_whitespace() {
            if let Some(dir) = flag.strip_prefix("-I") {
                build.include(dir);
            } else if let Some(dir) = flag.strip_prefix("-L") {
                println!("cargo:rustc-link-search=native={dir}");
            } else if let Some(lib) = flag.strip_prefix("-l") {
                println!("cargo:rustc-link-lib={lib}");
            }
        }
        build.compile("strata_boehm");
        println!("cargo:rustc-cfg=strata_boehm");
    } else {
        println!(
            "cargo:warning=libgc-dev (pkg-config bdw-gc) not found: the boehm runtime is skipped"
        );
    }
}
