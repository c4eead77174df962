//! Copying and zeroing object-sized memory. Objects are mostly small and
//! 16-byte multiples; a call to `memcpy`/`memset` for 32 bytes costs more
//! than the copy, so the common sizes are inlined as fixed-size moves.

use crate::address::Address;

/// Zeroes `bytes` (a multiple of 16, possibly 0) at `dst`.
///
/// # Safety
/// `[dst, dst + bytes)` is writable memory owned by the caller.
#[inline(always)]
pub unsafe fn zero(dst: Address, bytes: usize) {
    // SAFETY: caller's invariant; each arm writes exactly `bytes`.
    unsafe {
        match bytes {
            0 => {}
            16 => dst.as_ptr::<[u64; 2]>().write([0; 2]),
            32 => dst.as_ptr::<[u64; 4]>().write([0; 4]),
            48 => dst.as_ptr::<[u64; 6]>().write([0; 6]),
            64 => dst.as_ptr::<[u64; 8]>().write([0; 8]),
            _ => dst.as_ptr::<u8>().write_bytes(0, bytes),
        }
    }
}

/// Copies `bytes` (a multiple of 16) from `src` to `dst`.
///
/// # Safety
/// Both ranges are valid, `dst` writable, and they do not overlap.
#[inline(always)]
pub unsafe fn copy(src: Address, dst: Address, bytes: usize) {
    // SAFETY: caller's invariant; each arm moves exactly `bytes`.
    unsafe {
        match bytes {
            16 => dst
                .as_ptr::<[u64; 2]>()
                .write(src.as_ptr::<[u64; 2]>().read()),
            32 => dst
                .as_ptr::<[u64; 4]>()
                .write(src.as_ptr::<[u64; 4]>().read()),
            48 => dst
                .as_ptr::<[u64; 6]>()
                .write(src.as_ptr::<[u64; 6]>().read()),
            64 => dst
                .as_ptr::<[u64; 8]>()
                .write(src.as_ptr::<[u64; 8]>().read()),
            _ => std::ptr::copy_nonoverlapping(src.as_ptr::<u8>(), dst.as_ptr::<u8>(), bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_zeroes_every_size() {
        for bytes in (0..=256).step_by(16) {
            let mut src = [0u64; 32];
            let mut dst = [u64::MAX; 32];
            for (i, w) in src.iter_mut().enumerate() {
                *w = i as u64 | 1;
            }
            let words = bytes / 8;
            // SAFETY: local, aligned buffers of 256 bytes.
            unsafe {
                copy(
                    Address::from_ptr(src.as_ptr()),
                    Address::from_ptr(dst.as_mut_ptr()),
                    bytes,
                );
            }
            assert_eq!(src[..words], dst[..words]);
            assert!(dst[words..].iter().all(|&w| w == u64::MAX));
            // SAFETY: as above.
            unsafe { zero(Address::from_ptr(dst.as_mut_ptr()), bytes) };
            assert!(dst[..words].iter().all(|&w| w == 0));
            assert!(dst[words..].iter().all(|&w| w == u64::MAX));
        }
    }
}
