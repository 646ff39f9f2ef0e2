//! isolate-lint
