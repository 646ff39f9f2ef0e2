//! [`RuntimeConfig`] and its builder.

use std::time::Duration;

use crate::error::ConfigError;

/// What to do with a request when a concurrency limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Wait (within the request's timeout) until a slot frees up.
    #[default]
    Wait,
    /// Fail at once with [`RunError::Rejected`](crate::RunError::Rejected).
    Reject,
}

/// Limits of a [`Runtime`](crate::Runtime). Build one with [`RuntimeConfig::builder`] or start
/// from [`RuntimeConfig::default`].
///
/// ```
/// use std::time::Duration;
/// use isolate::{OverflowPolicy, RuntimeConfig};
///
/// let config = RuntimeConfig::builder()
///     .per_user_limit(2)
///     .max_queued_per_user(8)
///     .overflow(OverflowPolicy::Reject)
///     .timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(config.per_user_limit(), 2);
/// assert_eq!(RuntimeConfig::default().per_user_limit(), 5);
/// assert!(RuntimeConfig::builder().global_limit(0).build().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    per_user_limit: usize,
    global_limit: usize,
    overflow: OverflowPolicy,
    timeout: Duration,
    event_capacity: usize,
    max_tracked_users: usize,
    max_queued_per_user: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            per_user_limit: 5,
            global_limit: 256,
            overflow: OverflowPolicy::Wait,
            timeout: Duration::from_secs(30),
            event_capacity: crate::emitter::DEFAULT_EVENT_CAPACITY,
            max_tracked_users: 10_000,
            max_queued_per_user: 64,
        }
    }
}

impl RuntimeConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> RuntimeConfigBuilder {
        RuntimeConfigBuilder(Self::default())
    }

    /// Concurrent runs one user may execute (default 5).
    pub fn per_user_limit(&self) -> usize {
        self.per_user_limit
    }

    /// Concurrent runs the whole runtime may execute (default 256).
    pub fn global_limit(&self) -> usize {
        self.global_limit
    }

    /// What happens past a limit (default [`OverflowPolicy::Wait`]).
    pub fn overflow(&self) -> OverflowPolicy {
        self.overflow
    }

    /// Per-request timeout, including any wait for a slot (default 30 s). It is measured on
    /// tokio's clock from the request's first wait (for a slot, or in its body): a request is
    /// only ever interrupted where it waits, so one that finishes without waiting never reads
    /// the clock.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs one user may have waiting for a slot under [`OverflowPolicy::Wait`] (default 64).
    /// Past it a run is refused at once with
    /// [`LimitKind::Queue`](crate::LimitKind::Queue) and is never registered. `0` refuses every
    /// run that would wait for a per-user slot.
    pub fn max_queued_per_user(&self) -> usize {
        self.max_queued_per_user
    }

    /// Envelopes a streaming run's queue holds for a slow consumer (default 4096); see
    /// [`Runtime::run_streaming`](crate::Runtime::run_streaming).
    pub fn event_capacity(&self) -> usize {
        self.event_capacity
    }

    /// Users whose metrics are kept individually (default 10,000).
    pub fn max_tracked_users(&self) -> usize {
        self.max_tracked_users
    }
}

/// Builder for [`RuntimeConfig`].
#[derive(Debug, Clone)]
#[must_use = "call .build()"]
pub struct RuntimeConfigBuilder(RuntimeConfig);

impl RuntimeConfigBuilder {
    /// Sets the per-user concurrency limit.
    pub fn per_user_limit(mut self, limit: usize) -> Self {
        self.0.per_user_limit = limit;
        self
    }

    /// Sets the global concurrency limit.
    pub fn global_limit(mut self, limit: usize) -> Self {
        self.0.global_limit = limit;
        self
    }

    /// Sets the overflow policy.
    pub fn overflow(mut self, policy: OverflowPolicy) -> Self {
        self.0.overflow = policy;
        self
    }

    /// Sets the per-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.0.timeout = timeout;
        self
    }

    /// Sets how many runs one user may have waiting for a slot.
    pub fn max_queued_per_user(mut self, runs: usize) -> Self {
        self.0.max_queued_per_user = runs;
        self
    }

    /// Sets the capacity of a streaming run's event queue.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.0.event_capacity = capacity;
        self
    }

    /// Sets how many users' metrics are kept individually.
    pub fn max_tracked_users(mut self, users: usize) -> Self {
        self.0.max_tracked_users = users;
        self
    }

    /// Checks and returns the configuration.
    ///
    /// # Errors
    /// [`ConfigError::ZeroLimit`] for a zero limit, capacity or user count;
    /// [`ConfigError::ZeroTimeout`] for a zero timeout.
    pub fn build(self) -> Result<RuntimeConfig, ConfigError> {
        let c = self.0;
        for (name, value) in [
            ("per-user limit", c.per_user_limit),
            ("global limit", c.global_limit),
            ("event capacity", c.event_capacity),
            ("max tracked users", c.max_tracked_users),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit { name });
            }
        }
        if c.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        Ok(c)
    }
}
