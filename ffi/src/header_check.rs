//! What a header generator would guarantee, checked against the
//! hand-written `include/strata.h` (see `DESIGN.md`, "C ABI", "The
//! header"): it declares exactly the functions the library exports, and
//! its versions, status values, layout values and struct sizes are the
//! library's.

use crate::config::strata_config;
use crate::reports::{strata_abort_info, STRATA_ABORT_NONE};
use crate::stats::strata_stats;
use crate::status::Status;
use crate::types::{strata_type_desc, LAYOUT_ARRAY, LAYOUT_FIXED};
use crate::version::ABI_VERSION;
use std::collections::BTreeSet;
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn header() -> String {
    read("include/strata.h")
}

/// The functions the header declares for the library to export: every
/// `strata_` name followed by `(` on a line that starts a declaration (at
/// column 0, not a `static inline` definition, a typedef or a comment).
fn declared() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in header().lines() {
        let starts_declaration = line.starts_with(|c: char| c.is_ascii_alphabetic())
            && !line.starts_with("static")
            && !line.starts_with("typedef");
        if !starts_declaration {
            continue;
        }
        if let Some(open) = line.find('(') {
            let before = &line[..open];
            let start = before.rfind([' ', '*']).map_or(0, |i| i + 1);
            if before[start..].starts_with("strata_") {
                names.insert(before[start..].to_owned());
            }
        }
    }
    names
}

/// The functions the library's sources export.
fn exported() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src")).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in source.lines() {
            if let Some(rest) = line.split("extern \"C\" fn ").nth(1) {
                if line.trim_start().starts_with("pub") && rest.starts_with("strata_") {
                    names.insert(rest[..rest.find('(').unwrap()].to_owned());
                }
            }
        }
    }
    names
}

/// The value of `#define name value` in the header.
fn define(name: &str) -> String {
    let prefix = format!("#define {name} ");
    header()
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("strata.h defines no {name}"))
}

/// The `NAME = value` entries of the header's enum `name`.
fn enum_values(name: &str) -> Vec<(String, i64)> {
    let header = header();
    let start = header
        .find(&format!("typedef enum {name} {{"))
        .unwrap_or_else(|| panic!("strata.h has no enum {name}"));
    let body = &header[start..start + header[start..].find('}').unwrap()];
    body.lines()
        .filter_map(|line| {
            let (key, value) = line.trim().split_once(" = ")?;
            Some((key.to_owned(), value.trim_end_matches(',').parse().unwrap()))
        })
        .collect()
}

#[test]
fn header_declares_what_the_library_exports() {
    assert_eq!(declared(), exported());
    assert!(declared().contains("strata_heap_create_checked"));
}

#[test]
fn header_versions_are_the_library_versions() {
    assert_eq!(
        define("STRATA_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        define("STRATA_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        define("STRATA_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    assert_eq!(define("STRATA_ABI_VERSION"), ABI_VERSION.to_string());
}

/// `STRATA_ERROR_NULL_ARGUMENT` for `NullArgument`.
fn c_name(status: Status) -> String {
    // Success and an abort are outcomes, not errors.
    let mut name = String::from(match status {
        Status::Ok | Status::Aborted => "STRATA",
        _ => "STRATA_ERROR",
    });
    for c in format!("{status:?}").chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[test]
fn header_status_codes_are_the_library_codes() {
    use Status::*;
    let all = [
        Ok,
        NullArgument,
        InvalidHeap,
        NotAttached,
        WrongThread,
        AlreadyAttached,
        HeapBusy,
        InvalidConfig,
        AbiMismatch,
        InvalidType,
        Blocked,
        NotBlocked,
        TooManyThreads,
        System,
        Internal,
        InTransaction,
        NoTransaction,
        Aborted,
        UnknownType,
        BadSize,
        TooLarge,
        OutOfMemory,
        RootStack,
        NotARefSlot,
        OtherHeap,
        InvalidGlobal,
        InvalidStructure,
    ];
    let rust: Vec<(String, i64)> = all.iter().map(|&s| (c_name(s), s as i64)).collect();
    assert_eq!(enum_values("strata_status"), rust);
    assert_eq!(
        InvalidStructure as usize + 1,
        all.len(),
        "a status is missing here"
    );
}

#[test]
fn header_layouts_and_struct_sizes_are_the_library_ones() {
    assert_eq!(
        enum_values("strata_layout"),
        vec![
            ("STRATA_LAYOUT_FIXED".to_owned(), LAYOUT_FIXED as i64),
            ("STRATA_LAYOUT_ARRAY".to_owned(), LAYOUT_ARRAY as i64)
        ]
    );
    // ffi/tests/c/types.c and lifecycle.c assert the same sizes in C.
    assert_eq!(size_of::<strata_config>(), 64);
    assert_eq!(size_of::<strata_type_desc>(), 64);
    assert_eq!(size_of::<strata_stats>(), 176);
}

#[test]
fn header_abort_kinds_and_info_are_the_library_ones() {
    let mut kinds = vec![("STRATA_ABORT_NONE".to_owned(), STRATA_ABORT_NONE as i64)];
    for kind in strata_rs::AbortKind::ALL {
        let name = kind.name().to_uppercase().replace('-', "_");
        kinds.push((format!("STRATA_ABORT_{name}"), kind.index() as i64 + 1));
    }
    assert_eq!(enum_values("strata_abort_kind"), kinds);
    // ffi/tests/c/conflict_reports.c asserts the same size in C.
    assert_eq!(size_of::<strata_abort_info>(), 56);
}

/// The object layout and the thread prefix the header's inline fast paths
/// use are the library's (ABI version 4).
#[test]
fn header_fast_path_layout_is_the_library_one() {
    use crate::fast_path::{FastType, Prefix, FAST_TYPES, NO_TYPE};
    use crate::thread::strata_thread;
    assert_eq!(
        define("STRATA_HEADER_BYTES"),
        strata_rs::OBJECT_HEADER_BYTES.to_string()
    );
    let bit = |name: &str| {
        let value = define(name);
        let shift: u32 = value
            .strip_prefix("((uint64_t)1 << ")
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{name} is {value}"))
            .parse()
            .unwrap();
        1u64 << shift
    };
    assert_eq!(bit("STRATA_HEADER_PRIVATE"), strata_rs::PRIVATE_BIT);
    assert_eq!(bit("STRATA_HEADER_REMEMBERED"), strata_rs::REMEMBERED_BIT);
    let hex = |name: &str, cast: &str| {
        let value = define(name);
        let digits = value
            .strip_prefix(&format!("(({cast})0x"))
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{name} is {value}"));
        u64::from_str_radix(digits, 16).unwrap()
    };
    assert_eq!(
        hex("STRATA_HEADER_TYPE_MASK", "uint64_t"),
        strata_rs::HEADER_TYPE_MASK
    );
    assert_eq!(
        hex("STRATA_HEADER_OWNER_MASK", "uint64_t"),
        strata_rs::HEADER_OWNER_MASK
    );
    assert_eq!(
        define("STRATA_HEADER_LINK_OFFSET"),
        strata_rs::OBJECT_LINK_OFFSET.to_string()
    );
    assert_eq!(
        define("STRATA_VERSION_HEADER_BYTES"),
        strata_rs::VERSION_HEADER_BYTES.to_string()
    );
    assert_eq!(hex("STRATA_NO_TYPE", "uint32_t"), u64::from(NO_TYPE));
    assert_eq!(define("STRATA_FAST_TYPES"), FAST_TYPES.to_string());
    // The prefix is the handle's first field, and its fields are the
    // header's, in its order, of its sizes (every one a word but the type
    // table's entries, two `uint32_t` and a `uint64_t`).
    assert_eq!(std::mem::offset_of!(strata_thread, prefix), 0);
    assert_eq!(size_of::<FastType>(), 16);
    assert_eq!(size_of::<Prefix>(), 232);
    // `window` is the header's sixteen fields from `alloc_cursor` to
    // `owner_bits`, in their order (`InlineWindow` is `repr(C)`).
    assert_eq!(std::mem::offset_of!(Prefix, window), 8);
    assert_eq!(size_of::<strata_rs::InlineWindow>(), 128);
    assert_eq!(
        std::mem::offset_of!(strata_rs::InlineWindow, alloc_cursor),
        0
    );
    assert_eq!(std::mem::offset_of!(strata_rs::InlineWindow, snapshot), 72);
    assert_eq!(std::mem::offset_of!(strata_rs::InlineWindow, reads_end), 96);
    assert_eq!(
        std::mem::offset_of!(strata_rs::InlineWindow, owner_bits),
        120
    );
    assert_eq!(std::mem::offset_of!(Prefix, types), 168);
    assert!(header().contains(
        "typedef struct strata_fast_type {
    uint32_t type_id;
    uint32_t object_bytes;
    uint64_t ref_mask;
} strata_fast_type;"
    ));
    assert!(header().contains(
        "typedef struct strata_thread_prefix {
    uintptr_t fast_owner;
    uintptr_t alloc_cursor;
    uintptr_t alloc_limit;
    uint64_t alloc_flags;
    uintptr_t nursery_start;
    uintptr_t nursery_end;
    void **roots_base;
    void **roots_floor;
    void **roots_top;
    void **roots_end;
    uint64_t snapshot;
    const void **reads_base;
    const void **reads_top;
    const void **reads_end;
    const void *owned_anchor;
    void *owned_copy;
    uint64_t owner_bits;
    const void *global;
    void *global_obj;
    uint64_t global_since;
    uint64_t global_changes;
    strata_fast_type types[STRATA_FAST_TYPES];
} strata_thread_prefix;"
    ));
    assert!(header().contains("sizeof(strata_thread_prefix) == 232"));
    assert!(header().contains("extern uint64_t strata_globals_changed_;"));
    assert_eq!(size_of::<crate::objects::ChangeCount>(), 64);
}
