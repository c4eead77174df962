//! Attempts driven call by call (the C ABI's transactions): objects as
//! addresses, data written in place or into private copies, references
//! through both write barriers, the shadow stack across collections and
//! aborts, conflicts that doom an attempt without unwinding to the caller.

mod common;

use common::Account;
use std::sync::Barrier;
use strata::{Address, Heap, HeapConfig, ManualError, Thread, TypeDesc, TypeId};

/// A list node: `next` at body offset 0, then a number.
fn node_type(heap: &Heap) -> TypeId {
    heap.register_type(TypeDesc::fixed("node", 16).with_ref_offsets(&[0]))
        .unwrap()
}

fn tiny_heap() -> Heap {
    Heap::new(HeapConfig {
        nursery_bytes: 16 << 10,
        ..HeapConfig::default()
    })
    .unwrap()
}

/// # Safety
/// `body` is the body of a live node.
unsafe fn number(body: Address) -> u64 {
    // SAFETY: caller's invariant: the number follows the reference.
    unsafe { body.offset(8).as_ptr::<u64>().read() }
}

/// # Safety
/// `body` is a node body the attempt may write.
unsafe fn set_number(body: Address, n: u64) {
    // SAFETY: caller's invariant.
    unsafe { body.offset(8).as_ptr::<u64>().write(n) };
}

/// Builds a list of `len` nodes numbered `len - 1` down to 0 in one
/// attempt, its head on the shadow stack, across many minor collections.
fn build_list(thread: &mut Thread, node: TypeId, len: u64) {
    thread.begin_manual(0).unwrap();
    // SAFETY: null is allowed on the shadow stack.
    unsafe { thread.push_root_manual(Address::NULL) };
    for n in 0..len {
        let fresh = thread.alloc_manual(node).unwrap();
        let head = thread.peek_root_manual(0).unwrap();
        // SAFETY: `fresh` was just made and `head` is the shadow stack's
        // current entry; writes of an object the attempt made are in place
        // and collect nothing, so both stay current.
        unsafe {
            set_number(thread.write_manual(fresh).unwrap(), n);
            thread.write_ref_manual(fresh, 0, head).unwrap();
        }
        thread.pop_root_manual().unwrap();
        // SAFETY: `fresh` is current (nothing collected since it was made).
        unsafe { thread.push_root_manual(fresh) };
    }
    assert!(thread.commit_manual().unwrap());
}

/// The numbers of the list on the shadow stack's top, read in an attempt.
fn read_list(thread: &mut Thread) -> Vec<u64> {
    thread.begin_manual(0).unwrap();
    let mut numbers = Vec::new();
    let mut obj = thread.peek_root_manual(0).unwrap();
    while !obj.is_null() {
        // SAFETY: `obj` is reachable from the shadow stack; reads do not
        // collect.
        let body = unsafe { thread.read_manual(obj) }.unwrap();
        // SAFETY: a node's body: `next`, then the number.
        unsafe {
            numbers.push(number(body));
            obj = body.as_ptr::<Address>().read();
        }
    }
    assert!(thread.commit_manual().unwrap());
    numbers
}

#[test]
fn a_list_built_across_minor_collections_reads_back() {
    let heap = tiny_heap();
    let node = node_type(&heap);
    let mut thread = heap.attach().unwrap();
    build_list(&mut thread, node, 20_000);
    // Collections ran in the middle of the attempt, not only at its commit.
    assert!(thread.gc_stats().minor_collections >= 3);
    let numbers = read_list(&mut thread);
    assert_eq!(numbers, (0..20_000).rev().collect::<Vec<_>>());
    thread.collect();
    assert_eq!(read_list(&mut thread).len(), 20_000);
}

#[test]
fn an_abort_undoes_writes_and_the_shadow_stack() {
    let heap = tiny_heap();
    let node = node_type(&heap);
    let mut thread = heap.attach().unwrap();
    build_list(&mut thread, node, 3);
    thread.begin_manual(0).unwrap();
    let head = thread.peek_root_manual(0).unwrap();
    // SAFETY: the head is on the shadow stack; the write is its last use.
    unsafe { set_number(thread.write_manual(head).unwrap(), 99) };
    let extra = thread.alloc_manual(node).unwrap();
    // SAFETY: just made.
    unsafe { thread.push_root_manual(extra) };
    assert_eq!(thread.pop_root_manual(), Ok(extra));
    assert_eq!(thread.pop_root_manual(), Err(ManualError::RootStack));
    // SAFETY: as above.
    unsafe { thread.push_root_manual(extra) };
    thread.abort_manual().unwrap();
    assert_eq!(
        thread.peek_root_manual(1),
        None,
        "the attempt's push is gone"
    );
    assert_eq!(read_list(&mut thread), vec![2, 1, 0]);
}

#[test]
fn calls_out_of_place_are_refused() {
    let heap = tiny_heap();
    let node = node_type(&heap);
    let mut thread = heap.attach().unwrap();
    assert_eq!(thread.commit_manual(), Err(ManualError::NoTransaction));
    assert_eq!(thread.abort_manual(), Err(ManualError::NoTransaction));
    assert_eq!(thread.alloc_manual(node), Err(ManualError::NoTransaction));
    assert_eq!(thread.manual_doomed(), Err(ManualError::NoTransaction));
    assert_eq!(thread.pop_root_manual(), Err(ManualError::RootStack));
    thread.begin_manual(0).unwrap();
    assert_eq!(thread.begin_manual(0), Err(ManualError::InTransaction));
    assert!(matches!(
        thread.alloc_manual(TypeId(999)),
        Err(ManualError::Alloc(_))
    ));
    let obj = thread.alloc_manual(node).unwrap();
    for offset in [3, 8, 16] {
        // SAFETY: `obj` was just made; a refused store collects nothing.
        let refused = unsafe { thread.write_ref_manual(obj, offset, Address::NULL) };
        assert_eq!(refused, Err(ManualError::NotARefSlot { offset }));
    }
    assert_eq!(thread.manual_doomed(), Ok(false));
    assert!(thread.commit_manual().unwrap());
}

/// Two attempts write one account: the second to write is doomed at once
/// (no unwinding reaches it), aborts at commit, and its rerun commits.
#[test]
fn a_write_write_conflict_dooms_the_second_writer() {
    let heap = tiny_heap();
    let mut main = heap.attach().unwrap();
    let account = main
        .atomically(|tx| {
            let a = tx.alloc(Account { balance: 0 });
            tx.root(a)
        })
        .unwrap();
    let account = main.global(&account);
    let (owned, doomed, committed) = (Barrier::new(2), Barrier::new(2), Barrier::new(2));
    let add = |thread: &mut Thread, amount: i64| -> Result<(), ManualError> {
        let obj = thread.get_global_manual(&account)?;
        // SAFETY: the global root's object; the write is its last use.
        let body = unsafe { thread.write_manual(obj) }?;
        // SAFETY: an Account body holds the balance.
        unsafe { *body.as_ptr::<i64>() += amount };
        Ok(())
    };
    main.blocking(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut first = heap.attach().unwrap();
                first.begin_manual(0).unwrap();
                add(&mut first, 1).unwrap();
                // Waits are blocking sections: a collection of the other
                // thread must not wait for this one.
                first.blocking(|| owned.wait());
                first.blocking(|| doomed.wait());
                assert!(first.commit_manual().unwrap());
                first.blocking(|| committed.wait());
            });
            s.spawn(|| {
                let mut second = heap.attach().unwrap();
                second.blocking(|| owned.wait());
                second.begin_manual(0).unwrap();
                assert_eq!(add(&mut second, 10), Err(ManualError::Doomed));
                assert_eq!(second.manual_doomed(), Ok(true));
                assert_eq!(add(&mut second, 10), Err(ManualError::Doomed));
                assert!(!second.commit_manual().unwrap());
                second.blocking(|| doomed.wait());
                second.blocking(|| committed.wait());
                second.begin_manual(1).unwrap();
                add(&mut second, 10).unwrap();
                assert!(second.commit_manual().unwrap());
            });
        })
    });
    let balance = main
        .atomically(|tx| {
            let a = tx.get_global(&account);
            tx.read(a).balance
        })
        .unwrap();
    assert_eq!(balance, 11);
}

/// A list shared through a global root made by the manual API reads back
/// on another thread; a thread dropped in the middle of an attempt gives
/// up what it owned.
#[test]
fn a_global_root_shares_a_list_and_a_dropped_attempt_releases_its_objects() {
    let heap = tiny_heap();
    let node = node_type(&heap);
    let mut main = heap.attach().unwrap();
    build_list(&mut main, node, 100);
    let head = main.peek_root_manual(0).unwrap();
    // SAFETY: the committed head on the shadow stack.
    let global = unsafe { main.global_manual(head) }.unwrap();
    main.begin_manual(0).unwrap();
    // SAFETY: as above.
    let refused = unsafe { main.global_manual(head) };
    assert!(matches!(refused, Err(ManualError::InTransaction)));
    main.abort_manual().unwrap();
    main.blocking(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut quitter = heap.attach().unwrap();
                quitter.begin_manual(0).unwrap();
                let head = quitter.get_global_manual(&global).unwrap();
                // SAFETY: the global root's object; its last use.
                unsafe { quitter.write_manual(head) }.unwrap();
                drop(quitter);
                let mut reader = heap.attach().unwrap();
                reader.begin_manual(0).unwrap();
                let mut obj = reader.get_global_manual(&global).unwrap();
                // SAFETY: the global root's object; a write does not
                // conflict with the dropped owner, who gave it up.
                unsafe { set_number(reader.write_manual(obj).unwrap(), 1000) };
                let mut sum = 0;
                while !obj.is_null() {
                    // SAFETY: reachable from the global root; reads do
                    // not collect.
                    let body = unsafe { reader.read_manual(obj) }.unwrap();
                    // SAFETY: a node's body.
                    unsafe {
                        sum += number(body);
                        obj = body.as_ptr::<Address>().read();
                    }
                }
                assert!(reader.commit_manual().unwrap());
                assert_eq!(sum, 1000 + (0..99).sum::<u64>());
            });
        })
    });
}

/// An attempt that cannot become inevitable (another one is) is doomed,
/// and its rerun begins inevitably.
#[test]
fn a_second_inevitable_attempt_is_doomed_and_reruns_inevitably() {
    let heap = tiny_heap();
    let mut main = heap.attach().unwrap();
    let (held, doomed) = (Barrier::new(2), Barrier::new(2));
    main.blocking(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut first = heap.attach().unwrap();
                first.begin_manual(0).unwrap();
                first.become_inevitable_manual().unwrap();
                assert_eq!(first.manual_inevitable(), Ok(true));
                first.blocking(|| held.wait());
                first.blocking(|| doomed.wait());
                assert!(first.commit_manual().unwrap());
            });
            s.spawn(|| {
                let mut second = heap.attach().unwrap();
                second.blocking(|| held.wait());
                second.begin_manual(0).unwrap();
                assert_eq!(second.manual_inevitable(), Ok(false));
                assert_eq!(second.become_inevitable_manual(), Err(ManualError::Doomed));
                assert_eq!(second.manual_doomed(), Ok(true));
                assert!(!second.commit_manual().unwrap());
                second.blocking(|| doomed.wait());
                second.begin_manual(1).unwrap();
                assert_eq!(second.manual_inevitable(), Ok(true));
                assert!(second.commit_manual().unwrap());
            });
        })
    });
}
