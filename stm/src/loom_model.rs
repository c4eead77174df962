//! Model checks of the commit protocol with loom (`--cfg loom`): the real
//! protocol functions run on loom's atomics and loom explores their
//! interleavings.
//!
//! What is real: the shared state ([`StmShared`]: clock, inevitable token,
//! commit words), the ownership CAS ([`try_own`]), the readers' wait for a
//! publication ([`wait_for_publication`]), the commit time
//! ([`take_commit_time`]), validation ([`first_invalid`]), publication
//! and release ([`publish_and_release`], [`release_owner`]), the token
//! holder's wait ([`StmShared::wait_for_commits_in_flight`]), the wait of
//! a retry and the committers' wakeup (`RetryWaiters`: a lost wakeup is a
//! deadlock the model reports, loom's condition variable having no
//! timeout), and the
//! version chains of `strata-gc` (`publish_version`, `newest_stamp`, and
//! `visible_from` under [`visible_body`]), all on header words that the
//! heap's accessors hand out as loom atomics. What the model writes itself
//! is the order in which a transaction calls them (as `barrier.rs` and
//! `commit.rs` do: read, first write with its snapshot extension, commit)
//! and its objects: two accounts and their version records, in memory it
//! allocates, with no collector.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p strata --lib
//! loom_model`.

use crate::barrier::{try_own, visible_body, wait_for_publication};
use crate::commit::{
    abandon_commit, first_invalid, publish_and_release, release_owner, take_commit_time,
};
use crate::retry::read_set_state;
use crate::shared::StmShared;
use loom::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use strata_gc::header::{self, HEADER_BYTES, VERSION, VERSION_HEADER_BYTES};
use strata_gc::versions::newest_stamp;
use strata_gc::{Address, TypeId};

/// The accounts' type id in the model (any registered-looking id).
const ACCOUNT: u64 = 1;

/// Two accounts of 10 each and the memory of every object the model makes.
struct Model {
    stm: StmShared,
    accounts: [Address; 2],
    /// The objects' memory (16-byte aligned), freed with the model.
    memory: std::sync::Mutex<Vec<Box<[u128]>>>,
}

// SAFETY: the model's addresses point into `memory`, which lives as long as
// the model; its header words are atomics and its bodies are written before
// publication only.
unsafe impl Send for Model {}
// SAFETY: as above.
unsafe impl Sync for Model {}

impl Model {
    fn new() -> Arc<Model> {
        let stm = StmShared::new(TypeId(ACCOUNT as u32)).expect("slot states");
        for slot in 1..=3 {
            stm.register_slot(slot);
        }
        let model = Model {
            stm,
            accounts: [Address::NULL; 2],
            memory: std::sync::Mutex::new(Vec::new()),
        };
        let accounts = [model.object(10, None), model.object(10, None)];
        Arc::new(Model { accounts, ..model })
    }

    /// A new object holding `balance`: an anchor, or with `stamp` a version
    /// record (its stamp is set again when published).
    fn object(&self, balance: i64, stamp: Option<u64>) -> Address {
        let header_bytes = if stamp.is_some() {
            VERSION_HEADER_BYTES
        } else {
            HEADER_BYTES
        };
        let mut block = vec![0u128; (header_bytes + 8).div_ceil(16)].into_boxed_slice();
        let obj = Address::from_usize(block.as_mut_ptr() as usize);
        let flags = if stamp.is_some() { VERSION } else { 0 };
        // SAFETY: the block is fresh, 16-byte aligned and large enough for
        // the header and one 8-byte body word.
        unsafe {
            header::construct(obj, ACCOUNT | flags, 0, stamp);
            obj.offset(header_bytes).as_ptr::<i64>().write(balance);
        }
        self.memory.lock().unwrap().push(block);
        obj
    }

    /// The balance of account `i` at `snapshot`.
    fn balance_at(&self, i: usize, snapshot: u64) -> i64 {
        // SAFETY: the accounts live as long as the model; nothing reclaims
        // versions.
        unsafe {
            visible_body(self.accounts[i], snapshot)
                .as_ptr::<i64>()
                .read()
        }
    }
}

/// The read barrier on a shared anchor (`Thread::readable_word`): wait for
/// a publication the snapshot includes, record the read, read the visible
/// version.
fn read(model: &Model, me: u32, snapshot: u64, i: usize, reads: &mut Vec<Address>) -> i64 {
    let anchor = model.accounts[i];
    // SAFETY: the accounts are live anchors.
    let word = unsafe { header::word0(anchor) }.load(SeqCst);
    let owner = header::owner_of(word);
    if owner != 0 && owner != me {
        // SAFETY: as above.
        unsafe { wait_for_publication(&model.stm, me, snapshot, anchor) };
    }
    reads.push(anchor);
    model.balance_at(i, snapshot)
}

/// Releases the anchors of `writes` (an abort).
fn release(writes: &[(Address, Address)]) {
    for &(anchor, _) in writes {
        // SAFETY: this slot owns them.
        unsafe { release_owner(anchor) };
    }
}

/// A transaction of thread slot `me` that reads both accounts and writes
/// what `decide` makes of their balances (account, new balance), as
/// `Tx::read` of both and `Tx::write` of those would run it; false when it
/// aborted.
fn transaction(model: &Model, me: u32, decide: impl FnOnce([i64; 2]) -> Vec<(usize, i64)>) -> bool {
    let mut snapshot = model.stm.now();
    let mut reads = Vec::new();
    let balances = [0, 1].map(|i| read(model, me, snapshot, i, &mut reads));
    let mut writes: Vec<(Address, Address)> = Vec::new();
    for (i, value) in decide(balances) {
        let anchor = model.accounts[i];
        // The first write (`Thread::acquire`): own, then extend the
        // snapshot past a newer version if nothing read has changed.
        // SAFETY: a live anchor.
        if unsafe { try_own(anchor, me) }.is_err() {
            release(&writes);
            return false;
        }
        // SAFETY: as above.
        if unsafe { newest_stamp(anchor) } > snapshot {
            let now = model.stm.now();
            // SAFETY: the read set holds the live accounts.
            if unsafe { first_invalid(&reads, me, snapshot) }.is_some() {
                release(&writes);
                // SAFETY: owned just above.
                unsafe { release_owner(anchor) };
                return false;
            }
            snapshot = now;
        }
        writes.push((anchor, model.object(value, Some(0))));
    }
    if writes.is_empty() {
        return true;
    }
    let Ok(commit_time) = take_commit_time(&model.stm, model.stm.slot(me), false, || {
        loom::thread::yield_now();
        Ok(())
    }) else {
        unreachable!("the model's wait never fails")
    };
    // SAFETY: the read set holds the live accounts.
    if commit_time != snapshot + 1 && unsafe { first_invalid(&reads, me, snapshot) }.is_some() {
        abandon_commit(model.stm.slot(me));
        release(&writes);
        return false;
    }
    // SAFETY: this slot owns the anchors; the copies are fully written
    // records; the commit time is above every published stamp.
    unsafe {
        publish_and_release(
            &model.stm,
            model.stm.slot(me),
            commit_time,
            writes.iter().copied(),
        )
    };
    true
}

/// A transfer of 1 from account `from` to `to`.
fn transfer(model: &Model, me: u32, from: usize, to: usize) -> bool {
    transaction(model, me, |b| vec![(from, b[from] - 1), (to, b[to] + 1)])
}

/// Takes 15 from account `own` if both together hold at least 15: two of
/// these, each writing only its own account, must not both take (write
/// skew), which only validation of what they read prevents.
fn withdraw(model: &Model, me: u32, own: usize) -> bool {
    transaction(model, me, |b| match b[0] + b[1] >= 15 {
        true => vec![(own, b[own] - 15)],
        false => vec![],
    })
}

/// A read-only transaction: it never aborts and must see the invariant.
fn audit(model: &Model, me: u32) {
    let snapshot = model.stm.now();
    let mut reads = Vec::new();
    let a = read(model, me, snapshot, 0, &mut reads);
    let b = read(model, me, snapshot, 1, &mut reads);
    assert_eq!(
        a + b,
        20,
        "a reader saw a torn state at snapshot {snapshot}"
    );
}

/// The final state: the total kept, and the balances of a serial order.
fn check_final(model: &Model, moved_from_0: i64) {
    let now = model.stm.now();
    let (a, b) = (model.balance_at(0, now), model.balance_at(1, now));
    assert_eq!(a + b, 20);
    assert_eq!(a, 10 - moved_from_0, "the final state is not a serial one");
}

fn builder(preemptions: usize) -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    // Readers and committers spin while others publish: each turn is a
    // branch.
    builder.max_branches = 100_000;
    builder
}

/// Runs `f` on a new loom thread with its own handle on `model`.
fn spawn<T: Send + 'static>(
    model: &Arc<Model>,
    f: impl FnOnce(&Model) -> T + Send + 'static,
) -> loom::thread::JoinHandle<T> {
    let model = model.clone();
    loom::thread::spawn(move || f(&model))
}

#[test]
fn two_writers_commit_a_serial_order() {
    builder(3).check(|| {
        let model = Model::new();
        let other = spawn(&model, |model| transfer(model, 2, 1, 0));
        let mine = transfer(&model, 1, 0, 1);
        let theirs = other.join().unwrap();
        check_final(&model, mine as i64 - theirs as i64);
    });
}

#[test]
fn a_reader_never_sees_a_torn_state() {
    builder(3).check(|| {
        let model = Model::new();
        let reader = spawn(&model, |model| audit(model, 2));
        assert!(transfer(&model, 1, 0, 1), "alone, a writer commits");
        reader.join().unwrap();
        check_final(&model, 1);
    });
}

#[test]
fn two_writers_and_a_reader() {
    // Three threads: one preemption keeps the search to minutes.
    builder(1).check(|| {
        let model = Model::new();
        let reader = spawn(&model, |model| audit(model, 3));
        let other = spawn(&model, |model| transfer(model, 2, 1, 0));
        let mine = transfer(&model, 1, 0, 1);
        let theirs = other.join().unwrap();
        reader.join().unwrap();
        check_final(&model, mine as i64 - theirs as i64);
    });
}

#[test]
fn writers_of_different_accounts_do_not_both_act_on_a_stale_total() {
    builder(3).check(|| {
        let model = Model::new();
        let other = spawn(&model, |model| withdraw(model, 2, 1));
        withdraw(&model, 1, 0);
        other.join().unwrap();
        let now = model.stm.now();
        let total = model.balance_at(0, now) + model.balance_at(1, now);
        assert!(total == 5 || total == 20, "both withdrew: total {total}");
    });
}

#[test]
fn nobody_publishes_while_the_token_is_held() {
    builder(3).check(|| {
        let model = Model::new();
        let holder = spawn(&model, |model| {
            // `Thread::try_take_token`, then the snapshot of the
            // extension that follows it.
            assert!(model.stm.take_token(), "the only candidate");
            model.stm.wait_for_commits_in_flight(2);
            let snapshot = model.stm.now();
            let mut reads = Vec::new();
            let a = read(model, 2, snapshot, 0, &mut reads);
            let b = read(model, 2, snapshot, 1, &mut reads);
            assert_eq!(a + b, 20, "the token holder saw a torn state");
            for &account in &model.accounts {
                // SAFETY: a live anchor.
                let newest = unsafe { newest_stamp(account) };
                assert!(newest <= snapshot, "a commit published under the token");
            }
            model.stm.release_token();
            a
        });
        // The transfer waits at its commit while the token is held, so it
        // commits before the holder's snapshot or after the token is back.
        let committed = transfer(&model, 1, 0, 1);
        holder.join().unwrap();
        check_final(&model, committed as i64);
    });
}

#[test]
fn a_retry_is_woken_by_the_commit_that_changes_what_it_read() {
    builder(3).check(|| {
        let model = Model::new();
        let writer = spawn(&model, |model| transfer(model, 1, 0, 1));
        // The retrying transaction: it read account 0 before the transfer
        // (in its snapshot) and sleeps until it changes.
        let snapshot = model.stm.now();
        let mut reads = Vec::new();
        if read(&model, 2, snapshot, 0, &mut reads) == 10 {
            let changed = model.stm.retry.wait(
                &model.stm.clock,
                &mut (),
                None,
                // SAFETY: the read set holds the live accounts; nothing
                // reclaims versions.
                |_| unsafe { read_set_state(&reads, 2, snapshot) },
                |_| loom::thread::yield_now(),
                |_, sleep| sleep(),
            );
            assert!(changed, "a wait without a deadline ends with a change");
        }
        assert!(writer.join().unwrap(), "alone, a writer commits");
    });
}
