//! Which packages and features exist only for tests, read from the manifests of the scanned
//! packages (cargo is never run):
//!
//! - a package is test-only when other scanned packages reach it only through
//!   `[dev-dependencies]` (directly, or through packages that are themselves test-only), and
//!   it has no binary of its own: a workspace's test database helper, snapshot helper or
//!   test kit. A package nothing in the scan depends on is production code (it is an
//!   application, or a library whose users are not scanned).
//! - a feature is test-only when the only scanned declarations that enable it are
//!   dev-dependencies (`[dev-dependencies] x = { path = "..", features = ["test-helpers"] }`),
//!   directly or through other features (`testing = ["gpu/testing"]`), and no production
//!   path enables it: not `default`, not a normal or build dependency's `features`, not a
//!   feature that one of those enables. A feature no scanned manifest enables at all is left
//!   as production code: someone may build with `--features`.
//!
//! Code under `#[cfg(feature = "x")]` or `#[cfg(any(test, feature = "x"))]` is test code when
//! every feature named is test-only.

use std::collections::{HashSet, VecDeque};

use super::{DepKind, PackageId, Project, TargetKind};

/// The answer for one project (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct TestOnly {
    packages: Vec<bool>,
    /// Features a production build can enable.
    production: HashSet<(PackageId, String)>,
    /// Features a test build enables.
    tested: HashSet<(PackageId, String)>,
}

impl TestOnly {
    pub fn new(project: &Project) -> Self {
        let targets: Vec<Vec<Vec<PackageId>>> = project
            .packages
            .iter()
            .map(|p| {
                p.deps
                    .iter()
                    .map(|d| project.dep_packages(d).collect())
                    .collect()
            })
            .collect();
        TestOnly {
            packages: test_packages(project, &targets),
            production: features(project, &targets, false),
            tested: features(project, &targets, true),
        }
    }

    /// Whether package `p` is reached only by tests.
    pub fn package(&self, p: PackageId) -> bool {
        self.packages.get(p).copied().unwrap_or(false)
    }

    /// Whether every one of `features` of package `p` is enabled only by tests.
    pub fn gate(&self, p: PackageId, features: &[Box<str>]) -> bool {
        !features.is_empty()
            && features.iter().all(|f| {
                let key = (p, f.to_string());
                self.tested.contains(&key) && !self.production.contains(&key)
            })
    }
}

fn test_packages(project: &Project, targets: &[Vec<Vec<PackageId>>]) -> Vec<bool> {
    let n = project.packages.len();
    // (from, kind) for every edge into each package, self-edges left out.
    let mut incoming: Vec<Vec<(PackageId, DepKind)>> = vec![Vec::new(); n];
    for (from, pkg) in project.packages.iter().enumerate() {
        for (dep, tos) in pkg.deps.iter().zip(&targets[from]) {
            for &to in tos.iter().filter(|&&to| to != from) {
                incoming[to].push((from, dep.kind));
            }
        }
    }
    let has_bin = |p: PackageId| {
        project.packages[p]
            .crates
            .iter()
            .any(|&c| project.crates[c].kind == TargetKind::Bin)
    };
    // Start from every library something depends on, then clear those a production package
    // reaches through a normal or build dependency (normal dependencies form no cycles).
    let mut test: Vec<bool> = (0..n)
        .map(|p| !has_bin(p) && !incoming[p].is_empty())
        .collect();
    loop {
        let mut changed = false;
        for p in 0..n {
            if test[p]
                && incoming[p]
                    .iter()
                    .any(|&(from, kind)| kind != DepKind::Dev && !test[from])
            {
                test[p] = false;
                changed = true;
            }
        }
        if !changed {
            return test;
        }
    }
}

/// The features enabled by production builds (`dev = false`) or by test builds (`dev = true`:
/// from dev-dependency declarations only), closed over what each feature enables.
fn features(
    project: &Project,
    targets: &[Vec<Vec<PackageId>>],
    dev: bool,
) -> HashSet<(PackageId, String)> {
    let mut queue: VecDeque<(PackageId, String)> = VecDeque::new();
    for (from, pkg) in project.packages.iter().enumerate() {
        if !dev {
            queue.push_back((from, "default".into()));
        }
        for (dep, tos) in pkg.deps.iter().zip(&targets[from]) {
            if (dep.kind == DepKind::Dev) != dev {
                continue;
            }
            for &to in tos {
                queue.extend(dep.features.iter().map(|f| (to, f.clone())));
            }
        }
    }
    let mut seen = HashSet::new();
    while let Some((p, feature)) = queue.pop_front() {
        if !seen.insert((p, feature.clone())) {
            continue;
        }
        let pkg = &project.packages[p];
        for enabled in pkg.features.get(&feature).into_iter().flatten() {
            if enabled.starts_with("dep:") {
                continue;
            }
            let Some((dep_name, dep_feature)) = enabled.split_once('/') else {
                queue.push_back((p, enabled.clone()));
                continue;
            };
            let dep_name = dep_name.trim_end_matches('?').replace('-', "_");
            for (dep, tos) in pkg.deps.iter().zip(&targets[p]) {
                // A dev-dependency's features only matter in test builds.
                if dep.name == dep_name && dep.kind != DepKind::Dev {
                    queue.extend(tos.iter().map(|&to| (to, dep_feature.to_string())));
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use crate::project::tests::project_of;

    /// (package dir, whether test-only) for each package, sorted.
    fn packages(files: &[(&str, &str)]) -> Vec<(String, bool)> {
        let (project, _dir) = project_of(files);
        let only = super::TestOnly::new(&project);
        let mut out: Vec<(String, bool)> = project
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), only.package(i)))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_package_only_dev_dependencies_reach_is_test_only() {
        let got = packages(&[
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\n[dependencies]\ncore = { path = \"../core\" }\n\
                 [dev-dependencies]\nsnap = { path = \"../snap\" }\napp = { path = \".\" }\n",
            ),
            ("app/src/main.rs", ""),
            (
                "snap/Cargo.toml",
                "[package]\nname = \"snap\"\n[dependencies]\nsnap-util = { path = \"../snap-util\" }\n",
            ),
            ("snap/src/lib.rs", ""),
            ("snap-util/Cargo.toml", "[package]\nname = \"snap-util\"\n"),
            ("snap-util/src/lib.rs", ""),
            // Used by a test helper and by production code: production.
            (
                "core/Cargo.toml",
                "[package]\nname = \"core\"\n[dev-dependencies]\nsnap = { path = \"../snap\" }\n",
            ),
            ("core/src/lib.rs", ""),
            // A dev-dependency with a binary of its own is a tool, not a helper: kept.
            ("tool/Cargo.toml", "[package]\nname = \"tool\"\n"),
            ("tool/src/main.rs", ""),
            ("tool/src/lib.rs", ""),
            // Nothing depends on it: a library for users outside the scan.
            ("alone/Cargo.toml", "[package]\nname = \"alone\"\n"),
            ("alone/src/lib.rs", ""),
        ]);
        assert_eq!(
            got,
            [
                ("alone".to_string(), false),
                ("app".into(), false),
                ("core".into(), false),
                ("snap".into(), true),
                ("snap-util".into(), true),
                ("tool".into(), false),
            ]
        );
    }

    #[test]
    fn a_dev_dependency_cycle_does_not_make_production_code_test_only() {
        // `high` (an application) uses `low`; `low`'s tests use `high`: both production.
        let got = packages(&[
            (
                "high/Cargo.toml",
                "[package]\nname = \"high\"\n[dependencies]\nlow = { path = \"../low\" }\n",
            ),
            ("high/src/main.rs", ""),
            (
                "low/Cargo.toml",
                "[package]\nname = \"low\"\n[dev-dependencies]\nhigh = { path = \"../high\" }\n",
            ),
            ("low/src/lib.rs", ""),
        ]);
        assert_eq!(got, [("high".to_string(), false), ("low".into(), false)]);
    }

    #[test]
    fn features_enabled_only_by_dev_dependencies_are_test_only() {
        let (project, _dir) = project_of(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"seg\", \"gpu\"]\n\
                 [workspace.dependencies]\ngpu = { path = \"gpu\", features = [\"inherited\"] }\n",
            ),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\n[dependencies]\nseg = { path = \"../seg\", features = [\"prod\"] }\n\
                 gpu = { workspace = true }\n\
                 [dev-dependencies]\nseg = { path = \"../seg\", features = [\"testing\", \"prod\"] }\n",
            ),
            ("app/src/main.rs", ""),
            (
                "seg/Cargo.toml",
                "[package]\nname = \"seg\"\n[features]\ndefault = [\"std\"]\nstd = []\nprod = []\n\
                 testing = [\"gpu/testing\", \"dep:mock\", \"extra\"]\nextra = []\nunused = []\n\
                 [dependencies]\ngpu = { path = \"../gpu\" }\n",
            ),
            ("seg/src/lib.rs", ""),
            (
                "gpu/Cargo.toml",
                "[package]\nname = \"gpu\"\n[features]\ntesting = []\ninherited = []\n",
            ),
            ("gpu/src/lib.rs", ""),
        ]);
        let only = super::TestOnly::new(&project);
        let id = |name: &str| {
            project
                .packages
                .iter()
                .position(|p| p.name == name)
                .unwrap()
        };
        let gate = |pkg: &str, fs: &[&str]| {
            let fs: Vec<Box<str>> = fs.iter().map(|f| (*f).into()).collect();
            only.gate(id(pkg), &fs)
        };
        assert!(gate("seg", &["testing"]));
        assert!(gate("seg", &["extra"]), "enabled by a test-only feature");
        assert!(gate("gpu", &["testing"]), "through `gpu/testing`");
        assert!(gate("seg", &["testing", "extra"]));
        assert!(
            !gate("seg", &["testing", "prod"]),
            "prod is a production feature"
        );
        assert!(!gate("seg", &["std"]), "default");
        assert!(
            !gate("seg", &["unused"]),
            "enabled nowhere: maybe --features"
        );
        assert!(
            !gate("gpu", &["inherited"]),
            "from [workspace.dependencies]"
        );
        assert!(!gate("seg", &[]));
    }
}
