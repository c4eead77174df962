//! Registries of live handles by address: how a call tells a live heap or
//! global root from a freed one without reading it (see `DESIGN.md`, "C
//! ABI", "Handles"). Each user keeps the invariant that an address is
//! listed exactly while its box is alive: added after the box is made,
//! removed under the lock before the box is freed.

use crate::status::{non_null, Failure, Status};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::LocalKey;

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

/// A registry whose handles a call checks without taking its lock in the
/// common case: it counts its changes (additions and removals, made under
/// the lock), and a thread that found a handle listed remembers it with
/// the count then (`last`, a thread-local of the registry's own); while
/// the count has not moved, the handle is still listed. A handle freed by
/// another thread during the call is the host's breach of the free rule,
/// as with the lock. Without this, every transaction using one shared
/// handle would pass the lock's line between the cores.
pub struct Checked {
    live: Registry,
    changes: &'static AtomicU64,
    last: &'static LocalKey<Cell<(usize, u64)>>,
    /// The argument's name and the handle's kind, for failures.
    argument: &'static str,
    what: &'static str,
    status: Status,
}

impl Checked {
    pub const fn new(
        changes: &'static AtomicU64,
        last: &'static LocalKey<Cell<(usize, u64)>>,
        argument: &'static str,
        what: &'static str,
        status: Status,
    ) -> Checked {
        Checked {
            live: Registry::new(),
            changes,
            last,
            argument,
            what,
            status,
        }
    }

    /// Lists `handle` (a box just made).
    pub fn add<T>(&self, handle: *const T) {
        let mut live = self.live.lock();
        live.push(handle as usize);
        self.changes.fetch_add(1, Ordering::Release);
    }

    /// Whether `handle` is listed (or the failure that says it is not),
    /// and the change count at which it was.
    pub fn check<T>(&self, handle: *const T) -> Result<u64, Failure> {
        let changed = self.changes.load(Ordering::Acquire);
        if self.last.get() == (handle as usize, changed) && !handle.is_null() {
            return Ok(changed);
        }
        let live = self.live.lock();
        self.position(&live, handle)?;
        let changed = self.changes.load(Ordering::Relaxed);
        self.last.set((handle as usize, changed));
        Ok(changed)
    }

    /// Unlists `handle`, which must be listed: its box may be freed then.
    pub fn remove<T>(&self, handle: *const T) -> Result<(), Failure> {
        let mut live = self.live.lock();
        let index = self.position(&live, handle)?;
        live.swap_remove(index);
        self.changes.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Unlists every handle for which `take` says so and returns them
    /// (their boxes may be freed then). `take` runs under the lock, so the
    /// handles it is given are alive.
    pub fn remove_where(&self, mut take: impl FnMut(usize) -> bool) -> Vec<usize> {
        let mut live = self.live.lock();
        let mut taken = Vec::new();
        live.retain(|&handle| {
            let gone = take(handle);
            if gone {
                taken.push(handle);
            }
            !gone
        });
        if !taken.is_empty() {
            self.changes.fetch_add(1, Ordering::Release);
        }
        taken
    }

    fn position<T>(&self, live: &[usize], handle: *const T) -> Result<usize, Failure> {
        position(live, handle, self.argument, self.status, self.what)
    }
}
