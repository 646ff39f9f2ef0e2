//! The README's editor setup ("In your editor") is what works: the Neovim snippet is the file
//! the Neovim test runs, and the commands the VS Code and Helix snippets start are the language
//! server (run here as cargo runs a subcommand: `cargo-isolate isolate lsp`).

mod lsp_client;

use std::path::{Path, PathBuf};

use lsp_client::Client;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The first fenced block of `lang` after the README heading `heading`.
fn block(heading: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let after = readme
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no heading {heading:?}"))
        .1;
    let fence = format!("```{lang}\n");
    let start = after
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block under {heading}"))
        + fence.len();
    let len = after[start..].find("```\n").expect("the block ends");
    after[start..start + len].to_string()
}

/// Starts `cargo <args>` the way cargo would (`cargo-isolate isolate lsp`), and checks that it
/// is this language server.
fn handshake(command: &str, args: &[String]) {
    assert_eq!(command, "cargo");
    assert_eq!(
        args.first().map(String::as_str),
        Some("isolate"),
        "{args:?}"
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = Client::start(Path::new(env!("CARGO_BIN_EXE_cargo-isolate")), &args);
    let init = c.initialize(None, json!({}));
    assert_eq!(init["serverInfo"]["name"], "isolate", "{init}");
    assert_eq!(c.shutdown(), Some(0));
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_neovim_snippet_is_the_tested_config() {
    let file = std::fs::read_to_string(repo().join("editors/neovim/isolate.lua")).unwrap();
    assert_eq!(block("### Neovim", "lua"), file);
}

#[test]
fn the_vs_code_settings_start_the_server() {
    let settings: Value = serde_json::from_str(&block("### VS Code", "json")).unwrap();
    assert_eq!(
        strings(&settings["rust-analyzer.check.overrideCommand"]),
        ["cargo", "isolate", "check", "--message-format=json"]
    );
    assert!(strings(&settings["glspc.server.languageId"]).contains(&"rust".to_string()));
    handshake(
        settings["glspc.server.command"].as_str().unwrap(),
        &strings(&settings["glspc.server.commandArguments"]),
    );
}

#[test]
fn the_helix_languages_toml_starts_the_server() {
    let config: toml::Value = toml::from_str(&block("### Helix", "toml")).unwrap();
    let server = &config["language-server"]["isolate"];
    let rust = config["language"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"].as_str() == Some("rust"))
        .expect("a rust language entry");
    let servers: Vec<&str> = rust["language-servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(servers.contains(&"isolate") && servers.contains(&"rust-analyzer"));
    let args: Vec<String> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    handshake(server["command"].as_str().unwrap(), &args);
}
