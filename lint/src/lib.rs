//! `isolate-lint`: the `cargo isolate` linter. It finds singletons and global mutable state
//! (`static mut`, interior-mutable statics, lazy singletons, mutable thread-locals, shared
//! mutable maps) by reading Rust source with syn; it never compiles or runs the code it reads.
//!
//! Data flows one way, one module per stage:
//!
//! 1. [`discover`] - the `.rs` files under each scanned root (`.gitignore`, excludes, test dirs);
//! 2. [`parse`] - read and parse each file once, in parallel, into per-file [`facts`]
//!    (globals, type definitions, functions with their calls and uses, suppressions); the syntax
//!    tree is dropped right after;
//! 3. [`classify`] - resolve every global's type across all files (imports, aliases, user
//!    types, generics, known library types, configured overrides);
//! 4. [`rules`] - the registry; each rule reads facts and classified types, never files;
//! 5. [`check`] - runs the stages, applies suppressions and levels, sorts;
//! 6. [`report`] - human (miette) and JSON renderings.
//!
//! [`config`] reads `isolate.toml` / `Cargo.toml` metadata; [`cli`] is the command line.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("lib.rs"), "static mut COUNT: u32 = 0;")?;
//! let opts = isolate_lint::check::CheckOptions {
//!     paths: vec![dir.path().to_path_buf()],
//!     ..Default::default()
//! };
//! let report = isolate_lint::check::check(&opts)?;
//! assert_eq!(report.findings[0].rule, "static_mut");
//! assert_eq!(report.exit_code(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
pub mod classify;
pub mod cli;
pub mod config;
pub mod discover;
pub mod facts;
pub mod parse;
pub mod report;
pub mod rules;
