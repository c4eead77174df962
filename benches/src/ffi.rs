//! The C peers built by `build.rs`: libitm workloads and, when libgc is
//! present, the Boehm workloads.

use std::ffi::c_void;

extern "C" {
    pub fn itm_bank_run(
        accounts: *mut i64,
        n: usize,
        first: usize,
        len: usize,
        seed: u64,
        read_every: u32,
        stop: *const i32,
        ops: *mut u64,
    ) -> u64;
    pub fn itm_set_new(buckets: usize) -> *mut c_void;
    pub fn itm_set_free(set: *mut c_void);
    pub fn itm_set_size(set: *mut c_void) -> usize;
    pub fn itm_set_op(set: *mut c_void, kind: i32, key: i64) -> i32;
    /// The intset loop shared by the libitm sets (`c/intset_driver.c`).
    pub fn itm_intset_drive(
        set: *mut c_void,
        op: SetOp,
        range: i64,
        update_pct: u32,
        seed: u64,
        stop: *const i32,
        ops: *mut u64,
        delta: *mut i64,
    );
}

/// One intset operation of a libitm set: 0 insert, 1 remove, 2 contains.
pub type SetOp = unsafe extern "C" fn(set: *mut c_void, kind: i32, key: i64) -> i32;

#[cfg(strata_boehm)]
extern "C" {
    pub fn boehm_init();
    pub fn boehm_register_thread() -> i32;
    pub fn boehm_unregister_thread();
    pub fn boehm_trees(depth: i32, iterations: i64) -> i64;
    pub fn boehm_long_lived(depth: i32) -> i64;
    pub fn boehm_check_long_lived() -> i64;
    pub fn boehm_gcbench_depth(depth: i32, iterations: i64) -> i64;
    pub fn boehm_gcbench_array(len: i64) -> f64;
}

/// Why the boehm runtime is unavailable, if it is.
pub fn boehm_missing() -> Option<&'static str> {
    if cfg!(strata_boehm) {
        None
    } else {
        Some("boehm: skipped, libgc-dev (pkg-config bdw-gc) was not found at build time")
    }
}

/// Initialises Boehm GC once.
#[cfg(strata_boehm)]
pub fn boehm_start() {
    static INIT: std::sync::Once = std::sync::Once::new();
    // SAFETY: GC_INIT and thread registration setup, once, from Rust.
    INIT.call_once(|| unsafe { boehm_init() });
}

extern "C" {
    pub fn itm_ordered_new(rb: i32) -> *mut c_void;
    pub fn itm_ordered_op(set: *mut c_void, kind: i32, key: i64) -> i32;
    pub fn itm_ordered_size(set: *mut c_void) -> usize;
}
