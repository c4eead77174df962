//! Old versions are reclaimed: one object updated ten million times while a
//! long reader starts now and then leaves RSS and live bytes bounded.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<usize>()
        .unwrap()
        * 4096
}

#[test]
fn one_object_updated_millions_of_times_stays_bounded() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, 1, 0));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (heap, bank, stop) = (heap.clone(), bank.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            let mut last = -1;
            while !stop.load(Ordering::Relaxed) {
                // A long reader: holds its snapshot for a while.
                let seen = t
                    .atomically(|tx| {
                        let array = tx.get_global(&bank);
                        let a = tx.get::<Account>(array, 0).unwrap();
                        let first = tx.read(a).balance;
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        assert_eq!(
                            tx.read(a).balance,
                            first,
                            "a snapshot changed under a reader"
                        );
                        first
                    })
                    .unwrap();
                assert!(seen >= last, "time went backwards: {seen} after {last}");
                last = seen;
                t.blocking(|| std::thread::sleep(std::time::Duration::from_millis(5)));
            }
        })
    };
    let updates = scaled(10_000_000);
    let mut rss_after_warmup = 0;
    for i in 0..updates {
        main.atomically(|tx| {
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            tx.update(a, |a| a.balance += 1);
        })
        .unwrap();
        if i == updates / 10 {
            rss_after_warmup = rss_bytes();
        }
    }
    stop.store(true, Ordering::SeqCst);
    main.blocking(|| reader.join().unwrap());
    main.collect();
    let stats = main.gc_stats();
    assert!(stats.major_collections > 0);
    assert!(
        stats.live_bytes_after_major < 1 << 20,
        "live bytes after {updates} updates: {}",
        stats.live_bytes_after_major
    );
    let rss_end = rss_bytes();
    assert!(
        rss_end < rss_after_warmup + (64 << 20),
        "RSS grew from {rss_after_warmup} to {rss_end}"
    );
    assert_eq!(total(&mut main, &bank), updates as i64);
}
