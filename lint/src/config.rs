//! Configuration, found the way clippy and cargo-deny find theirs, so that a file gets the same
//! settings whether a run starts at the workspace root, in a member crate, in a subdirectory or
//! names the file alone:
//!
//! 1. the nearest `isolate.toml` in the file's directory or above it, up to the workspace root
//!    (for files under no `Cargo.toml`: up to the nearest directory holding a `Cargo.toml` or
//!    `.git`, else the file system root);
//! 2. else `[package.metadata.isolate]` in the file's package manifest;
//! 3. else `[workspace.metadata.isolate]` in the workspace root manifest;
//! 4. else the defaults.
//!
//! The first found is used whole (no merging). `--config FILE` replaces all of them. Exclude
//! globs are relative to the directory of the file they are written in (for `--config`, to the
//! scanned PATH). Every error points into the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

use crate::classify::TypeOverrides;
use crate::levels::{self, Policy, Reach, StateClass};
use crate::paths::pattern::EntryPattern;
use crate::project::Project;
use crate::rules::{self, Level, Rule};

/// The settings files under one configuration run with.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// Where it was read from (`None`: defaults).
    #[cfg_attr(not(test), expect(dead_code, reason = "for messages and tests"))]
    pub source: Option<PathBuf>,
    /// The directory exclude globs are relative to.
    pub base: PathBuf,
    pub include_tests: bool,
    pub exclude: Vec<String>,
    pub(crate) excludes: GlobSet,
    pub overrides: TypeOverrides,
    /// Levels set by the file.
    pub rules: Vec<(&'static Rule, Level)>,
    /// `entry_points`: functions that serve requests, besides those found automatically.
    pub entry_points: Vec<EntryPattern>,
    /// The levels policy, with the file's `[levels.<class>]` cells over the defaults.
    pub policy: Policy,
}

impl Config {
    /// Whether `path` (a file, or a directory when `is_dir`) is excluded.
    pub fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let Ok(rel) = path.strip_prefix(&self.base) else {
            return false;
        };
        let rel = crate::source::slashed(rel);
        !rel.is_empty()
            && (self.excludes.is_match(&rel)
                || (is_dir && self.excludes.is_match(format!("{rel}/"))))
    }

    /// This config with its exclude globs relative to `base`.
    fn rebased(&self, base: &Path) -> Config {
        Config {
            base: base.to_path_buf(),
            ..self.clone()
        }
    }
}

/// The keys a config table may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    include_tests: bool,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    immutable_types: Vec<String>,
    #[serde(default)]
    mutable_types: Vec<String>,
    #[serde(default)]
    rules: std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    entry_points: Vec<Spanned<String>>,
    #[serde(default)]
    levels: LevelTables,
}

/// `[levels.<class>]` tables: `reached`, `not_reached`, `no_entry_points` per class.
type LevelTables = std::collections::BTreeMap<
    Spanned<String>,
    std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
>;

#[derive(Debug, Deserialize)]
struct Manifest {
    package: Option<MetadataHolder>,
    workspace: Option<MetadataHolder>,
}

#[derive(Debug, Deserialize)]
struct MetadataHolder {
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    isolate: Option<RawConfig>,
}

/// Which table of a `Cargo.toml` to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Table {
    Package,
    Workspace,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("invalid configuration in {path}: {message}")]
#[diagnostic(code(isolate::config))]
pub struct ConfigError {
    pub path: String,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{message}")]
    pub span: Option<SourceSpan>,
}

/// A config file that could not be read at all.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot read configuration file {path}: {source}")]
#[diagnostic(code(isolate::config))]
pub struct ConfigReadError {
    pub path: String,
    pub source: std::io::Error,
}

/// Either kind of configuration failure.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigFailure {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(#[from] Box<ConfigError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Read(#[from] ConfigReadError),
}

impl ConfigFailure {
    /// The file the error is in.
    pub fn path(&self) -> &str {
        match self {
            ConfigFailure::Invalid(e) => &e.path,
            ConfigFailure::Read(e) => &e.path,
        }
    }

    /// The line and column the error points at, and the offending line's text.
    pub fn location(&self) -> Option<(usize, usize, String)> {
        let ConfigFailure::Invalid(e) = self else {
            return None;
        };
        let span = e.span?;
        let text = e.src.inner();
        let offset = span.offset().min(text.len());
        let line = text[..offset].matches('\n').count() + 1;
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        let line_text = text[line_start..].lines().next().unwrap_or("").to_string();
        Some((line, column, line_text))
    }
}

/// Loads a config file: a `Cargo.toml` is read for its metadata tables (package, else
/// workspace), anything else as an `isolate.toml`. `None` when a manifest has no table.
pub(crate) fn load(path: &Path) -> Result<Option<Config>, ConfigFailure> {
    load_table(path, None)
}

fn load_table(path: &Path, only: Option<Table>) -> Result<Option<Config>, ConfigFailure> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigReadError {
        path: path.display().to_string(),
        source,
    })?;
    let is_manifest = path.file_name().is_some_and(|n| n == "Cargo.toml");
    let err = |message: String, span: Option<std::ops::Range<usize>>| {
        Box::new(ConfigError {
            path: path.display().to_string(),
            message,
            src: NamedSource::new(path.display().to_string(), text.clone()),
            span: span.map(SourceSpan::from),
        })
    };
    let raw = if is_manifest {
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| err(e.message().to_string(), e.span()))?;
        let pick = |h: Option<MetadataHolder>| h.and_then(|h| h.metadata).and_then(|m| m.isolate);
        let raw = match only {
            Some(Table::Package) => pick(manifest.package),
            Some(Table::Workspace) => pick(manifest.workspace),
            None => pick(manifest.package).or(pick(manifest.workspace)),
        };
        match raw {
            Some(raw) => raw,
            None => return Ok(None),
        }
    } else {
        toml::from_str::<RawConfig>(&text).map_err(|e| err(e.message().to_string(), e.span()))?
    };
    let mut rules_out = Vec::new();
    for (id, level) in raw.rules {
        let rule = rules::lookup(id.get_ref())
            .map_err(|unknown| err(unknown.to_string(), Some(id.span())))?;
        let parsed = Level::parse(level.get_ref()).ok_or_else(|| {
            err(
                format!("unknown level `{}`: {}", level.get_ref(), Level::EXPECTED),
                Some(level.span()),
            )
        })?;
        rules_out.retain(|(r, _): &(&Rule, Level)| r.id != rule.id);
        rules_out.push((rule, parsed));
    }
    let mut entry_points = Vec::new();
    for p in &raw.entry_points {
        entry_points.push(EntryPattern::new(p.get_ref()).map_err(|e| err(e, Some(p.span())))?);
    }
    let mut policy = Policy::default();
    for (class, cells) in &raw.levels {
        let Some(c) = StateClass::from_key(class.get_ref()) else {
            let known: Vec<&str> = StateClass::ALL.iter().map(|c| c.key()).collect();
            return Err(err(
                format!(
                    "unknown state class `{}` in [levels]: expected one of {}",
                    class.get_ref(),
                    known.join(", ")
                ),
                Some(class.span()),
            )
            .into());
        };
        for (reach, level) in cells {
            let Some(r) = Reach::from_key(reach.get_ref()) else {
                return Err(err(
                    format!(
                        "unknown key `{}` in [levels.{}]: expected reached, not_reached or \
                         no_entry_points",
                        reach.get_ref(),
                        class.get_ref()
                    ),
                    Some(reach.span()),
                )
                .into());
            };
            let Some(cell) = levels::parse_cell(level.get_ref()) else {
                return Err(err(
                    format!(
                        "unknown level `{}`: expected `error`, `warning`, `note` or `allow`",
                        level.get_ref()
                    ),
                    Some(level.span()),
                )
                .into());
            };
            policy.set(c, r, cell);
        }
    }
    let mut globs = GlobSetBuilder::new();
    for pattern in &raw.exclude {
        match GlobBuilder::new(pattern).literal_separator(true).build() {
            Ok(g) => {
                globs.add(g);
            }
            Err(e) => {
                let span = text.find(pattern.as_str()).map(|s| s..s + pattern.len());
                return Err(err(format!("bad exclude glob `{pattern}`: {e}"), span).into());
            }
        }
    }
    Ok(Some(Config {
        source: Some(path.to_path_buf()),
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        include_tests: raw.include_tests,
        exclude: raw.exclude,
        excludes: globs.build().unwrap_or_else(|_| GlobSet::empty()),
        overrides: TypeOverrides::new(&raw.mutable_types, &raw.immutable_types),
        rules: rules_out,
        entry_points,
        policy,
    }))
}

/// Finds and caches the configuration of every directory (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Configs {
    /// `--config FILE`, used for every directory (rebased per scanned root).
    forced: Option<Config>,
    forced_by_root: HashMap<PathBuf, Arc<Config>>,
    files: HashMap<(PathBuf, Option<Table>), Option<Arc<Config>>>,
    by_dir: HashMap<PathBuf, Arc<Config>>,
    default: Arc<Config>,
}

impl Configs {
    /// Discovers configs from the files above each directory, or uses `forced` for all.
    pub fn new(forced: Option<&Path>) -> Result<Configs, ConfigFailure> {
        let forced = match forced {
            Some(path) => Some(load(path)?.unwrap_or_default()),
            None => None,
        };
        Ok(Configs {
            forced,
            ..Configs::default()
        })
    }

    /// The configuration for files in `dir` (absolute), scanned from `scan_root`.
    pub fn for_dir(
        &mut self,
        project: &mut Project,
        dir: &Path,
        scan_root: &Path,
    ) -> Result<Arc<Config>, ConfigFailure> {
        if let Some(forced) = &self.forced {
            return Ok(self
                .forced_by_root
                .entry(scan_root.to_path_buf())
                .or_insert_with(|| Arc::new(forced.rebased(scan_root)))
                .clone());
        }
        if let Some(c) = self.by_dir.get(dir) {
            return Ok(c.clone());
        }
        let found = self.discover(project, dir)?;
        self.by_dir.insert(dir.to_path_buf(), found.clone());
        Ok(found)
    }

    fn discover(
        &mut self,
        project: &mut Project,
        dir: &Path,
    ) -> Result<Arc<Config>, ConfigFailure> {
        let package = project.package_of_dir(dir);
        let stop = match package {
            Some(p) => project.packages[p].workspace_root.clone(),
            None => loose_stop(project, dir),
        };
        let mut at = Some(dir);
        while let Some(d) = at {
            let candidate = d.join("isolate.toml");
            if candidate.is_file()
                && let Some(c) = self.file(&candidate, None)?
            {
                return Ok(c);
            }
            if d == stop {
                break;
            }
            at = d.parent();
        }
        if let Some(p) = package {
            let pkg_manifest = project.packages[p].dir.join("Cargo.toml");
            if let Some(c) = self.file(&pkg_manifest, Some(Table::Package))? {
                return Ok(c);
            }
        }
        let ws_manifest = stop.join("Cargo.toml");
        if ws_manifest.is_file()
            && let Some(c) = self.file(&ws_manifest, Some(Table::Workspace))?
        {
            return Ok(c);
        }
        Ok(self.default.clone())
    }

    fn file(
        &mut self,
        path: &Path,
        table: Option<Table>,
    ) -> Result<Option<Arc<Config>>, ConfigFailure> {
        let key = (path.to_path_buf(), table);
        if let Some(c) = self.files.get(&key) {
            return Ok(c.clone());
        }
        let loaded = load_table(path, table)?.map(Arc::new);
        self.files.insert(key, loaded.clone());
        Ok(loaded)
    }
}

/// Where the search for a loose file's `isolate.toml` stops: the nearest directory holding a
/// `Cargo.toml` or `.git`, else the file system root.
fn loose_stop(project: &mut Project, dir: &Path) -> PathBuf {
    let mut at = Some(dir);
    let mut last = dir;
    while let Some(d) = at {
        if project.has_manifest(d) || d.join(".git").exists() {
            return d.to_path_buf();
        }
        last = d;
        at = d.parent();
    }
    last.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(name: &str, text: &str) -> Result<Option<Config>, ConfigFailure> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        load(&p)
    }

    fn invalid(r: Result<Option<Config>, ConfigFailure>) -> ConfigError {
        match r {
            Err(ConfigFailure::Invalid(e)) => *e,
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn reads_levels_with_synonyms_and_prefixed_ids() {
        let c = load_str(
            "isolate.toml",
            "include_tests = true\nexclude = [\"gen/**\"]\n[rules]\nstatic_mut = \"warning\"\n\
             \"isolate::lazy_singleton\" = \"error\"\n",
        )
        .unwrap()
        .unwrap();
        assert!(c.include_tests);
        let mut rules: Vec<_> = c.rules.iter().map(|(r, l)| (r.id, *l)).collect();
        rules.sort();
        assert_eq!(
            rules,
            [("lazy_singleton", Level::Deny), ("static_mut", Level::Warn)]
        );
        assert!(c.excludes(&c.base.join("gen/a.rs"), false));
        assert!(!c.excludes(&c.base.join("src/gen/a.rs"), false));
    }

    #[test]
    fn errors_point_into_the_file_with_suggestions() {
        let e = invalid(load_str(
            "isolate.toml",
            "[rules]\nstatic_mutt = \"deny\"\n",
        ));
        assert!(
            e.message.contains("unknown rule `static_mutt`"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("did you mean `static_mut`"),
            "{}",
            e.message
        );
        assert_eq!(e.span.unwrap().offset(), 8);
        let e = invalid(load_str("isolate.toml", "includ_tests = true\n"));
        assert!(
            e.message.contains("unknown field `includ_tests`"),
            "{}",
            e.message
        );
        assert_eq!(e.span.unwrap().offset(), 0);
        let e = invalid(load_str(
            "isolate.toml",
            "[rules]\nstatic_mut = \"forbid\"\n",
        ));
        assert!(e.message.contains("forbid"), "{}", e.message);
        assert_eq!(e.span.unwrap().offset(), 21);
    }

    #[test]
    fn cargo_metadata_package_over_workspace() {
        let c = load_str(
            "Cargo.toml",
            "[package]\nname = \"x\"\n[package.metadata.isolate.rules]\nlazy_singleton = \"allow\"\n\
             [workspace.metadata.isolate.rules]\nlazy_singleton = \"deny\"\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.rules[0].1, Level::Allow);
        assert!(
            load_str("Cargo.toml", "[package]\nname = \"x\"\n")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn found_walking_up_to_the_workspace_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (rel, text) in [
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\n[workspace.metadata.isolate.rules]\nstatic_mut = \"warn\"\n",
            ),
            ("crates/api/Cargo.toml", "[package]\nname = \"api\"\n"),
            ("crates/api/src/deep/x.rs", ""),
            (
                "crates/web/Cargo.toml",
                "[package]\nname = \"web\"\n[package.metadata.isolate.rules]\nstatic_mut = \"allow\"\n",
            ),
            ("crates/web/src/lib.rs", ""),
            ("crates/tool/Cargo.toml", "[package]\nname = \"tool\"\n"),
            (
                "crates/tool/isolate.toml",
                "[rules]\nstatic_mut = \"deny\"\n",
            ),
            ("crates/tool/src/lib.rs", ""),
        ] {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let mut project = Project::default();
        let mut configs = Configs::new(None).unwrap();
        let mut level = |rel: &str| {
            let c = configs
                .for_dir(&mut project, &root.join(rel), root)
                .unwrap();
            (
                c.source.clone().map(|s| crate::source::relative(root, &s)),
                c.rules[0].1,
            )
        };
        assert_eq!(
            level("crates/api/src/deep"),
            (Some("Cargo.toml".into()), Level::Warn)
        );
        assert_eq!(
            level("crates/web/src"),
            (Some("crates/web/Cargo.toml".into()), Level::Allow)
        );
        assert_eq!(
            level("crates/tool/src"),
            (Some("crates/tool/isolate.toml".into()), Level::Deny)
        );
    }
}
