//! Conflict reports: what an abort records (kind, object, other thread,
//! both markers, wasted time), the conflict profile of a heap, its JSON
//! file and the event log (see `DESIGN.md`, "Conflict reports").

mod common;

use common::{plain_heap, zealous_heap};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use strata::{AbortKind, GlobalRoot, Heap, Marker, Object, ReportConfig, Thread};

#[derive(Clone, Copy)]
struct Ledger {
    n: u64,
}
impl Object for Ledger {}

fn recording(heap: Heap, dir: &std::path::Path) -> Heap {
    let mut config = heap.tx_config().clone();
    config.reports = ReportConfig {
        profile: true,
        profile_path: Some(dir.join("profile.json")),
        events_path: Some(dir.join("events.log")),
    };
    heap.with_tx_config(config)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn new_ledger(thread: &mut Thread) -> Arc<GlobalRoot<Ledger>> {
    let root = thread
        .atomically(|tx| {
            let ledger = tx.alloc(Ledger { n: 0 });
            tx.root(ledger)
        })
        .unwrap();
    Arc::new(thread.global(&root))
}

/// The other thread writes the ledger at line 30 and holds it (50 ms in a
/// blocking section inside its transaction) while this one writes it at
/// line 12: this one's first attempt aborts write-write, and its report
/// names both lines, the ledger's type and the other thread's slot.
fn write_write_conflict(heap: &Heap) -> (Thread, u32, u32) {
    let file = heap.marker_file("bank.scm");
    let mut main = heap.attach().unwrap();
    let ledger = new_ledger(&mut main);
    let (owned_tx, owned_rx) = mpsc::channel();
    let owner = {
        let (heap, ledger) = (heap.clone(), ledger.clone());
        std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            t.set_marker(Marker::new(file, 30));
            let mut first = true;
            t.atomically(|tx| {
                let c = tx.get_global(&ledger);
                tx.update(c, |c| c.n += 1);
                if std::mem::take(&mut first) {
                    owned_tx.send(tx.snapshot()).unwrap();
                    tx.blocking(|| std::thread::sleep(Duration::from_millis(50)));
                }
            })
            .unwrap();
            t.slot_id()
        })
    };
    main.blocking(|| owned_rx.recv().unwrap());
    main.set_marker(Marker::new(file, 12));
    main.atomically(|tx| {
        let c = tx.get_global(&ledger);
        tx.update(c, |c| c.n += 10);
    })
    .unwrap();
    let owner_slot = main.blocking(|| owner.join().unwrap());
    (main, owner_slot, file)
}

#[test]
fn a_write_write_conflict_is_reported_with_both_markers_and_the_object() {
    let heap = plain_heap();
    let (mut main, owner_slot, file) = write_write_conflict(&heap);
    assert!(main.abort_counts().write_write >= 1);
    let info = main.last_abort_info().expect("an attempt aborted");
    assert_eq!(info.kind, AbortKind::WriteWrite);
    assert_eq!(info.marker, Marker::new(file, 12));
    assert_eq!(info.other_marker, Marker::new(file, 30));
    assert_eq!(heap.marker_text(info.other_marker), "bank.scm:30");
    assert_eq!(info.other_slot, Some(owner_slot));
    assert_ne!(owner_slot, main.slot_id());
    let object = info.object.expect("the conflict was on the ledger");
    assert!(object.type_name.ends_with("Ledger"), "{}", object.type_name);
    assert_ne!(object.id, 0);
    assert_eq!(info.wasted, None, "the heap does not record");
}

#[test]
fn a_recording_heap_profiles_the_conflict_and_logs_events() {
    let dir = temp_dir("reports");
    let heap = recording(zealous_heap(), &dir);
    let (mut main, _, _) = write_write_conflict(&heap);
    let info = main.last_abort_info().unwrap();
    assert!(info.wasted.is_some(), "a recording heap times attempts");
    drop(main);
    let profile = heap.conflict_profile();
    let line = &profile.lines[0];
    assert_eq!(
        (line.marker.as_str(), line.other_marker.as_str()),
        ("bank.scm:12", "bank.scm:30"),
        "{}",
        profile.report()
    );
    assert!(line.type_name.as_deref().unwrap().ends_with("Ledger"));
    assert!(line.kinds.write_write >= 1 && line.aborts == line.kinds.total());
    assert!(profile.commits >= 3, "the ledger's, the owner's and main's");
    assert!(profile.attempt_time >= line.wasted);
    assert!(profile.report().contains("bank.scm:12 vs bank.scm:30 on "));
    drop(heap);
    // Written when the heap went.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("profile.json")).unwrap()).unwrap();
    assert_eq!(json["lines"][0]["marker"], "bank.scm:12");
    assert_eq!(json["lines"][0]["other_marker"], "bank.scm:30");
    assert_eq!(json["aborts"], profile.aborts());
    let log = std::fs::read_to_string(dir.join("events.log")).unwrap();
    assert_eq!(log.lines().next(), Some(strata::EVENT_LOG_HEADER));
    for event in [
        "begin",
        "commit",
        "abort:write-write",
        "wait-start",
        "wait-end",
    ] {
        assert!(
            log.lines().any(|l| l.ends_with(&format!(" {event}"))),
            "no {event} in the log:\n{log}"
        );
    }
    assert!(
        log.lines().any(|l| l.ends_with(" collection-start")),
        "a zealous heap collects at every commit"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A transaction that read the ledger, which another thread then changed
/// and committed, fails validation at its commit: the report names the
/// ledger (the writer has committed and let go: no other thread).
#[test]
fn a_validation_failure_names_the_object_read() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let ledger = new_ledger(&mut main);
    let other = new_ledger(&mut main);
    let mut attempts = 0;
    main.atomically(|tx| {
        attempts += 1;
        let c = tx.get_global(&ledger);
        let n = tx.read(c).n;
        if attempts == 1 {
            let ledger = ledger.clone();
            let heap = heap.clone();
            tx.blocking(move || {
                std::thread::spawn(move || {
                    let mut t = heap.attach().unwrap();
                    t.atomically(|tx| {
                        let c = tx.get_global(&ledger);
                        tx.update(c, |c| c.n += 1);
                    })
                    .unwrap();
                })
                .join()
                .unwrap()
            });
        }
        let o = tx.get_global(&other);
        tx.update(o, |o| o.n = n);
    })
    .unwrap();
    assert_eq!(attempts, 2);
    let info = main.last_abort_info().unwrap();
    assert_eq!(info.kind, AbortKind::Validation);
    let object = info.object.unwrap();
    assert!(object.type_name.ends_with("Ledger"));
    assert_eq!(info.other_slot, None);
    assert_eq!(info.marker, Marker::NONE);
    assert_eq!(heap.marker_text(info.marker), "?");
}

#[test]
fn no_abort_means_no_report_and_marker_files_are_interned() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    main.atomically(|tx| tx.set_marker(Marker::new(1, 2)))
        .unwrap();
    assert_eq!(main.marker(), Marker::new(1, 2));
    assert_eq!(main.last_abort_info(), None);
    let a = heap.marker_file("a.scm");
    assert_eq!(
        (heap.marker_file("b.scm"), heap.marker_file("a.scm")),
        (a + 1, a)
    );
    assert_eq!(heap.marker_text(Marker::new(a + 1, 7)), "b.scm:7");
    assert_eq!(
        heap.conflict_profile().lines,
        vec![],
        "the heap does not profile"
    );
}

/// An inevitable transaction that needs the ledger another attempt owns
/// dooms it: that attempt's report names the inevitable thread's slot
/// and marker.
#[test]
fn a_doomed_attempt_names_the_inevitable_transaction() {
    let heap = zealous_heap();
    let file = heap.marker_file("audit.scm");
    let mut main = heap.attach().unwrap();
    main.set_marker(Marker::new(file, 7));
    let ledger = new_ledger(&mut main);
    let (owned_tx, owned_rx) = mpsc::channel();
    let owner = {
        let (heap, ledger) = (heap.clone(), ledger.clone());
        std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            let mut first = true;
            t.atomically(|tx| {
                let c = tx.get_global(&ledger);
                tx.update(c, |c| c.n += 1);
                if std::mem::take(&mut first) {
                    owned_tx.send(()).unwrap();
                    tx.blocking(|| std::thread::sleep(Duration::from_millis(30)));
                }
            })
            .unwrap();
            t.last_abort_info()
        })
    };
    main.blocking(|| owned_rx.recv().unwrap());
    main.atomically(|tx| {
        tx.become_inevitable();
        let c = tx.get_global(&ledger);
        tx.update(c, |c| c.n += 10);
    })
    .unwrap();
    let info = main
        .blocking(|| owner.join().unwrap())
        .expect("the owner was doomed");
    assert_eq!(info.kind, AbortKind::Doomed);
    assert_eq!(info.other_slot, Some(main.slot_id()));
    assert_eq!(info.other_marker, Marker::new(file, 7));
    assert_eq!(info.object, None);
}
