//! Size classes of the old space's small pages: multiples of 16 bytes from 16
//! to 8 KiB, at most 25 % apart, found by one table lookup.

/// Objects of more bytes than this go to the large-object space.
pub const LARGE_THRESHOLD: usize = 8192;

/// The slot size of each class, ascending.
pub const CLASS_BYTES: [usize; NUM_CLASSES] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
    1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
];

/// How many size classes there are.
pub const NUM_CLASSES: usize = 32;

/// For each class, `ceil(2^32 / slot bytes)`: dividing an offset inside a
/// page by the slot size is a multiply and a shift (a collector divides for
/// every object it marks, and a 64-bit division costs tens of cycles).
/// Exact for every offset inside a page (checked by a test over whole
/// pages).
const CLASS_RECIPROCAL: [u64; NUM_CLASSES] = build_reciprocals();

const fn build_reciprocals() -> [u64; NUM_CLASSES] {
    let mut table = [0u64; NUM_CLASSES];
    let mut class = 0;
    while class < NUM_CLASSES {
        let d = CLASS_BYTES[class] as u64;
        table[class] = (1u64 << 32).div_ceil(d);
        class += 1;
    }
    table
}

/// The slot at byte `offset` of a page of `class` when `offset` is a slot's
/// start, else `None`. `offset` is below a page.
#[inline(always)]
pub fn slot_at(class: usize, offset: usize) -> Option<usize> {
    debug_assert!(offset < crate::PAGE_BYTES, "offset {offset} outside a page");
    let slot = ((offset as u64 * CLASS_RECIPROCAL[class]) >> 32) as usize;
    (slot * CLASS_BYTES[class] == offset).then_some(slot)
}

/// Class index for each size in 16-byte granules (index = granules).
const CLASS_OF_GRANULES: [u8; LARGE_THRESHOLD / 16 + 1] = build_table();

const fn build_table() -> [u8; LARGE_THRESHOLD / 16 + 1] {
    let mut table = [0u8; LARGE_THRESHOLD / 16 + 1];
    let mut granules = 1;
    let mut class = 0;
    while granules <= LARGE_THRESHOLD / 16 {
        while CLASS_BYTES[class] < granules * 16 {
            class += 1;
        }
        table[granules] = class as u8;
        granules += 1;
    }
    table
}

/// The class of an object of `bytes` (already 16-aligned, non-zero), or
/// `None` when it belongs in the large-object space.
#[inline(always)]
pub fn class_of(bytes: usize) -> Option<usize> {
    debug_assert!(
        bytes > 0 && bytes.is_multiple_of(16),
        "bad object size {bytes}"
    );
    if bytes > LARGE_THRESHOLD {
        None
    } else {
        Some(CLASS_OF_GRANULES[bytes / 16] as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_at_divides_exactly_over_a_whole_page() {
        for (class, &bytes) in CLASS_BYTES.iter().enumerate() {
            for offset in 0..crate::PAGE_BYTES {
                let expected = offset.is_multiple_of(bytes).then_some(offset / bytes);
                assert_eq!(
                    slot_at(class, offset),
                    expected,
                    "class {class}, offset {offset}"
                );
            }
        }
    }

    #[test]
    fn every_size_fits_its_class_with_bounded_waste() {
        for bytes in (16..=LARGE_THRESHOLD).step_by(16) {
            let class = class_of(bytes).unwrap();
            assert!(CLASS_BYTES[class] >= bytes);
            if class > 0 {
                assert!(
                    CLASS_BYTES[class - 1] < bytes,
                    "{bytes} not in tightest class"
                );
            }
            assert!(
                CLASS_BYTES[class] * 4 <= bytes * 5 + 64,
                "{bytes} wastes too much"
            );
        }
        assert_eq!(class_of(LARGE_THRESHOLD + 16), None);
    }
}
