//! Compile-time guarantees, proven by compiling small programs with the real compiler.
//!
//! `ui/pass` holds the intended uses; each case in `ui/fail` must fail for the reason its
//! `.stderr` snapshot shows. Regenerate snapshots with `TRYBUILD=overwrite` and read them.
#![cfg(not(loom))]

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
