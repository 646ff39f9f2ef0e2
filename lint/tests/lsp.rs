//! `cargo isolate lsp` as an editor meets it: the real binary, JSON-RPC over its stdin and
//! stdout, raw JSON on the wire. An editing session (open, hover, the "allow with reason"
//! action applied and re-analysed, the global removed), findings that move between files,
//! negotiated position encodings, config reloads, and the inputs a careless or hostile client
//! sends (garbage, out-of-range positions, documents it never opened, requests out of order).

mod common;
mod lsp_client;

use std::path::Path;

use common::temp_tree;
use lsp_client::{Client, apply_edits, file_uri};
use serde_json::{Value, json};

fn server() -> Client {
    Client::start(Path::new(env!("CARGO_BIN_EXE_cargo-isolate")), &["lsp"])
}

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// A global on a line with non-ASCII text before it: `RUNS` starts at UTF-16 column 29
/// (`é` is one unit, the crab two), UTF-8 column 32 and UTF-32 column 28 (0-based).
const STATE: &str = "// a comment\n/* état 🦀 */ pub static mut RUNS: u32 = 0;\n";

fn app() -> tempfile::TempDir {
    temp_tree(&[
        ("Cargo.toml", MANIFEST),
        ("src/main.rs", "mod state;\nfn main() {}\n"),
        ("src/state.rs", STATE),
    ])
}

fn range(start: (u64, u64), end: (u64, u64)) -> Value {
    json!({"start": {"line": start.0, "character": start.1},
           "end": {"line": end.0, "character": end.1}})
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("?"))
        .collect()
}

#[test]
fn an_editing_session_open_hover_allow_and_remove() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    let mut c = server();
    let init = c.initialize(Some(dir.path()), json!({}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16", "{init}");
    assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 2);
    assert_eq!(init["serverInfo"]["name"], "isolate");

    c.open(&uri, STATE);
    let published = c.published(&uri);
    let d = published["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{published}");
    assert_eq!(d[0]["code"], "isolate::static_mut");
    assert_eq!(d[0]["source"], "isolate");
    assert_eq!(d[0]["severity"], 1);
    assert_eq!(d[0]["range"], range((1, 29), (1, 33)), "UTF-16 columns");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("`static mut RUNS`")
    );
    let diagnostic = d[0].clone();

    // Hover on the name: the finding and the rule's explain text.
    let hover = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 31}}),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(
        text.starts_with("**isolate::static_mut** (error)"),
        "{text}"
    );
    assert!(
        text.contains("## What it finds") && text.contains("## Fix"),
        "{text}"
    );
    assert_eq!(hover["range"], diagnostic["range"]);
    let nothing = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}}),
    );
    assert_eq!(nothing, Value::Null);

    // The "allow with reason" action, applied as the editor would.
    let actions = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range((1, 30), (1, 30)),
               "context": {"diagnostics": [diagnostic]}}),
    );
    let allow = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Allow isolate::static_mut here")
        })
        .unwrap_or_else(|| panic!("no allow action in {actions}"));
    assert_eq!(allow["kind"], "quickfix");
    assert_eq!(allow["diagnostics"][0]["code"], "isolate::static_mut");
    let edits = allow["edit"]["changes"][uri.as_str()].as_array().unwrap();
    let allowed = apply_edits(STATE, edits);
    assert_eq!(
        allowed,
        "// a comment\n// isolate: allow(static_mut) -- <why sharing this across users is safe>\n\
         /* état 🦀 */ pub static mut RUNS: u32 = 0;\n"
    );
    c.replace(&uri, 2, &allowed);
    let after = c.published(&uri);
    assert_eq!(after["version"], 2);
    // Suppressed; the placeholder asks for a real reason.
    let d = after["diagnostics"].as_array().unwrap();
    assert_eq!(codes(d), ["isolate::suppression_without_reason"], "{after}");
    assert_eq!(d[0]["range"]["start"]["line"], 1);
    let reasoned = allowed.replace(
        "<why sharing this across users is safe>",
        "a counter, never read into a response",
    );
    c.replace(&uri, 3, &reasoned);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    // The global back, then removed from the buffer (the disk still has it).
    c.replace(&uri, 4, STATE);
    assert_eq!(codes(&c.diagnostics(&uri)), ["isolate::static_mut"]);
    c.replace(&uri, 5, "// a comment\npub const RUNS: u32 = 0;\n");
    let cleared = c.published(&uri);
    assert_eq!(cleared["diagnostics"], json!([]));
    assert_eq!(cleared["version"], 5);

    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_change_in_one_file_republishes_the_files_it_affects() {
    let registry = "use std::collections::HashMap;\nuse std::sync::Mutex;\n\npub struct Registry {\n    \
                    pub runs: Mutex<HashMap<u64, String>>,\n}\n";
    let dir = temp_tree(&[
        ("Cargo.toml", MANIFEST),
        ("src/main.rs", "mod registry;\nmod state;\nfn main() {}\n"),
        ("src/registry.rs", registry),
        (
            "src/state.rs",
            "use crate::registry::Registry;\n\npub static REGISTRY: std::sync::LazyLock<Registry> = \
             std::sync::LazyLock::new(Registry::default);\n",
        ),
    ]);
    let registry_uri = file_uri(&dir.path().join("src/registry.rs"));
    let state_uri = file_uri(&dir.path().join("src/state.rs"));
    let mut c = server();
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    c.initialize(Some(dir.path()), caps);
    // The server asks to be told about files changed on disk.
    let register = c.wait("client/registerCapability", |m| {
        m["method"] == "client/registerCapability"
    });
    let watchers = &register["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert!(watchers.to_string().contains("**/*.rs"), "{register}");

    // Findings of files nobody opened are published after the workspace loads.
    assert_eq!(
        codes(&c.diagnostics(&state_uri)),
        ["isolate::shared_mutable_map"]
    );

    // An incremental edit in registry.rs (UTF-16 positions) changes state.rs's findings.
    c.open(&registry_uri, registry);
    let no_lock = json!({"textDocument": {"uri": registry_uri, "version": 2},
        "contentChanges": [{"range": range((4, 14), (4, 41)), "text": "u64"}]});
    c.notify("textDocument/didChange", no_lock);
    assert_eq!(c.diagnostics(&state_uri), Vec::<Value>::new());
    let back = json!({"textDocument": {"uri": registry_uri, "version": 3},
        "contentChanges": [{"range": range((4, 14), (4, 17)), "text": "Mutex<HashMap<u64, String>>"}]});
    c.notify("textDocument/didChange", back);
    assert_eq!(
        codes(&c.diagnostics(&state_uri)),
        ["isolate::shared_mutable_map"]
    );

    // A file that is only in the editor (never saved) is linted, and cleared when closed.
    let extra_uri = file_uri(&dir.path().join("src/extra.rs"));
    c.open(&extra_uri, "pub static mut EXTRA: u8 = 0;\n");
    assert_eq!(codes(&c.diagnostics(&extra_uri)), ["isolate::static_mut"]);
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": extra_uri}}),
    );
    assert_eq!(c.diagnostics(&extra_uri), Vec::<Value>::new());

    // Closed, registry.rs is the disk's again; changed on disk, it is read again.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": registry_uri}}),
    );
    std::fs::write(
        dir.path().join("src/registry.rs"),
        "pub struct Registry {\n    pub runs: u64,\n}\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": registry_uri, "type": 2}]}),
    );
    assert_eq!(c.diagnostics(&state_uri), Vec::<Value>::new());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn utf8_and_utf32_positions_when_the_client_offers_them() {
    for (offered, chosen, start, end) in [
        (json!(["utf-8", "utf-16"]), "utf-8", 32, 36),
        (json!(["utf-32", "utf-16"]), "utf-32", 28, 32),
        (json!(["utf-16", "utf-8"]), "utf-16", 29, 33),
    ] {
        let dir = app();
        let uri = file_uri(&dir.path().join("src/state.rs"));
        let mut c = server();
        let init = c.initialize(
            Some(dir.path()),
            json!({"general": {"positionEncodings": offered}}),
        );
        assert_eq!(init["capabilities"]["positionEncoding"], chosen);
        c.open(&uri, STATE);
        let d = c.diagnostics(&uri);
        assert_eq!(d[0]["range"], range((1, start), (1, end)), "{chosen}");
        // An edit in the same encoding: one character inserted after the crab.
        let crab_end = start - 15 - 4;
        let insert = json!({"textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": range((1, crab_end), (1, crab_end)), "text": "x"}]});
        c.notify("textDocument/didChange", insert);
        let d = c.diagnostics(&uri);
        assert_eq!(
            d[0]["range"],
            range((1, start + 1), (1, end + 1)),
            "{chosen}"
        );
        assert_eq!(c.shutdown(), Some(0));
    }
}

#[test]
fn a_machine_applicable_fix_is_the_preferred_quick_fix() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    let text = "// isolate: allow(static_mut) -- was a counter\nconst LIMIT: u8 = 1;\n";
    let mut c = server();
    c.initialize(Some(dir.path()), json!({}));
    c.open(&uri, text);
    let d = c.diagnostics(&uri);
    assert_eq!(codes(&d), ["isolate::unused_suppression"]);
    let actions = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range((0, 5), (0, 5)),
               "context": {"diagnostics": d, "only": ["quickfix"]}}),
    );
    let actions = actions.as_array().unwrap();
    // No "allow" for a finding about a suppression: only the finding's own fix.
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], "remove the suppression");
    assert_eq!(actions[0]["isPreferred"], true);
    let edits = actions[0]["edit"]["changes"][uri.as_str()]
        .as_array()
        .unwrap();
    let fixed = apply_edits(text, edits);
    assert_eq!(fixed, "const LIMIT: u8 = 1;\n");
    c.replace(&uri, 2, &fixed);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    // A client that asks for refactorings only gets none.
    let none = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range((0, 0), (9, 0)),
               "context": {"diagnostics": [], "only": ["refactor"]}}),
    );
    assert_eq!(none, json!([]));
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn saving_a_config_file_reloads_it_and_a_broken_one_is_shown_in_it() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    let config = dir.path().join("isolate.toml");
    let config_uri = file_uri(&config);
    let mut c = server();
    c.initialize(Some(dir.path()), json!({}));
    c.open(&uri, STATE);
    assert_eq!(c.diagnostics(&uri)[0]["severity"], 1);

    std::fs::write(&config, "[rules]\nstatic_mut = \"warn\"\n").unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": config_uri}}),
    );
    let d = c.diagnostics(&uri);
    assert_eq!(
        (d[0]["code"].as_str(), &d[0]["severity"]),
        (Some("isolate::static_mut"), &json!(2))
    );

    std::fs::write(&config, "[rules]\nstatic_mutt = \"warn\"\n").unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": config_uri}}),
    );
    let broken = c.diagnostics(&config_uri);
    assert_eq!(codes(&broken), ["isolate::config"], "{broken:?}");
    assert_eq!(broken[0]["range"]["start"]["line"], 1);
    assert!(
        broken[0]["message"]
            .as_str()
            .unwrap()
            .contains("static_mut"),
        "did-you-mean: {broken:?}"
    );

    std::fs::remove_file(&config).unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": config_uri}}),
    );
    assert_eq!(c.diagnostics(&config_uri), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&uri)[0]["severity"], 1);
    assert_eq!(c.shutdown(), Some(0));
}

/// One framed payload, as bytes.
fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn error_code(response: &Value) -> i64 {
    response["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {response}"))
}

#[test]
fn hostile_input_is_answered_logged_and_survived() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    let mut c = server();

    // Before initialize: requests are refused, notifications dropped, garbage answered.
    let early = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(error_code(&early), -32002, "{early}");
    c.open(&uri, STATE);
    c.send_raw(&frame("{garbage"));
    let garbage = c.wait("an error for garbage", |m| m["error"].is_object());
    assert_eq!(
        (garbage["id"].clone(), error_code(&garbage)),
        (Value::Null, -32700)
    );
    c.initialize(Some(dir.path()), json!({}));

    // Not a message, but with an id: the error goes to that id.
    c.send_raw(&frame(r#"{"jsonrpc":"2.0","id":77,"method":3}"#));
    let bad = c.wait("the error for id 77", |m| m["id"] == 77);
    assert_eq!(error_code(&bad), -32600);
    // A frame without Content-Length, a second initialize, an unknown method, bad params.
    c.send_raw(b"X-Nonsense: yes\r\n\r\n");
    let headerless = c.wait("an error for a headerless frame", |m| {
        m["error"].is_object() && m["id"].is_null()
    });
    assert_eq!(error_code(&headerless), -32700);
    assert_eq!(
        error_code(&c.request("initialize", json!({"capabilities": {}}))),
        -32600
    );
    assert_eq!(
        error_code(&c.request("isolate/selfDestruct", json!({}))),
        -32601
    );
    assert_eq!(
        error_code(&c.request("textDocument/hover", json!({"nope": 1}))),
        -32602
    );

    // Documents the server never saw, URIs that are not files, positions out of range.
    let ghost = file_uri(&dir.path().join("src/ghost.rs"));
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": ghost, "version": 2}, "contentChanges": [{"text": "x"}]}),
    );
    c.log_line("not open");
    c.open("untitled:Untitled-1", "static mut A: u8 = 0;");
    c.log_line("only file: URIs");
    let huge = u32::MAX as u64;
    for (method, params) in [
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": huge, "character": huge}}),
        ),
        (
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range((huge, huge), (huge, huge)),
                   "context": {"diagnostics": []}}),
        ),
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": ghost}, "position": {"line": 0, "character": 0}}),
        ),
    ] {
        let r = c.request(method, params);
        assert!(r.get("error").is_none(), "{method}: {r}");
        assert!(
            r["result"].is_null() || r["result"] == json!([]),
            "{method}: {r}"
        );
    }
    // Past the u32 range: bad params for a request, a log line for a notification.
    let beyond = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1u64 << 40, "character": 0}}),
    );
    assert_eq!(error_code(&beyond), -32602);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": range((1 << 40, 0), (1 << 40, 0)), "text": "x"}]}),
    );
    c.log_line("ignored `textDocument/didChange`");

    // The document opened before initialize was dropped with it: open it now.
    c.open(&uri, STATE);
    assert_eq!(codes(&c.diagnostics(&uri)), ["isolate::static_mut"]);
    // An edit far past the end appends; the finding does not move.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
               "contentChanges": [{"range": range((huge, huge), (huge, huge)), "text": "fn (\n"}]}),
    );
    // Unparsable now: logged, and the last findings stay (hover still finds them).
    c.log_line("its findings are those of its last text that parsed");
    let hover = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 30}}),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("static_mut")
    );
    // Parsable again, without the global.
    c.replace(&uri, 4, "const RUNS: u32 = 0;\n");
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    assert!(c.running());
    // `exit` without `shutdown`: exit code 1, as the protocol says.
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(), Some(1));
}

#[test]
fn exit_codes_and_requests_after_shutdown() {
    // Input closed without shutdown: 1.
    let mut c = server();
    c.initialize(None, json!({}));
    c.close_stdin();
    assert_eq!(c.exit_code(), Some(1));

    // Closed before initialize: 1.
    let mut c = server();
    c.close_stdin();
    assert_eq!(c.exit_code(), Some(1));

    // After shutdown, requests are refused; exit is 0.
    let mut c = server();
    c.initialize(None, json!({}));
    assert_eq!(c.call("shutdown", Value::Null), Value::Null);
    let late = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.rs"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(error_code(&late), -32600);
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(), Some(0));
}

#[test]
fn without_a_workspace_folder_open_files_are_linted_alone() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    let mut c = server();
    c.initialize(None, json!({}));
    c.open(&uri, STATE);
    assert_eq!(codes(&c.diagnostics(&uri)), ["isolate::static_mut"]);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn an_unsaved_accessor_is_a_related_span_of_its_global_in_another_file() {
    // A global and its `&'static` accessor are one finding, at the global: an accessor typed
    // into an unsaved buffer shows up as related information of the global's diagnostic in the
    // other file, and goes away when the buffer is closed.
    let state = "use std::sync::{Mutex, OnceLock};\npub struct Bridge { peers: Mutex<Vec<u64>> }\n\
                 pub static BRIDGE: OnceLock<Bridge> = OnceLock::new();\n";
    let dir = temp_tree(&[
        ("Cargo.toml", MANIFEST),
        ("src/main.rs", "mod state;\nmod bridge;\nfn main() {}\n"),
        ("src/state.rs", state),
        ("src/bridge.rs", "use crate::state::Bridge;\n"),
    ]);
    let bridge_uri = file_uri(&dir.path().join("src/bridge.rs"));
    let state_uri = file_uri(&dir.path().join("src/state.rs"));
    let mut c = server();
    c.initialize(Some(dir.path()), json!({}));
    let points_at_bridge = |m: &Value, bridge_uri: &str, state_uri: &str| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == state_uri
            && m["params"]["diagnostics"].as_array().is_some_and(|d| {
                d.iter().any(|d| {
                    d["relatedInformation"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r["location"]["uri"] == bridge_uri))
                })
            })
    };
    // The accessor exists only in the editor's buffer; the disk never sees it.
    let accessor = "use crate::state::{Bridge, BRIDGE};\n\
                    pub fn instance() -> &'static Bridge {\n    BRIDGE.get_or_init(|| todo!())\n}\n";
    c.open(&bridge_uri, accessor);
    let published = c.wait("the global's finding pointing at the accessor", |m| {
        points_at_bridge(m, &bridge_uri, &state_uri)
    });
    let d = &published["params"]["diagnostics"][0];
    assert_eq!(d["code"], "isolate::shared_mutable_map", "{published}");
    assert_eq!(d["range"]["start"], json!({"line": 2, "character": 11}));
    let related = d["relatedInformation"].as_array().unwrap();
    let at_accessor = related
        .iter()
        .find(|r| r["location"]["uri"] == bridge_uri)
        .unwrap_or_else(|| panic!("no related information at the accessor: {d}"));
    assert_eq!(
        at_accessor["location"]["range"]["start"],
        json!({"line": 1, "character": 7})
    );
    assert_eq!(
        at_accessor["message"],
        "`instance` hands it out as `&'static Bridge`"
    );

    // Closed unsaved: the file is the disk's again, without the accessor.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": bridge_uri}}),
    );
    let again = c.wait("the global's finding without the accessor", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == state_uri
            && !points_at_bridge(m, &bridge_uri, &state_uri)
    });
    assert_eq!(
        again["params"]["diagnostics"].as_array().map(Vec::len),
        Some(1),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/bridge.rs")).unwrap(),
        "use crate::state::Bridge;\n"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn the_disk_is_read_once_then_only_what_the_editor_says_changed() {
    let dir = app();
    let main_uri = file_uri(&dir.path().join("src/main.rs"));
    let other = dir.path().join("src/other.rs");
    let other_uri = file_uri(&other);
    std::fs::write(&other, "pub const A: u8 = 0;\n").unwrap();
    let mut c = server();
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    c.initialize(Some(dir.path()), caps);
    c.open(&main_uri, "mod state;\nmod other;\nfn main() {}\n");
    // Loaded: state.rs's finding is published although it is not open.
    let state_uri = file_uri(&dir.path().join("src/state.rs"));
    assert_eq!(codes(&c.diagnostics(&state_uri)), ["isolate::static_mut"]);
    // other.rs gains a global on disk, and nobody says so: an edit elsewhere re-analyses the
    // facts in memory, not the disk, so it is not seen...
    std::fs::write(&other, "pub static mut B: u8 = 0;\n").unwrap();
    c.replace(
        &main_uri,
        2,
        "mod state;\nmod other;\nstatic mut C: u8 = 0;\nfn main() {}\n",
    );
    assert_eq!(codes(&c.diagnostics(&main_uri)), ["isolate::static_mut"]);
    // A request answered after that analysis's publications: none of them was for other.rs.
    c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": main_uri}, "position": {"line": 0, "character": 0}}),
    );
    let published_other = |c: &Client| {
        c.received
            .iter()
            .filter(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == other_uri
            })
            .count()
    };
    assert_eq!(published_other(&c), 0, "other.rs was read from disk again");
    // ...until the editor's file watcher reports it.
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": other_uri, "type": 2}]}),
    );
    let d = c.diagnostics(&other_uri);
    assert_eq!(codes(&d), ["isolate::static_mut"]);
    assert!(d[0]["message"].as_str().unwrap().contains("`static mut B`"));
    assert_eq!(published_other(&c), 1);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_burst_of_changes_waits_for_the_debounce_and_a_save_analyses_it_at_once() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    // A ten-minute window: whatever is published before it ends was asked for by a save.
    let mut c = Client::start(
        Path::new(env!("CARGO_BIN_EXE_cargo-isolate")),
        &["lsp", "--debounce-ms", "600000"],
    );
    c.initialize(Some(dir.path()), json!({}));
    c.open(&uri, STATE);
    assert_eq!(codes(&c.diagnostics(&uri)), ["isolate::static_mut"]);
    // Two changes right after that analysis: a burst, held back by the window.
    c.replace(&uri, 2, "const RUNS: u32 = 0;\n");
    c.replace(&uri, 3, "pub const RUNS: u32 = 0;\n");
    // A round trip that does not need findings (an unknown method): handled after both changes.
    let unknown = c.request("isolate/nothing", json!({}));
    assert_eq!(error_code(&unknown), -32601);
    let publications = |c: &Client| {
        c.received
            .iter()
            .filter(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            })
            .count()
    };
    assert_eq!(
        publications(&c),
        1,
        "the burst was analysed before its window ended"
    );
    // Saving analyses the last text at once.
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let saved = c.published(&uri);
    assert_eq!(saved["version"], 3, "{saved}");
    assert_eq!(saved["diagnostics"], json!([]));
    assert_eq!(publications(&c), 2, "one analysis for the burst");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_flood_of_changes_is_coalesced_and_its_last_text_wins() {
    let dir = app();
    let uri = file_uri(&dir.path().join("src/state.rs"));
    let mut c = server();
    c.initialize(Some(dir.path()), json!({}));
    c.open(&uri, STATE);
    assert_eq!(codes(&c.diagnostics(&uri)), ["isolate::static_mut"]);
    // 400 incremental edits as fast as the pipe takes them, each adding or removing a second
    // global after the last line: analysed one by one, every one would publish.
    let global = "pub static mut FLOOD: u8 = 0;\n";
    for version in 2..=401 {
        let change = if version % 2 == 0 {
            json!({"range": range((2, 0), (2, 0)), "text": global})
        } else {
            json!({"range": range((2, 0), (3, 0)), "text": ""})
        };
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
    }
    // The last edit removed it; one more adds it for good.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 402},
               "contentChanges": [{"range": range((2, 0), (2, 0)), "text": global}]}),
    );
    let last = c.wait("the last version's diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["version"] == 402
    });
    let d = last["params"]["diagnostics"].as_array().unwrap();
    assert_eq!(codes(d), ["isolate::static_mut", "isolate::static_mut"]);
    assert!(
        d[1]["message"]
            .as_str()
            .unwrap()
            .contains("`static mut FLOOD`")
    );
    let publications = c
        .received
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri)
        .count();
    assert!(
        publications < 50,
        "{publications} publications for 401 changes"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_handler_reached_global_shows_its_execution_path_in_the_hover() {
    // A real (unsaved) axum route: the handler calls into another module, which uses the map.
    // The diagnostic's hover lists the chain from the entry point, and the related information
    // points at each step.
    let main = "mod api;\nmod store;\nfn main() {\n    let _app = axum::Router::new().route(\"/runs\", axum::routing::post(api::create_run));\n}\n";
    let api = "pub async fn create_run() {\n    crate::store::remember(7);\n}\n";
    let store = "use std::collections::HashMap;\nuse std::sync::Mutex;\n\
                 static RUNS: Mutex<Option<HashMap<u64, String>>> = Mutex::new(None);\n\
                 pub fn remember(id: u64) {\n    RUNS.lock().unwrap().get_or_insert_with(HashMap::new).insert(id, String::new());\n}\n";
    let dir = temp_tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\naxum = \"0.8\"\n",
        ),
        ("src/main.rs", main),
        ("src/api.rs", api),
        ("src/store.rs", "\n"),
    ]);
    let store_uri = file_uri(&dir.path().join("src/store.rs"));
    let api_uri = file_uri(&dir.path().join("src/api.rs"));
    let mut c = server();
    c.initialize(Some(dir.path()), json!({}));
    // The global exists only in the editor's buffer.
    c.open(&store_uri, store);
    let published = c.wait("the reached global's finding", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == store_uri
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
    });
    let d = &published["params"]["diagnostics"][0];
    assert_eq!(d["code"], "isolate::shared_mutable_map", "{published}");
    assert_eq!(
        d["severity"], 1,
        "reached by a handler: an error; {published}"
    );
    let related = d["relatedInformation"].as_array().unwrap();
    assert!(
        related.iter().any(|r| r["location"]["uri"] == api_uri),
        "a related location at the handler: {d}"
    );
    let hover = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": store_uri}, "position": {"line": 2, "character": 8}}),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    let path = text
        .split("**Execution path**")
        .nth(1)
        .unwrap_or_else(|| panic!("no execution path in the hover: {text}"));
    let handler = path.find("`create_run`").expect("the handler first");
    let user = path
        .find("`store::remember`")
        .or_else(|| path.find("`remember`"));
    assert!(
        user.is_some_and(|u| u > handler),
        "the handler, then the fn that uses RUNS: {path}"
    );
    assert_eq!(c.shutdown(), Some(0));
}
