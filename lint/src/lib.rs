//! `isolate-lint`: the `cargo isolate` linter. It finds singletons and global mutable state
//! (`static mut`, interior-mutable statics, lazy singletons, mutable thread-locals, shared
//! mutable maps) by reading Rust source with syn; it never compiles or runs the code it reads.
//!
//! The public surface is small: a [`Workspace`] (load a project from disk, or feed it file
//! texts as an editor does, and [`Workspace::analyse`] it), the [`Diagnostic`] it produces,
//! the [`report`] renderers, and the rule registry ([`rules`]). Data flows one way, one module
//! per stage (all crate-private):
//!
//! 1. `project` - manifests, workspaces, packages, crates and targets; the walk over the
//!    scanned PATHs; the module tree;
//! 2. `config` - the `isolate.toml` / `Cargo.toml` metadata that governs each directory;
//! 3. `source` - every file's path and text, read once, kept compressed;
//! 4. `parse` + `facts` - one syn parse per file into owned per-file facts (items, types,
//!    `use` bindings, calls and paths as written, suppressions); the tree is dropped;
//! 5. `resolve` - one name resolver per module, for types and values alike;
//! 6. `classify` - what each global's type can do;
//! 7. `rules` - the registry; global checks and project-wide checks;
//! 8. `suppress` - both suppression spellings, and the rules about suppressions;
//! 9. `analysis` - stages 5-8 over the facts in memory, then levels, into diagnostics;
//! 10. [`report`] - renderers: human (miette), JSON, SARIF, GitHub workflow commands, short
//!     lines and rustc's diagnostic JSON; [`baseline`] - accepted findings, keyed by
//!     `fingerprint` (rule, file, item path, a hash of the item's normalised text);
//! 11. [`lsp`] - the language server: a [`Workspace`] kept alive, fed the editor's buffers.
//!
//! ```
//! use isolate_lint::{Workspace, WorkspaceOptions};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("lib.rs"), "static mut COUNT: u32 = 0;")?;
//! let opts = WorkspaceOptions {
//!     paths: vec![dir.path().to_path_buf()],
//!     ..Default::default()
//! };
//! let mut ws = Workspace::load(opts, &|_done, _total| {})?;
//! let report = ws.analyse();
//! assert_eq!(report.diagnostics[0].rule.id, "static_mut");
//! assert_eq!(report.exit_code(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accessors;
mod analysis;
mod appstate;
pub mod baseline;
mod classify;
mod config;
mod diagnostic;
mod facts;
mod fingerprint;
mod levels;
pub mod lsp;
mod parse;
mod paths;
mod project;
pub mod report;
mod resolve;
pub mod rules;
mod source;
mod suppress;
mod timings;
mod workspace;

pub use config::{ConfigError, ConfigFailure, ConfigReadError};
pub use diagnostic::{
    Applicability, Diagnostic, Edit, Fix, Loc, PathStep, Related, Severity, Span,
};
pub use project::select::{PackageSelection, SelectError, SelectedPackage};
pub use source::{FileId, FilePath, SourceDb};
pub use workspace::{KeepTexts, LoadError, Workspace, WorkspaceOptions};

/// What the parse-floor benchmark (`lint/examples/parse_floor.rs`) shares with the linter, so
/// that both read exactly the same files with the same pre-check. Not a stable API.
#[doc(hidden)]
pub mod bench {
    use std::path::{Path, PathBuf};

    pub use crate::parse::{MAX_NESTING, max_nesting};

    /// The files `cargo isolate check DIR` lints, with default settings.
    pub fn files(dir: &Path) -> Vec<PathBuf> {
        let layout = std::sync::Arc::new(std::sync::Mutex::new(crate::project::walk::Layout::new(
            crate::project::Project::default(),
            crate::config::Configs::default(),
            false,
        )));
        let dir = crate::source::absolute(&std::env::current_dir().unwrap_or_default(), dir);
        crate::project::walk::walk(0, &dir, None, &layout)
            .map(|(files, _)| files.into_iter().map(|f| f.abs).collect())
            .unwrap_or_default()
    }
}
