//! [`LocalHub`]: the in-process [`Hub`]. Users are spread over sharded maps; each user's entry
//! holds that user's connections and retained runs, nothing else.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::HubConfig;
use super::error::HubError;
use super::frame::{Frame, Push, RunOutcome};
use super::replay::{Ended, RunBuffer};
use super::subscription::{Resume, Subscription};
use super::{Hub, RunSink};
use crate::auth::{AuthenticatedUser, Authority, AuthorityId};
use crate::context::RequestContext;
use crate::events::{CloseReason, Envelope, EventSender, EventSink, Sent, channel};
use crate::ids::{RunId, UserId};
use crate::sync::{Mutex, lock};

const SHARDS: usize = 32;

/// The in-process [`Hub`]: cheap to clone (one `Arc`), clones share everything.
///
/// It honours only users vouched for by the [`Authority`] it was made with, like the
/// [`Runtime`](crate::Runtime). Delivering an event takes one short lock on the user's shard
/// and never waits for a connection: each connection's queue takes the event or drops it by
/// the queue's policy. Ended runs' buffers are freed [`HubConfig::retention`] after the run
/// ends (by a timer task when a tokio runtime is running, and in any case before that user's
/// next subscription or run, and on [`sweep`](Self::sweep)).
#[derive(Clone)]
pub struct LocalHub {
    inner: Arc<Inner>,
}

struct Inner {
    config: HubConfig,
    authority: AuthorityId,
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<UserId, UserEntry>>]>,
    users: AtomicUsize,
    next_id: AtomicU64,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    events: AtomicU64,
    queued: AtomicU64,
    dropped: AtomicU64,
    kicked: AtomicU64,
}

#[derive(Default)]
struct UserEntry {
    connections: Vec<Conn>,
    runs: HashMap<RunId, RunBuffer>,
}

struct Conn {
    id: u64,
    sender: EventSender<Push>,
    kicked: CancellationToken,
}

/// Counts over the whole hub (from [`LocalHub::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HubStats {
    /// Users with an entry (a connection or a retained run).
    pub users: usize,
    /// Live connections.
    pub connections: usize,
    /// Retained runs, live or ended.
    pub runs: usize,
    /// Runs still live.
    pub live_runs: usize,
    /// Events held in replay buffers.
    pub retained_events: usize,
    /// Events received from runs so far.
    pub events: u64,
    /// Pushes queued to connections so far.
    pub queued: u64,
    /// Non-critical events dropped for slow connections so far.
    pub dropped: u64,
    /// Connections dropped for falling behind (a critical event found the queue full).
    pub kicked: u64,
}

/// One user's entry (from [`LocalHub::user_stats`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserStats {
    /// The user's live connections, oldest first.
    pub connections: Vec<ConnectionStats>,
    /// The user's retained runs, sorted by run id.
    pub runs: Vec<RunStats>,
}

/// One connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Its id.
    pub id: u64,
    /// Non-critical events it lost so far because its queue was full.
    pub dropped: u64,
}

/// One retained run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStats {
    /// The run.
    pub run_id: RunId,
    /// `false` once it ended.
    pub live: bool,
    /// Its last event so far.
    pub last_seq: u64,
    /// Events in its replay buffer.
    pub retained: usize,
}

impl LocalHub {
    /// A hub with `config`'s bounds for users vouched for by `authority`.
    pub fn new(config: HubConfig, authority: &Authority) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                authority: authority.id(),
                hasher: RandomState::new(),
                shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
                users: AtomicUsize::new(0),
                next_id: AtomicU64::new(1),
                counters: Counters::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    /// Frees every ended run's buffer whose retention has passed, and empty user entries.
    pub fn sweep(&self) {
        let now = Instant::now();
        for shard in &*self.inner.shards {
            let mut map = lock(shard);
            let before = map.len();
            map.retain(|_, entry| {
                entry.expire(now, &self.inner.config);
                !entry.is_empty()
            });
            self.inner.users.fetch_sub(before - map.len(), Relaxed);
        }
    }

    /// Counts over the whole hub.
    pub fn stats(&self) -> HubStats {
        let c = &self.inner.counters;
        let mut stats = HubStats {
            events: c.events.load(Relaxed),
            queued: c.queued.load(Relaxed),
            dropped: c.dropped.load(Relaxed),
            kicked: c.kicked.load(Relaxed),
            ..HubStats::default()
        };
        for shard in &*self.inner.shards {
            let map = lock(shard);
            stats.users += map.len();
            for entry in map.values() {
                stats.connections += entry.connections.len();
                stats.runs += entry.runs.len();
                stats.live_runs += entry.runs.values().filter(|b| b.is_live()).count();
                stats.retained_events += entry.runs.values().map(RunBuffer::len).sum::<usize>();
            }
        }
        stats
    }

    /// `user`'s own entry (`None` if the user has none, or was not vouched for by this hub's
    /// authority).
    pub fn user_stats(&self, user: &AuthenticatedUser) -> Option<UserStats> {
        if user.authority() != self.inner.authority {
            return None;
        }
        let map = lock(self.inner.shard(user.user_id()));
        let entry = map.get(user.user_id())?;
        let mut runs: Vec<RunStats> = entry
            .runs
            .iter()
            .map(|(run_id, b)| RunStats {
                run_id: run_id.clone(),
                live: b.is_live(),
                last_seq: b.last_seq(),
                retained: b.len(),
            })
            .collect();
        runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        Some(UserStats {
            connections: entry
                .connections
                .iter()
                .map(|c| ConnectionStats {
                    id: c.id,
                    dropped: c.sender.dropped(),
                })
                .collect(),
            runs,
        })
    }
}

impl Hub for LocalHub {
    fn open_run(&self, ctx: &RequestContext) -> Result<Arc<dyn RunSink>, HubError> {
        let inner = &self.inner;
        if ctx.user().authority() != inner.authority {
            return Err(HubError::NotAuthenticated);
        }
        let (user, run) = (ctx.user_id(), ctx.run_id());
        let mut map = lock(inner.shard(user));
        let incarnation = inner.next_id.fetch_add(1, Relaxed);
        let opened = inner.with_entry(&mut map, user, |entry| {
            entry.expire(Instant::now(), &inner.config);
            match entry.runs.get(run) {
                Some(buffer) if buffer.is_live() => {
                    return Err(HubError::RunActive {
                        run_id: run.clone(),
                    });
                }
                // An ended run of the same id: the new run starts a new stream.
                Some(_) => {
                    entry.runs.remove(run);
                }
                None => {}
            }
            let max = inner.config.max_runs_per_user();
            if entry.runs.len() >= max && !entry.evict_oldest_ended() {
                return Err(HubError::TooManyRuns { max });
            }
            entry.runs.insert(
                run.clone(),
                RunBuffer::new(incarnation, inner.config.replay_capacity()),
            );
            Ok(())
        });
        drop(map);
        opened?;
        Ok(Arc::new(LocalRunSink {
            hub: Arc::clone(inner),
            user: user.clone(),
            run: run.clone(),
            incarnation,
            finished: AtomicBool::new(false),
        }))
    }

    fn subscribe(
        &self,
        user: &AuthenticatedUser,
        resume: &[Resume],
    ) -> Result<Subscription, HubError> {
        let inner = &self.inner;
        if user.authority() != inner.authority {
            return Err(HubError::NotAuthenticated);
        }
        for (i, point) in resume.iter().enumerate() {
            if resume[..i].iter().any(|p| p.run_id == point.run_id) {
                return Err(HubError::DuplicateResume {
                    run_id: point.run_id.clone(),
                });
            }
        }
        let user_id = user.user_id();
        let mut map = lock(inner.shard(user_id));
        let id = inner.next_id.fetch_add(1, Relaxed);
        let subscribed = inner.with_entry(&mut map, user_id, |entry| {
            let max = inner.config.max_connections_per_user();
            if entry.connections.len() >= max {
                return Err(HubError::TooManyConnections { max });
            }
            entry.expire(Instant::now(), &inner.config);
            let mut replay = Vec::new();
            for point in resume {
                let buffer = entry
                    .runs
                    .get(&point.run_id)
                    .ok_or_else(|| HubError::UnknownRun {
                        run_id: point.run_id.clone(),
                    })?;
                if point.last_seq > buffer.last_seq() {
                    return Err(HubError::ResumeAhead {
                        run_id: point.run_id.clone(),
                        last_seq: point.last_seq,
                        latest: buffer.last_seq(),
                    });
                }
                replay.extend(buffer.replay_after(&point.run_id, point.last_seq).pushes);
            }
            // Registered under the same lock the replay was read under: every later event
            // goes to the queue, every earlier one was in the replay. No gap, no duplicate.
            let (sender, receiver) = channel(inner.config.connection_capacity());
            let kicked = CancellationToken::new();
            entry.connections.push(Conn {
                id,
                sender,
                kicked: kicked.clone(),
            });
            Ok((replay, receiver, kicked))
        });
        drop(map);
        let (replay, receiver, kicked) = subscribed?;
        let guard = Unsubscribe {
            hub: Arc::downgrade(inner),
            user: user_id.clone(),
            id,
        };
        Ok(Subscription::new(
            id,
            user_id.clone(),
            replay,
            receiver,
            kicked,
            guard,
        ))
    }
}

impl Inner {
    fn shard(&self, user: &UserId) -> &Mutex<HashMap<UserId, UserEntry>> {
        let hash = self.hasher.hash_one(user);
        // SHARDS is a power of two; the cast keeps the low bits.
        &self.shards[(hash as usize) & (SHARDS - 1)]
    }

    /// Runs `f` on `user`'s entry, creating it if there is room; removes the entry again if it
    /// is left empty (also when `f` fails).
    fn with_entry<T>(
        &self,
        map: &mut HashMap<UserId, UserEntry>,
        user: &UserId,
        f: impl FnOnce(&mut UserEntry) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        if !map.contains_key(user) {
            let max = self.config.max_users();
            // Reserve the place first: two shards adding their users at once cannot both
            // take the last one.
            if self.users.fetch_add(1, Relaxed) >= max {
                self.users.fetch_sub(1, Relaxed);
                return Err(HubError::TooManyUsers { max });
            }
            map.insert(user.clone(), UserEntry::default());
        }
        let Some(entry) = map.get_mut(user) else {
            unreachable!("inserted above")
        };
        let result = f(entry);
        if entry.is_empty() {
            self.remove_entry(map, user);
        }
        result
    }

    fn with_buffer<T>(
        &self,
        user: &UserId,
        run: &RunId,
        incarnation: u64,
        f: impl FnOnce(&mut UserEntry, &RunId) -> T,
    ) -> Option<T> {
        let mut map = lock(self.shard(user));
        let entry = map.get_mut(user)?;
        match entry.runs.get(run) {
            Some(buffer) if buffer.incarnation == incarnation => {}
            _ => return None,
        }
        Some(f(entry, run))
    }

    fn remove_entry(&self, map: &mut HashMap<UserId, UserEntry>, user: &UserId) {
        if map.remove(user).is_some() {
            self.users.fetch_sub(1, Relaxed);
        }
    }

    /// Frees `user`'s ended run `run` (this incarnation of it) if its retention has passed.
    fn expire_run(&self, user: &UserId, run: &RunId, incarnation: u64) {
        let mut map = lock(self.shard(user));
        let Some(entry) = map.get_mut(user) else {
            return;
        };
        let expired = entry.runs.get(run).is_some_and(|b| {
            b.incarnation == incarnation
                && b.end
                    .is_some_and(|end| end.at + self.config.retention() <= Instant::now())
        });
        if expired {
            entry.runs.remove(run);
        }
        if entry.is_empty() {
            self.remove_entry(&mut map, user);
        }
    }
}

impl UserEntry {
    fn is_empty(&self) -> bool {
        self.connections.is_empty() && self.runs.is_empty()
    }

    /// Frees the ended runs whose retention has passed.
    fn expire(&mut self, now: Instant, config: &HubConfig) {
        let retention = config.retention();
        self.runs
            .retain(|_, b| b.end.is_none_or(|end| end.at + retention > now));
    }

    /// Frees the run that ended first; `false` if every run is live.
    fn evict_oldest_ended(&mut self) -> bool {
        let oldest = self
            .runs
            .iter()
            .filter_map(|(run, b)| b.end.map(|end| (end.at, run.clone())))
            .min();
        match oldest {
            Some((_, run)) => self.runs.remove(&run).is_some(),
            None => false,
        }
    }

    /// Offers `push` to every connection; a connection whose queue refuses it (it fell behind
    /// on critical events, or its receiver is gone) is dropped and told so through `kicked`.
    fn fan_out(&mut self, push: &Push, counters: &Counters) {
        self.connections
            .retain(|conn| match conn.sender.send(push.clone()) {
                Ok(Sent::Queued) => {
                    counters.queued.fetch_add(1, Relaxed);
                    true
                }
                Ok(Sent::Dropped) => {
                    counters.dropped.fetch_add(1, Relaxed);
                    true
                }
                Err(reason) => {
                    if matches!(reason, CloseReason::Overflow { .. }) {
                        counters.kicked.fetch_add(1, Relaxed);
                    }
                    conn.kicked.cancel();
                    false
                }
            });
    }
}

/// The sink [`LocalHub::open_run`] returns: files the run's envelopes under its user and run.
struct LocalRunSink {
    hub: Arc<Inner>,
    user: UserId,
    run: RunId,
    incarnation: u64,
    finished: AtomicBool,
}

impl EventSink for LocalRunSink {
    fn deliver(&self, envelope: Envelope) -> Result<(), CloseReason> {
        // The runtime stamped the envelope; a sink handed to another run's emitter refuses
        // rather than file that run's events here.
        if envelope.user_id() != &self.user || envelope.run_id() != &self.run {
            return Err(CloseReason::ReceiverGone);
        }
        let hub = &*self.hub;
        // Encoded once, outside the lock, shared by the replay buffer and every connection.
        let frame = Frame::encode(&envelope, hub.config.sanitizer());
        hub.counters.events.fetch_add(1, Relaxed);
        let delivered = hub.with_buffer(&self.user, &self.run, self.incarnation, |entry, run| {
            let Some(buffer) = entry.runs.get_mut(run).filter(|b| b.is_live()) else {
                return Err(CloseReason::Finished);
            };
            buffer.push(frame.clone());
            entry.fan_out(&Push::Event(frame), &hub.counters);
            Ok(())
        });
        delivered.unwrap_or(Err(CloseReason::Finished))
    }

    /// The run's emitter is gone: no more events can come, so the retention clock starts now,
    /// even if someone keeps a clone of this sink. Its connections hear how it ended when
    /// [`finish`](RunSink::finish) is called (or the sink is dropped).
    fn run_ended(&self, context: &RequestContext) {
        if context.user_id() != &self.user || context.run_id() != &self.run {
            return;
        }
        let hub = &*self.hub;
        let started_clock = hub.with_buffer(
            &self.user,
            &self.run,
            self.incarnation,
            |entry, run| match entry.runs.get_mut(run) {
                Some(buffer) if buffer.end.is_none() => {
                    buffer.end = Some(Ended {
                        at: Instant::now(),
                        outcome: None,
                    });
                    true
                }
                _ => false,
            },
        );
        if started_clock == Some(true) {
            self.schedule_expiry();
        }
    }
}

impl LocalRunSink {
    /// Starts the retention clock of this run's buffer (at most once) and frees it when it
    /// has run out: by a timer task when a tokio runtime is running; otherwise the user's next
    /// subscription or run, or `sweep`, frees it.
    fn schedule_expiry(&self) {
        let hub = &*self.hub;
        let retention = hub.config.retention();
        if retention.is_zero() {
            hub.expire_run(&self.user, &self.run, self.incarnation);
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let hub = Arc::downgrade(&self.hub);
            let (user, run, incarnation) = (self.user.clone(), self.run.clone(), self.incarnation);
            handle.spawn(async move {
                tokio::time::sleep(retention).await;
                if let Some(hub) = hub.upgrade() {
                    hub.expire_run(&user, &run, incarnation);
                }
            });
        }
    }
}

impl RunSink for LocalRunSink {
    fn finish(&self, outcome: RunOutcome) {
        if self.finished.swap(true, Relaxed) {
            return;
        }
        let hub = &*self.hub;
        let started_clock =
            hub.with_buffer(&self.user, &self.run, self.incarnation, |entry, run| {
                let Some(buffer) = entry.runs.get_mut(run) else {
                    return false;
                };
                let first_end = buffer.end.is_none();
                let at = buffer.end.map_or_else(Instant::now, |end| end.at);
                buffer.end = Some(Ended {
                    at,
                    outcome: Some(outcome),
                });
                let push = buffer.ended_push(run, outcome);
                entry.fan_out(&push, &hub.counters);
                first_end
            });
        if started_clock == Some(true) {
            self.schedule_expiry();
        }
    }
}

impl Drop for LocalRunSink {
    fn drop(&mut self) {
        self.finish(RunOutcome::Unknown);
    }
}

/// Unregisters a connection when its [`Subscription`] is dropped.
struct Unsubscribe {
    hub: Weak<Inner>,
    user: UserId,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let mut map = lock(hub.shard(&self.user));
        let Some(entry) = map.get_mut(&self.user) else {
            return;
        };
        entry.connections.retain(|conn| conn.id != self.id);
        if entry.is_empty() {
            hub.remove_entry(&mut map, &self.user);
        }
    }
}

impl std::fmt::Debug for LocalHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalHub")
            .field("config", &self.inner.config)
            .field("users", &self.inner.users.load(Relaxed))
            .finish_non_exhaustive()
    }
}
