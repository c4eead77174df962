//! Transactions from C: begin, commit, abort and the doomed query, over
//! the attempts `strata::Thread` drives call by call (see `DESIGN.md`,
//! "Transactions from C"). The host's retry loop is counted here, so that
//! reruns back off and eventually run inevitably, as `atomically`'s do.

use crate::status::{boundary, last_error_message, non_null, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};
use std::ffi::c_void;

/// `strata_tx_begin`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_begin(thread: *mut strata_thread) -> Status {
    boundary("strata_tx_begin", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.begin_manual(handle.aborts_in_a_row)?)
        })
    })
}

/// `strata_tx_commit`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_commit(thread: *mut strata_thread) -> Status {
    boundary("strata_tx_commit", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            if handle.thread.commit_manual()? {
                handle.aborts_in_a_row = 0;
                Ok(())
            } else {
                handle.aborts_in_a_row = handle.aborts_in_a_row.saturating_add(1);
                Err(Failure::new(
                    Status::Aborted,
                    "the transaction aborted (a conflict): nothing it did remains, run it again",
                ))
            }
        })
    })
}

/// `strata_tx_abort`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_abort(thread: *mut strata_thread) -> Status {
    boundary("strata_tx_abort", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            handle.thread.abort_manual()?;
            // The host gave the block up: its next one starts afresh.
            handle.aborts_in_a_row = 0;
            Ok(())
        })
    })
}

/// `strata_tx_doomed`: see the header.
///
/// # Safety
/// `doomed_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_doomed(
    thread: *mut strata_thread,
    doomed_out: *mut bool,
) -> Status {
    boundary("strata_tx_doomed", || {
        non_null(doomed_out, "doomed_out")?;
        let doomed = with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.manual_doomed()?)
        })?;
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { doomed_out.write(doomed) };
        Ok(())
    })
}

/// Stores what `query` says of the open transaction in `out`.
fn query(
    thread: *mut strata_thread,
    out: *mut bool,
    query: impl FnOnce(&strata_rs::Thread) -> Result<bool, strata_rs::ManualError>,
) -> Result<(), Failure> {
    non_null(out, "the out-pointer")?;
    let answer = with_thread(thread, WhenBlocked::Refuse, |handle| {
        Ok(query(&handle.thread)?)
    })?;
    // SAFETY: not NULL, and writable by the caller's promise.
    unsafe { out.write(answer) };
    Ok(())
}

/// `strata_tx_is_inevitable`: see the header.
///
/// # Safety
/// `inevitable_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_is_inevitable(
    thread: *mut strata_thread,
    inevitable_out: *mut bool,
) -> Status {
    boundary("strata_tx_is_inevitable", || {
        query(thread, inevitable_out, |th| th.manual_inevitable())
    })
}

/// `strata_tx_should_break`: see the header.
///
/// # Safety
/// `break_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_should_break(
    thread: *mut strata_thread,
    break_out: *mut bool,
) -> Status {
    boundary("strata_tx_should_break", || {
        query(thread, break_out, |th| th.manual_should_break())
    })
}

/// `strata_tx_become_inevitable`: see the header.
///
/// # Safety
/// None beyond the header's rules: `thread` is looked up before it is used.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_become_inevitable(thread: *mut strata_thread) -> Status {
    boundary("strata_tx_become_inevitable", || {
        with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.become_inevitable_manual()?)
        })
    })
}

/// `strata_block_fn`: a block of host code run as a transaction.
pub type BlockFn = unsafe extern "C" fn(thread: *mut strata_thread, ctx: *mut c_void) -> Status;

/// `strata_atomically`: see the header. The block calls strata functions
/// on `thread`, so this loop holds no borrow of the thread across it: it
/// drives the transaction through the exported calls themselves.
///
/// # Safety
/// `block` is NULL or a function that follows the header's rules.
#[no_mangle]
pub unsafe extern "C" fn strata_atomically(
    thread: *mut strata_thread,
    block: Option<BlockFn>,
    ctx: *mut c_void,
) -> Status {
    boundary("strata_atomically", || {
        let Some(block) = block else {
            return Err(Failure::null("block"));
        };
        let failed = |status: Status| Err(Failure::new(status, last_error_message()));
        let commit = || {
            // SAFETY: the entry point checks `thread` itself.
            unsafe { strata_tx_commit(thread) }
        };
        let abort = || {
            // SAFETY: as above.
            unsafe { strata_tx_abort(thread) }
        };
        loop {
            // SAFETY: as above.
            let begun = unsafe { strata_tx_begin(thread) };
            if begun != Status::Ok {
                return failed(begun);
            }
            // SAFETY: the caller's promise; the block returns normally.
            let ran = unsafe { block(thread, ctx) };
            let ended = match ran {
                Status::Ok => commit(),
                Status::Aborted => {
                    let mut doomed = false;
                    // SAFETY: as above; `doomed` is a local.
                    let asked = unsafe { strata_tx_doomed(thread, &mut doomed) };
                    if asked != Status::Ok {
                        return failed(asked);
                    }
                    // A doomed attempt's commit aborts it and counts the
                    // abort (back-off, then inevitability); a block that
                    // stopped on its own is aborted as asked.
                    match doomed {
                        true => commit(),
                        false => match abort() {
                            Status::Ok => Status::Aborted,
                            other => other,
                        },
                    }
                }
                given_up => {
                    let message = format!(
                        "the block gave up with status {} (last error: {})",
                        given_up as i32,
                        last_error_message()
                    );
                    let aborted = abort();
                    if aborted != Status::Ok {
                        return failed(aborted);
                    }
                    return Err(Failure::new(given_up, message));
                }
            };
            match ended {
                Status::Ok => return Ok(()),
                Status::Aborted => continue,
                other => return failed(other),
            }
        }
    })
}

/// `strata_callback_fn`: a host callback run after a transaction's outcome.
pub type CallbackFn = unsafe extern "C" fn(ctx: *mut c_void);

/// Registers `callback(ctx)` with `register` (on commit or on abort).
fn register_callback(
    thread: *mut strata_thread,
    callback: Option<CallbackFn>,
    ctx: *mut c_void,
    register: impl FnOnce(
        &mut strata_rs::Thread,
        Box<dyn FnOnce()>,
    ) -> Result<(), strata_rs::ManualError>,
) -> Result<(), Failure> {
    let Some(callback) = callback else {
        return Err(Failure::null("callback"));
    };
    with_thread(thread, WhenBlocked::Refuse, |handle| {
        let run = Box::new(move || {
            // SAFETY: the caller's promise: a callback that returns normally
            // and calls no strata function on this thread.
            unsafe { callback(ctx) }
        });
        Ok(register(&mut handle.thread, run)?)
    })
}

/// `strata_tx_on_commit`: see the header.
///
/// # Safety
/// `callback` is NULL or a function that follows the header's rules.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_on_commit(
    thread: *mut strata_thread,
    callback: Option<CallbackFn>,
    ctx: *mut c_void,
) -> Status {
    boundary("strata_tx_on_commit", || {
        register_callback(thread, callback, ctx, |th, run| th.on_commit_manual(run))
    })
}

/// `strata_tx_on_abort`: see the header.
///
/// # Safety
/// `callback` is NULL or a function that follows the header's rules.
#[no_mangle]
pub unsafe extern "C" fn strata_tx_on_abort(
    thread: *mut strata_thread,
    callback: Option<CallbackFn>,
    ctx: *mut c_void,
) -> Status {
    boundary("strata_tx_on_abort", || {
        register_callback(thread, callback, ctx, |th, run| th.on_abort_manual(run))
    })
}
