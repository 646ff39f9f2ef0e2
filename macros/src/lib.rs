//! Derives and attributes for the `isolate` runtime. Use them through the `isolate` crate,
//! which re-exports everything here.
