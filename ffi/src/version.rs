//! The library's version and ABI version, which the header's
//! `STRATA_VERSION_*` and `STRATA_ABI_VERSION` must equal (checked by
//! `header_check`; the ABI version again at every heap creation, see
//! `heap.rs`).

use crate::status::boundary_value;

/// Counts incompatible changes of what `strata.h` bakes into a host:
/// struct layouts, status values, object layout. 2: the inline fast paths
/// (the header size, the `PRIVATE` bit, `strata_thread_prefix`).
pub const ABI_VERSION: u32 = 4;

/// The package version as `major << 16 | minor << 8 | patch`.
fn packed_version() -> u32 {
    let part = |text: &str| text.parse::<u32>().expect("Cargo versions are numbers");
    part(env!("CARGO_PKG_VERSION_MAJOR")) << 16
        | part(env!("CARGO_PKG_VERSION_MINOR")) << 8
        | part(env!("CARGO_PKG_VERSION_PATCH"))
}

/// `strata_version`: see the header.
#[no_mangle]
pub extern "C" fn strata_version() -> u32 {
    boundary_value("strata_version", 0, packed_version)
}

/// `strata_abi_version`: see the header.
#[no_mangle]
pub extern "C" fn strata_abi_version() -> u32 {
    boundary_value("strata_abi_version", ABI_VERSION, || ABI_VERSION)
}
