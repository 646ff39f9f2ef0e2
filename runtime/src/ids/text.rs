//! [`IdText`]: the text of a validated id, with its hash computed once.
//!
//! Ids are cloned and compared on every request (the user's id keys the runtime's per-user
//! state; contexts, registries and hubs keep copies), so their text is stored inline when it is
//! short - a clone is then a copy, with no allocation and no reference count - and its hash is
//! computed once, when the id is made. Longer ids share one `Arc<str>`.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock};

/// Longest text kept inline: 38 bytes covers UUIDs with hyphens (36), `req-` + 32 hex digits
/// (36, the generated request ids), ULIDs (26) and most opaque ids.
const INLINE: usize = 38;

/// Seeds every id's hash: random per process (colliding ids cannot be prepared in advance);
/// fixed under loom, whose models must replay the same way.
#[cfg(not(loom))]
static SEED: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);
#[cfg(loom)]
static SEED: LazyLock<foldhash::fast::FixedState> =
    LazyLock::new(|| foldhash::fast::FixedState::with_seed(0x243f_6a88_85a3_08d3));

/// A validated id's text and its hash.
#[derive(Clone)]
pub(crate) struct IdText {
    hash: u64,
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is the text; the rest is zero, so equal texts have equal arrays.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Shared(Arc<str>),
}

impl IdText {
    pub(crate) fn new(text: &str) -> Self {
        let hash = SEED.hash_one(text);
        let repr = if text.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Repr::Inline {
                len: text.len() as u8,
                bytes,
            }
        } else {
            Repr::Shared(Arc::from(text))
        };
        Self { hash, repr }
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match &self.repr {
            Repr::Inline { len, bytes } => {
                let text = &bytes[..usize::from(*len)];
                // SAFETY: `text` was copied from a `&str` in `new`, whole, and never changes.
                unsafe { std::str::from_utf8_unchecked(text) }
            }
            Repr::Shared(text) => text,
        }
    }

    /// The hash computed when the id was made (seeded per process).
    #[inline]
    pub(crate) fn prehash(&self) -> u64 {
        self.hash
    }
}

impl PartialEq for IdText {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && match (&self.repr, &other.repr) {
                (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                    a == b && same_bytes(x, y)
                }
                (Repr::Shared(a), Repr::Shared(b)) => Arc::ptr_eq(a, b) || a == b,
                _ => false, // the representation follows from the length
            }
    }
}

impl Eq for IdText {}

/// `x == y` in five word comparisons (the last two overlap), with no call to `memcmp`.
#[inline]
fn same_bytes(x: &[u8; INLINE], y: &[u8; INLINE]) -> bool {
    const { assert!(INLINE > 32 && INLINE <= 40) };
    let word = |b: &[u8; INLINE], at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    [0, 8, 16, 24, INLINE - 8]
        .into_iter()
        .fold(0, |diff, at| diff | (word(x, at) ^ word(y, at)))
        == 0
}

impl Hash for IdText {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialOrd for IdText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_shared_texts() {
        for text in [
            "a",
            "user-42",
            &"x".repeat(INLINE),
            &"é".repeat(19),
            &"y".repeat(INLINE + 1),
        ] {
            let id = IdText::new(text);
            assert_eq!(id.as_str(), text);
            assert_eq!(id.clone().as_str(), text);
            assert!(id == IdText::new(text));
            assert_eq!(id.prehash(), IdText::new(text).prehash());
            assert!(matches!(id.repr, Repr::Shared(_)) == (text.len() > INLINE));
        }
        assert!(IdText::new("alice") != IdText::new("alicf"));
        assert!(IdText::new(&"z".repeat(40)) != IdText::new(&"z".repeat(41)));
        assert!(IdText::new("a") < IdText::new("b"));
    }
}
