//! The type registry as hosts use it: types registered at run time from
//! several threads at once while others look them up. Ids are distinct,
//! 1-based and dense, every id resolves to the description registered under
//! it, a snapshot taken earlier stays valid, and an id never registered
//! resolves to nothing.

use std::sync::{Arc, Barrier};
use strata_heap::{Layout, TypeDesc, TypeRegistry};

#[test]
fn threads_registering_at_once_get_distinct_ids_that_resolve_to_their_types() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 200;
    let registry = Arc::new(TypeRegistry::default());
    let early = registry.snapshot();
    assert!(early.is_empty());
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (registry, start) = (registry.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..PER_THREAD)
                    .map(|i| {
                        let name = format!("t{t}-{i}");
                        // Half fixed with `i` reference words, half arrays
                        // whose elements are references.
                        let desc = if i.is_multiple_of(2) {
                            let offsets: Vec<u32> = (0..(i % 5) as u32).map(|k| k * 8).collect();
                            TypeDesc::fixed(&name, 8 * (i % 5) + 8).with_ref_offsets(&offsets)
                        } else {
                            TypeDesc::array(&name, 0, 8).with_element_refs()
                        };
                        let id = registry.register(desc).unwrap();
                        // Readable at once by the thread that registered it.
                        assert_eq!(registry.get(id.0).unwrap().name, name);
                        (id.0, name)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<(u32, String)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    let ids: Vec<u32> = all.iter().map(|(id, _)| *id).collect();
    let expected: Vec<u32> = (1..=(THREADS * PER_THREAD) as u32).collect();
    assert_eq!(ids, expected, "ids are not distinct, 1-based and dense");
    let snapshot = registry.snapshot();
    for (id, name) in &all {
        let info = registry.get(*id).unwrap();
        assert_eq!(&info.name, name);
        assert_eq!(info.id.0, *id);
        assert!(Arc::ptr_eq(&info, &snapshot[*id as usize - 1]));
        let i: usize = name.rsplit('-').next().unwrap().parse().unwrap();
        let expected_layout = if i.is_multiple_of(2) {
            Layout::Fixed {
                body_bytes: 8 * (i % 5) + 8,
            }
        } else {
            Layout::Array {
                fixed_bytes: 0,
                elem_bytes: 8,
            }
        };
        assert_eq!(info.layout, expected_layout, "{name}");
    }
    // The snapshot taken before any registration still reads as empty,
    // and ids past the last, and 0, are unknown.
    assert!(early.is_empty());
    assert!(registry.get(0).is_none());
    assert!(registry.get((THREADS * PER_THREAD) as u32 + 1).is_none());
}
