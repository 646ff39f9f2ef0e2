//! What an editor pays per keystroke: load a workspace once, then N times hand one file's
//! changed text to `Workspace::set_file_text` and `analyse` again (no file is read), and
//! report the median and slowest time. The language server of the "CI and editors" issue
//! targets a 50 ms median for a 2,000-line file in a workspace the size of tokio.
//!
//! Usage: `cargo run --release -p isolate-lint --example reanalyse -- DIR FILE [N]`

use std::time::Instant;

use isolate_lint::{Workspace, WorkspaceOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: reanalyse DIR FILE [N]");
        std::process::exit(2);
    };
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let opts = WorkspaceOptions {
        paths: vec![dir.into()],
        ..Default::default()
    };
    let started = Instant::now();
    let mut ws = Workspace::load(opts, &|_, _| {}).expect("the workspace loads");
    let loaded = started.elapsed();
    let first = ws.analyse();
    println!(
        "loaded {} files in {:.2} s, analysed in {:.2} s: {} findings",
        first.files_scanned,
        loaded.as_secs_f64(),
        first.duration.as_secs_f64(),
        first.diagnostics.len()
    );
    let text = std::fs::read_to_string(&file).expect("FILE is readable");
    println!("editing {file}: {} lines", text.lines().count());
    let mut times = Vec::new();
    for i in 0..n {
        // Every other edit adds a global, the next removes it again.
        let edited = if i % 2 == 0 {
            format!("{text}\npub static mut EDITED_{i}: u32 = 0;\n")
        } else {
            text.clone()
        };
        let t = Instant::now();
        ws.set_file_text(&file, edited);
        let report = ws.analyse();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(
            report.diagnostics.len(),
            first.diagnostics.len() + usize::from(i % 2 == 0),
            "the edit is seen"
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "set_file_text + analyse: median {:.1} ms, slowest {:.1} ms over {n} edits",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
