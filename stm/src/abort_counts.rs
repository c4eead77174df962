//! Aborted attempts counted by what aborted them, per thread and for the
//! heap: what to look at first when a program's transactions conflict.

use crate::abort_info::AbortKind;
use crate::tx::Conflict;
use std::sync::atomic::{AtomicU64, Ordering};

/// Aborted attempts by cause ([`Thread::abort_counts`](crate::Thread::abort_counts),
/// [`Heap::abort_counts`](crate::Heap::abort_counts)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbortCounts {
    /// Another transaction owned an object this one wrote.
    pub write_write: u64,
    /// Something the attempt read changed before it could commit or extend
    /// its snapshot.
    pub validation: u64,
    /// An inevitable transaction needed objects the attempt owned.
    pub doomed: u64,
    /// The attempt stopped to run again as the inevitable transaction.
    pub inevitable: u64,
    /// An allocation failed (the heap limit, or out of memory).
    pub out_of_memory: u64,
    /// The transaction's code panicked.
    pub panic: u64,
    /// The host aborted the attempt (the call-by-call API's abort).
    pub requested: u64,
    /// The transaction retried (`Tx::retry`, or the first branch of an
    /// `or_else`): not a conflict.
    pub retry: u64,
}

/// How many causes [`AbortCounts`] tells apart.
const CAUSES: usize = 8;

impl AbortCounts {
    /// Every aborted attempt.
    pub fn total(&self) -> u64 {
        self.to_array().iter().sum()
    }

    /// Counts one attempt aborted by `why`.
    pub(crate) fn count(&mut self, why: &Conflict) {
        self.count_kind(AbortKind::of(why));
    }

    /// Counts one attempt aborted for `kind`.
    pub(crate) fn count_kind(&mut self, kind: AbortKind) {
        let cause = match kind {
            AbortKind::WriteWrite => &mut self.write_write,
            AbortKind::Validation => &mut self.validation,
            AbortKind::Doomed => &mut self.doomed,
            AbortKind::Inevitable => &mut self.inevitable,
            AbortKind::OutOfMemory => &mut self.out_of_memory,
            AbortKind::Panic => &mut self.panic,
            AbortKind::Requested => &mut self.requested,
            AbortKind::Retry => &mut self.retry,
        };
        *cause += 1;
    }

    /// The count of `kind`.
    pub fn of_kind(&self, kind: AbortKind) -> u64 {
        self.to_array()[kind.index()]
    }

    /// Adds `other`'s counts to these.
    pub(crate) fn add(&mut self, other: &AbortCounts) {
        let (mine, theirs) = (self.to_array(), other.to_array());
        *self = AbortCounts::from_array(std::array::from_fn(|i| mine[i] + theirs[i]));
    }

    fn to_array(self) -> [u64; CAUSES] {
        [
            self.write_write,
            self.validation,
            self.doomed,
            self.inevitable,
            self.out_of_memory,
            self.panic,
            self.requested,
            self.retry,
        ]
    }

    fn from_array(a: [u64; CAUSES]) -> AbortCounts {
        let [write_write, validation, doomed, inevitable, out_of_memory, panic, requested, retry] =
            a;
        AbortCounts {
            write_write,
            validation,
            doomed,
            inevitable,
            out_of_memory,
            panic,
            requested,
            retry,
        }
    }
}

/// A heap's [`AbortCounts`], to which threads add theirs when they detach.
#[derive(Default)]
pub(crate) struct SharedAbortCounts([AtomicU64; CAUSES]);

impl SharedAbortCounts {
    pub fn add(&self, counts: &AbortCounts) {
        for (total, n) in self.0.iter().zip(counts.to_array()) {
            if n > 0 {
                total.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    pub fn load(&self) -> AbortCounts {
        AbortCounts::from_array(std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_gc::AllocError;

    #[test]
    fn each_cause_has_its_own_count_and_the_heap_adds_them_up() {
        let causes = [
            Conflict::WriteWrite,
            Conflict::Validation,
            Conflict::Doomed,
            Conflict::Inevitable,
            Conflict::Alloc(AllocError::OutOfMemory {
                bytes: 16,
                limit: 0,
            }),
            Conflict::Panic,
            Conflict::Requested,
            Conflict::Retry,
        ];
        let mut counts = AbortCounts::default();
        for (i, why) in causes.iter().enumerate() {
            for _ in 0..=i {
                counts.count(why);
            }
        }
        assert_eq!(counts.to_array(), [1, 2, 3, 4, 5, 6, 7, 8]);
        for (i, kind) in AbortKind::ALL.into_iter().enumerate() {
            assert_eq!(counts.of_kind(kind), i as u64 + 1, "{kind:?}");
            assert_eq!(AbortKind::of(&causes[i]), kind);
        }
        assert_eq!(counts.total(), 36);
        let heap = SharedAbortCounts::default();
        heap.add(&counts);
        heap.add(&counts);
        assert_eq!(heap.load().to_array(), [2, 4, 6, 8, 10, 12, 14, 16]);
    }
}
