//! The event log (see `DESIGN.md`, "Conflict reports"): what each thread's
//! transactions did and when, as text lines `nanos thread event`, for
//! `strata-bench profile` to summarise.
//!
//! Each thread appends to its own [`EventBuffer`] and writes it to the
//! heap's [`EventFile`] (a mutex) when it holds [`BUFFER_EVENTS`] events
//! and when the thread detaches: threads share no line per event.

use crate::abort_info::AbortKind;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::Mutex;

/// Events a thread buffers before it writes them out.
pub(crate) const BUFFER_EVENTS: usize = 4096;

/// The first line of every log.
pub const EVENT_LOG_HEADER: &str = "# strata events: nanoseconds thread event";

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Begin,
    Commit,
    Abort(AbortKind),
    Inevitable,
    WaitStart,
    WaitEnd,
    CollectionStart,
    CollectionEnd,
}

impl Event {
    /// The event's word in the log (an abort names its kind after a colon).
    fn write_to(self, out: &mut String) {
        let word = match self {
            Event::Begin => "begin",
            Event::Commit => "commit",
            Event::Abort(kind) => {
                out.push_str("abort:");
                kind.name()
            }
            Event::Inevitable => "inevitable",
            Event::WaitStart => "wait-start",
            Event::WaitEnd => "wait-end",
            Event::CollectionStart => "collection-start",
            Event::CollectionEnd => "collection-end",
        };
        out.push_str(word);
    }
}

/// The heap's log file.
pub(crate) struct EventFile(Mutex<BufWriter<File>>);

impl EventFile {
    /// Creates (or truncates) the log at `path` and writes its header.
    pub fn create(path: &Path) -> std::io::Result<EventFile> {
        let mut out = BufWriter::new(File::create(path)?);
        writeln!(out, "{EVENT_LOG_HEADER}")?;
        Ok(EventFile(Mutex::new(out)))
    }

    fn write(&self, text: &str) {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A log that cannot be written is reported once per buffer, not
        // turned into a failure of the transactions it describes.
        if let Err(e) = out.write_all(text.as_bytes()) {
            eprintln!("strata: writing the event log: {e}");
        }
    }

    /// Writes out what the file buffers.
    pub fn flush(&self) {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = out.flush() {
            eprintln!("strata: writing the event log: {e}");
        }
    }
}

/// One thread's events not yet written: (nanoseconds since the heap's
/// recording began, event).
pub(crate) struct EventBuffer {
    thread: u64,
    events: Vec<(u64, Event)>,
}

impl EventBuffer {
    pub fn new(thread: u64) -> EventBuffer {
        EventBuffer {
            thread,
            events: Vec::with_capacity(BUFFER_EVENTS),
        }
    }

    /// Appends `event` at `nanos`, writing the buffer to `file` first when
    /// it is full.
    #[inline]
    pub fn push(&mut self, file: &EventFile, nanos: u64, event: Event) {
        if self.events.len() == BUFFER_EVENTS {
            self.write_to(file);
        }
        self.events.push((nanos, event));
    }

    /// Writes the buffered events to `file` and empties the buffer.
    pub fn write_to(&mut self, file: &EventFile) {
        let mut text = String::with_capacity(self.events.len() * 32);
        for &(nanos, event) in &self.events {
            // Writing into a String cannot fail.
            let _ = write!(text, "{nanos} {} ", self.thread);
            event.write_to(&mut text);
            text.push('\n');
        }
        file.write(&text);
        self.events.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_buffer_is_written_out_in_order_and_the_rest_at_the_end() {
        let path = std::env::temp_dir().join(format!("strata-events-{}.log", std::process::id()));
        let file = EventFile::create(&path).unwrap();
        let mut buffer = EventBuffer::new(7);
        for i in 0..BUFFER_EVENTS as u64 + 2 {
            buffer.push(&file, i, Event::Begin);
        }
        assert_eq!(buffer.events.len(), 2, "the first full buffer went out");
        buffer.push(&file, 99_999, Event::Abort(AbortKind::WriteWrite));
        buffer.write_to(&file);
        file.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], EVENT_LOG_HEADER);
        assert_eq!(lines.len(), 1 + BUFFER_EVENTS + 3);
        assert_eq!(lines[1], "0 7 begin");
        assert_eq!(
            lines[BUFFER_EVENTS + 2],
            format!("{} 7 begin", BUFFER_EVENTS + 1)
        );
        assert_eq!(lines[BUFFER_EVENTS + 3], "99999 7 abort:write-write");
    }
}
