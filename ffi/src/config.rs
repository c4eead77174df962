//! `strata_config`: the heap's and the transactions' configuration as a C
//! struct, field by field `HeapConfig` and `TxConfig`, and its defaults.

use crate::status::{boundary, non_null, Failure, Status};
use std::time::Duration;
use strata_rs::{HeapConfig, ReportConfig, TxConfig};

/// `strata_config`: see the header for each field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strata_config {
    pub nursery_bytes: usize,
    pub max_heap_bytes: usize,
    pub min_major_bytes: usize,
    pub growth_factor: f64,
    pub stall_warning_ms: u64,
    pub break_bytes: usize,
    pub gc_threads: u32,
    pub max_retries: u32,
    pub pretenure: bool,
    pub huge_pages: bool,
}

/// The retries after which a transaction runs inevitably, by default (as
/// `strata::Heap` sets it).
const DEFAULT_MAX_RETRIES: u32 = 64;

impl strata_config {
    fn from_heap_config(heap: &HeapConfig) -> strata_config {
        strata_config {
            nursery_bytes: heap.nursery_bytes,
            max_heap_bytes: heap.max_heap_bytes,
            min_major_bytes: heap.min_major_bytes,
            growth_factor: heap.growth_factor,
            stall_warning_ms: heap.stall_warning.map_or(0, |after| {
                after.as_millis().clamp(1, u64::MAX as u128) as u64
            }),
            break_bytes: 0,
            gc_threads: heap.gc_threads.min(u32::MAX as usize) as u32,
            max_retries: DEFAULT_MAX_RETRIES,
            pretenure: heap.pretenure,
            huge_pages: heap.huge_pages,
        }
    }

    /// The Rust configurations this one stands for (the heap validates
    /// the first when it is made).
    pub fn to_rust(self) -> (HeapConfig, TxConfig) {
        let heap = HeapConfig {
            nursery_bytes: self.nursery_bytes,
            max_heap_bytes: self.max_heap_bytes,
            growth_factor: self.growth_factor,
            min_major_bytes: self.min_major_bytes,
            gc_threads: self.gc_threads as usize,
            pretenure: self.pretenure,
            huge_pages: self.huge_pages,
            stall_warning: match self.stall_warning_ms {
                0 => None,
                ms => Some(Duration::from_millis(ms)),
            },
        };
        let tx = TxConfig {
            max_retries: self.max_retries,
            break_bytes: match self.break_bytes {
                0 => self.nursery_bytes / 2,
                bytes => bytes,
            },
            // `strata_config` has no field for it: the environment only.
            reports: ReportConfig::from_env(),
        };
        (heap, tx)
    }
}

/// `strata_config_init`: see the header.
///
/// # Safety
/// `config` is NULL or points at writable memory for a `strata_config`.
#[no_mangle]
pub unsafe extern "C" fn strata_config_init(config: *mut strata_config) -> Status {
    boundary("strata_config_init", || {
        non_null(config, "config")?;
        let (defaults, refused) = match HeapConfig::from_env() {
            Ok(heap) => (heap, None),
            Err(e) => (HeapConfig::default(), Some(e)),
        };
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { config.write(strata_config::from_heap_config(&defaults)) };
        match refused {
            None => Ok(()),
            Some(e) => Err(Failure::new(
                Status::InvalidConfig,
                format!("{e} (the config holds the defaults without overrides)"),
            )),
        }
    })
}
