//! Recording (see `DESIGN.md`, "Conflict reports"): the heap's side
//! ([`Reports`]: the configuration, the merged profile, the event log file,
//! the profile written when the heap goes) and each thread's
//! ([`Recorder`]: its attempt's start time, its profile, its event buffer).
//!
//! A thread of a heap that does not record has no `Recorder`, and every
//! hook below is behind one test of `Thread::recorder`, at begin, commit,
//! abort, inevitability and waits; the barriers have none.

use crate::abort_info::{AbortRecord, Marker};
use crate::conflict_profile::{ConflictProfile, ProfileTable};
use crate::event_log::{Event, EventBuffer, EventFile};
use crate::shared::StmShared;
use crate::thread::Thread;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a heap records about its transactions ([`TxConfig::reports`](crate::TxConfig::reports)).
/// Off by default; any field switches recording on: attempts are timed
/// (the wasted time of [`AbortInfo`](crate::AbortInfo)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportConfig {
    /// Aggregate the conflict profile ([`Heap::conflict_profile`](crate::Heap::conflict_profile)).
    pub profile: bool,
    /// Aggregate it and write it there, as JSON, when the heap is dropped
    /// (`STRATA_PROFILE`).
    pub profile_path: Option<PathBuf>,
    /// Write the event log there (`STRATA_EVENTS`).
    pub events_path: Option<PathBuf>,
}

impl ReportConfig {
    /// Nothing recorded, except the paths the environment names
    /// (`STRATA_PROFILE=path`, `STRATA_EVENTS=path`).
    pub fn from_env() -> ReportConfig {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        };
        ReportConfig {
            profile: false,
            profile_path: path("STRATA_PROFILE"),
            events_path: path("STRATA_EVENTS"),
        }
    }

    /// Whether anything is recorded.
    pub fn records(&self) -> bool {
        self.profiles() || self.events_path.is_some()
    }

    fn profiles(&self) -> bool {
        self.profile || self.profile_path.is_some()
    }
}

/// A heap's recording.
pub(crate) struct Reports {
    config: ReportConfig,
    /// Event times count from here.
    start: Instant,
    gc: strata_gc::Heap,
    stm: Arc<StmShared>,
    /// The profiles of threads that have detached.
    profile: Mutex<ProfileTable>,
    events: Option<EventFile>,
}

impl Reports {
    /// The recording `config` asks for. A log that cannot be created is
    /// reported on stderr and left out: the program runs on.
    pub fn new(config: ReportConfig, gc: strata_gc::Heap, stm: Arc<StmShared>) -> Reports {
        let events = config.events_path.as_ref().and_then(|path| {
            EventFile::create(path)
                .map_err(|e| eprintln!("strata: creating the event log {}: {e}", path.display()))
                .ok()
        });
        Reports {
            config,
            start: Instant::now(),
            gc,
            stm,
            profile: Mutex::new(ProfileTable::default()),
            events,
        }
    }

    pub fn config(&self) -> &ReportConfig {
        &self.config
    }

    /// The detached threads' profile, with names.
    pub fn profile(&self) -> ConflictProfile {
        let table = self.profile.lock().unwrap_or_else(|e| e.into_inner());
        table.resolve(
            |marker| marker_text(&self.stm, marker),
            |id| {
                self.gc
                    .type_name(id)
                    .unwrap_or_else(|| format!("type {id}"))
            },
        )
    }
}

impl Drop for Reports {
    fn drop(&mut self) {
        if let Some(events) = &self.events {
            events.flush();
        }
        if let Some(path) = &self.config.profile_path {
            if let Err(e) = std::fs::write(path, self.profile().to_json()) {
                eprintln!(
                    "strata: writing the conflict profile {}: {e}",
                    path.display()
                );
            }
        }
    }
}

/// `marker` as `file:line` (`?` for no marker; a file number the heap
/// never gave out as `#n`).
pub(crate) fn marker_text(stm: &StmShared, marker: Marker) -> String {
    if marker.is_none() {
        return "?".to_string();
    }
    let files = stm.marker_files.lock().unwrap_or_else(|e| e.into_inner());
    match files.get(marker.file as usize - 1) {
        Some(name) => format!("{name}:{}", marker.line),
        None => format!("#{}:{}", marker.file, marker.line),
    }
}

/// A thread's recording.
pub(crate) struct Recorder {
    reports: Arc<Reports>,
    /// When the running (or last) attempt began.
    attempt_start: Instant,
    profile: Option<ProfileTable>,
    events: Option<EventBuffer>,
}

impl Recorder {
    /// The recorder of thread `thread` (its id) of a heap that records.
    pub fn new(reports: Arc<Reports>, thread: u64) -> Recorder {
        Recorder {
            profile: reports.config.profiles().then(ProfileTable::default),
            events: reports.events.is_some().then(|| EventBuffer::new(thread)),
            attempt_start: reports.start,
            reports,
        }
    }

    fn log_at(&mut self, at: Instant, event: Event) {
        if let (Some(buffer), Some(file)) = (&mut self.events, &self.reports.events) {
            let nanos = at.saturating_duration_since(self.reports.start).as_nanos() as u64;
            buffer.push(file, nanos, event);
        }
    }

    /// Logs `event` now.
    fn log(&mut self, event: Event) {
        if self.events.is_some() {
            self.log_at(Instant::now(), event);
        }
    }

    fn attempt_nanos(&self, end: Instant) -> u64 {
        end.saturating_duration_since(self.attempt_start).as_nanos() as u64
    }
}

impl Drop for Recorder {
    /// The thread detaches: its profile joins the heap's, its events go out.
    fn drop(&mut self) {
        if let Some(table) = &self.profile {
            self.reports
                .profile
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .merge(table);
        }
        if let (Some(buffer), Some(file)) = (&mut self.events, &self.reports.events) {
            buffer.write_to(file);
        }
    }
}

impl Thread {
    /// [`Thread::begin`] when recording: times the way to the attempt (a
    /// major collection seen to finish meanwhile is logged over it), then
    /// starts the attempt and its clock.
    #[cold]
    #[inline(never)]
    pub(crate) fn begin_recorded(&mut self, inevitable: bool) {
        let (before, majors) = (Instant::now(), self.heap.gc.major_collections());
        self.reach_begin();
        let reached = Instant::now();
        let collected = self.heap.gc.major_collections() != majors;
        if let Some(recorder) = self.recorder.as_deref_mut() {
            if collected {
                recorder.log_at(before, Event::CollectionStart);
                recorder.log_at(reached, Event::CollectionEnd);
            }
            recorder.attempt_start = reached;
            recorder.log_at(reached, Event::Begin);
        }
        self.start_attempt(inevitable);
    }

    /// Records a commit: its attempt's time, and the event.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_commit(&mut self) {
        if let Some(recorder) = self.recorder.as_deref_mut() {
            let now = Instant::now();
            let nanos = recorder.attempt_nanos(now);
            if let Some(table) = &mut recorder.profile {
                table.add_commit(nanos);
            }
            recorder.log_at(now, Event::Commit);
        }
    }

    /// Records an abort: the time its attempt wasted goes into `record`,
    /// the profile and the log.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_abort(&mut self, record: &mut AbortRecord) {
        if let Some(recorder) = self.recorder.as_deref_mut() {
            let now = Instant::now();
            let nanos = recorder.attempt_nanos(now);
            record.wasted_nanos = Some(nanos);
            if let Some(table) = &mut recorder.profile {
                table.add_abort(record, nanos);
            }
            recorder.log_at(now, Event::Abort(record.kind));
        }
    }

    /// Logs `event` if this thread records.
    #[inline]
    pub(crate) fn log_event(&mut self, event: Event) {
        if let Some(recorder) = self.recorder.as_deref_mut() {
            recorder.log(event);
        }
    }
}
