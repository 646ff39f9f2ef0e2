//! Configuration: `isolate.toml` at the scanned root, or `[package.metadata.isolate]` /
//! `[workspace.metadata.isolate]` in the root's `Cargo.toml`. Every error points into the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

use crate::rules::{self, Level};

/// The settings one scanned root runs with.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from (`None`: defaults).
    pub source: Option<PathBuf>,
    pub include_tests: bool,
    pub exclude: Vec<String>,
    pub immutable_types: Vec<String>,
    pub mutable_types: Vec<String>,
    /// Levels set by the file, by rule id.
    pub rules: BTreeMap<String, Level>,
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
    rules: BTreeMap<Spanned<String>, Level>,
}

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

impl Config {
    /// Finds and loads the configuration for a scanned root directory: `isolate.toml` first,
    /// then `Cargo.toml` metadata (package over workspace). No file means defaults.
    pub fn discover(root: &Path) -> Result<Config, ConfigFailure> {
        let own = root.join("isolate.toml");
        if own.is_file() {
            return Config::load(&own);
        }
        let manifest = root.join("Cargo.toml");
        if manifest.is_file() {
            return Config::load(&manifest);
        }
        Ok(Config::default())
    }

    /// Loads a config file: a `Cargo.toml` is read for its metadata tables, anything else as an
    /// `isolate.toml`.
    pub fn load(path: &Path) -> Result<Config, ConfigFailure> {
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
            let pick =
                |h: Option<MetadataHolder>| h.and_then(|h| h.metadata).and_then(|m| m.isolate);
            match pick(manifest.package).or(pick(manifest.workspace)) {
                Some(raw) => raw,
                None => return Ok(Config::default()),
            }
        } else {
            toml::from_str::<RawConfig>(&text)
                .map_err(|e| err(e.message().to_string(), e.span()))?
        };
        let mut rules_out = BTreeMap::new();
        for (id, level) in raw.rules {
            if rules::by_id(id.get_ref()).is_none() {
                let known: Vec<_> = rules::ALL.iter().map(|r| r.id).collect();
                return Err(err(
                    format!(
                        "unknown rule `{}` (known rules: {})",
                        id.get_ref(),
                        known.join(", ")
                    ),
                    Some(id.span()),
                )
                .into());
            }
            rules_out.insert(id.into_inner(), level);
        }
        for pattern in &raw.exclude {
            if let Err(e) = globset::Glob::new(pattern) {
                let span = text.find(pattern.as_str()).map(|s| s..s + pattern.len());
                return Err(err(format!("bad exclude glob `{pattern}`: {e}"), span).into());
            }
        }
        Ok(Config {
            source: Some(path.to_path_buf()),
            include_tests: raw.include_tests,
            exclude: raw.exclude,
            immutable_types: raw.immutable_types,
            mutable_types: raw.mutable_types,
            rules: rules_out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(name: &str, text: &str) -> Result<Config, ConfigFailure> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        Config::load(&p)
    }

    fn invalid(r: Result<Config, ConfigFailure>) -> ConfigError {
        match r {
            Err(ConfigFailure::Invalid(e)) => *e,
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn reads_levels_and_lists() {
        let c = load_str(
            "isolate.toml",
            "include_tests = true\nexclude = [\"gen/**\"]\n[rules]\nstatic_mut = \"warn\"\n",
        )
        .unwrap();
        assert!(c.include_tests);
        assert_eq!(c.rules["static_mut"], Level::Warn);
    }

    #[test]
    fn errors_point_into_the_file() {
        let e = invalid(load_str(
            "isolate.toml",
            "[rules]\nstatic_mutt = \"deny\"\n",
        ));
        assert!(e.message.contains("unknown rule `static_mutt`"));
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
    }

    #[test]
    fn cargo_metadata_package_over_workspace() {
        let c = load_str(
            "Cargo.toml",
            "[package]\nname = \"x\"\n[package.metadata.isolate.rules]\nlazy_singleton = \"allow\"\n\
             [workspace.metadata.isolate.rules]\nlazy_singleton = \"deny\"\n",
        )
        .unwrap();
        assert_eq!(c.rules["lazy_singleton"], Level::Allow);
        let c = load_str("Cargo.toml", "[package]\nname = \"x\"\n").unwrap();
        assert!(c.source.is_none());
    }
}
