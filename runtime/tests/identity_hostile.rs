//! Identity validation against the spellings a hostile or careless client would try: one user
//! under two encodings, invisible and bidi characters, lookalike placeholders, reserved metadata
//! keys in disguise. Table-driven: every row states what must happen to that input.
#![cfg(not(loom))]

mod support;

use isolate::{ContextError, IdKind, RequestContext, RunId, ThreadId, UserId};

/// What must happen to an id.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Accepted,
    Placeholder,
    Invisible(char),
    Control,
}

fn check(input: &str) -> Expect {
    match UserId::new(input) {
        Ok(_) => Expect::Accepted,
        Err(ContextError::PlaceholderId { .. }) => Expect::Placeholder,
        Err(ContextError::InvisibleCharacter { character, .. }) => Expect::Invisible(character),
        Err(ContextError::ControlCharacter { .. }) => Expect::Control,
        Err(other) => panic!("{input:?}: unexpected {other}"),
    }
}

#[test]
fn hostile_ids() {
    use Expect::*;
    let table: &[(&str, Expect, &str)] = &[
        // Invisible and bidi characters.
        ("ali\u{200B}ce", Invisible('\u{200B}'), "zero-width space"),
        (
            "\u{200B}alice",
            Invisible('\u{200B}'),
            "leading zero-width space",
        ),
        (
            "alice\u{200B}",
            Invisible('\u{200B}'),
            "trailing zero-width space (not trimmed)",
        ),
        (
            "ali\u{200C}ce",
            Invisible('\u{200C}'),
            "zero-width non-joiner",
        ),
        (
            "ali\u{200D}ce",
            Invisible('\u{200D}'),
            "zero-width joiner between letters",
        ),
        (
            "\u{202E}ecila",
            Invisible('\u{202E}'),
            "right-to-left override",
        ),
        (
            "alice\u{202D}",
            Invisible('\u{202D}'),
            "left-to-right override",
        ),
        (
            "ali\u{2066}ce\u{2069}",
            Invisible('\u{2066}'),
            "bidi isolate",
        ),
        ("\u{200F}alice", Invisible('\u{200F}'), "right-to-left mark"),
        ("\u{061C}alice", Invisible('\u{061C}'), "arabic letter mark"),
        ("\u{FEFF}alice", Invisible('\u{FEFF}'), "byte order mark"),
        ("ali\u{00AD}ce", Invisible('\u{00AD}'), "soft hyphen"),
        ("ali\u{2060}ce", Invisible('\u{2060}'), "word joiner"),
        ("alice\u{E0041}", Invisible('\u{E0041}'), "tag character"),
        ("ali\u{2028}ce", Invisible('\u{2028}'), "line separator"),
        ("ali\u{E000}ce", Invisible('\u{E000}'), "private use"),
        ("ali\u{0378}ce", Invisible('\u{0378}'), "unassigned"),
        ("ali\u{0007}ce", Control, "bell"),
        ("ali\u{0085}ce", Control, "next line (C1 control)"),
        // Lookalike placeholders.
        ("ｎｕｌｌ", Placeholder, "fullwidth null"),
        ("ＮＵＬＬ", Placeholder, "fullwidth upper-case null"),
        ("𝐧𝐮𝐥𝐥", Placeholder, "mathematical bold null"),
        ("ⓝⓞⓝⓔ", Placeholder, "circled none"),
        ("ｄｅｆａｕｌｔ", Placeholder, "fullwidth default"),
        ("ｔｅｓｔ＿１", Placeholder, "fullwidth test_1"),
        ("nöne", Placeholder, "accented none"),
        ("no\u{0301}ne", Placeholder, "none with a combining accent"),
        ("n\u{043E}ne", Placeholder, "none with a Cyrillic o"),
        ("\u{0430}non", Placeholder, "anon with a Cyrillic a"),
        ("ѕуѕтем", Placeholder, "system in Cyrillic lookalikes"),
        ("ΝΟΝΕ", Placeholder, "NONE in Greek capitals"),
        ("ᴺᵁᴸᴸ", Placeholder, "superscript NULL"),
        ("---", Placeholder, "punctuation only"),
        ("…", Placeholder, "ellipsis only"),
        // Real ids, including ones an over-eager check would refuse.
        ("🦀", Accepted, "an emoji"),
        ("🦀🚀", Accepted, "two emoji"),
        ("👩\u{200D}💻", Accepted, "emoji ZWJ sequence"),
        (
            "❤\u{FE0F}\u{200D}🔥",
            Accepted,
            "ZWJ after a variation selector",
        ),
        ("🦀-test", Accepted, "emoji first, then a placeholder word"),
        ("josé", Accepted, "accented name"),
        ("Zoë", Accepted, "diaeresis"),
        ("小明", Accepted, "CJK"),
        ("мария", Accepted, "Cyrillic name"),
        ("محمد", Accepted, "Arabic name"),
        ("testament", Accepted, "placeholder as a prefix of a word"),
        ("alice smith", Accepted, "inner space"),
    ];
    let mut failures = Vec::new();
    for (input, expected, why) in table {
        let got = check(input);
        if got != *expected {
            failures.push(format!(
                "{why} ({input:?}): expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same name typed two ways is one user, stored in NFC.
#[test]
fn nfc_and_nfd_are_one_user() {
    let table = [
        ("jos\u{00E9}", "jose\u{0301}"),
        ("Zo\u{00EB}", "Zoe\u{0308}"),
        ("\u{1E9B}\u{0323}", "\u{017F}\u{0323}\u{0307}"),
        ("\u{AC00}", "\u{1100}\u{1161}"),
    ];
    for (composed, decomposed) in table {
        let a = UserId::new(composed).unwrap();
        let b = UserId::new(decomposed).unwrap();
        assert_eq!(a, b, "{composed:?} vs {decomposed:?}");
        assert_eq!(b.as_str(), composed, "stored in NFC");
        // Equal ids are one key everywhere, e.g. in a HashSet.
        let set: std::collections::HashSet<UserId> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
    }
    // NFC only: compatibility forms stay distinct ids (ﬁ is not fi).
    assert_ne!(UserId::new("ﬁona").unwrap(), UserId::new("fiona").unwrap());
}

/// Every id kind applies the same rules.
#[test]
fn every_kind_is_checked() {
    assert!(matches!(
        ThreadId::new("t\u{200B}1"),
        Err(ContextError::InvisibleCharacter {
            kind: IdKind::Thread,
            ..
        })
    ));
    assert!(matches!(
        RunId::new("ｎｕｌｌ"),
        Err(ContextError::PlaceholderId {
            kind: IdKind::Run,
            ..
        })
    ));
    let e = UserId::new("ali\u{202E}ce").unwrap_err();
    assert_eq!(
        e.to_string(),
        "user id contains the invisible character U+202E"
    );
}

fn build_with(key: &str) -> Result<RequestContext, ContextError> {
    RequestContext::builder(
        support::user("alice"),
        ThreadId::new("thread-1").unwrap(),
        RunId::new("run-1").unwrap(),
    )
    .metadata(key, "bob")
    .build()
}

#[test]
fn reserved_metadata_keys_in_disguise() {
    let reserved = [
        "user_id",
        "user.id",
        "user id",
        "user:id",
        "User-ID",
        "USERID",
        "user__id",
        "user/id",
        " user_id ",
        "ｕｓｅｒ＿ｉｄ",
        "Run.Id",
        "thread id",
        "request::id",
        "parent-request-id",
        "isolate.anything",
        "Isolate:trace",
        "ISOLATE_TRACE",
    ];
    for key in reserved {
        assert!(
            matches!(
                build_with(key),
                Err(ContextError::ReservedMetadataKey { .. })
            ),
            "{key:?} accepted"
        );
    }
    let invisible = ["user\u{200B}_id", "\u{202E}di_resu"];
    for key in invisible {
        assert!(
            matches!(build_with(key), Err(ContextError::InvalidMetadata { .. })),
            "{key:?} accepted"
        );
    }
    for key in [
        "username",
        "user_agent",
        "isolated_mode",
        "runner",
        "client",
    ] {
        assert!(build_with(key).is_ok(), "{key:?} refused");
    }
}
