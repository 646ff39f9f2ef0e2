//! Phase timings for profiling: with `ISOLATE_TIMINGS=1` in the environment each stage of a
//! check prints its wall time to stderr (`isolate: timing <stage> <ms> ms`). Off, a stage mark
//! costs one relaxed load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("ISOLATE_TIMINGS").is_some_and(|v| v != "0"))
}

/// A stopwatch over consecutive stages.
pub(crate) struct Stages(Option<Instant>);

impl Stages {
    pub(crate) fn start() -> Stages {
        Stages(enabled().then(Instant::now))
    }

    /// Prints a count or other figure about the current stage; `what` is only computed when
    /// timings are on.
    pub(crate) fn note(&self, what: impl FnOnce() -> String) {
        if self.0.is_some() {
            eprintln!("isolate: timing   {}", what());
        }
    }

    /// Ends the current stage, named `name`, and starts the next.
    pub(crate) fn mark(&mut self, name: &str) {
        if let Some(t) = &mut self.0 {
            let now = Instant::now();
            eprintln!(
                "isolate: timing {name} {:.1} ms",
                (now - *t).as_secs_f64() * 1e3
            );
            *t = now;
        }
    }
}

/// Time spent in a per-file step, summed over the parse threads.
pub(crate) struct Summed(AtomicU64);

impl Summed {
    pub(crate) const fn new() -> Summed {
        Summed(AtomicU64::new(0))
    }

    /// Runs `f`, adding its duration when timings are on.
    pub(crate) fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        if !enabled() {
            return f();
        }
        let t = Instant::now();
        let out = f();
        self.0
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    fn ms(&self) -> f64 {
        self.0.load(Ordering::Relaxed) as f64 / 1e6
    }
}

// The steps of reading one file, summed over threads (see [`per_file`]): profiling counters of
// one process, read once at the end; nothing a request (an editor's) could see of another.
// isolate: allow(interior_mutable_static) -- process-wide profiling counter
pub(crate) static SYN: Summed = Summed::new();
// isolate: allow(interior_mutable_static) -- process-wide profiling counter
pub(crate) static FACTS: Summed = Summed::new();
// isolate: allow(interior_mutable_static) -- process-wide profiling counter
pub(crate) static DROP: Summed = Summed::new();

/// Prints the per-file steps' summed times.
pub(crate) fn per_file(stages: &Stages) {
    stages.note(|| {
        format!(
            "summed over threads: syn parse {:.1} ms, facts {:.1} ms, dropping the syntax tree {:.1} ms",
            SYN.ms(),
            FACTS.ms(),
            DROP.ms()
        )
    });
}
