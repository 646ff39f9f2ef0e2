//! The JSON document: `{"version":1,"findings":[..],"suppressed":[..],"errors":[..],"summary":{..}}`.
//! Keys are only ever added, never removed or renamed.

use serde::Serialize;

use super::{FileError, Finding, Report, Severity, Suppressed};

/// The JSON format's version.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: &'a [Finding],
    suppressed: &'a [Suppressed],
    errors: &'a [FileError],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    errors: usize,
    warnings: usize,
    suppressed: usize,
    duration_ms: u128,
}

/// Renders the report as one pretty-printed JSON document.
pub fn render(report: &Report) -> String {
    let doc = Document {
        version: VERSION,
        findings: &report.findings,
        suppressed: &report.suppressed,
        errors: &report.errors,
        summary: Summary {
            files_scanned: report.files_scanned,
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            suppressed: report.suppressed.len(),
            duration_ms: report.duration.as_millis(),
        },
    };
    serde_json::to_string_pretty(&doc).expect("the report serialises: plain data")
}
