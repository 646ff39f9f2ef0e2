//! When to analyse after a change: a debounce with a leading edge.
//!
//! A change that comes after a quiet `window` (no analysis ended within it) is analysed at once,
//! so an isolated edit waits only for the analysis itself. A change within the window of the
//! last analysis is part of a burst (fast typing, a held key, a paste split in several
//! changes, a formatter rewriting the file): it is analysed once the burst has been quiet for a
//! window, on its last text. Opening and saving a document ask for an analysis now. On top of
//! this the server handles every message already waiting before it analyses, so changes that
//! queue up behind a slow analysis are coalesced whatever the window.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct Debounce {
    window: Duration,
    due: Option<Instant>,
    /// When the last analysis ended.
    last_run: Option<Instant>,
}

impl Debounce {
    pub fn new(window: Duration) -> Self {
        Debounce {
            window,
            due: None,
            last_run: None,
        }
    }

    /// A change at `now`.
    pub fn changed(&mut self, now: Instant) {
        let quiet = self
            .last_run
            .is_none_or(|t| now.saturating_duration_since(t) >= self.window);
        self.due = match self.due {
            // Leading edge: nothing pending and quiet for a window.
            None if quiet => Some(now),
            // Already due at once (an open, a save, a leading edge): stays so.
            Some(d) if d <= now => Some(d),
            // Within a burst: a window after its latest change.
            _ => Some(now + self.window),
        };
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

    /// Whether an analysis is pending at all (due or not).
    pub fn pending(&self) -> bool {
        self.due.is_some()
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

    /// An analysis ended at `now` (whatever asked for it): nothing is pending any more.
    pub fn ran(&mut self, now: Instant) {
        self.due = None;
        self.last_run = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_isolated_change_at_once_a_burst_once_after_its_last_change() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d = Debounce::new(ms(30));
        assert!(!d.pending() && !d.take(t0));
        // Quiet: at once.
        d.changed(t0);
        assert_eq!(d.due(), Some(t0));
        assert!(d.take(t0));
        d.ran(t0 + ms(10));
        // Within the window of that analysis: a burst, pushed back by each change.
        d.changed(t0 + ms(20));
        assert_eq!(d.due(), Some(t0 + ms(50)));
        d.changed(t0 + ms(45));
        assert!(!d.take(t0 + ms(60)), "pushed back by the second change");
        assert!(d.take(t0 + ms(75)));
        assert!(!d.take(t0 + ms(80)), "once");
        d.ran(t0 + ms(90));
        // Quiet again: at once.
        d.changed(t0 + ms(200));
        assert_eq!(d.due(), Some(t0 + ms(200)));
        // A change while an analysis is already due at once does not delay it.
        d.changed(t0 + ms(201));
        assert_eq!(d.due(), Some(t0 + ms(200)));
        // Opening or saving does not wait, and a later request does not delay an earlier one.
        d.ran(t0 + ms(210));
        d.changed(t0 + ms(215));
        d.now(t0 + ms(220));
        assert_eq!(d.due(), Some(t0 + ms(220)));
        d.now(t0 + ms(230));
        assert_eq!(d.due(), Some(t0 + ms(220)));
    }
}
