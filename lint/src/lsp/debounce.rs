//! When to analyse: a trailing-edge debounce. Each change pushes the analysis back to `window`
//! after it, so a burst of changes (a paste, a multi-cursor edit, fast typing) is analysed
//! once, on its last text; an open or a save asks for an analysis now. The server also drains
//! every message already waiting before it analyses, so changes that queue up behind a slow
//! analysis are coalesced whatever the window.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct Debounce {
    window: Duration,
    due: Option<Instant>,
}

impl Debounce {
    pub fn new(window: Duration) -> Self {
        Debounce { window, due: None }
    }

    /// A change at `now`: analyse once no other change came for a window.
    pub fn changed(&mut self, now: Instant) {
        self.due = Some(now + self.window);
    }

    /// Analyse as soon as the waiting messages are handled (open, save, a request that needs
    /// fresh findings).
    pub fn now(&mut self, now: Instant) {
        self.due = Some(self.due.map_or(now, |d| d.min(now)));
    }

    /// When the next analysis is due, if one is.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Whether an analysis is due at `now`; if so, it is no longer pending.
    pub fn take(&mut self, now: Instant) -> bool {
        match self.due {
            Some(d) if d <= now => {
                self.due = None;
                true
            }
            _ => false,
        }
    }

    /// Whether an analysis is pending at all (due or not).
    pub fn pending(&self) -> bool {
        self.due.is_some()
    }

    /// Forgets the pending analysis (it was just run).
    pub fn clear(&mut self) {
        self.due = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_analysed_once_after_its_last_change() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d = Debounce::new(ms(30));
        assert!(!d.pending() && !d.take(t0));
        d.changed(t0);
        d.changed(t0 + ms(20));
        assert!(!d.take(t0 + ms(40)), "pushed back by the second change");
        assert!(d.take(t0 + ms(50)));
        assert!(!d.take(t0 + ms(60)), "once");
        // An open or a save does not wait, and a change after it does not delay it.
        d.changed(t0);
        d.now(t0 + ms(5));
        assert_eq!(d.due(), Some(t0 + ms(5)));
        d.now(t0 + ms(9));
        assert_eq!(d.due(), Some(t0 + ms(5)));
        d.clear();
        assert!(!d.pending());
    }
}
