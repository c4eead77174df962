//! Errors returned by allocation, configuration and type registration.

use std::fmt;

/// Why an allocation failed. The heap is consistent and usable after each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocError {
    /// The type id was never registered.
    UnknownType(u32),
    /// The requested size is zero, overflows, or the array length is absurd.
    BadSize { bytes: u128 },
    /// The object is bigger than the whole heap limit.
    TooLarge { bytes: usize, limit: usize },
    /// The heap limit is reached and a major collection did not free enough.
    OutOfMemory { bytes: usize, limit: usize },
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::UnknownType(id) => write!(f, "unknown type id {id}"),
            AllocError::BadSize { bytes } => write!(f, "invalid allocation size {bytes} bytes"),
            AllocError::TooLarge { bytes, limit } => {
                write!(
                    f,
                    "allocation of {bytes} bytes exceeds the heap limit of {limit} bytes"
                )
            }
            AllocError::OutOfMemory { bytes, limit } => write!(
                f,
                "out of memory: {bytes} bytes do not fit in the heap limit of {limit} bytes \
                 after a major collection"
            ),
        }
    }
}

impl std::error::Error for AllocError {}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid heap configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A type description that cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError(pub String);

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid type description: {}", self.0)
    }
}

impl std::error::Error for TypeError {}
