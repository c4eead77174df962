//! A progress line on standard error while a run is going (only when it is a
//! terminal): a bar for timed runs, elapsed seconds for the others.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Draws until dropped.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing `label`; `expected` is the run's length when known.
    pub fn start(label: String, expected: Option<Duration>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    let elapsed = start.elapsed().as_secs_f64();
                    let line = match expected {
                        Some(total) => {
                            let total = total.as_secs_f64().max(1e-3);
                            let filled = ((elapsed / total).min(1.0) * 30.0) as usize;
                            format!(
                                "[{}{}] {label} {elapsed:.1}/{total:.1} s",
                                "#".repeat(filled),
                                ".".repeat(30 - filled)
                            )
                        }
                        None => format!("{label} {elapsed:.1} s"),
                    };
                    eprint!("\r{line:<78}");
                    let _ = std::io::stderr().flush();
                    std::thread::sleep(Duration::from_millis(200));
                }
                eprint!("\r{:78}\r", "");
            })
        });
        Progress { done, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
