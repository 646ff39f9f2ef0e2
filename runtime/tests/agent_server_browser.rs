//! The `agent_server` page in headless Chromium, two users at once: each page starts a run and
//! shows its own events only. Driven over the DevTools protocol (a WebSocket); a screenshot of
//! each page is saved in `target/tmp/agent_server_browser/`.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Where it is absent
//! the test says so on the terminal, past the test harness's output capture, and passes; with
//! `CI=true` it fails instead. `ISOLATE_CHROMIUM=/path/to/chromium` picks another binary.
#![cfg(not(loom))]

mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The flags the issue requires, plus a window size for the screenshot.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,900",
];

/// Where Chromium is, if it is installed.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ISOLATE_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "ISOLATE_CHROMIUM={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .flat_map(|dir| {
            [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ]
            .map(|name| dir.join(name))
        })
        .find(|path| path.is_file())
}

/// Writes straight to the process's stderr: libtest captures `eprintln!` of passing tests,
/// not this, so the message is on the terminal whatever the test's outcome.
fn shout(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("agent_server_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A DevTools protocol connection to the browser.
struct Cdp {
    ws: server::Ws,
    next_id: u64,
}

impl Cdp {
    /// Calls `method` (on the page `session`, if any) and returns its result.
    async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
        let reply = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let Some(Ok(Message::Text(text))) = self.ws.next().await else {
                    panic!("the browser closed the DevTools connection");
                };
                let reply: Value = serde_json::from_str(&text).unwrap();
                if reply["id"] == id {
                    return reply;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{method}: no reply in 30 s"));
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    /// Evaluates `expression` in the page and returns its value (awaiting promises).
    async fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self
            .call(
                Some(session),
                "Runtime.evaluate",
                json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` every 50 ms until it is `true` (at most 20 s). While the page is
    /// still loading the elements it names may not exist yet: a throw counts as "not yet".
    async fn wait_for(&mut self, session: &str, expression: &str) {
        let guarded = format!(
            "(() => {{ try {{ return ({expression}); }} catch (_) {{ return false; }} }})()"
        );
        for _ in 0..400 {
            if self.eval(session, &guarded).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("still not true after 20 s: {expression}");
    }
}

/// The DevTools address Chromium wrote into its profile (`DevToolsActivePort`).
async fn devtools_url(profile: &Path) -> String {
    let file = profile.join("DevToolsActivePort");
    for _ in 0..400 {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return format!("ws://127.0.0.1:{port}{path}");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Chromium did not start its DevTools server within 20 s");
}

/// One user's page: its own browser context (cookies, storage), target and session.
async fn open_page(cdp: &mut Cdp, url: &str) -> String {
    let context = cdp
        .call(None, "Target.createBrowserContext", json!({}))
        .await;
    let target = cdp
        .call(
            None,
            "Target.createTarget",
            json!({ "url": "about:blank", "browserContextId": context["browserContextId"] }),
        )
        .await;
    let session = cdp
        .call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        )
        .await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    cdp.call(Some(&session), "Page.navigate", json!({ "url": url }))
        .await;
    session
}

const EVENTS_JS: &str = "JSON.stringify([...document.querySelectorAll('#events li.event')]\
    .map(li => ({user: li.dataset.user, run: li.dataset.run, seq: Number(li.dataset.seq), \
    type: li.dataset.type})))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_in_headless_chromium_each_see_only_their_own_events() {
    let Some(binary) = chromium() else {
        let message = "\n\
            ==================================================================\n\
            BROWSER TEST NOT RUN: Chromium is not installed.\n\
            Install Debian's `chromium` (apt-get install chromium) or set\n\
            ISOLATE_CHROMIUM=/path/to/chromium. Under CI=true this fails.\n\
            ==================================================================";
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!in_ci, "{message}");
        shout(message);
        return;
    };
    let mut opts = server::options();
    // Slow enough tool calls that alice's page is disconnected in the middle of her run.
    opts.agent.tool_delay_ms = 200;
    let server = server::start(opts).await;
    let out = output_dir();
    let profile = out.join(format!("profile-{}", uuid::Uuid::new_v4().simple()));
    let log = std::fs::File::create(out.join("chromium.log")).unwrap();
    let mut browser = tokio::process::Command::new(&binary)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--remote-debugging-port=0")
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

    let (ws, _) = tokio_tungstenite::connect_async(devtools_url(&profile).await)
        .await
        .unwrap();
    let mut cdp = Cdp { ws, next_id: 0 };
    let users = ["alice", "bob"];
    let mut pages = Vec::new();
    for user in users {
        // The token travels in the fragment: the browser never sends it to the server.
        let url = format!("http://{}/#token={}", server.addr, server.token(user));
        pages.push(open_page(&mut cdp, &url).await);
    }
    for page in &pages {
        cdp.wait_for(
            page,
            "document.getElementById('status').dataset.state === 'connected'",
        )
        .await;
    }
    // Both start a run, one right after the other, so their events interleave in time.
    let secrets = users.map(|user| format!("zq-{user}-{}", uuid::Uuid::new_v4().simple()));
    let mut runs = Vec::new();
    for (page, secret) in pages.iter().zip(&secrets) {
        let run = cdp
            .eval(page, &format!("window.isolateDemo.start({secret:?})"))
            .await;
        runs.push(run.as_str().expect("a run id").to_owned());
    }
    // Alice's page loses its connection in the middle of her run; it reconnects with
    // `last_seq` and shows the rest, each event once.
    cdp.wait_for(
        &pages[0],
        "document.querySelectorAll('li.event').length >= 3",
    )
    .await;
    let shown_at_close = cdp
        .eval(
            &pages[0],
            "window.isolateDemo.state.ws.close(); document.querySelectorAll('li.event').length",
        )
        .await;
    shout(&format!(
        "browser test: alice's page dropped its connection after {shown_at_close} of 9 events"
    ));
    for (page, run) in pages.iter().zip(&runs) {
        cdp.wait_for(
            page,
            &format!("!!document.querySelector('li.run-ended[data-run=\"{run}\"]')"),
        )
        .await;
    }
    cdp.wait_for(
        &pages[0],
        "document.getElementById('status').dataset.state === 'connected'",
    )
    .await;

    for (i, user) in users.iter().enumerate() {
        let page = &pages[i];
        let shown = cdp
            .eval(page, "document.getElementById('user').dataset.user")
            .await;
        assert_eq!(shown, json!(user));
        let events: Vec<Value> =
            serde_json::from_str(cdp.eval(page, EVENTS_JS).await.as_str().unwrap()).unwrap();
        let text = cdp.eval(page, "document.body.innerText").await;
        let text = text.as_str().unwrap();
        // Its own run, every event in order, nothing of the other user.
        assert_eq!(events.len(), 9, "{user}: {events:?}");
        for (n, event) in events.iter().enumerate() {
            assert_eq!(event["user"], json!(user), "{event}");
            assert_eq!(event["run"], json!(runs[i]), "{event}");
            assert_eq!(event["seq"], json!(n + 1), "{event}");
        }
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(kinds.first(), Some(&"agent_started"));
        assert_eq!(kinds.last(), Some(&"agent_completed"));
        assert!(text.contains(&secrets[i]), "{user}'s page shows its prompt");
        let other = 1 - i;
        assert!(
            !text.contains(&secrets[other]),
            "{user}'s page shows the other's prompt"
        );
        assert!(
            !text.contains(&runs[other]),
            "{user}'s page shows the other's run"
        );
        assert!(
            !text.contains(users[other]),
            "{user}'s page names the other user"
        );

        let shot = cdp
            .call(
                Some(page),
                "Page.captureScreenshot",
                json!({ "format": "png" }),
            )
            .await;
        let png = STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let path = out.join(format!("{user}.png"));
        std::fs::write(&path, png).unwrap();
        shout(&format!("browser test screenshot: {}", path.display()));
    }

    let _ = cdp.call(None, "Browser.close", json!({})).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), browser.wait()).await;
    let _ = browser.kill().await;
    let _ = std::fs::remove_dir_all(&profile);
}
