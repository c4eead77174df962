//! [`TaskRunner`]: a pool of attached worker threads that run closures as
//! transactions, each in its own, in parallel: in any serial order
//! ([`TaskRunner::run`]) or committing in the order they were given
//! ([`TaskRunner::run_ordered`]), which makes the result that of the
//! sequential loop (see `DESIGN.md`, "Task runner", for why the ordered
//! mode cannot deadlock: the task at its turn is inevitable, the tasks
//! waiting for theirs can be doomed).

use crate::error::Error;
use crate::heap::Heap;
use crate::thread::Thread;
use crate::tx::{Conflict, Tx};
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Work for one worker thread.
type Job = Box<dyn FnOnce(&mut Thread) + Send>;

/// A chunk of a call's tasks, which may borrow the call's caller.
type ScopedJob<'env> = Box<dyn FnOnce(&mut Thread) + Send + 'env>;

/// `job` as the workers' queue holds it.
///
/// # Safety
/// The caller queues the job and does not return or unwind until the job
/// has sent its outcomes (its last act, after its tasks ran and were
/// dropped; what it drops after, its sender and the turn counter, borrows
/// nothing) or was dropped (see `DESIGN.md`, "Task runner", "Tasks borrow
/// from the caller"): nothing it borrows ends while it may run.
unsafe fn erase_lifetime(job: ScopedJob<'_>) -> Job {
    // SAFETY: the same trait object with a longer lifetime (same layout);
    // the caller's promise keeps what it borrows alive while it may run.
    unsafe { std::mem::transmute::<ScopedJob<'_>, Job>(job) }
}

/// What a task ended with: its result, or the panic it raised.
type Outcome<R> = std::thread::Result<Result<R, Error>>;

/// The jobs waiting for a worker.
#[derive(Default)]
struct Jobs {
    queue: Mutex<JobQueue>,
    ready: Condvar,
}

#[derive(Default)]
struct JobQueue {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Jobs {
    /// The next job, waiting for one; `None` once the runner is dropped.
    fn next(&self) -> Option<Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                return Some(job);
            }
            if queue.closed {
                return None;
            }
            queue = self.ready.wait(queue).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Queues `jobs` together (so that the jobs of one call are taken in
    /// their order, with no other call's in between).
    fn push_all(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.jobs.extend(jobs);
        drop(queue);
        self.ready.notify_all();
    }

    fn close(&self) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.ready.notify_all();
    }
}

/// A pool of threads attached to one heap that run tasks, closures over a
/// transaction, each in a transaction of its own.
///
/// Making a runner waits for its workers to attach, the calls that run
/// tasks wait for the tasks, and dropping it waits for the workers to end:
/// a caller that is itself attached to the heap does all three inside
/// [`Thread::blocking`], so that collections do not wait for it.
///
/// ```
/// use strata::{Heap, HeapConfig, TaskRunner, TxCounter};
///
/// let heap = Heap::new(HeapConfig::default()).unwrap();
/// let mut main = heap.attach().unwrap();
/// let counter = TxCounter::new(&mut main).unwrap();
/// let runner = main.blocking(|| TaskRunner::new(&heap, 2)).unwrap();
/// // Tasks may borrow: the call returns once they all ended.
/// let counter_ref = &counter;
/// let tasks: Vec<_> = (1..=10)
///     .map(|i| move |tx: &mut strata::Tx<'_>| counter_ref.add(tx, i))
///     .collect();
/// main.blocking(|| runner.run_ordered(tasks)).unwrap();
/// assert_eq!(main.atomically(|tx| counter.get(tx)).unwrap(), 55);
/// main.blocking(|| drop(runner));
/// ```
pub struct TaskRunner {
    jobs: Arc<Jobs>,
    workers: Vec<JoinHandle<()>>,
}

/// How many turns an ordered task spins for its turn before it waits
/// outside the heap.
const TURN_SPINS: usize = 256;

/// How many chunks of an unordered call a worker gets (about): enough
/// that a slow chunk leaves work for the others, few enough that handing
/// them out costs little.
const CHUNKS_PER_WORKER: usize = 4;

impl TaskRunner {
    /// Starts `workers` threads attached to `heap`, and waits until they
    /// have attached.
    ///
    /// # Panics
    /// If `workers` is 0.
    pub fn new(heap: &Heap, workers: usize) -> Result<TaskRunner, Error> {
        assert!(workers > 0, "strata: a task runner needs a worker");
        let jobs = Arc::new(Jobs::default());
        let (attached, started) = mpsc::channel::<Result<(), Error>>();
        let mut runner = TaskRunner {
            jobs: jobs.clone(),
            workers: Vec::with_capacity(workers),
        };
        for _ in 0..workers {
            let (heap, jobs, attached) = (heap.clone(), jobs.clone(), attached.clone());
            runner.workers.push(std::thread::spawn(move || {
                let mut thread = match heap.attach() {
                    Ok(thread) => thread,
                    Err(e) => return attached.send(Err(e)).unwrap_or(()),
                };
                attached.send(Ok(())).unwrap_or(());
                drop(attached);
                // Idle workers wait outside the heap.
                while let Some(job) = thread.blocking(|| jobs.next()) {
                    job(&mut thread);
                }
            }));
        }
        for _ in 0..workers {
            started
                .recv()
                .expect("every worker says whether it attached")?;
        }
        Ok(runner)
    }

    /// How many worker threads the runner has.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Runs every task in a transaction of its own, in parallel, and
    /// returns their results in the tasks' order (tasks and results may
    /// borrow the caller's data: the call returns once every task ended). The heap ends as after
    /// the tasks ran one after the other in some order. A task that panics
    /// makes this call panic with its payload once every task has ended.
    pub fn run<R, F>(&self, tasks: impl IntoIterator<Item = F>) -> Result<Vec<R>, Error>
    where
        F: for<'tx> FnMut(&mut Tx<'tx>) -> R + Send,
        R: Send,
    {
        let tasks: Vec<F> = tasks.into_iter().collect();
        let n = tasks.len();
        let size = n.div_ceil(self.workers.len() * CHUNKS_PER_WORKER).max(1);
        let (results, outcomes) = mpsc::channel();
        let mut jobs: Vec<ScopedJob<'_>> = Vec::new();
        let mut tasks = tasks.into_iter().enumerate().peekable();
        while tasks.peek().is_some() {
            let chunk: Vec<(usize, F)> = tasks.by_ref().take(size).collect();
            let results = results.clone();
            jobs.push(Box::new(move |thread: &mut Thread| {
                let ended: Vec<_> = chunk
                    .into_iter()
                    .map(|(i, mut task)| {
                        let outcome =
                            panic::catch_unwind(AssertUnwindSafe(|| thread.atomically(&mut task)));
                        (i, outcome)
                    })
                    .collect();
                results.send(ended).unwrap_or(());
            }));
        }
        self.run_chunks(jobs, n, outcomes)
    }

    /// Runs every task in a transaction of its own, in parallel, but
    /// commits them in the tasks' order: the heap and the results are
    /// those of running the tasks one after the other, in order. Tasks
    /// that conflict with their predecessors run again (at their turn).
    ///
    /// # Panics
    /// If a task panics, or calls [`Tx::retry`] (which panics in an ordered
    /// task: a task at its turn is inevitable, and one sleeping before its
    /// turn might never be woken): then this call panics with the task's
    /// payload once every task has ended.
    pub fn run_ordered<R, F>(&self, tasks: impl IntoIterator<Item = F>) -> Result<Vec<R>, Error>
    where
        F: for<'tx> FnMut(&mut Tx<'tx>) -> R + Send,
        R: Send,
    {
        let turn = Arc::new(AtomicU64::new(0));
        let workers = self.workers.len();
        // Dealt: consecutive tasks on different workers (module doc).
        let mut chunks: Vec<Vec<(usize, F)>> = (0..workers).map(|_| Vec::new()).collect();
        let mut n = 0;
        for (i, task) in tasks.into_iter().enumerate() {
            chunks[i % workers].push((i, task));
            n += 1;
        }
        let (results, outcomes) = mpsc::channel();
        let jobs: Vec<ScopedJob<'_>> = chunks
            .into_iter()
            .filter(|chunk| !chunk.is_empty())
            .map(|chunk| {
                let (results, turn) = (results.clone(), turn.clone());
                Box::new(move |thread: &mut Thread| {
                    let ended: Vec<_> = chunk
                        .into_iter()
                        .map(|(i, task)| (i, run_at_turn(thread, &turn, i as u64, task)))
                        .collect();
                    results.send(ended).unwrap_or(());
                }) as ScopedJob<'_>
            })
            .collect();
        self.run_chunks(jobs, n, outcomes)
    }

    /// Queues a call's chunks and returns the results of its `n` tasks
    /// once every chunk has sent its outcomes (each chunk's last act).
    fn run_chunks<R>(
        &self,
        chunks: Vec<ScopedJob<'_>>,
        n: usize,
        outcomes: mpsc::Receiver<Vec<(usize, Outcome<R>)>>,
    ) -> Result<Vec<R>, Error> {
        // SAFETY: `collect` returns only once every chunk has sent its
        // outcomes, and raises a task's panic only then; nothing between
        // the queueing and it can unwind.
        self.jobs
            .push_all(chunks.into_iter().map(|job| unsafe { erase_lifetime(job) }));
        collect(n, outcomes)
    }
}

/// Runs ordered task `me` in a transaction that commits at its turn, and
/// gives the turn to the next task.
fn run_at_turn<R, F>(thread: &mut Thread, turn: &AtomicU64, me: u64, mut task: F) -> Outcome<R>
where
    F: for<'tx> FnMut(&mut Tx<'tx>) -> R,
{
    thread.tx.ordered_task = true;
    let mut attempts = 0u32;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        thread.atomically(|tx| {
            attempts += 1;
            if attempts > 1 {
                // A rerun runs at its turn only (DESIGN.md, "Task runner"):
                // a doomed task that ran again at once would take back what
                // the task at its turn waits for, and a task aborted again
                // and again would come to run inevitable before its turn.
                wait_until_turn(tx, turn, me);
            }
            if turn.load(Ordering::Acquire) == me {
                tx.become_inevitable();
            }
            let result = task(tx);
            if !tx.is_inevitable() {
                wait_for_turn(tx, turn, me);
            }
            result
        })
    }));
    thread.tx.ordered_task = false;
    if outcome.is_err() {
        // A task that panicked waits for its turn, and gives it to the
        // next.
        thread.blocking(|| yield_until_turn(turn, me));
    }
    turn.store(me + 1, Ordering::Release);
    outcome
}

impl Drop for TaskRunner {
    /// Lets the workers finish the queued tasks, then ends them.
    fn drop(&mut self) {
        self.jobs.close();
        for worker in self.workers.drain(..) {
            // A worker's panic was raised by the call that ran its task.
            let _ = worker.join();
        }
    }
}

/// The end of an ordered task's closure when it is not at its turn: waits
/// (outside the heap) for its turn, or for a doom from the task at its
/// turn (then it aborts, releasing what it owns, and runs again); at its
/// turn, moves its snapshot past its predecessors' commits, or aborts if
/// they changed something it read.
fn wait_for_turn(tx: &mut Tx<'_>, turn: &AtomicU64, me: u64) {
    let stm = tx.th.heap.stm.clone();
    let slot = tx.th.slot;
    let ended = || {
        if stm.slot(slot).doomed.load(Ordering::Relaxed) != 0 {
            Some(true)
        } else if turn.load(Ordering::Acquire) == me {
            Some(false)
        } else {
            None
        }
    };
    // The predecessor usually commits within a short task's time: a
    // short spin first, as every wait on another thread does (see
    // `DESIGN.md`, "Contention"), then the blocking section.
    let spun = (0..TURN_SPINS).find_map(|_| {
        crate::sync::spin();
        ended()
    });
    let doomed = match spun {
        Some(doomed) => doomed,
        None => tx.blocking(|| loop {
            if let Some(doomed) = ended() {
                return doomed;
            }
            std::thread::yield_now();
        }),
    };
    if doomed {
        tx.th.abort_attempt(Conflict::Doomed);
    }
    tx.th.extend_or_abort();
}

/// The start of an ordered task's rerun: waits (outside the heap) until
/// the turn is its own. The attempt owns nothing yet, so no task waits
/// for it meanwhile.
fn wait_until_turn(tx: &mut Tx<'_>, turn: &AtomicU64, me: u64) {
    if turn.load(Ordering::Acquire) != me {
        tx.blocking(|| yield_until_turn(turn, me));
    }
}

/// Yields the core until the turn is `me`'s (in a blocking section: the
/// wait may last as long as the predecessors run).
fn yield_until_turn(turn: &AtomicU64, me: u64) {
    while turn.load(Ordering::Acquire) != me {
        std::thread::yield_now();
    }
}

/// The results of `n` tasks in their order, once all have ended (their
/// outcomes come a chunk at a time); raises the first panic among them
/// again.
fn collect<R>(
    n: usize,
    outcomes: mpsc::Receiver<Vec<(usize, Outcome<R>)>>,
) -> Result<Vec<R>, Error> {
    let mut results: Vec<Option<Result<R, Error>>> = (0..n).map(|_| None).collect();
    let mut panicked = None;
    let mut ended = 0;
    while ended < n {
        let chunk = outcomes
            .recv()
            .expect("every chunk sends how its tasks ended");
        ended += chunk.len();
        for (i, outcome) in chunk {
            match outcome {
                Ok(result) => results[i] = Some(result),
                Err(payload) => {
                    panicked.get_or_insert(payload);
                }
            }
        }
    }
    if let Some(payload) = panicked {
        panic::resume_unwind(payload);
    }
    results
        .into_iter()
        .map(|r| r.expect("every task that did not panic has a result"))
        .collect()
}
