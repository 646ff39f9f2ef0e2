//! [`HubError`]: why a hub refused to open a run or subscribe a connection.

use crate::ids::RunId;

/// Why a [`Hub`](super::Hub) refused a request. Nothing was registered when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The user was not vouched for by this hub's authority.
    #[error("the user was not authenticated by this hub's authority")]
    NotAuthenticated,
    /// The user already has this run open.
    #[error("run `{run_id}` is already live for this user")]
    RunActive {
        /// The run.
        run_id: RunId,
    },
    /// A resume point names a run the user has no retained events of (never existed, expired,
    /// or belongs to someone else: the three look the same).
    #[error("no retained events for run `{run_id}`")]
    UnknownRun {
        /// The run asked for.
        run_id: RunId,
    },
    /// Two resume points name the same run.
    #[error("run `{run_id}` is named by more than one resume point")]
    DuplicateResume {
        /// The run.
        run_id: RunId,
    },
    /// A resume point claims events the run has not emitted yet.
    #[error("resume point {last_seq} for run `{run_id}` is ahead of its last event ({latest})")]
    ResumeAhead {
        /// The run.
        run_id: RunId,
        /// The resume point given.
        last_seq: u64,
        /// The run's last event so far.
        latest: u64,
    },
    /// The user has [`HubConfig::max_connections_per_user`](super::HubConfig::max_connections_per_user)
    /// connections already.
    #[error("too many connections for this user (at most {max})")]
    TooManyConnections {
        /// The limit.
        max: usize,
    },
    /// Every one of the user's [`max_runs_per_user`](super::HubConfig::max_runs_per_user)
    /// retained runs is still live.
    #[error("too many live runs for this user (at most {max})")]
    TooManyRuns {
        /// The limit.
        max: usize,
    },
    /// [`HubConfig::max_users`](super::HubConfig::max_users) users have entries already.
    #[error("too many users (at most {max})")]
    TooManyUsers {
        /// The limit.
        max: usize,
    },
    /// The hub is not available (for example its broker connection is down).
    #[error("event hub unavailable: {0}")]
    Unavailable(String),
}
