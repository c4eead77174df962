//! The conflict profile (see `DESIGN.md`, "Conflict reports"): aborts
//! aggregated by (this thread's marker, the other thread's marker, the
//! object's type), with their count, wasted time and causes, against the
//! time of all attempts.
//!
//! A thread aggregates into its own [`ProfileTable`] and adds it to the
//! heap's when it detaches; [`ConflictProfile`] is a table with its names
//! resolved, printable ([`ConflictProfile::report`]) and exportable
//! ([`ConflictProfile::to_json`], a JSON writer of its own: the document
//! is flat).

use crate::abort_counts::AbortCounts;
use crate::abort_info::{AbortKind, AbortRecord, Marker};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

/// What the profile aggregates by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ProfileKey {
    pub marker: Marker,
    pub other_marker: Marker,
    /// The object's type, if the conflict was found on an object.
    pub type_id: Option<u32>,
}

/// The aborts of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProfileCell {
    pub aborts: u64,
    pub wasted_nanos: u64,
    pub kinds: AbortCounts,
}

/// A thread's or a heap's aggregated aborts, by key, and the time of every
/// attempt (committed or aborted).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProfileTable {
    pub cells: HashMap<ProfileKey, ProfileCell>,
    pub attempt_nanos: u64,
    pub commits: u64,
}

impl ProfileTable {
    /// Adds a committed attempt that ran `nanos`.
    pub fn add_commit(&mut self, nanos: u64) {
        self.commits += 1;
        self.attempt_nanos += nanos;
    }

    /// Adds an aborted attempt (its wasted time is `nanos`).
    pub fn add_abort(&mut self, record: &AbortRecord, nanos: u64) {
        self.attempt_nanos += nanos;
        let key = ProfileKey {
            marker: record.marker,
            other_marker: record.culprit.other_marker,
            type_id: (record.culprit.object != 0).then_some(record.culprit.type_id),
        };
        let cell = self.cells.entry(key).or_default();
        cell.aborts += 1;
        cell.wasted_nanos += nanos;
        cell.kinds.count_kind(record.kind);
    }

    /// Adds `other`'s aborts and attempts to this table.
    pub fn merge(&mut self, other: &ProfileTable) {
        self.attempt_nanos += other.attempt_nanos;
        self.commits += other.commits;
        for (key, cell) in &other.cells {
            let mine = self.cells.entry(*key).or_default();
            mine.aborts += cell.aborts;
            mine.wasted_nanos += cell.wasted_nanos;
            mine.kinds.add(&cell.kinds);
        }
    }

    /// The table with names: `marker_text` renders a marker, `type_name` a
    /// type id. Lines come worst first (most wasted time, then most aborts).
    pub fn resolve(
        &self,
        marker_text: impl Fn(Marker) -> String,
        type_name: impl Fn(u32) -> String,
    ) -> ConflictProfile {
        let mut lines: Vec<ProfileLine> = self
            .cells
            .iter()
            .map(|(key, cell)| ProfileLine {
                marker: marker_text(key.marker),
                other_marker: marker_text(key.other_marker),
                type_name: key.type_id.map(&type_name),
                aborts: cell.aborts,
                wasted: Duration::from_nanos(cell.wasted_nanos),
                kinds: cell.kinds,
            })
            .collect();
        lines.sort_by(|a, b| {
            (b.wasted, b.aborts, &a.marker, &a.other_marker, &a.type_name).cmp(&(
                a.wasted,
                a.aborts,
                &b.marker,
                &b.other_marker,
                &b.type_name,
            ))
        });
        ConflictProfile {
            lines,
            attempt_time: Duration::from_nanos(self.attempt_nanos),
            commits: self.commits,
        }
    }
}

/// The aborts of one (marker, other marker, type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileLine {
    /// The aborted thread's marker (`file:line`, or `?` for none).
    pub marker: String,
    /// The other thread's marker (`?` when none or unknown).
    pub other_marker: String,
    /// The type of the object the conflicts were found on, if any.
    pub type_name: Option<String>,
    pub aborts: u64,
    /// The time the aborted attempts ran.
    pub wasted: Duration,
    /// The aborts by cause.
    pub kinds: AbortCounts,
}

/// A heap's conflict profile ([`Heap::conflict_profile`](crate::Heap::conflict_profile)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictProfile {
    /// Worst first.
    pub lines: Vec<ProfileLine>,
    /// The time of every attempt, committed or aborted.
    pub attempt_time: Duration,
    pub commits: u64,
}

impl ConflictProfile {
    /// `line`'s wasted time as a share (0 to 1) of the time in attempts.
    pub fn share(&self, line: &ProfileLine) -> f64 {
        match self.attempt_time.as_nanos() {
            0 => 0.0,
            total => line.wasted.as_nanos() as f64 / total as f64,
        }
    }

    /// Every abort of the profile.
    pub fn aborts(&self) -> u64 {
        self.lines.iter().map(|line| line.aborts).sum()
    }

    /// The profile as lines of text, worst first: `bank.scm:12 vs
    /// bank.scm:30 on Account: 412 aborts (write-write 400, validation
    /// 12), 1.2 ms wasted, 38.0% of the time in transactions`.
    pub fn report(&self) -> String {
        let mut out = format!(
            "conflict profile: {} aborts, {} commits, {:.3?} in transactions\n",
            self.aborts(),
            self.commits,
            self.attempt_time
        );
        for line in &self.lines {
            let on = match &line.type_name {
                Some(name) => format!(" on {name}"),
                None => String::new(),
            };
            let kinds: Vec<String> = AbortKind::ALL
                .iter()
                .filter(|&&kind| line.kinds.of_kind(kind) > 0)
                .map(|&kind| format!("{} {}", kind.name(), line.kinds.of_kind(kind)))
                .collect();
            // Writing into a String cannot fail.
            let _ = writeln!(
                out,
                "{} vs {}{on}: {} aborts ({}), {:.3?} wasted, {:.1}% of the time in transactions",
                line.marker,
                line.other_marker,
                line.aborts,
                kinds.join(", "),
                line.wasted,
                100.0 * self.share(line)
            );
        }
        out
    }

    /// The profile as a JSON object: `attempt_nanos`, `commits`, `aborts`
    /// and `lines`, each line with `marker`, `other_marker`, `type` (null
    /// when none), `aborts`, `wasted_nanos`, `share` and `kinds` (the
    /// count of each cause, by [`AbortKind::name`]).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\"attempt_nanos\":{},\"commits\":{},\"aborts\":{},\"lines\":[",
            self.attempt_time.as_nanos(),
            self.commits,
            self.aborts()
        );
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"marker\":");
            json_string(&mut out, &line.marker);
            out.push_str(",\"other_marker\":");
            json_string(&mut out, &line.other_marker);
            out.push_str(",\"type\":");
            match &line.type_name {
                Some(name) => json_string(&mut out, name),
                None => out.push_str("null"),
            }
            let _ = write!(
                out,
                ",\"aborts\":{},\"wasted_nanos\":{},\"share\":{},\"kinds\":{{",
                line.aborts,
                line.wasted.as_nanos(),
                self.share(line)
            );
            for (k, kind) in AbortKind::ALL.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let _ = write!(out, "\"{}\":{}", kind.name(), line.kinds.of_kind(*kind));
            }
            out.push_str("}}");
        }
        out.push_str("]}");
        out
    }
}

/// Appends `text` as a JSON string (quoted, with `"`, `\` and control
/// characters escaped).
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abort_info::Culprit;

    fn record(kind: AbortKind, mine: u32, theirs: u32, type_id: u32) -> AbortRecord {
        AbortRecord {
            kind,
            culprit: Culprit {
                type_id,
                object: 0x1000,
                other_slot: 2,
                other_marker: Marker::new(1, theirs),
            },
            marker: Marker::new(1, mine),
            wasted_nanos: None,
        }
    }

    #[test]
    fn aborts_aggregate_by_markers_and_type_and_merge_across_threads() {
        let mut a = ProfileTable::default();
        a.add_abort(&record(AbortKind::WriteWrite, 12, 30, 5), 300);
        a.add_abort(&record(AbortKind::Validation, 12, 30, 5), 100);
        a.add_abort(&record(AbortKind::WriteWrite, 40, 30, 5), 50);
        a.add_commit(550);
        let mut b = ProfileTable::default();
        b.add_abort(&record(AbortKind::WriteWrite, 12, 30, 5), 600);
        b.add_abort(&record(AbortKind::WriteWrite, 12, 30, 6), 10);
        b.add_commit(390);
        let mut heap = ProfileTable::default();
        heap.merge(&a);
        heap.merge(&b);
        let profile = heap.resolve(
            |m| format!("f{}:{}", m.file, m.line),
            |t| ["", "", "", "", "", "Account", "Branch"][t as usize].to_string(),
        );
        assert_eq!(profile.commits, 2);
        assert_eq!(profile.attempt_time, Duration::from_nanos(2000));
        assert_eq!(profile.aborts(), 5);
        assert_eq!(profile.lines.len(), 3);
        let worst = &profile.lines[0];
        assert_eq!(
            (worst.marker.as_str(), worst.other_marker.as_str()),
            ("f1:12", "f1:30")
        );
        assert_eq!(worst.type_name.as_deref(), Some("Account"));
        assert_eq!(
            (worst.aborts, worst.wasted),
            (3, Duration::from_nanos(1000))
        );
        assert_eq!((worst.kinds.write_write, worst.kinds.validation), (2, 1));
        assert!((profile.share(worst) - 0.5).abs() < 1e-9);
        let report = profile.report();
        assert!(
            report.contains("f1:12 vs f1:30 on Account: 3 aborts (write-write 2, validation 1)"),
            "{report}"
        );
        assert!(
            report.contains("50.0% of the time in transactions"),
            "{report}"
        );
        let json: serde_json::Value = serde_json::from_str(&profile.to_json()).unwrap();
        assert_eq!(json["aborts"], 5);
        assert_eq!(json["attempt_nanos"], 2000);
        assert_eq!(json["lines"][0]["type"], "Account");
        assert_eq!(json["lines"][0]["wasted_nanos"], 1000);
        assert_eq!(json["lines"][0]["kinds"]["validation"], 1);
        assert_eq!(json["lines"][2]["type"], "Branch");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, r#""a\"b\\c\nd\u0001""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}");
    }
}
