//! Peak resident memory during one run: a thread samples /proc/self/statm
//! (the process's VmHWM only ever grows, so it cannot tell runs apart).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Resident bytes now.
pub fn current() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Samples RSS every 5 ms until dropped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicUsize>,
    samples: Arc<std::sync::Mutex<Vec<(f64, usize)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicUsize::new(current()));
        let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
        let thread = {
            let (stop, peak, samples) = (stop.clone(), peak.clone(), samples.clone());
            std::thread::spawn(move || {
                let start = std::time::Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let rss = current();
                    peak.fetch_max(rss, Ordering::Relaxed);
                    samples
                        .lock()
                        .unwrap()
                        .push((start.elapsed().as_secs_f64(), rss));
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Sampler {
            stop,
            peak,
            samples,
            thread: Some(thread),
        }
    }

    /// Stops sampling; returns the peak and the (seconds, bytes) series.
    pub fn finish(mut self) -> (usize, Vec<(f64, usize)>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let peak = self.peak.load(Ordering::Relaxed).max(current());
        let samples = std::mem::take(&mut *self.samples.lock().unwrap());
        (peak, samples)
    }
}
