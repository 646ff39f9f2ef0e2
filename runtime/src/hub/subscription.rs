//! [`Subscription`]: one connection's stream of a user's events; [`Resume`]: where to pick a
//! run up again.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use tokio_util::sync::CancellationToken;

use super::frame::Push;
use crate::error::ContextError;
use crate::events::{CloseReason, Delivery, EventReceiver};
use crate::ids::{RunId, UserId};

/// Where a reconnecting client picks a run up again: every retained event after `last_seq`
/// (0 for the whole run). Its text form is `RUN_ID:LAST_SEQ`.
///
/// ```
/// use isolate::hub::Resume;
///
/// let resume: Resume = "run-7f3a:12".parse().unwrap();
/// assert_eq!((resume.run_id.as_str(), resume.last_seq), ("run-7f3a", 12));
/// assert!("run-7f3a".parse::<Resume>().is_err());
/// assert!("run-7f3a:-1".parse::<Resume>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resume {
    /// The run.
    pub run_id: RunId,
    /// The last event the client has (0: none).
    pub last_seq: u64,
}

impl Resume {
    /// Resume `run_id` after `last_seq`.
    pub fn new(run_id: RunId, last_seq: u64) -> Self {
        Self { run_id, last_seq }
    }
}

/// Why a [`Resume`] did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeParseError {
    /// No `:` between the run id and the sequence number.
    #[error("expected RUN_ID:LAST_SEQ")]
    MissingSeparator,
    /// The sequence number is not a non-negative integer.
    #[error("last_seq must be a non-negative integer")]
    BadSeq,
    /// The run id is not valid.
    #[error("invalid run id: {0}")]
    BadRun(#[from] ContextError),
}

impl FromStr for Resume {
    type Err = ResumeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (run, seq) = s
            .rsplit_once(':')
            .ok_or(ResumeParseError::MissingSeparator)?;
        if seq.is_empty() || seq.len() > 20 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ResumeParseError::BadSeq);
        }
        let last_seq = seq.parse().map_err(|_| ResumeParseError::BadSeq)?;
        Ok(Self::new(RunId::new(run)?, last_seq))
    }
}

impl fmt::Display for Resume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.run_id, self.last_seq)
    }
}

/// One connection's view of its user's events: the replayed pushes first, then the live ones,
/// from one bounded queue. Dropping it unsubscribes the connection.
///
/// A [`Hub`](super::Hub) makes these; [`new`](Self::new) is for hubs outside this crate.
pub struct Subscription {
    connection_id: u64,
    user: UserId,
    replay: VecDeque<Push>,
    live: EventReceiver<Push>,
    kicked: CancellationToken,
    _guard: Box<dyn Send + Sync>,
}

impl Subscription {
    /// A subscription of `user`'s connection `connection_id` that yields `replay`, then what
    /// `live` delivers. The hub cancels `kicked` when it drops the connection (it fell behind);
    /// `guard` is dropped with the subscription (to unregister it).
    pub fn new(
        connection_id: u64,
        user: UserId,
        replay: Vec<Push>,
        live: EventReceiver<Push>,
        kicked: CancellationToken,
        guard: impl Send + Sync + 'static,
    ) -> Self {
        Self {
            connection_id,
            user,
            replay: replay.into(),
            live,
            kicked,
            _guard: Box::new(guard),
        }
    }

    /// The connection's id (unique within its hub).
    pub fn connection_id(&self) -> u64 {
        self.connection_id
    }

    /// The user whose events this is.
    pub fn user_id(&self) -> &UserId {
        &self.user
    }

    /// The next push, waiting for one; `None` once the stream has ended (see
    /// [`close_reason`](Self::close_reason)) and everything before the end was yielded.
    /// Cancel-safe.
    pub async fn next(&mut self) -> Option<Push> {
        if let Some(push) = self.replay.pop_front() {
            return Some(push);
        }
        self.live.recv().await.map(from_delivery)
    }

    /// The next push if one is ready now.
    pub fn try_next(&mut self) -> Option<Push> {
        if let Some(push) = self.replay.pop_front() {
            return Some(push);
        }
        self.live.try_recv().map(from_delivery)
    }

    /// Why the live stream ended, once it has: [`CloseReason::Overflow`] if the connection
    /// was dropped for falling behind.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.live.close_reason()
    }

    /// Cancelled when the hub drops this connection (it fell behind): the transport should
    /// stop waiting for a client that does not read, send what is queued and the reason, and
    /// close.
    pub fn kicked(&self) -> &CancellationToken {
        &self.kicked
    }

    /// Pushes waiting to be yielded (replay and live).
    pub fn pending(&self) -> usize {
        self.replay.len() + self.live.len()
    }
}

fn from_delivery(delivery: Delivery<Push>) -> Push {
    match delivery {
        Delivery::Item(push) => push,
        Delivery::Missed(count) => Push::Missed(count),
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("connection_id", &self.connection_id)
            .field("user_id", &self.user)
            .field("pending", &self.pending())
            .field("closed", &self.close_reason())
            .finish()
    }
}
