//! [`HubConfig`]: every bound of a [`LocalHub`](super::LocalHub), and its builder.

use std::time::Duration;

use super::sanitize::Sanitizer;
use crate::error::ConfigError;

/// The bounds of a [`LocalHub`](super::LocalHub). Its memory is at most about
/// `max_users x (max_runs_per_user x replay_capacity + max_connections_per_user x
/// connection_capacity)` events, each at most the [`Sanitizer`]'s event size.
///
/// ```
/// use std::time::Duration;
/// use isolate::hub::HubConfig;
///
/// let config = HubConfig::builder()
///     .replay_capacity(64)
///     .retention(Duration::from_secs(10))
///     .build()
///     .unwrap();
/// assert_eq!(config.replay_capacity(), 64);
/// assert_eq!(HubConfig::default().replay_capacity(), 256);
/// assert!(HubConfig::builder().connection_capacity(0).build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct HubConfig {
    replay_capacity: usize,
    retention: Duration,
    connection_capacity: usize,
    max_connections_per_user: usize,
    max_runs_per_user: usize,
    max_users: usize,
    sanitizer: Sanitizer,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            replay_capacity: 256,
            retention: Duration::from_secs(60),
            connection_capacity: 256,
            max_connections_per_user: 8,
            max_runs_per_user: 64,
            max_users: 100_000,
            sanitizer: Sanitizer::default(),
        }
    }
}

impl HubConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> HubConfigBuilder {
        HubConfigBuilder(Self::default())
    }

    /// Events kept per run for replay (default 256); the oldest go first.
    pub fn replay_capacity(&self) -> usize {
        self.replay_capacity
    }

    /// How long a run's replay buffer is kept after the run ends (default 60 s).
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// Pushes one connection's queue holds while its writer is behind (default 256).
    pub fn connection_capacity(&self) -> usize {
        self.connection_capacity
    }

    /// Live connections one user may have (default 8); more are refused.
    pub fn max_connections_per_user(&self) -> usize {
        self.max_connections_per_user
    }

    /// Runs (live, or ended and still retained) one user may have (default 64). When full,
    /// the oldest ended run's buffer is freed early; if every run is live, opening another is
    /// refused.
    pub fn max_runs_per_user(&self) -> usize {
        self.max_runs_per_user
    }

    /// Users with a connection or a retained run (default 100,000); more are refused.
    pub fn max_users(&self) -> usize {
        self.max_users
    }

    /// What every event's payload goes through before it leaves the process.
    pub fn sanitizer(&self) -> &Sanitizer {
        &self.sanitizer
    }
}

/// Builder for [`HubConfig`].
#[derive(Debug, Clone)]
#[must_use = "call .build()"]
pub struct HubConfigBuilder(HubConfig);

impl HubConfigBuilder {
    /// Sets the replay buffer size per run.
    pub fn replay_capacity(mut self, events: usize) -> Self {
        self.0.replay_capacity = events;
        self
    }

    /// Sets how long a run's replay buffer outlives the run.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.0.retention = retention;
        self
    }

    /// Sets the queue size of each connection.
    pub fn connection_capacity(mut self, pushes: usize) -> Self {
        self.0.connection_capacity = pushes;
        self
    }

    /// Sets how many live connections one user may have.
    pub fn max_connections_per_user(mut self, connections: usize) -> Self {
        self.0.max_connections_per_user = connections;
        self
    }

    /// Sets how many runs one user may have retained.
    pub fn max_runs_per_user(mut self, runs: usize) -> Self {
        self.0.max_runs_per_user = runs;
        self
    }

    /// Sets how many users may have entries at once.
    pub fn max_users(mut self, users: usize) -> Self {
        self.0.max_users = users;
        self
    }

    /// Sets the payload sanitiser.
    pub fn sanitizer(mut self, sanitizer: Sanitizer) -> Self {
        self.0.sanitizer = sanitizer;
        self
    }

    /// Checks and returns the configuration.
    ///
    /// # Errors
    /// [`ConfigError::ZeroLimit`] for a zero capacity or limit. A zero retention is allowed: an
    /// ended run's buffer is then freed at once.
    pub fn build(self) -> Result<HubConfig, ConfigError> {
        let c = self.0;
        for (name, value) in [
            ("replay capacity", c.replay_capacity),
            ("connection capacity", c.connection_capacity),
            ("max connections per user", c.max_connections_per_user),
            ("max runs per user", c.max_runs_per_user),
            ("max users", c.max_users),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit { name });
            }
        }
        Ok(c)
    }
}
