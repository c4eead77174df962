//! `intset` with `--structure skiplist|rbtree` on the transactional
//! runtimes: Strata and stm-core run the algorithms of `ordered.rs`, libitm
//! the same algorithms in C (`c/itm_ordered.c`).

use super::bank::timed;
use super::intset::{drive, drive_libitm, drive_strata, finish_strata, Load, SetOutcome};
use super::ordered::{rb_count, skip_count};
use super::ordered_runtimes::{apply_rb, apply_skip, Shape};
use crate::result::RunResult;

pub fn libitm(shape: Shape, keys: &[i64], load: &Load) -> SetOutcome {
    use crate::ffi;
    // SAFETY: the set is used through the C functions only; it lives until
    // the process ends (its removed nodes are leaked, see the C file).
    let set = unsafe { ffi::itm_ordered_new(i32::from(shape == Shape::Rb)) };
    let (initial, counts) = drive_libitm(set, ffi::itm_ordered_op, keys, load);
    // SAFETY: no thread uses the set any more.
    let size = unsafe { ffi::itm_ordered_size(set) };
    (initial, counts, size, size)
}

pub fn stm_core(shape: Shape, keys: &[i64], load: &Load) -> SetOutcome {
    use super::ordered_runtimes::stm_core_stores::{new_skip_head, Rb, Skip};
    use ::stm_core::{atomically, TVar};
    let head = new_skip_head();
    let root = TVar::new(None);
    let op = |kind: u8, key: i64| {
        atomically(|tx| match shape {
            Shape::Skip => apply_skip(
                &mut Skip {
                    tx,
                    head: head.clone(),
                },
                kind,
                key,
            ),
            Shape::Rb => apply_rb(&mut Rb { tx, root: &root }, kind, key),
        })
    };
    let initial = keys.iter().filter(|&&k| op(0, k)).count();
    let counts = timed(load.threads, load.duration, |t, stopped| {
        drive(
            t,
            stopped,
            load.range,
            load.update,
            |k| op(0, k),
            |k| op(1, k),
            |k| op(2, k),
        )
    });
    let size = atomically(|tx| match shape {
        Shape::Skip => skip_count(&mut Skip {
            tx,
            head: head.clone(),
        }),
        Shape::Rb => Ok(rb_count(&mut Rb { tx, root: &root })?.unwrap_or(usize::MAX)),
    });
    (initial, counts, size, size)
}

pub fn strata(shape: Shape, keys: &[i64], load: &Load, result: &mut RunResult) -> SetOutcome {
    use super::ordered_runtimes::strata_stores::{
        new_rb_root, new_skip_head, Rb, RbRoot, Skip, SkipNode,
    };
    use strata::{Heap, Root, Thread};

    let heap = Heap::from_env().expect("heap configuration");
    let mut main = heap.attach().expect("attach");
    let (head, holder): (Root<SkipNode>, Root<RbRoot>) = main
        .atomically(|tx| {
            let head = new_skip_head(tx);
            let holder = new_rb_root(tx);
            (tx.root(head), tx.root(holder))
        })
        .expect("heap limit");
    let (head, holder) = (main.global(&head), main.global(&holder));
    let op = |th: &mut Thread, kind: u8, key: i64| -> bool {
        th.atomically(|tx| {
            let changed = match shape {
                Shape::Skip => {
                    let head = tx.get_global(&head);
                    apply_skip(&mut Skip { tx, head }, kind, key)
                }
                Shape::Rb => {
                    let holder = tx.get_global(&holder);
                    apply_rb(&mut Rb { tx, holder }, kind, key)
                }
            };
            changed.unwrap_or_else(|never| match never {})
        })
        .expect("heap limit")
    };
    let initial = keys.iter().filter(|&&k| op(&mut main, 0, k)).count();
    let counts = drive_strata(&heap, &mut main, &op, load);
    let (size, recount) = main
        .atomically(|tx| match shape {
            Shape::Skip => {
                let head = tx.get_global(&head);
                let n = skip_count(&mut Skip { tx, head }).unwrap_or_else(|never| match never {});
                (n, n)
            }
            Shape::Rb => {
                let holder = tx.get_global(&holder);
                let n = rb_count(&mut Rb { tx, holder })
                    .unwrap_or_else(|never| match never {})
                    .unwrap_or(usize::MAX);
                (n, n)
            }
        })
        .expect("heap limit");
    finish_strata(result, main, &heap);
    (initial, counts, size, recount)
}
