//! The generator every runtime of a workload uses, with the same seeds, so
//! that peers run the same operations (the C peers carry the same code).

/// Xorshift64.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The seed of thread `t` of a run.
pub fn thread_seed(t: usize) -> u64 {
    0x9e37_79b9_7f4a_7c15u64.wrapping_mul(t as u64 + 1)
}
