//! Inevitable transactions (see `DESIGN.md`, "Inevitable transactions"):
//! the token is the commit clock's top bit; its holder waits for the
//! commits in flight to end, after which nobody else publishes until it
//! gives the token back, so its snapshot stays the newest state.

use crate::event_log::Event;
use crate::thread::Thread;
use crate::tx::Conflict;

impl Thread {
    /// Takes the inevitable token if nobody holds it, then waits for the
    /// commits in flight to end; false (nothing changed) if it is held.
    fn try_take_token(&mut self) -> bool {
        let stm = &self.heap.stm;
        if !stm.take_token() {
            return false;
        }
        stm.wait_for_commits_in_flight(self.slot);
        self.tx.inevitable = true;
        self.log_event(Event::Inevitable);
        true
    }

    /// Takes the inevitable token at the start of an attempt, waiting
    /// (at safepoints) for its holder to give it back.
    pub(crate) fn acquire_token(&mut self) {
        while !self.try_take_token() {
            crate::sync::yield_now();
            self.m.safepoint();
        }
    }

    /// Makes the running transaction inevitable, or says why it must abort
    /// (and re-run inevitably): the token is held by another thread, or the
    /// snapshot cannot be extended to the present.
    pub(crate) fn become_inevitable(&mut self) -> Result<(), Conflict> {
        if self.tx.inevitable {
            return Ok(());
        }
        if !self.try_take_token() || !self.extend() {
            return Err(Conflict::Inevitable);
        }
        Ok(())
    }

    /// Gives the token back if this attempt holds it.
    pub(crate) fn release_token(&mut self) {
        if self.tx.inevitable {
            self.heap.stm.release_token();
        }
    }
}
