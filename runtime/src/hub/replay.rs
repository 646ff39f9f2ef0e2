//! [`RunBuffer`]: one run's bounded replay buffer and its lifecycle.

use std::collections::VecDeque;

use tokio::time::Instant;

use super::frame::{Frame, Push, RunOutcome};
use crate::ids::RunId;

/// The last `capacity` frames of one run, and whether (and how) the run ended.
pub(super) struct RunBuffer {
    /// Tells this run apart from an earlier run of the same user with the same id.
    pub(super) incarnation: u64,
    frames: VecDeque<Frame>,
    capacity: usize,
    /// The last sequence number seen (frames arrive in order, from 1).
    last_seq: u64,
    pub(super) end: Option<Ended>,
}

/// The run is over: its emitter is gone (the retention clock runs from `at`), and once the
/// hub has been told how it ended, `outcome` is set and its users' connections were told.
#[derive(Clone, Copy)]
pub(super) struct Ended {
    pub(super) at: Instant,
    pub(super) outcome: Option<RunOutcome>,
}

/// What a resume point gets: the gap it cannot have (if any), the frames after it, and the
/// run's end if it has ended.
pub(super) struct Replay {
    pub(super) pushes: Vec<Push>,
}

impl RunBuffer {
    pub(super) fn new(incarnation: u64, capacity: usize) -> Self {
        Self {
            incarnation,
            // Grows as events come: most runs emit far fewer than the capacity.
            frames: VecDeque::new(),
            capacity,
            last_seq: 0,
            end: None,
        }
    }

    pub(super) fn push(&mut self, frame: Frame) {
        if self.frames.len() >= self.capacity {
            self.frames.pop_front();
        }
        self.last_seq = frame.seq();
        self.frames.push_back(frame);
    }

    pub(super) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The oldest retained sequence number (`last_seq + 1` when nothing is retained).
    pub(super) fn first_seq(&self) -> u64 {
        self.frames
            .front()
            .map_or(self.last_seq + 1, |frame| frame.seq())
    }

    pub(super) fn len(&self) -> usize {
        self.frames.len()
    }

    pub(super) fn is_live(&self) -> bool {
        self.end.is_none()
    }

    /// Everything after `last_seq`, in order. The caller checked `last_seq <= self.last_seq()`.
    pub(super) fn replay_after(&self, run_id: &RunId, last_seq: u64) -> Replay {
        let mut pushes = Vec::new();
        let first = self.first_seq();
        if last_seq + 1 < first {
            pushes.push(Push::Gap {
                run_id: run_id.clone(),
                from_seq: last_seq + 1,
                to_seq: first - 1,
            });
        }
        let skip = usize::try_from(last_seq.saturating_sub(first - 1)).unwrap_or(usize::MAX);
        pushes.extend(self.frames.iter().skip(skip).cloned().map(Push::Event));
        if let Some(outcome) = self.end.and_then(|end| end.outcome) {
            pushes.push(self.ended_push(run_id, outcome));
        }
        Replay { pushes }
    }

    pub(super) fn ended_push(&self, run_id: &RunId, outcome: RunOutcome) -> Push {
        Push::RunEnded {
            run_id: run_id.clone(),
            last_seq: self.last_seq,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn frame(seq: u64) -> Frame {
        Frame::from_parts(RunId::new("run-1").unwrap(), seq, false, Arc::from("{}"))
    }

    fn seqs(replay: &Replay) -> Vec<String> {
        replay
            .pushes
            .iter()
            .map(|p| match p {
                Push::Event(f) => f.seq().to_string(),
                Push::Gap {
                    from_seq, to_seq, ..
                } => format!("gap {from_seq}-{to_seq}"),
                Push::RunEnded { last_seq, .. } => format!("end {last_seq}"),
                Push::Missed(n) => format!("missed {n}"),
            })
            .collect()
    }

    #[test]
    fn replay_is_everything_after_the_point_and_reports_what_was_evicted() {
        let run = RunId::new("run-1").unwrap();
        let mut buffer = RunBuffer::new(1, 4);
        assert_eq!(buffer.first_seq(), 1);
        assert!(seqs(&buffer.replay_after(&run, 0)).is_empty());
        for seq in 1..=6 {
            buffer.push(frame(seq));
        }
        assert_eq!(
            (buffer.first_seq(), buffer.last_seq(), buffer.len()),
            (3, 6, 4)
        );
        assert_eq!(
            seqs(&buffer.replay_after(&run, 0)),
            ["gap 1-2", "3", "4", "5", "6"]
        );
        assert_eq!(
            seqs(&buffer.replay_after(&run, 1)),
            ["gap 2-2", "3", "4", "5", "6"]
        );
        assert_eq!(seqs(&buffer.replay_after(&run, 2)), ["3", "4", "5", "6"]);
        assert_eq!(seqs(&buffer.replay_after(&run, 4)), ["5", "6"]);
        assert!(seqs(&buffer.replay_after(&run, 6)).is_empty());
        buffer.end = Some(Ended {
            at: Instant::now(),
            outcome: None,
        });
        assert!(
            seqs(&buffer.replay_after(&run, 6)).is_empty(),
            "not announced yet"
        );
        buffer.end = Some(Ended {
            at: Instant::now(),
            outcome: Some(RunOutcome::Completed),
        });
        assert_eq!(seqs(&buffer.replay_after(&run, 6)), ["end 6"]);
        assert_eq!(seqs(&buffer.replay_after(&run, 5)), ["6", "end 6"]);
    }
}
