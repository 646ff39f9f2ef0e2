//! [`RequestContext`]: who a request acts for, immutable once built.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use crate::auth::AuthenticatedUser;
use crate::error::ContextError;
use crate::ids::{RequestId, RunId, ThreadId, UserId};

/// Deepest allowed chain of [`RequestContext::child`] calls (a root context has depth 0).
pub const MAX_DEPTH: u32 = 10;

/// Most metadata entries one context may carry.
pub const MAX_METADATA_ENTRIES: usize = 64;

/// Longest metadata key, in bytes.
pub const MAX_METADATA_KEY_LEN: usize = 128;

/// Longest metadata value, in bytes.
pub const MAX_METADATA_VALUE_LEN: usize = 4096;

/// Longest operation name accepted by [`RequestContext::child`], in bytes.
pub const MAX_OPERATION_LEN: usize = 128;

/// Metadata keys the runtime owns; [`RequestContextBuilder::build`] rejects them in any
/// spelling (case, separators and compatibility forms ignored: `user.id`, `User ID` and
/// `user:id` are all `user_id`), as well as any key whose first word is `isolate`
/// ([`RESERVED_METADATA_PREFIX`]).
pub const RESERVED_METADATA_KEYS: &[&str] = &[
    "user_id",
    "thread_id",
    "run_id",
    "request_id",
    "parent_request_id",
];

/// Prefix reserved for the runtime's own metadata keys.
pub const RESERVED_METADATA_PREFIX: &str = "isolate.";

/// The execution context of one request: user, thread, run and request ids, plus metadata.
///
/// Immutable after construction and cheap to clone (one `Arc`). The identity fields can only come
/// from validated ids, so a context can never name a placeholder user.
///
/// ```
/// use isolate::{Authority, RequestContext, RunId, ThreadId, UserId};
///
/// # fn main() -> Result<(), isolate::ContextError> {
/// # let authority = Authority::new();
/// let alice = authority.vouch(UserId::new("alice")?); // in the authentication layer
/// let ctx = RequestContext::builder(
///     alice.clone(),
///     ThreadId::new("thread-1")?,
///     RunId::new("run-1")?,
/// )
/// .metadata("client", "web")
/// .build()?;
///
/// assert_eq!(ctx.user_id().as_str(), "alice");
/// assert_eq!(ctx.metadata().get("client").map(String::as_str), Some("web"));
///
/// let child = ctx.child("tool-call")?;
/// assert_eq!(child.user_id(), ctx.user_id());
/// assert_eq!(child.parent_request_id(), Some(ctx.request_id()));
/// assert_ne!(child.request_id(), ctx.request_id());
/// assert_eq!(child.depth(), 1);
///
/// // Reserved keys are refused: identity can't be smuggled in through metadata.
/// let bad = RequestContext::builder(
///     alice,
///     ThreadId::new("thread-1")?,
///     RunId::new("run-1")?,
/// )
/// .metadata("user_id", "bob")
/// .build();
/// assert!(bad.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RequestContext {
    inner: Arc<Inner>,
}

struct Inner {
    user: AuthenticatedUser,
    thread_id: ThreadId,
    run_id: RunId,
    /// Made on first use: a request nobody asks the id of never pays for generating one.
    request_id: OnceLock<RequestId>,
    parent_request_id: Option<RequestId>,
    operation: Option<String>,
    depth: u32,
    created_at: SystemTime,
    metadata: BTreeMap<String, String>,
}

impl RequestContext {
    /// Starts building a root context for `user`'s `run` in `thread`. The user must come from
    /// authentication ([`Authority::vouch`](crate::Authority::vouch)), never from a string.
    pub fn builder(user: AuthenticatedUser, thread: ThreadId, run: RunId) -> RequestContextBuilder {
        RequestContextBuilder {
            user,
            thread,
            run,
            request_id: None,
            metadata: Vec::new(),
        }
    }

    /// The user this request acts for.
    pub fn user_id(&self) -> &UserId {
        self.inner.user.user_id()
    }

    /// The authenticated user this request acts for: the capability to list or cancel that
    /// user's runs ([`Runtime::cancel`](crate::Runtime::cancel)).
    pub fn user(&self) -> &AuthenticatedUser {
        &self.inner.user
    }

    /// The thread the run belongs to.
    pub fn thread_id(&self) -> &ThreadId {
        &self.inner.thread_id
    }

    /// The run this request is part of.
    pub fn run_id(&self) -> &RunId {
        &self.inner.run_id
    }

    /// This request's own id (fresh for every context, including children).
    pub fn request_id(&self) -> &RequestId {
        self.inner.request_id.get_or_init(RequestId::generate)
    }

    /// The request id of the context this one was derived from with [`child`](Self::child).
    pub fn parent_request_id(&self) -> Option<&RequestId> {
        self.inner.parent_request_id.as_ref()
    }

    /// The operation name given to [`child`](Self::child); `None` for a root context.
    pub fn operation(&self) -> Option<&str> {
        self.inner.operation.as_deref()
    }

    /// Nesting depth: 0 for a root context, parent's depth + 1 for a child.
    pub fn depth(&self) -> u32 {
        self.inner.depth
    }

    /// Wall-clock time at which this context was built.
    pub fn created_at(&self) -> SystemTime {
        self.inner.created_at
    }

    /// Caller-supplied metadata (never contains reserved keys). Children inherit it.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.inner.metadata
    }

    /// A context for a sub-operation of this request: a new request id, the same
    /// user/thread/run and metadata, a link to this request, and `operation` recorded.
    ///
    /// # Errors
    /// [`ContextError::DepthLimitExceeded`] if this context is already at [`MAX_DEPTH`];
    /// [`ContextError::InvalidOperation`] if `operation` is empty, longer than
    /// [`MAX_OPERATION_LEN`] or contains control characters.
    pub fn child(&self, operation: impl Into<String>) -> Result<RequestContext, ContextError> {
        let operation = operation.into();
        let operation = operation.trim();
        if operation.is_empty() {
            return Err(ContextError::InvalidOperation { reason: "empty" });
        }
        if operation.len() > MAX_OPERATION_LEN {
            return Err(ContextError::InvalidOperation {
                reason: "longer than 128 bytes",
            });
        }
        if operation.chars().any(char::is_control) {
            return Err(ContextError::InvalidOperation {
                reason: "contains a control character",
            });
        }
        if self.inner.depth >= MAX_DEPTH {
            return Err(ContextError::DepthLimitExceeded { max: MAX_DEPTH });
        }
        let parent = &self.inner;
        Ok(RequestContext {
            inner: Arc::new(Inner {
                user: parent.user.clone(),
                thread_id: parent.thread_id.clone(),
                run_id: parent.run_id.clone(),
                request_id: OnceLock::new(),
                parent_request_id: Some(self.request_id().clone()),
                operation: Some(operation.to_owned()),
                depth: parent.depth + 1,
                created_at: SystemTime::now(),
                metadata: parent.metadata.clone(),
            }),
        })
    }
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.inner;
        f.debug_struct("RequestContext")
            .field("user_id", i.user.user_id())
            .field("thread_id", &i.thread_id)
            .field("run_id", &i.run_id)
            .field("request_id", self.request_id())
            .field("parent_request_id", &i.parent_request_id)
            .field("operation", &i.operation)
            .field("depth", &i.depth)
            .field("metadata", &i.metadata)
            .finish_non_exhaustive()
    }
}

/// Builder for a root [`RequestContext`]; see [`RequestContext::builder`].
#[derive(Debug)]
#[must_use = "call .build() to get the context"]
pub struct RequestContextBuilder {
    user: AuthenticatedUser,
    thread: ThreadId,
    run: RunId,
    request_id: Option<RequestId>,
    metadata: Vec<(String, String)>,
}

impl RequestContextBuilder {
    /// Adds a metadata entry (validated in [`build`](Self::build); a repeated key keeps the last
    /// value).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Uses a request id received from outside (e.g. an `x-request-id` header) instead of a
    /// freshly generated one.
    pub fn request_id(mut self, id: RequestId) -> Self {
        self.request_id = Some(id);
        self
    }

    /// Validates the metadata and builds the context.
    ///
    /// # Errors
    /// [`ContextError::ReservedMetadataKey`] for a reserved key;
    /// [`ContextError::InvalidMetadata`] for an empty/over-long key, an over-long value, control
    /// characters in a key, or more than [`MAX_METADATA_ENTRIES`] distinct keys.
    pub fn build(self) -> Result<RequestContext, ContextError> {
        let mut metadata = BTreeMap::new();
        for (key, value) in self.metadata {
            validate_metadata(&key, &value)?;
            metadata.insert(key, value);
            if metadata.len() > MAX_METADATA_ENTRIES {
                return Err(ContextError::InvalidMetadata {
                    key: String::new(),
                    reason: "more than 64 entries",
                });
            }
        }
        Ok(RequestContext {
            inner: Arc::new(Inner {
                user: self.user,
                thread_id: self.thread,
                run_id: self.run,
                request_id: self.request_id.map_or_else(OnceLock::new, OnceLock::from),
                parent_request_id: None,
                operation: None,
                depth: 0,
                created_at: SystemTime::now(),
                metadata,
            }),
        })
    }
}

fn display_key(key: &str) -> String {
    key.chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Whether `key` names a reserved key in any spelling: case, compatibility forms and separators
/// do not matter (`User-ID`, `user.id`, `user id`, `user:id`, `ｕｓｅｒ＿ｉｄ` are all `user_id`),
/// and any key whose first word is `isolate` is the runtime's.
fn is_reserved_key(key: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = key.nfkc().flat_map(char::to_lowercase).collect();
    let compact: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    let first_word = folded
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty());
    first_word == Some(RESERVED_METADATA_PREFIX.trim_end_matches('.'))
        || RESERVED_METADATA_KEYS
            .iter()
            .any(|reserved| reserved.replace('_', "") == compact)
}

fn validate_metadata(key: &str, value: &str) -> Result<(), ContextError> {
    let invalid = |reason| ContextError::InvalidMetadata {
        key: display_key(key),
        reason,
    };
    if key.trim().is_empty() {
        return Err(invalid("empty key"));
    }
    if key.len() > MAX_METADATA_KEY_LEN {
        return Err(invalid("key longer than 128 bytes"));
    }
    if key.chars().any(char::is_control) {
        return Err(invalid("key contains a control character"));
    }
    if crate::ids::first_invisible(key).is_some() {
        return Err(invalid("key contains an invisible character"));
    }
    if is_reserved_key(key) {
        return Err(ContextError::ReservedMetadataKey {
            key: display_key(key),
        });
    }
    if value.len() > MAX_METADATA_VALUE_LEN {
        return Err(invalid("value longer than 4096 bytes"));
    }
    Ok(())
}
