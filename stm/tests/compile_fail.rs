//! The soundness rules of the Rust API, shown by programs that must not
//! compile: handles cannot leave their transaction (or handle scope) or cross
//! transactions (or enter a scope without `lift`), references of a view
//! cannot leave it or be read through another view, a view cannot run
//! beside an allocation, a wait outside the heap (`Tx::blocking`) cannot
//! reach the transaction, thread-bound handles cannot cross threads, and the
//! collector underneath is not handed out (its contracts are `unsafe`).

#[test]
fn api_misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
