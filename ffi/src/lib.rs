//! The C ABI of Strata (`strata.h`, `libstrata.so`/`.a`) for host
//! interpreters: types registered at run time with trace callbacks,
//! shadow-stack roots, begin/commit with a "doomed" query, errors as codes
//! with a retrievable message.
//!
//! Not built yet: the crate holds the place the workspace layout fixes
//! (heap <- gc <- stm <- ffi) and exports nothing. Its issue comes after the
//! heap, the transactions and the benchmark command; the core is shaped for
//! it (run-time type registry with trace callbacks in `strata-heap`, the
//! shadow stack and error values in `strata-gc`).
