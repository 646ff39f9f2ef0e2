//! Validated identifier newtypes: [`UserId`], [`ThreadId`], [`RunId`], [`RequestId`].
//!
//! Every id is checked when it is made, so code that holds one never has to wonder whether it
//! is a real identifier. The rules (shared by all four kinds):
//!
//! - surrounding whitespace is trimmed, and the id is normalised to Unicode NFC, so `josé`
//!   typed as one code point or as `e` + combining accent is one and the same id;
//! - the rest must be non-empty and at most [`MAX_ID_LEN`] bytes;
//! - no control characters, and no invisible format or bidi control characters (zero-width
//!   space, right-to-left override, BOM, ...: general category `Cf`, except a zero-width joiner
//!   between two emoji), line/paragraph separators, private-use or unassigned code points;
//! - no placeholder values (`none`, `null`, `test`, `default`, `anonymous`, ...), compared on a
//!   folded form that sees through case, compatibility forms (`ｎｕｌｌ`, `𝐧𝐮𝐥𝐥`), accents
//!   (`nöne`) and the commonest Cyrillic and Greek lookalikes of Latin letters. Short ids (fewer
//!   than [`SHORT_ID_LEN`] bytes) whose first word is a placeholder (`test_1`, `mock-user`,
//!   `temp2`) are rejected too, and so is any id made only of placeholder words, generic words
//!   (`user`, `id`, ...) and digits (`default_user`, `test-user-0001`), or of punctuation alone
//!   (`---`). Letters, digits and symbols such as emoji identify: `🦀` is a fine id.
//!
//! Placeholders are rejected because they are how isolation bugs are born: a request that falls
//! back to `"default"` or `"anonymous"` shares every per-user structure with every other such
//! request.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{
    GeneralCategory, GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory,
};

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

/// Validates `raw` as an id of `kind` and returns the trimmed, NFC-normalised value.
fn validate(kind: IdKind, raw: &str) -> Result<Arc<str>, ContextError> {
    let trimmed = raw.trim();
    // ASCII is already NFC: the common case allocates nothing extra.
    let value: Cow<'_, str> = if trimmed.is_ascii() {
        Cow::Borrowed(trimmed)
    } else {
        Cow::Owned(trimmed.nfc().collect())
    };
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
    if let Some(character) = first_invisible(&value) {
        return Err(ContextError::InvisibleCharacter { kind, character });
    }
    if is_placeholder(&value) {
        return Err(ContextError::PlaceholderId {
            kind,
            value: value.into_owned(),
        });
    }
    Ok(Arc::from(value))
}

/// The first character of `value` that renders as nothing or as something else: format and
/// bidi controls (`Cf`), line/paragraph separators, private-use and unassigned code points. A
/// zero-width joiner between two emoji (as in `👩‍💻`) is allowed.
pub(crate) fn first_invisible(value: &str) -> Option<char> {
    if value.is_ascii() {
        return None;
    }
    let chars: Vec<char> = value.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let invisible = match c.general_category() {
            GeneralCategory::Format => !(c == '\u{200D}' && joins_emoji(&chars, i)),
            GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::Surrogate => true,
            _ => false,
        };
        invisible.then_some(c)
    })
}

/// Whether the joiner at `i` sits between two emoji (a variation selector may follow the first).
fn joins_emoji(chars: &[char], i: usize) -> bool {
    let is_emoji = |c: &char| !c.is_ascii() && c.is_emoji_char();
    let before = chars[..i]
        .iter()
        .rev()
        .find(|c| **c != '\u{FE0F}')
        .is_some_and(is_emoji);
    let after = chars.get(i + 1).is_some_and(is_emoji);
    before && after
}

/// The form placeholders are compared in: compatibility-decomposed (`ｎｕｌｌ` -> `null`),
/// without combining marks (`nöne` -> `none`), lowercase, with common Cyrillic and Greek
/// lookalikes of Latin letters mapped to them (`nоne` with a Cyrillic `о` -> `none`).
fn fold(value: &str) -> Cow<'_, str> {
    if value
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        return Cow::Borrowed(value);
    }
    if value.is_ascii() {
        return Cow::Owned(value.to_ascii_lowercase());
    }
    Cow::Owned(
        value
            .nfkd()
            .filter(|c| c.general_category_group() != GeneralCategoryGroup::Mark)
            .map(latin_capital_lookalike)
            .flat_map(char::to_lowercase)
            .map(latin_lookalike)
            .collect(),
    )
}

/// The Latin capital a Cyrillic or Greek capital looks like (before lowercasing, which would
/// turn Greek `Ν` into `ν`, a lookalike of `v`).
fn latin_capital_lookalike(c: char) -> char {
    match c {
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'С' => 'C',
        'Е' | 'Ε' => 'E',
        'Н' | 'Η' => 'H',
        'І' | 'Ι' | 'Ӏ' => 'I',
        'Ј' => 'J',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'У' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        other => other,
    }
}

/// The Latin letter a Cyrillic or Greek lowercase letter is commonly mistaken for.
fn latin_lookalike(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'һ' => 'h',
        'і' | 'ι' | 'ӏ' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'п' | 'η' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        other => other,
    }
}

/// Letters, digits and non-ASCII symbols (emoji, ...) say which user an id names; ASCII
/// punctuation and symbols do not.
fn identifies(c: char) -> bool {
    c.is_alphanumeric()
        || (!c.is_ascii() && c.general_category_group() == GeneralCategoryGroup::Symbol)
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
    let folded = fold(value);
    if is_placeholder_word(&folded) {
        return true;
    }
    let mut words = folded
        .split(|c: char| !identifies(c) && c != '/')
        .filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        // Only punctuation, e.g. "---": nothing identifies anyone.
        return true;
    };
    if folded.len() < SHORT_ID_LEN && stem(first).is_some_and(is_placeholder_word) {
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
            /// [`ContextError::ControlCharacter`], [`ContextError::InvisibleCharacter`] or
            /// [`ContextError::PlaceholderId`].
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
        let mut id = [0_u8; 4 + uuid::fmt::Simple::LENGTH];
        id[..4].copy_from_slice(b"req-");
        uuid::Uuid::new_v4().simple().encode_lower(&mut id[4..]);
        // Only ASCII was written; one allocation, for the `Arc<str>` itself.
        Self(Arc::from(std::str::from_utf8(&id).unwrap_or("req-")))
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
