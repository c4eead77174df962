//! When a thread allocates straight in the old space: the survival-driven
//! pretenuring policy of `DESIGN.md`, "Pretenuring". Kept apart from the
//! allocation code so that the policy can be tested on its own.

/// The most a window grows to, in nursery capacities.
const MAX_WINDOW_NURSERIES: usize = 8;

/// One thread's pretenuring state.
#[derive(Debug, Default)]
pub(crate) struct Pretenure {
    /// Bytes still to allocate straight in the old space (0: the nursery
    /// is in use).
    left: usize,
    /// The window granted after the last full nursery that was mostly
    /// alive (0: the last one was not).
    window: usize,
}

impl Pretenure {
    /// Whether allocation goes straight to the old space now.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.left > 0
    }

    /// Takes `bytes` from the window; returns whether the window is used up
    /// (the nursery opens again).
    #[inline]
    pub(crate) fn consume(&mut self, bytes: usize) -> bool {
        self.left = self.left.saturating_sub(bytes);
        self.left == 0
    }

    /// Decides after a minor collection that a full nursery triggered:
    /// `promoted` of the nursery's `capacity` bytes survived. Returns
    /// whether the thread now pretenures.
    pub(crate) fn after_full_nursery(&mut self, promoted: usize, capacity: usize) -> bool {
        if promoted <= capacity / 2 {
            self.window = 0;
            self.left = 0;
            return false;
        }
        self.window = if self.window == 0 {
            capacity
        } else {
            (self.window * 2).min(capacity * MAX_WINDOW_NURSERIES)
        };
        self.left = self.window;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPACITY: usize = 4 << 20;

    #[test]
    fn a_mostly_dead_nursery_keeps_the_thread_in_the_nursery() {
        let mut p = Pretenure::default();
        assert!(!p.after_full_nursery(CAPACITY / 2, CAPACITY));
        assert!(!p.active());
    }

    #[test]
    fn windows_double_while_nurseries_stay_alive_and_reset_after_one_that_dies() {
        let mut p = Pretenure::default();
        let mut windows = Vec::new();
        for _ in 0..6 {
            assert!(p.after_full_nursery(CAPACITY / 2 + 16, CAPACITY));
            let mut bytes = 0;
            while !p.consume(4096) {
                bytes += 4096;
            }
            windows.push((bytes + 4096) / CAPACITY);
            assert!(!p.active());
        }
        assert_eq!(windows, [1, 2, 4, 8, 8, 8]);
        assert!(!p.after_full_nursery(0, CAPACITY));
        assert!(p.after_full_nursery(CAPACITY, CAPACITY));
        assert!(p.active());
        assert!(!p.consume(CAPACITY - 1));
        assert!(p.consume(1));
    }
}
