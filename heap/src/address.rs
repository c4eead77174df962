//! A typed object address, so that raw `usize` arithmetic stays in one place.

use std::fmt;

/// The address of an object's header, or null.
///
/// It is a plain value: holding one keeps nothing alive and says nothing about
/// whether the object still exists. Roots and handles in `strata-gc` are what
/// keep objects alive.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct Address(usize);

impl Address {
    /// Asks the CPU to bring the cache line at this address closer: a hint
    /// that never faults, whatever the address (the collector prefetches
    /// objects it will scan, allocation the lines it will write next).
    #[inline(always)]
    pub fn prefetch(self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint: it never faults and changes no state.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                self.0 as *const i8,
            )
        };
    }

    /// Asks the CPU to bring the cache line at this address in exclusive
    /// state, ready to be written (`prefetchw` on x86-64, `prfm pstl1keep`
    /// on AArch64, nothing elsewhere): a hint that never faults, whatever
    /// the address. It saves the second exchange between cores that a load
    /// followed by a write costs on a line another core wrote last.
    #[inline(always)]
    pub fn prefetch_for_write(self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `prefetchw` is a hint: it never faults, reads or writes
        // no memory the program sees and leaves the flags alone (CPUs
        // without it decode the opcode as a no-op).
        unsafe {
            std::arch::asm!(
                "prefetchw [{0}]",
                in(reg) self.0,
                options(nostack, readonly, preserves_flags)
            )
        };
        #[cfg(target_arch = "aarch64")]
        // SAFETY: `prfm` is a hint: it never faults and changes no state
        // the program sees.
        unsafe {
            std::arch::asm!(
                "prfm pstl1keep, [{0}]",
                in(reg) self.0,
                options(nostack, readonly, preserves_flags)
            )
        };
    }

    /// The null reference.
    pub const NULL: Address = Address(0);

    /// Wraps a raw address.
    #[inline(always)]
    pub const fn from_usize(raw: usize) -> Address {
        Address(raw)
    }

    /// Wraps a raw pointer.
    #[inline(always)]
    pub fn from_ptr<T>(ptr: *const T) -> Address {
        Address(ptr as usize)
    }

    /// The raw address.
    #[inline(always)]
    pub const fn as_usize(self) -> usize {
        self.0
    }

    /// The address as a raw pointer.
    #[inline(always)]
    pub const fn as_ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }

    /// Whether this is the null reference.
    #[inline(always)]
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// This address plus `bytes`.
    #[inline(always)]
    pub const fn offset(self, bytes: usize) -> Address {
        Address(self.0 + bytes)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}
