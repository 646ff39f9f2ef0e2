//! Helpers shared by the runtime's integration tests: contexts and a small event type.
#![allow(dead_code)]

use std::sync::OnceLock;

use isolate::events::{Delivery, Event, EventReceiver};
use isolate::{
    AuthenticatedUser, Authority, Envelope, RequestContext, RunId, Runtime, RuntimeConfig,
    ThreadId, UserId,
};

/// The tests' authentication layer: one authority for the whole test binary.
pub fn authority() -> &'static Authority {
    static AUTHORITY: OnceLock<Authority> = OnceLock::new();
    AUTHORITY.get_or_init(Authority::new)
}

/// `name`, as authenticated by the tests' authority.
pub fn user(name: &str) -> AuthenticatedUser {
    authority().vouch(UserId::new(name).expect("valid user"))
}

/// A runtime honouring the tests' authority.
pub fn runtime(config: RuntimeConfig) -> Runtime {
    Runtime::new(config, authority())
}

/// A runtime with the default configuration.
pub fn default_runtime() -> Runtime {
    runtime(RuntimeConfig::default())
}

/// A context for `user`'s `run` in thread `thread-1`.
pub fn ctx(user: &str, run: &str) -> RequestContext {
    RequestContext::builder(
        self::user(user),
        ThreadId::new("thread-1").expect("valid thread"),
        RunId::new(run).expect("valid run"),
    )
    .build()
    .expect("valid context")
}

/// The tests' event type: `progress` is not critical, `milestone` is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Note {
    Progress { text: String },
    Milestone { text: String },
}

impl Event for Note {
    fn critical(&self) -> bool {
        matches!(self, Note::Milestone { .. })
    }
}

pub fn progress(text: impl Into<String>) -> Note {
    Note::Progress { text: text.into() }
}

pub fn milestone(text: impl Into<String>) -> Note {
    Note::Milestone { text: text.into() }
}

/// The text of a [`Note`] envelope.
pub fn text(envelope: &Envelope) -> &str {
    match envelope.downcast_ref::<Note>().expect("a Note") {
        Note::Progress { text } | Note::Milestone { text } => text,
    }
}

/// Everything a receiver delivers until the stream ends: the envelopes and the total reported
/// as missed.
pub async fn collect(receiver: &mut EventReceiver<Envelope>) -> (Vec<Envelope>, u64) {
    let mut items = Vec::new();
    let mut missed = 0;
    while let Some(delivery) = receiver.recv().await {
        match delivery {
            Delivery::Item(envelope) => items.push(envelope),
            Delivery::Missed(n) => missed += n,
        }
    }
    (items, missed)
}

/// What is ready now, without waiting.
pub fn drain_now(receiver: &mut EventReceiver<Envelope>) -> (Vec<Envelope>, u64) {
    let mut items = Vec::new();
    let mut missed = 0;
    while let Some(delivery) = receiver.try_recv() {
        match delivery {
            Delivery::Item(envelope) => items.push(envelope),
            Delivery::Missed(n) => missed += n,
        }
    }
    (items, missed)
}

/// A run id.
pub fn run(id: &str) -> RunId {
    RunId::new(id).expect("valid run")
}
