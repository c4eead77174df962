//! Errors of heap creation and thread attachment.

use std::fmt;
use strata_heap::ConfigError;

/// Why a heap could not be made or a thread not attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeapError {
    /// The configuration was refused.
    Config(ConfigError),
    /// Mapping memory failed.
    Io(String),
    /// Every owner slot is taken (more than 65,535 threads attached).
    TooManyThreads,
    /// The calling thread already holds a handle of this heap (see
    /// `DESIGN.md`, "Safepoints"): use that one.
    AlreadyAttached,
}

impl fmt::Display for HeapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapError::Config(e) => e.fmt(f),
            HeapError::Io(e) => write!(f, "mapping heap memory failed: {e}"),
            HeapError::TooManyThreads => write!(
                f,
                "too many threads attached (at most {})",
                crate::safepoint::MAX_MUTATORS
            ),
            HeapError::AlreadyAttached => write!(
                f,
                "this thread is already attached to this heap: use its handle \
                 (two handles of one heap on one thread would deadlock a collection)"
            ),
        }
    }
}

impl std::error::Error for HeapError {}

impl From<ConfigError> for HeapError {
    fn from(e: ConfigError) -> Self {
        HeapError::Config(e)
    }
}
