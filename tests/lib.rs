//! End-to-end tests across the isolate crates live in this package's test targets; the library
//! itself is empty.
