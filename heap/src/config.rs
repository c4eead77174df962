//! Heap configuration: documented defaults and environment overrides, so
//! hosts and tests can shrink a heap without recompiling.

use crate::error::ConfigError;
use crate::page::PAGE_BYTES;

/// Sizes and triggers of a heap. The defaults suit an interpreter on a
/// desktop or server; see `DESIGN.md` for what each one governs.
#[derive(Debug, Clone, PartialEq)]
pub struct HeapConfig {
    /// Bytes of each attached thread's nursery. Default 4 MiB; at least 4 KiB.
    pub nursery_bytes: usize,
    /// The heap limit: bytes of old space that may be in use. Default 8 GiB
    /// (address space is reserved for it, memory is committed on use); at
    /// least 1 MiB.
    pub max_heap_bytes: usize,
    /// A major collection starts when the old space in use has grown to
    /// `growth_factor` times the live bytes after the previous one. Default 2.0.
    pub growth_factor: f64,
    /// No major collection is triggered by growth below this many bytes of
    /// old space in use. Default 32 MiB.
    pub min_major_bytes: usize,
    /// Threads that mark in a major collection that finds much to mark:
    /// 0 (the default) means one per available core, at most 8; 1 marks on
    /// the collecting thread alone; at most [`MAX_GC_THREADS`].
    pub gc_threads: usize,
    /// Whether a thread whose full nursery was mostly alive allocates
    /// straight in the old space for a while (see `DESIGN.md`,
    /// "Pretenuring"). Default on.
    pub pretenure: bool,
    /// Whether the old space and the nurseries ask the kernel for
    /// transparent huge pages (see `DESIGN.md`, "Transparent huge pages").
    /// Default on.
    pub huge_pages: bool,
    /// A major collection that has waited this long for the other threads
    /// to reach a safepoint reports, once, on standard error, which threads
    /// it waits for (see `DESIGN.md`, "Safepoints"). Default 10 s; `None`
    /// never reports.
    pub stall_warning: Option<std::time::Duration>,
}

/// The most marking threads a major collection uses.
pub const MAX_GC_THREADS: usize = 64;

/// The smallest nursery accepted.
pub const MIN_NURSERY_BYTES: usize = 4 << 10;
/// The smallest heap limit accepted.
pub const MIN_HEAP_BYTES: usize = 1 << 20;

impl Default for HeapConfig {
    fn default() -> Self {
        HeapConfig {
            nursery_bytes: 4 << 20,
            max_heap_bytes: 8 << 30,
            growth_factor: 2.0,
            min_major_bytes: 32 << 20,
            gc_threads: 0,
            pretenure: true,
            huge_pages: true,
            stall_warning: Some(std::time::Duration::from_secs(10)),
        }
    }
}

impl HeapConfig {
    /// The defaults, overridden by `STRATA_NURSERY_BYTES` and
    /// `STRATA_MAX_HEAP_BYTES` when set (a number of bytes, optionally with a
    /// `K`, `M` or `G` suffix), `STRATA_GC_THREADS` (a count) and
    /// `STRATA_HUGE_PAGES` (`0` or `1`).
    pub fn from_env() -> Result<HeapConfig, ConfigError> {
        let mut config = HeapConfig::default();
        if let Ok(text) = std::env::var("STRATA_GC_THREADS") {
            config.gc_threads = text
                .trim()
                .parse()
                .map_err(|_| ConfigError(format!("STRATA_GC_THREADS={text:?} is not a count")))?;
        }
        if let Ok(text) = std::env::var("STRATA_HUGE_PAGES") {
            config.huge_pages = match text.trim() {
                "0" => false,
                "1" => true,
                _ => {
                    return Err(ConfigError(format!(
                        "STRATA_HUGE_PAGES={text:?} is neither 0 nor 1"
                    )))
                }
            };
        }
        if let Some(bytes) = env_bytes("STRATA_NURSERY_BYTES")? {
            config.nursery_bytes = bytes;
        }
        if let Some(bytes) = env_bytes("STRATA_MAX_HEAP_BYTES")? {
            config.max_heap_bytes = bytes;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; the heap refuses a configuration that fails.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.nursery_bytes < MIN_NURSERY_BYTES {
            return Err(ConfigError(format!(
                "nursery_bytes {} is below the minimum {MIN_NURSERY_BYTES}",
                self.nursery_bytes
            )));
        }
        if self.max_heap_bytes < MIN_HEAP_BYTES {
            return Err(ConfigError(format!(
                "max_heap_bytes {} is below the minimum {MIN_HEAP_BYTES}",
                self.max_heap_bytes
            )));
        }
        if self.max_heap_bytes > (1usize << 46) {
            return Err(ConfigError(format!(
                "max_heap_bytes {} is more address space than can be reserved",
                self.max_heap_bytes
            )));
        }
        if self.gc_threads > MAX_GC_THREADS {
            return Err(ConfigError(format!(
                "gc_threads {} is above the maximum {MAX_GC_THREADS}",
                self.gc_threads
            )));
        }
        if self.stall_warning.is_some_and(|after| after.is_zero()) {
            return Err(ConfigError(
                "stall_warning must be longer than zero (None turns it off)".into(),
            ));
        }
        if !(self.growth_factor.is_finite() && self.growth_factor >= 1.0) {
            return Err(ConfigError(format!(
                "growth_factor {} must be a finite number >= 1.0",
                self.growth_factor
            )));
        }
        Ok(())
    }

    /// The marking threads a major collection may use: `gc_threads`, or for
    /// 0 the available cores (at most 8).
    pub fn marking_threads(&self) -> usize {
        match self.gc_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            n => n,
        }
    }

    /// The number of old-space pages the heap limit allows.
    pub fn max_pages(&self) -> usize {
        self.max_heap_bytes.div_ceil(PAGE_BYTES)
    }
}

fn env_bytes(name: &str) -> Result<Option<usize>, ConfigError> {
    match std::env::var(name) {
        Ok(text) => parse_bytes(&text)
            .map(Some)
            .ok_or_else(|| ConfigError(format!("{name}={text:?} is not a byte count"))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(ConfigError(format!("{name} is not valid unicode")))
        }
    }
}

/// Parses `1234`, `64K`, `4M`, `2G` (case-insensitive, optional `iB`/`B`).
pub fn parse_bytes(text: &str) -> Option<usize> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let stripped = lower.trim_end_matches("ib").trim_end_matches('b');
    let (digits, shift) = match stripped.chars().last()? {
        'k' => (&stripped[..stripped.len() - 1], 10),
        'm' => (&stripped[..stripped.len() - 1], 20),
        'g' => (&stripped[..stripped.len() - 1], 30),
        _ => (stripped, 0),
    };
    let value: usize = digits.trim().parse().ok()?;
    value.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes() {
        assert_eq!(parse_bytes("64K"), Some(64 << 10));
        assert_eq!(parse_bytes("4MiB"), Some(4 << 20));
        assert_eq!(parse_bytes("2g"), Some(2 << 30));
        assert_eq!(parse_bytes("123"), Some(123));
        assert_eq!(parse_bytes("x"), None);
        assert_eq!(parse_bytes(""), None);
        assert_eq!(parse_bytes("99999999999999999999G"), None);
    }

    #[test]
    fn rejects_bad_values() {
        let tiny = HeapConfig {
            nursery_bytes: 100,
            ..HeapConfig::default()
        };
        assert!(tiny.validate().is_err());
        let nan = HeapConfig {
            growth_factor: f64::NAN,
            ..HeapConfig::default()
        };
        assert!(nan.validate().is_err());
        let instant = HeapConfig {
            stall_warning: Some(std::time::Duration::ZERO),
            ..HeapConfig::default()
        };
        assert!(instant.validate().is_err());
        let silent = HeapConfig {
            stall_warning: None,
            ..HeapConfig::default()
        };
        assert!(silent.validate().is_ok());
        assert!(HeapConfig::default().validate().is_ok());
    }
}
