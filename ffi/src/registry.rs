//! Registries of live handles by address: how a call tells a live heap or
//! global root from a freed one without reading it (see `DESIGN.md`, "C
//! ABI", "Handles"). Each user keeps the invariant that an address is
//! listed exactly while its box is alive: added after the box is made,
//! removed under the lock before the box is freed.

use crate::status::{non_null, Failure, Status};
use std::sync::{Mutex, MutexGuard};

/// The addresses of the live handles of one kind.
pub struct Registry {
    live: Mutex<Vec<usize>>,
}

impl Registry {
    pub const fn new() -> Registry {
        Registry {
            live: Mutex::new(Vec::new()),
        }
    }

    /// The list, locked: while the guard lives, a listed handle stays alive.
    pub fn lock(&self) -> MutexGuard<'_, Vec<usize>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where `live` lists `handle`, the argument named `argument`: NULL is
/// [`Failure::null`], an unlisted address `status`, with a message that it
/// is not a live `what`.
pub fn position<T>(
    live: &[usize],
    handle: *const T,
    argument: &str,
    status: Status,
    what: &str,
) -> Result<usize, Failure> {
    non_null(handle, argument)?;
    live.iter()
        .position(|&h| h == handle as usize)
        .ok_or_else(|| Failure::new(status, format!("{handle:p} is not a live {what}")))
}
