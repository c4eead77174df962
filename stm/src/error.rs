//! Errors of the transactional API.

use std::fmt;
use strata_gc::{AllocError, HeapError};

/// Why a heap, a thread or a transaction failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Making the heap or attaching the thread failed.
    Heap(HeapError),
    /// An allocation inside the transaction failed (out of memory, or an
    /// array too large); the transaction was aborted and nothing it did shows.
    Alloc(AllocError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Heap(e) => e.fmt(f),
            Error::Alloc(e) => write!(f, "transaction aborted: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<HeapError> for Error {
    fn from(e: HeapError) -> Self {
        Error::Heap(e)
    }
}

impl From<AllocError> for Error {
    fn from(e: AllocError) -> Self {
        Error::Alloc(e)
    }
}
