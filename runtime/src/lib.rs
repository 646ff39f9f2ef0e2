//! The `isolate` runtime: every request gets its own context and its own mutable state.
