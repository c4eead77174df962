//! A loom model of the commit protocol of `DESIGN.md` ("Commit",
//! "Barriers"): ownership by compare-and-swap at the first write, the commit
//! clock advanced by one atomic add, the commit word that readers wait on,
//! read-set validation, and publication of versions. Loom explores the
//! interleavings of two and three threads; readers must never see a torn
//! state and the final state must be a serial one.
//!
//! The inevitable token is the clock's top bit: a committer whose add finds
//! it backs off; the holder, once it set the bit, waits for the commit words
//! to clear, and after that nobody publishes.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p strata --test loom --release`.
//! The model mirrors `barrier.rs` and `commit.rs` step for step on two
//! accounts whose version chains are fixed arrays.

#![cfg(loom)]

use loom::sync::atomic::{
    AtomicU32, AtomicU64, AtomicUsize,
    Ordering::{Release, SeqCst},
};
use loom::sync::Arc;

const COMMITTING: u64 = u64::MAX;
const INEVITABLE: u64 = 1 << 63;
const MAX_VERSIONS: usize = 4;

/// An anchor: owner field and a chain of (stamp, value), newest last.
struct Anchor {
    owner: AtomicU32,
    stamps: [AtomicU64; MAX_VERSIONS],
    values: [AtomicU64; MAX_VERSIONS],
    published: AtomicUsize,
}

impl Anchor {
    fn new(value: u64) -> Anchor {
        let anchor = Anchor {
            owner: AtomicU32::new(0),
            stamps: Default::default(),
            values: Default::default(),
            published: AtomicUsize::new(1),
        };
        anchor.values[0].store(value, SeqCst);
        anchor
    }

    fn newest_stamp(&self) -> u64 {
        let n = self.published.load(SeqCst);
        self.stamps[n - 1].load(SeqCst)
    }

    fn visible(&self, snapshot: u64) -> u64 {
        let n = self.published.load(SeqCst);
        (0..n)
            .rev()
            .find(|&i| self.stamps[i].load(SeqCst) <= snapshot)
            .map(|i| self.values[i].load(SeqCst))
            .expect("version 0 has stamp 0")
    }

    fn publish(&self, value: u64, stamp: u64) {
        let n = self.published.load(SeqCst);
        self.stamps[n].store(stamp, SeqCst);
        self.values[n].store(value, SeqCst);
        self.published.store(n + 1, SeqCst);
    }
}

struct World {
    clock: AtomicU64,
    commit_words: [AtomicU64; 4],
    accounts: [Anchor; 2],
}

/// The read barrier: wait while the owner publishes at or below our
/// snapshot, then read the visible version.
fn read(world: &World, me: u32, snapshot: u64, account: usize) -> u64 {
    let anchor = &world.accounts[account];
    loop {
        let owner = anchor.owner.load(SeqCst);
        if owner == 0 || owner == me {
            break;
        }
        let commit = world.commit_words[owner as usize].load(SeqCst);
        if commit == 0 || (commit != COMMITTING && commit > snapshot) {
            break;
        }
        loom::thread::yield_now();
    }
    anchor.visible(snapshot)
}

/// One transfer transaction; returns false when it aborted (a conflict, or
/// an inevitable transaction running at its commit: the code waits and
/// tries again, which the model leaves out).
fn transfer(world: &World, me: u32, from: usize, to: usize) -> bool {
    let snapshot = world.clock.load(SeqCst) & !INEVITABLE;
    let a = read(world, me, snapshot, from);
    let b = read(world, me, snapshot, to);
    let mut owned = Vec::new();
    let release = |owned: &[usize]| {
        for &i in owned {
            world.accounts[i].owner.store(0, Release);
        }
    };
    for &i in &[from, to] {
        let anchor = &world.accounts[i];
        if anchor
            .owner
            .compare_exchange(0, me, SeqCst, SeqCst)
            .is_err()
        {
            release(&owned);
            return false;
        }
        owned.push(i);
        if anchor.newest_stamp() > snapshot {
            release(&owned);
            return false;
        }
    }
    let word = &world.commit_words[me as usize];
    word.store(COMMITTING, Release);
    let before = world.clock.fetch_add(1, SeqCst);
    if before & INEVITABLE != 0 {
        word.store(0, Release);
        release(&owned);
        return false;
    }
    let commit = before + 1;
    word.store(commit, Release);
    // The read set is the write set here; validation checks the same.
    world.accounts[from].publish(a - 1, commit);
    world.accounts[to].publish(b + 1, commit);
    release(&owned);
    word.store(0, Release);
    true
}

/// A read-only transaction: never aborts, must see the invariant.
fn audit(world: &World, me: u32) {
    let snapshot = world.clock.load(SeqCst) & !INEVITABLE;
    let a = read(world, me, snapshot, 0);
    let b = read(world, me, snapshot, 1);
    assert_eq!(
        a + b,
        20,
        "a reader saw a torn state at snapshot {snapshot}"
    );
}

fn world() -> Arc<World> {
    Arc::new(World {
        clock: AtomicU64::new(0),
        commit_words: Default::default(),
        accounts: [Anchor::new(10), Anchor::new(10)],
    })
}

#[test]
fn two_writers() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let w = world();
        let other = {
            let w = w.clone();
            loom::thread::spawn(move || transfer(&w, 2, 1, 0))
        };
        let mine = transfer(&w, 1, 0, 1);
        let theirs = other.join().unwrap();
        let snapshot = w.clock.load(SeqCst);
        let (a, b) = (
            w.accounts[0].visible(snapshot),
            w.accounts[1].visible(snapshot),
        );
        assert_eq!(a + b, 20);
        let moved = mine as i64 - theirs as i64;
        assert_eq!(a as i64, 10 - moved, "final state is not a serial one");
    });
}

#[test]
fn writer_and_reader() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let w = world();
        let reader = {
            let w = w.clone();
            loom::thread::spawn(move || audit(&w, 2))
        };
        assert!(transfer(&w, 1, 0, 1));
        reader.join().unwrap();
    });
}

#[test]
fn two_writers_and_a_reader() {
    let mut builder = loom::model::Builder::new();
    // Three threads: one preemption keeps the search to minutes.
    builder.preemption_bound = Some(1);
    // Readers spin while a commit publishes; each spin is a branch.
    builder.max_branches = 100_000;
    builder.check(|| {
        let w = world();
        let reader = {
            let w = w.clone();
            loom::thread::spawn(move || audit(&w, 3))
        };
        let other = {
            let w = w.clone();
            loom::thread::spawn(move || transfer(&w, 2, 1, 0))
        };
        transfer(&w, 1, 0, 1);
        other.join().unwrap();
        reader.join().unwrap();
        let snapshot = w.clock.load(SeqCst);
        assert_eq!(
            w.accounts[0].visible(snapshot) + w.accounts[1].visible(snapshot),
            20
        );
    });
}

/// Takes the token as `become_inevitable` does: set the bit, wait for the
/// commit words to clear, take the snapshot. Returns the snapshot and the
/// balances it sees.
fn take_token(world: &World, me: u32) -> Option<(u64, u64, u64)> {
    if world.clock.fetch_or(INEVITABLE, SeqCst) & INEVITABLE != 0 {
        return None;
    }
    for (slot, word) in world.commit_words.iter().enumerate() {
        while slot as u32 != me && word.load(SeqCst) != 0 {
            loom::thread::yield_now();
        }
    }
    let snapshot = world.clock.load(SeqCst) & !INEVITABLE;
    let a = read(world, me, snapshot, 0);
    let b = read(world, me, snapshot, 1);
    Some((snapshot, a, b))
}

#[test]
fn nobody_publishes_once_the_token_is_taken() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.max_branches = 100_000;
    builder.check(|| {
        let w = world();
        let holder = {
            let w = w.clone();
            loom::thread::spawn(move || take_token(&w, 2))
        };
        let committed = transfer(&w, 1, 0, 1);
        let (snapshot, a, b) = holder.join().unwrap().expect("the only holder");
        assert_eq!(a + b, 20, "the token holder saw a torn state");
        // Its snapshot is the newest state: nothing was published above it.
        for account in &w.accounts {
            assert!(
                account.newest_stamp() <= snapshot,
                "a commit published after the token was taken"
            );
        }
        // A commit that went through did so before the holder's snapshot.
        assert_eq!(a == 9, committed);
    });
}
