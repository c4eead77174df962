//! The soundness rules of the Rust API, shown by programs that must not
//! compile: handles cannot leave their transaction (or handle scope) or cross
//! transactions (or enter a scope without `lift`),
//! and thread-bound handles cannot cross threads.

#[test]
fn api_misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
