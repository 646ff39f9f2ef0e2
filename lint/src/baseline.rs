//! Baselines, for adopting the linter on code that already has findings: `--write-baseline`
//! records today's findings, `--baseline` then reports only the findings it does not list and
//! the entries that no longer occur (so the file can be pruned).
//!
//! An entry is keyed by rule, file (relative to its workspace root), item path and a hash of
//! the item's normalised text ([`crate::fingerprint`]): lines may move and other code may
//! change without a finding becoming new, while a new global - or an edit to a listed one - is
//! reported. Entries are a multiset: two findings with the same key (two `static INIT` in
//! different fns of one module) need two entries (`count = 2`).
//!
//! The file is TOML, sorted by file, rule, item and hash, one table per entry, so that it diffs
//! line by line and merges like source:
//!
//! ```toml
//! # cargo isolate baseline: findings accepted on adoption. ...
//! version = 1
//!
//! [[finding]]
//! rule = "shared_mutable_map"
//! file = "src/engine.rs"
//! item = "agent_backend::engine::ACTIVE_RUNS"
//! hash = "5d0c1e2f3a4b5c6d"
//! ```
//!
//! ```
//! use isolate_lint::baseline::Baseline;
//! use isolate_lint::{Workspace, WorkspaceOptions};
//!
//! let mut ws = Workspace::new(WorkspaceOptions::default());
//! ws.set_file_text("/virtual/app/src/lib.rs", "static mut A: u8 = 0;\n");
//! let today = Baseline::from_report(&ws.analyse(), ws.sources());
//! let file = today.to_toml();
//!
//! // Lines move, a new global appears: only the new one is reported.
//! ws.set_file_text("/virtual/app/src/lib.rs", "\n\nstatic mut A: u8 = 0;\nstatic mut B: u8 = 0;\n");
//! let mut report = ws.analyse();
//! Baseline::parse(&file)?.apply(&mut report, ws.sources());
//! assert_eq!(report.diagnostics.len(), 1);
//! assert_eq!(report.diagnostics[0].item, "B");
//! assert_eq!(report.baseline.as_ref().unwrap().baselined[0].item, "A");
//! # Ok::<(), isolate_lint::baseline::BaselineError>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::fingerprint;
use crate::report::Report;
use crate::source::SourceDb;

/// The baseline file format's version.
pub const VERSION: u32 = 1;

/// Baseline files larger than this are refused (a baseline of a million findings is ~150 MB;
/// anything near this size is not a baseline).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// One accepted finding (or `count` alike).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    /// Relative to the workspace root, `/`-separated.
    pub file: String,
    /// The item path (`crate::module::ITEM`).
    pub item: String,
    /// 16 hex digits: the item's normalised text, hashed.
    pub hash: String,
    /// How many findings share this key (written only when more than one).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

type Key = (String, String, String, String);

impl Entry {
    fn key(&self) -> Key {
        (
            self.file.clone(),
            self.rule.clone(),
            self.item.clone(),
            self.hash.clone(),
        )
    }
}

/// What a baseline did to a report.
#[derive(Debug, Clone, Default)]
pub struct BaselineOutcome {
    /// The findings it accepted (taken out of [`Report::diagnostics`]), sorted like them.
    pub baselined: Vec<Diagnostic>,
    /// Its entries that no longer occur (with the count still unmatched), sorted.
    pub absent: Vec<Entry>,
}

/// A set of accepted findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<Key, u32>,
}

/// Why a baseline file could not be used (the command line exits with 2).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("baseline {} is {size} bytes, more than the {MAX_BYTES} a baseline may have", path.display())]
    TooLarge { path: PathBuf, size: u64 },
    #[error("invalid baseline{}: {message}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Invalid {
        path: Option<PathBuf>,
        message: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    version: u32,
    #[serde(default)]
    finding: Vec<Entry>,
}

const HEADER: &str = "\
# cargo isolate baseline: findings accepted when the linter was adopted.
# `cargo isolate check --baseline FILE` reports only findings not listed here, and lists the
# entries that no longer occur; `--write-baseline FILE` rewrites this file from today's findings.
# Keyed by rule, file (relative to the workspace root), item path and a hash of the item's text
# without comments and whitespace: moving lines or editing other code keeps an entry matching.
";

impl Baseline {
    /// Today's findings (those reported, and those an applied baseline accepted).
    pub fn from_report(report: &Report, sources: &SourceDb) -> Baseline {
        let all: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .chain(report.baseline.iter().flat_map(|b| &b.baselined))
            .collect();
        let mut entries = BTreeMap::new();
        for entry in keys(&all, sources) {
            *entries.entry(entry.key()).or_insert(0) += 1;
        }
        Baseline { entries }
    }

    /// The number of findings it accepts.
    pub fn len(&self) -> usize {
        self.entries.values().map(|&n| n as usize).sum()
    }

    /// Whether it accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, sorted by file, rule, item and hash.
    pub fn entries(&self) -> Vec<Entry> {
        self.entries
            .iter()
            .map(|((file, rule, item, hash), &count)| Entry {
                rule: rule.clone(),
                file: file.clone(),
                item: item.clone(),
                hash: hash.clone(),
                count,
            })
            .collect()
    }

    /// The file's text: a comment header, `version`, then one `[[finding]]` table per entry.
    pub fn to_toml(&self) -> String {
        let doc = FileFormat {
            version: VERSION,
            finding: self.entries(),
        };
        let body = toml::to_string(&doc).unwrap_or_else(|_| format!("version = {VERSION}\n"));
        format!("{HEADER}{body}")
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let read = |source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read)?.len();
        if size > MAX_BYTES {
            return Err(BaselineError::TooLarge {
                path: path.to_path_buf(),
                size,
            });
        }
        let bytes = std::fs::read(path).map_err(read)?;
        let text = String::from_utf8(bytes).map_err(|e| BaselineError::Invalid {
            path: Some(path.to_path_buf()),
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Baseline::parse(&text).map_err(|e| match e {
            BaselineError::Invalid { message, .. } => BaselineError::Invalid {
                path: Some(path.to_path_buf()),
                message,
            },
            other => other,
        })
    }

    /// Parses a baseline file's text.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let invalid = |message: String| BaselineError::Invalid {
            path: None,
            message,
        };
        // The version first, so a file from a newer release says so rather than failing on a
        // key this release does not know.
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid(toml_message(&e)))?;
        match table.get("version") {
            Some(toml::Value::Integer(v)) if *v == i64::from(VERSION) => {}
            Some(toml::Value::Integer(v)) => {
                return Err(invalid(format!(
                    "version {v} is not supported (this cargo-isolate reads version {VERSION}; \
                     regenerate the file with --write-baseline)"
                )));
            }
            Some(_) => return Err(invalid("`version` must be an integer".into())),
            None => {
                return Err(invalid(
                    "no `version` key: not a baseline written by --write-baseline".into(),
                ));
            }
        }
        let doc: FileFormat = toml::from_str(text).map_err(|e| invalid(toml_message(&e)))?;
        let mut entries = BTreeMap::new();
        for (n, e) in doc.finding.into_iter().enumerate() {
            let bad = |what: &str| invalid(format!("finding {}: {what}", n + 1));
            if e.count == 0 {
                return Err(bad("`count` must be at least 1"));
            }
            if e.hash.len() != 16 || !e.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("`hash` must be 16 hexadecimal digits"));
            }
            if e.rule.is_empty() || e.file.is_empty() || e.item.is_empty() {
                return Err(bad("`rule`, `file` and `item` must not be empty"));
            }
            let count = entries.entry(e.key()).or_insert(0u32);
            *count = count.saturating_add(e.count);
        }
        Ok(Baseline { entries })
    }

    /// Moves the findings it accepts out of `report.diagnostics` into `report.baseline`, and
    /// records its entries that matched nothing. Of several findings with one key, the first
    /// ones (in report order) are accepted.
    pub fn apply(&self, report: &mut Report, sources: &SourceDb) {
        let diagnostics = std::mem::take(&mut report.diagnostics);
        let refs: Vec<&Diagnostic> = diagnostics.iter().collect();
        let found = keys(&refs, sources);
        let mut left = self.entries.clone();
        let mut outcome = BaselineOutcome::default();
        for (d, entry) in diagnostics.into_iter().zip(found) {
            match left.get_mut(&entry.key()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    outcome.baselined.push(d);
                }
                _ => report.diagnostics.push(d),
            }
        }
        outcome.absent = left
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((file, rule, item, hash), count)| Entry {
                rule,
                file,
                item,
                hash,
                count,
            })
            .collect();
        report.baseline = Some(outcome);
    }
}

/// The baseline key of each diagnostic.
pub fn keys(diagnostics: &[&Diagnostic], sources: &SourceDb) -> Vec<Entry> {
    let hashes = fingerprint::item_hashes(diagnostics, sources);
    diagnostics
        .iter()
        .zip(hashes)
        .map(|(d, hash)| Entry {
            rule: d.rule.id.to_string(),
            file: sources.path(d.primary.file).workspace_rel.clone(),
            item: d.item_path.clone(),
            hash,
            count: 1,
        })
        .collect()
}

/// A TOML error in one line, with its position.
fn toml_message(e: &toml::de::Error) -> String {
    e.to_string()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "version = 1\n[[finding]]\nrule = \"static_mut\"\nfile = \"src/a.rs\"\nitem = \"app::A\"\nhash = \"0123456789abcdef\"\n";

    #[test]
    fn round_trips_sorted_and_counted() {
        let text = format!(
            "{ENTRY}[[finding]]\nrule = \"static_mut\"\nfile = \"src/a.rs\"\nitem = \"app::A\"\nhash = \"0123456789abcdef\"\ncount = 2\n\
             [[finding]]\nrule = \"lazy_singleton\"\nfile = \"src/0.rs\"\nitem = \"app::Z\"\nhash = \"ffffffffffffffff\"\n"
        );
        let b = Baseline::parse(&text).unwrap();
        assert_eq!(b.len(), 4);
        let written = b.to_toml();
        assert!(written.starts_with("# cargo isolate baseline"), "{written}");
        let again = Baseline::parse(&written).unwrap();
        assert_eq!(again, b);
        let entries = again.entries();
        assert_eq!(entries[0].file, "src/0.rs");
        assert_eq!(entries[1].count, 3);
        assert!(written.contains("count = 3"), "{written}");
        assert_eq!(
            written.matches("count").count(),
            1,
            "count = 1 is not written"
        );
    }

    #[test]
    fn hostile_files_are_clear_errors() {
        let cases: &[(&str, &str)] = &[
            ("", "no `version` key"),
            ("version = 2\n", "version 2 is not supported"),
            ("version = \"1\"\n", "must be an integer"),
            ("version = 1\n[[finding]]\nrule = \"x\"\n", "missing field"),
            (
                &ENTRY.replace("0123456789abcdef", "xyz"),
                "finding 1: `hash` must be 16 hexadecimal digits",
            ),
            (&format!("{ENTRY}count = 0\n"), "`count` must be at least 1"),
            (&format!("{ENTRY}count = -1\n"), "invalid value"),
            (&format!("{ENTRY}line = 3\n"), "unknown field `line`"),
            ("version = 1\nextra = true\n", "unknown field `extra`"),
            ("version = 1\n[[finding]\n", "invalid"),
            (&ENTRY.replace("\"app::A\"", "\"\""), "must not be empty"),
            ("\u{0}\u{1}binary", "invalid"),
        ];
        for (text, expected) in cases {
            let err = Baseline::parse(text).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid baseline: ") && err.contains(expected),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn huge_counts_saturate() {
        let text = format!(
            "{ENTRY}count = 4294967295\n[[finding]]\nrule = \"static_mut\"\nfile = \"src/a.rs\"\nitem = \"app::A\"\nhash = \"0123456789abcdef\"\ncount = 4294967295\n"
        );
        assert_eq!(Baseline::parse(&text).unwrap().len(), u32::MAX as usize);
    }
}
