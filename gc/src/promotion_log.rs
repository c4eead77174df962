//! Promotion tracking: while a transaction runs, the objects its thread
//! makes get the `PRIVATE` flag, young ones from the nursery's header
//! flags, and those that reach the old space (promoted by a minor
//! collection, or allocated there) are logged, so that its commit can
//! clear the flag on each. Until then the log is a root
//! ([`Mutator::publish_roots`]). The minor collection and the allocation
//! paths fill the log; this module turns tracking on and off and hands the
//! log out.

use crate::mutator::Mutator;
use crate::Address;
use strata_heap::header;

impl Mutator {
    /// While on, objects promoted by minor collections get the `PRIVATE`
    /// flag and are logged (a transaction's objects stay private until its
    /// commit; see [`Mutator::take_promoted`]).
    pub fn track_promotions(&mut self, on: bool) {
        self.track_promotions = on;
        self.nursery
            .set_header_flags(if on { header::PRIVATE } else { 0 });
    }

    /// Whether objects were promoted while tracking was on since the last
    /// [`Mutator::take_promoted`] (most commits promote nothing).
    #[inline]
    pub fn has_promoted(&self) -> bool {
        !self.promoted_log.is_empty()
    }

    /// The objects promoted while tracking was on, since the last call.
    pub fn take_promoted(&mut self, into: &mut Vec<Address>) {
        into.clear();
        std::mem::swap(into, &mut self.promoted_log);
    }
}
