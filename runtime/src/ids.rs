//! Validated identifier newtypes: [`UserId`], [`ThreadId`], [`RunId`], [`RequestId`].
//!
//! Every id is checked when it is made, so code that holds one never has to wonder whether it
//! is a real identifier. The rules (shared by all four kinds):
//!
//! - surrounding whitespace is trimmed; the rest must be non-empty;
//! - at most [`MAX_ID_LEN`] bytes;
//! - no control characters;
//! - no placeholder values (`none`, `null`, `test`, `default`, `anonymous`, ...), compared
//!   case-insensitively. Short ids (fewer than [`SHORT_ID_LEN`] bytes) whose first word is a
//!   placeholder (`test_1`, `mock-user`, `temp2`) are rejected too, and so is any id made only of
//!   placeholder words, generic words (`user`, `id`, ...) and digits (`default_user`,
//!   `test-user-0001`).
//!
//! Placeholders are rejected because they are how isolation bugs are born: a request that falls
//! back to `"default"` or `"anonymous"` shares every per-user structure with every other such
//! request.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::error::ContextError;

/// Longest accepted identifier, in bytes (after trimming).
pub const MAX_ID_LEN: usize = 256;

/// Ids shorter than this (in bytes) are also rejected when their first word is a placeholder.
pub const SHORT_ID_LEN: usize = 12;

/// Values that are never accepted as identifiers (compared case-insensitively).
pub const PLACEHOLDER_VALUES: &[&str] = &[
    "none",
    "null",
    "nil",
    "undefined",
    "placeholder",
    "default",
    "test",
    "testing",
    "mock",
    "example",
    "registry",
    "dummy",
    "fake",
    "temp",
    "tmp",
    "anonymous",
    "anon",
    "unknown",
    "system",
    "sample",
    "stub",
    "changeme",
    "tbd",
    "todo",
    "n/a",
    "na",
    "xxx",
    "foo",
    "bar",
    "nobody",
    "global",
    "shared",
    "singleton",
];

/// Generic words that say nothing about *which* user/run an id names. An id made only of these,
/// placeholders and digits (with at least one placeholder) is rejected: `default_user`, `test-id-1`.
const GENERIC_WORDS: &[&str] = &[
    "user", "users", "id", "run", "thread", "request", "req", "session", "account", "value", "name",
];

/// Which kind of identifier a value was meant to be; used in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A [`UserId`].
    User,
    /// A [`ThreadId`].
    Thread,
    /// A [`RunId`].
    Run,
    /// A [`RequestId`].
    Request,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::User => "user id",
            IdKind::Thread => "thread id",
            IdKind::Run => "run id",
            IdKind::Request => "request id",
        })
    }
}

/// Validates `raw` as an id of `kind` and returns the trimmed value.
fn validate(kind: IdKind, raw: &str) -> Result<Arc<str>, ContextError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ContextError::EmptyId { kind });
    }
    if value.len() > MAX_ID_LEN {
        return Err(ContextError::IdTooLong {
            kind,
            len: value.len(),
            max: MAX_ID_LEN,
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ContextError::ControlCharacter { kind });
    }
    if is_placeholder(value) {
        return Err(ContextError::PlaceholderId {
            kind,
            value: value.to_owned(),
        });
    }
    Ok(Arc::from(value))
}

/// The word with trailing ASCII digits removed (`test1` -> `test`); `None` if it was all digits.
fn stem(word: &str) -> Option<&str> {
    let stem = word.trim_end_matches(|c: char| c.is_ascii_digit());
    (!stem.is_empty()).then_some(stem)
}

fn is_placeholder_word(word: &str) -> bool {
    PLACEHOLDER_VALUES.contains(&word)
}

/// True when `value` (already trimmed, non-empty) is a placeholder by the rules in the module docs.
fn is_placeholder(value: &str) -> bool {
    // Ids are checked on every request: avoid allocating for the common lowercase ASCII case.
    let lower: Cow<'_, str> = if value
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(value.to_lowercase())
    };
    if is_placeholder_word(&lower) {
        return true;
    }
    let mut words = lower
        .split(|c: char| !c.is_alphanumeric() && c != '/')
        .filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        // Only separators, e.g. "---": nothing identifies anyone.
        return true;
    };
    if lower.len() < SHORT_ID_LEN && stem(first).is_some_and(is_placeholder_word) {
        return true;
    }
    let mut saw_placeholder = false;
    for word in std::iter::once(first).chain(words) {
        match stem(word) {
            None => {}
            Some(s) if is_placeholder_word(s) => saw_placeholder = true,
            Some(s) if GENERIC_WORDS.contains(&s) => {}
            Some(_) => return false,
        }
    }
    saw_placeholder
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $kind:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Validates `value` (see the [module docs](self)) and wraps the trimmed result.
            ///
            /// # Errors
            /// [`ContextError::EmptyId`], [`ContextError::IdTooLong`],
            /// [`ContextError::ControlCharacter`] or [`ContextError::PlaceholderId`].
            pub fn new(value: impl Into<String>) -> Result<Self, ContextError> {
                validate($kind, &value.into()).map(Self)
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Which kind of id this is.
            pub const KIND: IdKind = $kind;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ContextError;
            fn try_from(value: String) -> Result<Self, ContextError> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ContextError;
            fn try_from(value: &str) -> Result<Self, ContextError> {
                Self::new(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ContextError;
            fn from_str(value: &str) -> Result<Self, ContextError> {
                Self::new(value)
            }
        }
    };
}

define_id!(
    /// The user a request acts for. Every per-user structure (limits, registry, metrics, events)
    /// is keyed by it.
    ///
    /// ```
    /// use isolate::UserId;
    ///
    /// let alice = UserId::new("  alice-42 ").unwrap();
    /// assert_eq!(alice.as_str(), "alice-42");
    /// assert!(UserId::new("anonymous").is_err());
    /// assert!(UserId::new("Test_1").is_err());
    /// ```
    UserId,
    IdKind::User
);

define_id!(
    /// A conversation/thread a run belongs to.
    ///
    /// ```
    /// use isolate::ThreadId;
    ///
    /// assert_eq!(ThreadId::new("thread-7f3a").unwrap().to_string(), "thread-7f3a");
    /// assert!(ThreadId::new("").is_err());
    /// ```
    ThreadId,
    IdKind::Thread
);

define_id!(
    /// One execution (run) of some work for a user; unique per user while active.
    ///
    /// ```
    /// use isolate::RunId;
    ///
    /// assert!(RunId::new("run-2024-001").is_ok());
    /// assert!(RunId::new("null").is_err());
    /// ```
    RunId,
    IdKind::Run
);

define_id!(
    /// One request; fresh for every [`RequestContext`](crate::RequestContext) and child context.
    ///
    /// ```
    /// use isolate::RequestId;
    ///
    /// let a = RequestId::generate();
    /// let b = RequestId::generate();
    /// assert_ne!(a, b);
    /// // An id received from outside (e.g. an `x-request-id` header) is validated like any other.
    /// assert!(RequestId::new("req-abc123def").is_ok());
    /// ```
    RequestId,
    IdKind::Request
);

impl RequestId {
    /// A new random request id (`req-` followed by a UUID v4), unique across processes.
    pub fn generate() -> Self {
        let mut buf = uuid::Uuid::encode_buffer();
        let uuid = uuid::Uuid::new_v4().simple().encode_lower(&mut buf);
        let mut id = String::with_capacity(4 + uuid.len());
        id.push_str("req-");
        id.push_str(uuid);
        Self(Arc::from(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_rules() {
        assert!(is_placeholder("default_user"));
        assert!(is_placeholder("TEST-USER-0001"));
        assert!(is_placeholder("mock42"));
        assert!(is_placeholder("---"));
        assert!(!is_placeholder("testament"));
        assert!(!is_placeholder("user_123"));
        assert!(!is_placeholder("test_alice_2024"));
        assert!(!is_placeholder("42"));
    }
}
