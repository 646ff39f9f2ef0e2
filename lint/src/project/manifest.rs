//! Reading `Cargo.toml` files: just what the project model needs (package and crate names,
//! targets, dependencies, workspace members), leniently. The manifest is parsed with the `toml`
//! crate rather than by running `cargo metadata`: the linter never runs cargo, works offline and
//! on half-written manifests, and costs a few microseconds per package. A manifest that does
//! not parse is treated as absent (its directory is then a plain directory of `.rs` files);
//! the config loader reports errors in `[package.metadata.isolate]` separately.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The parts of a `Cargo.toml` the linter reads.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Manifest {
    pub package: Option<PackageTable>,
    pub workspace: Option<WorkspaceTable>,
    pub lib: Option<TargetTable>,
    #[serde(default)]
    pub bin: Vec<TargetTable>,
    #[serde(default)]
    pub example: Vec<TargetTable>,
    #[serde(default)]
    pub test: Vec<TargetTable>,
    #[serde(default)]
    pub bench: Vec<TargetTable>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "dev_dependencies", rename = "dev-dependencies")]
    pub dev_dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "build_dependencies", rename = "build-dependencies")]
    pub build_dependencies: BTreeMap<String, DepSpec>,
    #[serde(default)]
    pub target: BTreeMap<String, PlatformDeps>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PackageTable {
    pub name: Option<String>,
    /// `version = "1.2.3"` or `version.workspace = true`.
    pub version: Option<toml::Value>,
    /// `edition = "2021"` or `edition.workspace = true`.
    pub edition: Option<toml::Value>,
    /// `workspace = "../.."`: the workspace root, named explicitly.
    pub workspace: Option<String>,
    /// `build = "build.rs"` or `build = false`.
    pub build: Option<toml::Value>,
    pub autolib: Option<bool>,
    pub autobins: Option<bool>,
    pub autoexamples: Option<bool>,
    pub autotests: Option<bool>,
    pub autobenches: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WorkspaceTable {
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default, rename = "default-members")]
    pub default_members: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, DepSpec>,
    /// `[workspace.package]`: what members inherit with `key.workspace = true`.
    pub package: Option<InheritedPackage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct InheritedPackage {
    pub version: Option<toml::Value>,
    pub edition: Option<toml::Value>,
}

/// A package key's value: the string itself, or `{ workspace = true }` -> `inherited`.
/// Values of the wrong type are ignored: the manifest stays readable.
pub(crate) fn inheritable(
    value: Option<&toml::Value>,
    inherited: Option<&toml::Value>,
) -> Option<String> {
    match value? {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Table(t) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
            inherited.and_then(toml::Value::as_str).map(str::to_string)
        }
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TargetTable {
    pub name: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PlatformDeps {
    #[serde(default)]
    pub dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "dev_dependencies", rename = "dev-dependencies")]
    pub dev_dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "build_dependencies", rename = "build-dependencies")]
    pub build_dependencies: BTreeMap<String, DepSpec>,
}

/// `dep = "1"` or `dep = { package = "..", path = "..", workspace = true }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum DepSpec {
    Version(#[allow(dead_code)] String),
    Detailed(DepDetail),
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DepDetail {
    pub package: Option<String>,
    pub path: Option<String>,
    #[serde(default)]
    pub workspace: bool,
}

impl DepSpec {
    pub fn detail(&self) -> Option<&DepDetail> {
        match self {
            DepSpec::Version(_) => None,
            DepSpec::Detailed(d) => Some(d),
        }
    }
}

/// Reads and parses `path`; `None` when it cannot be read or is not a manifest.
pub(crate) fn read(path: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(path).ok()?;
    toml::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_targets_deps_and_workspace() {
        let m: Manifest = toml::from_str(
            r#"
            [package]
            name = "api-server"
            autobins = false
            [lib]
            name = "api"
            [[bin]]
            name = "serve"
            path = "src/serve.rs"
            [dependencies]
            core-lib = { path = "../core", package = "core" }
            serde = "1"
            shared = { workspace = true }
            [dev-dependencies]
            tempfile = "3"
            [target.'cfg(unix)'.dependencies]
            nix = "0.29"
            [workspace]
            members = ["crates/*"]
            exclude = ["crates/old"]
            [package.metadata.isolate]
            anything = "ignored here"
            "#,
        )
        .unwrap();
        let p = m.package.unwrap();
        assert_eq!(p.name.as_deref(), Some("api-server"));
        assert_eq!(p.autobins, Some(false));
        assert_eq!(m.lib.unwrap().name.as_deref(), Some("api"));
        assert_eq!(m.bin[0].path.as_deref(), Some("src/serve.rs"));
        let core = m.dependencies["core-lib"].detail().unwrap();
        assert_eq!(
            (core.package.as_deref(), core.path.as_deref()),
            (Some("core"), Some("../core"))
        );
        assert!(m.dependencies["shared"].detail().unwrap().workspace);
        assert!(m.dev_dependencies.contains_key("tempfile"));
        assert!(m.target["cfg(unix)"].dependencies.contains_key("nix"));
        assert_eq!(m.workspace.unwrap().exclude, ["crates/old"]);
    }
}
