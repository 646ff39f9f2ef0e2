//! The parse floor: walks the same files as `cargo isolate check` and only reads and parses them
//! with syn on the same number of threads. `bench/corpus.sh` reports the linter's wall time and
//! peak memory as ratios against this, measured in the same run.
//!
//! Usage: `cargo run --release -p isolate-lint --example parse_floor -- DIR [JOBS]`

use rayon::prelude::*;

// The linter's allocator, so the floor measures the same parse.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: parse_floor DIR [JOBS]");
        std::process::exit(2);
    };
    let jobs = args.next().and_then(|j| j.parse().ok()).unwrap_or(0);
    let files = isolate_lint::bench::files(std::path::Path::new(&dir));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .stack_size(64 * 1024 * 1024)
        .build()
        .expect("thread pool");
    let started = std::time::Instant::now();
    let (ok, failed): (usize, usize) = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let parsed = std::fs::read_to_string(f)
                    .ok()
                    .filter(|t| {
                        isolate_lint::bench::max_nesting(t) <= isolate_lint::bench::MAX_NESTING
                    })
                    .map(|t| syn::parse_file(&t).is_ok());
                proc_macro2::extra::invalidate_current_thread_spans();
                match parsed {
                    Some(true) => (1, 0),
                    _ => (0, 1),
                }
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!(
        "parsed {ok} files ({failed} failed) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
