//! Transactions from C: begin, commit, abort and the doomed query, over
//! the attempts `strata::Thread` drives call by call (see `DESIGN.md`,
//! "Transactions from C"). The host's retry loop is counted here, so that
//! reruns back off and eventually run inevitably, as `atomically`'s do.

use crate::status::{boundary, Failure, Status};
use crate::thread::{strata_thread, with_thread, WhenBlocked};

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
        if doomed_out.is_null() {
            return Err(Failure::null("doomed_out"));
        }
        let doomed = with_thread(thread, WhenBlocked::Refuse, |handle| {
            Ok(handle.thread.manual_doomed()?)
        })?;
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { doomed_out.write(doomed) };
        Ok(())
    })
}
