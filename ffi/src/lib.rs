//! The C ABI of Strata: `include/strata.h` over `libstrata.so` and
//! `libstrata.a`, for host interpreters written in C. Each module holds one
//! part of the ABI: `status` (status codes, the last error, the panic
//! boundary), `version`, `config`, `heap` (heap handles), `thread` (thread
//! handles, attach, detach, blocking sections), `fast_path` (what the
//! header's inline paths read, and the handle memory they may read),
//! `types` (type
//! registration), `tx` (transactions), `objects` (allocation, barriers,
//! the shadow stack, global roots), `structures` (the conflict-free
//! structures behind handles), `map_object` and `queue_object` (the
//! map and the queue that are heap objects), `stats` (statistics), `reports`
//! (markers and the last abort's record). The decisions behind it are in `DESIGN.md`, "C ABI"; the
//! header is the host's manual.
//!
//! Every function maps onto the Rust API of the `strata` crate (renamed
//! `strata_rs` here: this library's own crate name is `strata`).
//!
//! # Invariants the unsafe code relies on
//!
//! - **Handles are looked up before they are used.** A `strata_heap`
//!   (or `strata_global`) pointer is dereferenced only while its
//!   registry's lock is held and the registry lists it; an address is
//!   listed exactly while its box is alive (`heap.rs`, `objects.rs`). A `strata_thread` pointer is dereferenced only
//!   when it was found, by address, in the calling OS thread's list of
//!   attachments, which owns the boxes (`thread.rs`). A pointer that is not
//!   listed is reported, never read.
//! - **The host's promises.** Input pointers other than handles (a config,
//!   a type description, a name, an offsets array, an object: a live one
//!   the thread holds, at its current address) point at readable,
//!   initialised memory of their declared type and length, and out-pointers
//!   at writable memory, as the header states; the library checks them for
//!   NULL only, which is all it can check.
//! - **No unwinding into C.** Every exported function runs its body in
//!   [`status::boundary`], which catches panics.

#![allow(non_camel_case_types)]

mod config;
mod fast_path;
#[cfg(test)]
mod header_check;
mod heap;
mod map_object;
mod objects;
mod queue_object;
mod registry;
mod reports;
mod stats;
mod status;
mod structures;
mod thread;
mod tx;
mod types;
mod version;
