//! The result of a check and its renderings: [`human`] (miette) and [`json`].

pub mod human;
pub mod json;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// How a finding is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One reported problem.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Severity,
    /// Relative to the scanned root, `/`-separated.
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// The global's name, or `Type::method` for an accessor.
    pub item: String,
    /// The item's type as written.
    #[serde(rename = "type")]
    pub ty: String,
    pub message: String,
    pub help: String,
    /// Byte range of the label in the source, for snippets.
    #[serde(skip)]
    pub bytes: (u32, u32),
    /// Where the file is on disk (the human renderer reads snippets from it).
    #[serde(skip)]
    pub path: PathBuf,
}

/// A finding silenced by a suppression comment.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: Option<String>,
}

/// A file (or directory) that could not be linted.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub file: String,
    pub message: String,
}

/// Everything one run produced, sorted.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub errors: Vec<FileError>,
    /// Files read and parsed successfully.
    pub files_scanned: usize,
    pub duration: Duration,
}

impl Report {
    pub fn count(&self, level: Severity) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// The process exit code: 2 if no file could be parsed (a scan that saw nothing must not
    /// pass), else 1 if any error-level finding, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.files_scanned == 0 {
            2
        } else {
            i32::from(self.count(Severity::Error) > 0)
        }
    }
}
