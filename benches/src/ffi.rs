//! The C peers built by `build.rs`: libitm workloads, the `strata-c`
//! workloads (C against `strata.h`) and, when libgc is present, the Boehm
//! workloads.

use crate::result::RunResult;
use std::ffi::{c_char, c_void, CStr};
// Links the C ABI, whose `strata_*` functions the `strata-c` workloads call
// (nothing in Rust names them but `strata_last_error`).
use strata_c_abi as _;

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

/// A Boehm workload's hold on the collector ([`boehm_start`]): the calling
/// thread is registered with it until the session drops, and no other
/// session runs meanwhile (the C code keeps its long-lived tree in a
/// static, and tests run workloads on threads of their own).
#[cfg(strata_boehm)]
pub struct BoehmSession {
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

/// Initialises Boehm GC once, on a thread that lives as long as the
/// process (the thread that calls `GC_INIT` is registered implicitly and
/// must not end while registered), then registers the calling thread.
#[cfg(strata_boehm)]
pub fn boehm_start() -> BoehmSession {
    static INIT: std::sync::Once = std::sync::Once::new();
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    INIT.call_once(|| {
        let (initialised, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // SAFETY: GC_INIT and thread registration setup, once.
            unsafe { boehm_init() };
            initialised.send(()).expect("boehm_start waits for it");
            loop {
                std::thread::park();
            }
        });
        wait.recv()
            .expect("the initialising thread says when it is done");
    });
    // SAFETY: Boehm is initialised and allows registrations; this thread
    // is not registered yet (only the initialising thread is implicitly).
    let status = unsafe { boehm_register_thread() };
    assert_eq!(status, 0, "GC_register_my_thread failed: {status}");
    BoehmSession {
        _one_at_a_time: guard,
    }
}

#[cfg(strata_boehm)]
impl Drop for BoehmSession {
    fn drop(&mut self) {
        // SAFETY: `boehm_start` registered this thread (a session is not
        // `Send`: the guard it holds is not).
        unsafe { boehm_unregister_thread() };
    }
}

extern "C" {
    pub fn itm_ordered_new(rb: i32) -> *mut c_void;
    pub fn itm_ordered_op(set: *mut c_void, kind: i32, key: i64) -> i32;
    pub fn itm_ordered_size(set: *mut c_void) -> usize;
}

/// A `strata_status` (`STRATA_OK` is 0).
pub type StrataStatus = i32;

/// `strata_bank` and `strata_trees` of `c/strata_bank.c` and
/// `c/strata_trees.c`, opaque here.
pub enum StrataBank {}
pub enum StrataTrees {}

/// `strata_c_counts` (`c/strata_c.h`): a strata-c run's heap counters.
#[repr(C)]
#[derive(Default)]
pub struct StrataCounts {
    pub commits: u64,
    pub aborts: u64,
    pub minor_collections: u64,
    pub major_collections: u64,
    pub minor_nanos: u64,
    pub major_nanos: u64,
    pub pause_max_nanos: u64,
    pub minor_pause_p99_nanos: u64,
    pub live_bytes_after_major: u64,
}

impl StrataCounts {
    /// Records the counters in `result`, as `RunResult::set_gc` does for
    /// the Rust rows (the 99th percentile is the minor collections').
    pub fn record(&self, result: &mut RunResult) {
        result.commits = Some(self.commits);
        result.aborts = Some(self.aborts);
        result.minor_gcs = Some(self.minor_collections);
        result.major_gcs = Some(self.major_collections);
        result.gc_pause_max_us = Some(self.pause_max_nanos as f64 / 1000.0);
        result.gc_pause_p99_us = Some(self.minor_pause_p99_nanos as f64 / 1000.0);
        result.gc_minor_seconds = Some(self.minor_nanos as f64 * 1e-9);
        result.gc_major_seconds = Some(self.major_nanos as f64 * 1e-9);
        result.live_bytes = Some(self.live_bytes_after_major);
    }
}

extern "C" {
    pub fn strata_last_error() -> *const c_char;
    pub fn strata_bank_new(n: usize, bank_out: *mut *mut StrataBank) -> StrataStatus;
    pub fn strata_bank_run(
        bank: *mut StrataBank,
        first: usize,
        len: usize,
        seed: u64,
        read_every: u32,
        stop: *const i32,
        ops: *mut u64,
        wrong: *mut u64,
    ) -> StrataStatus;
    pub fn strata_bank_finish(
        bank: *mut StrataBank,
        total: *mut i64,
        counts: *mut StrataCounts,
    ) -> StrataStatus;
    pub fn strata_trees_new(trees_out: *mut *mut StrataTrees) -> StrataStatus;
    pub fn strata_trees_one(trees: *mut StrataTrees, depth: i32, count: *mut u64) -> StrataStatus;
    pub fn strata_trees_keep(trees: *mut StrataTrees, depth: i32) -> StrataStatus;
    pub fn strata_trees_wait(trees: *mut StrataTrees, waiting: i32) -> StrataStatus;
    pub fn strata_trees_work(
        trees: *mut StrataTrees,
        depth: i32,
        iterations: u64,
        sum: *mut u64,
    ) -> StrataStatus;
    pub fn strata_trees_finish(
        trees: *mut StrataTrees,
        long_lived: *mut u64,
        counts: *mut StrataCounts,
    ) -> StrataStatus;
}

/// Panics with the calling thread's last strata error unless `status` is
/// `STRATA_OK`: a strata-c workload fails only on a bug or a full heap, as
/// the Rust rows' `expect`s do.
pub fn strata_ok(status: StrataStatus, what: &str) {
    if status != 0 {
        // SAFETY: the library's last error is a NUL-terminated string it
        // owns, valid until this thread's next failing call.
        let message = unsafe { CStr::from_ptr(strata_last_error()) };
        panic!("{what}: status {status}: {}", message.to_string_lossy());
    }
}
