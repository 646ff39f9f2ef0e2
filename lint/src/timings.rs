//! Phase timings for profiling: with `ISOLATE_TIMINGS=1` in the environment each stage of a
//! check prints its wall time to stderr (`isolate: timing <stage> <ms> ms`). Off, a stage mark
//! costs one relaxed load.

use std::sync::OnceLock;
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

    /// Prints a count or other figure about the current stage.
    pub(crate) fn note(&self, what: std::fmt::Arguments) {
        if self.0.is_some() {
            eprintln!("isolate: timing   {what}");
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
