//! Markers and the record of an aborted attempt (see `DESIGN.md`,
//! "Conflict reports").
//!
//! A marker is the host's position (a file and a line, or a function and
//! a bytecode offset) as one word of the thread's slot, which only the
//! slot's thread writes and which another thread reads only when it aborts
//! against this one. What a conflict was found on (the object, the other
//! thread and its marker) is noted on the cold path that decides to abort
//! ([`Culprit`]); `abort` turns it into the thread's [`AbortRecord`].
//! Nothing here runs in a barrier's straight path.

use crate::thread::Thread;
use crate::tx::Conflict;
use std::sync::atomic::Ordering;
use std::time::Duration;
use strata_gc::header;
use strata_gc::{Address, TypeId};

/// A position in the host's program: a file (a number from
/// [`Heap::marker_file`](crate::Heap::marker_file)) and a line, or a
/// function and a bytecode offset. [`Marker::NONE`] (file 0) is "no
/// marker".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Marker {
    pub file: u32,
    pub line: u32,
}

impl Marker {
    /// No position set.
    pub const NONE: Marker = Marker { file: 0, line: 0 };

    pub fn new(file: u32, line: u32) -> Marker {
        Marker { file, line }
    }

    /// Whether this is [`Marker::NONE`] (no file).
    pub fn is_none(self) -> bool {
        self.file == 0
    }

    /// The marker as the slot word that publishes it.
    pub(crate) fn to_word(self) -> u64 {
        (self.file as u64) << 32 | self.line as u64
    }

    pub(crate) fn from_word(word: u64) -> Marker {
        Marker {
            file: (word >> 32) as u32,
            line: word as u32,
        }
    }
}

/// Why an attempt aborted: the causes [`AbortCounts`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbortKind {
    /// Another transaction owned an object this one wrote.
    WriteWrite,
    /// Something the attempt read changed before it could commit or
    /// extend its snapshot.
    Validation,
    /// An inevitable transaction needed objects the attempt owned.
    Doomed,
    /// The attempt stopped to run again as the inevitable transaction.
    Inevitable,
    /// An allocation failed.
    OutOfMemory,
    /// The transaction's code panicked.
    Panic,
    /// The host aborted the attempt.
    Requested,
    /// The transaction retried (`Tx::retry`, or the first branch of an
    /// `or_else`): it waits for a change, not a conflict.
    Retry,
}

impl AbortKind {
    /// Every kind, in the order of [`AbortKind::index`].
    pub const ALL: [AbortKind; 8] = [
        AbortKind::WriteWrite,
        AbortKind::Validation,
        AbortKind::Doomed,
        AbortKind::Inevitable,
        AbortKind::OutOfMemory,
        AbortKind::Panic,
        AbortKind::Requested,
        AbortKind::Retry,
    ];

    /// The kind's name in reports, logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            AbortKind::WriteWrite => "write-write",
            AbortKind::Validation => "validation",
            AbortKind::Doomed => "doomed",
            AbortKind::Inevitable => "inevitable",
            AbortKind::OutOfMemory => "out-of-memory",
            AbortKind::Panic => "panic",
            AbortKind::Requested => "requested",
            AbortKind::Retry => "retry",
        }
    }

    /// The kind's position in [`AbortKind::ALL`] (and its C value minus 1).
    pub fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn of(why: &Conflict) -> AbortKind {
        match why {
            Conflict::WriteWrite => AbortKind::WriteWrite,
            Conflict::Validation => AbortKind::Validation,
            Conflict::Doomed => AbortKind::Doomed,
            Conflict::Inevitable => AbortKind::Inevitable,
            Conflict::Alloc(_) => AbortKind::OutOfMemory,
            Conflict::Panic => AbortKind::Panic,
            Conflict::Requested => AbortKind::Requested,
            Conflict::Retry | Conflict::OrElse => AbortKind::Retry,
        }
    }
}

/// What a conflict was found on, noted when it is found: the object's type
/// id and identity (0: none), the other thread's slot (0: unknown) and that
/// thread's marker then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Culprit {
    pub type_id: u32,
    pub object: u64,
    pub other_slot: u32,
    pub other_marker: Marker,
}

/// An aborted attempt as its thread keeps it (names are looked up only
/// when [`Thread::last_abort_info`] is asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AbortRecord {
    pub kind: AbortKind,
    pub culprit: Culprit,
    pub marker: Marker,
    /// Attempt start to abort, when recording is on.
    pub wasted_nanos: Option<u64>,
}

/// The object a conflict was found on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictObject {
    pub type_id: TypeId,
    /// The registered type's name (a Rust type's path, or the name a host
    /// registered).
    pub type_name: String,
    /// The object's stable identity: its address, which never changes (a
    /// shared object is old), as `strata_identity` gives it.
    pub id: u64,
}

/// What aborted the calling thread's last aborted attempt
/// ([`Thread::last_abort_info`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbortInfo {
    pub kind: AbortKind,
    /// The object the conflict was found on, if it was found on one.
    pub object: Option<ConflictObject>,
    /// The thread slot ([`Thread::slot_id`]) of the other transaction,
    /// when known: the owner of the object, or the inevitable transaction
    /// that doomed this one.
    pub other_slot: Option<u32>,
    /// This thread's marker when it aborted.
    pub marker: Marker,
    /// The other thread's marker when the conflict was found.
    pub other_marker: Marker,
    /// The time the aborted attempt ran (attempt start to abort); `None`
    /// unless the heap records (see [`ReportConfig`](crate::ReportConfig)).
    pub wasted: Option<Duration>,
}

impl Thread {
    /// Sets this thread's marker: the position the host runs now, named in
    /// the reports of conflicts this thread takes part in, on either side.
    /// One store into a word of the thread's slot; it stays until the next
    /// call.
    #[inline]
    pub fn set_marker(&mut self, marker: Marker) {
        self.own_slot()
            .marker
            .store(marker.to_word(), Ordering::Relaxed);
    }

    /// This thread's marker.
    pub fn marker(&self) -> Marker {
        marker_of(self, self.slot)
    }

    /// This thread's slot number: what other threads' abort reports name
    /// it by ([`AbortInfo::other_slot`]). Unique among attached threads; a
    /// detached thread's slot is reused.
    pub fn slot_id(&self) -> u32 {
        self.slot
    }

    /// What aborted this thread's last aborted attempt, or `None` if none
    /// has aborted.
    pub fn last_abort_info(&mut self) -> Option<AbortInfo> {
        let record = self.tx.last_abort?;
        let culprit = record.culprit;
        let object = match culprit.object {
            0 => None,
            id => Some(ConflictObject {
                type_id: TypeId(culprit.type_id),
                type_name: self.type_name(culprit.type_id),
                id,
            }),
        };
        Some(AbortInfo {
            kind: record.kind,
            object,
            other_slot: (culprit.other_slot != 0).then_some(culprit.other_slot),
            marker: record.marker,
            other_marker: culprit.other_marker,
            wasted: record.wasted_nanos.map(Duration::from_nanos),
        })
    }

    /// The registered name of type `id`.
    pub(crate) fn type_name(&mut self, id: u32) -> String {
        match self.m.type_ref(id) {
            Ok(info) => info.name.clone(),
            Err(_) => format!("type {id}"),
        }
    }

    /// Notes that the attempt's conflict was found on `anchor`, a live
    /// anchor, against thread slot `other` (0: no other thread known).
    #[cold]
    #[inline(never)]
    pub(crate) fn note_culprit(&mut self, anchor: Address, other: u32) {
        self.tx.culprit = Culprit {
            // SAFETY: the caller holds `anchor`, a live anchor.
            type_id: unsafe { header::type_id(anchor) },
            object: anchor.as_usize() as u64,
            other_slot: other,
            other_marker: match other {
                0 => Marker::NONE,
                slot => marker_of(self, slot),
            },
        };
    }

    /// Notes that the attempt was doomed, by the slot its doomed word names.
    #[cold]
    #[inline(never)]
    pub(crate) fn note_doomer(&mut self) {
        let doomer = self.own_slot().doomed.load(Ordering::Relaxed);
        self.tx.culprit = Culprit {
            other_slot: doomer,
            other_marker: marker_of(self, doomer),
            ..Culprit::default()
        };
    }

    /// The record of the attempt aborting for `why`, from what was noted
    /// when the conflict was found (taken: the next attempt starts clean).
    pub(crate) fn abort_record(&mut self, why: &Conflict) -> AbortRecord {
        AbortRecord {
            kind: AbortKind::of(why),
            culprit: std::mem::take(&mut self.tx.culprit),
            marker: self.marker(),
            wasted_nanos: None,
        }
    }
}

/// Thread slot `slot`'s marker (a remote slot's only on a conflict path).
fn marker_of(thread: &Thread, slot: u32) -> Marker {
    Marker::from_word(thread.heap.stm.slot(slot).marker.load(Ordering::Relaxed))
}
