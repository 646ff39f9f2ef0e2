//! What findings say, for the states the real-server study found described wrongly: the
//! message names the path to the mutable part, and the help fits the state (a metrics counter
//! is not told to key entries by user, a scratch buffer is not told to move into an engine,
//! a C descriptor is not told it is shared by requests only).

mod common;

use common::{assert_contains, run, temp_tree};
use serde_json::Value;

/// The finding for `item` in a JSON run over `src/lib.rs` = `source`.
fn finding(source: &str, item: &str) -> Value {
    let dir = temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        ),
        ("src/lib.rs", source),
    ]);
    let doc = run(&["check", "--format", "json", dir.path().to_str().unwrap()]).json();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["item"] == item)
        .unwrap_or_else(|| panic!("no finding for {item}: {doc:#}"))
        .clone()
}

fn text(f: &Value, key: &str) -> String {
    f[key].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_map_inside_a_user_type_is_named_by_its_field_path() {
    let f = finding(
        "use std::sync::LazyLock;\n\
         pub struct WebSocketUsers { map: dashmap::DashMap<String, Vec<u8>> }\n\
         pub static WS_USERS: LazyLock<WebSocketUsers> = LazyLock::new(|| todo!());\n",
        "WS_USERS",
    );
    assert_eq!(f["rule"], "shared_mutable_map");
    assert_contains(&text(&f, "message"), &["`WebSocketUsers.map`", "DashMap"]);
    let related = f["related"].as_array().unwrap();
    assert!(
        related.iter().any(|r| r["line"] == 2),
        "a related span at the field: {f:#}"
    );
    assert_contains(&text(&f, "help"), &["user"]);
}

#[test]
fn metrics_are_not_told_to_key_by_user_or_build_per_request() {
    let f = finding(
        "use prometheus::IntCounterVec;\n\
         lazy_static::lazy_static! {\n\
             pub static ref HTTP_REQUESTS_TOTAL: IntCounterVec = todo!();\n\
         }\n",
        "HTTP_REQUESTS_TOTAL",
    );
    assert_contains(&text(&f, "message"), &["metrics"]);
    let help = text(&f, "help");
    assert!(!help.contains("key every entry"), "{help}");
    assert!(!help.contains("per request with"), "{help}");
}

#[test]
fn a_scratch_buffer_gets_thread_local_help_and_a_readable_path() {
    let f = finding(
        "use std::cell::RefCell;\n\
         pub struct Pool { rings: Vec<io_uring::IoUring> }\n\
         thread_local! {\n\
             static IO_URING_POOL: RefCell<Pool> = RefCell::new(Pool { rings: Vec::new() });\n\
         }\n",
        "IO_URING_POOL",
    );
    assert_eq!(f["rule"], "thread_local_state");
    let message = text(&f, "message");
    assert!(
        message.ends_with("`Pool.rings` is a `Vec<io_uring::IoUring>` behind `RefCell<Pool>`"),
        "{message}"
    );
    assert_contains(&text(&f, "help"), &["scratch buffer", "cleared"]);
}

#[test]
fn a_config_watcher_is_not_called_a_collection() {
    let f = finding(
        "use std::sync::{Arc, OnceLock};\n\
         pub struct Settings { pub filters: Vec<String> }\n\
         pub struct SettingsWatcher { rx: tokio::sync::watch::Receiver<Arc<Settings>> }\n\
         static SETTINGS_WATCHER: OnceLock<SettingsWatcher> = OnceLock::new();\n",
        "SETTINGS_WATCHER",
    );
    let message = text(&f, "message");
    assert!(!message.contains("collection"), "{message}");
    assert_contains(&message, &["watch", "`SettingsWatcher.rx`"]);
}

#[test]
fn an_exported_static_mut_says_it_is_exported() {
    let f = finding(
        "#[unsafe(no_mangle)]\n#[used]\npub static mut rlm_module: u32 = 0;\n",
        "rlm_module",
    );
    assert_eq!(f["rule"], "static_mut");
    assert_contains(&text(&f, "message"), &["exported to foreign code"]);
    assert_contains(&text(&f, "help"), &["C ABI", "allow(static_mut)"]);
    // A plain one keeps the plain message.
    let plain = finding("pub static mut COUNT: u32 = 0;\n", "COUNT");
    assert!(!text(&plain, "message").contains("exported"));
}

#[test]
fn an_alias_is_named_with_its_arguments_bound() {
    // lemmy's `CacheLock<T>` alias, used in a handler: the part is printed as it is used.
    let f = finding(
        "pub type CacheLock<T> = std::sync::LazyLock<moka::future::Cache<(), T>>;\n\
         pub struct GetSiteResponse { pub admins: Vec<String> }\n\
         pub async fn get_site() {\n\
             static CACHE: CacheLock<GetSiteResponse> = std::sync::LazyLock::new(|| todo!());\n\
         }\n",
        "CACHE",
    );
    assert_eq!(f["rule"], "shared_mutable_map");
    assert_contains(
        &text(&f, "message"),
        &["`CacheLock` is a `moka::future::Cache<(), GetSiteResponse>`"],
    );
}

#[test]
fn a_trait_object_is_followed_into_the_implementor_that_holds_the_state() {
    let f = finding(
        "use std::sync::LazyLock;\n\
         pub trait Hook: Send + Sync {}\n\
         pub struct Quiet;\n\
         impl Hook for Quiet {}\n\
         pub struct Recording { seen: std::sync::Mutex<Vec<String>> }\n\
         impl Hook for Recording {}\n\
         pub static HOOKS: LazyLock<Vec<Box<dyn Hook>>> = LazyLock::new(Vec::new);\n",
        "HOOKS",
    );
    assert_eq!(f["rule"], "shared_mutable_map");
    assert_contains(&text(&f, "message"), &["`Recording.seen`"]);
    assert!(
        f["related"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["line"] == 5),
        "a related span at the implementor's field: {f:#}"
    );
}

#[test]
fn the_scanned_codes_own_string_is_named_by_its_path() {
    let f = finding(
        "mod m { pub struct String { pub inner: std::sync::Mutex<Vec<u8>> } }\n\
         pub static LOCAL_STRING: std::sync::LazyLock<m::String> = std::sync::LazyLock::new(|| todo!());\n",
        "LOCAL_STRING",
    );
    assert_eq!(f["rule"], "shared_mutable_map");
    assert_contains(&text(&f, "message"), &["`crate::m::String.inner`"]);
}

#[test]
fn an_app_state_field_names_the_map_behind_a_trait_object_and_the_lock_above_it() {
    // The crates.io shape: the state's own map holds `Box<dyn Store>`; the mutable part is a
    // map behind a lock inside the implementor, in another module.
    let f = finding(
        "use std::collections::HashMap;\n\
         pub trait KeyStore: Send + Sync {}\n\
         pub struct RealKeyStore { cache: tokio::sync::RwLock<Cache> }\n\
         struct Cache { keys: HashMap<String, u64> }\n\
         impl KeyStore for RealKeyStore {}\n\
         pub struct AppState { pub key_stores: HashMap<String, Box<dyn KeyStore>> }\n\
         async fn list(axum::extract::State(s): axum::extract::State<std::sync::Arc<AppState>>) {}\n\
         pub fn router(s: std::sync::Arc<AppState>) -> axum::Router {\n\
             axum::Router::new().route(\"/\", axum::routing::get(list)).with_state(s)\n\
         }\n",
        "AppState.key_stores",
    );
    assert_eq!(f["rule"], "shared_mutable_map");
    assert_contains(
        &text(&f, "message"),
        &[
            "`AppState.key_stores`: `RealKeyStore.cache.keys` is a `HashMap<String, u64>`",
            "behind `tokio::sync::RwLock<Cache>`",
            "application state",
        ],
    );
    let lines: Vec<_> = f["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert!(
        lines.contains(&3) && lines.contains(&4),
        "related spans at `cache` and `keys`: {f:#}"
    );
}
