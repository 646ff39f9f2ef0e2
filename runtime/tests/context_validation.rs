//! Context and id validation: placeholders, reserved metadata keys, child contexts and depth.
#![cfg(not(loom))]

mod support;

use std::collections::HashSet;

use isolate::context::{MAX_DEPTH, RESERVED_METADATA_KEYS};
use isolate::ids::{MAX_ID_LEN, PLACEHOLDER_VALUES};
use isolate::{ContextError, IdKind, RequestContext, RequestId, RunId, ThreadId, UserId};

fn ctx() -> RequestContext {
    RequestContext::builder(
        support::user("alice"),
        ThreadId::new("thread-1").unwrap(),
        RunId::new("run-1").unwrap(),
    )
    .build()
    .unwrap()
}

#[test]
fn every_placeholder_is_rejected_in_any_case_and_for_every_id_kind() {
    for p in PLACEHOLDER_VALUES {
        let variants = [
            p.to_string(),
            p.to_uppercase(),
            format!("  {p}  "),
            capitalise(p),
        ];
        for v in variants {
            assert!(
                matches!(
                    UserId::new(v.clone()),
                    Err(ContextError::PlaceholderId {
                        kind: IdKind::User,
                        ..
                    })
                ),
                "user id {v:?} accepted"
            );
            assert!(
                ThreadId::new(v.clone()).is_err(),
                "thread id {v:?} accepted"
            );
            assert!(RunId::new(v.clone()).is_err(), "run id {v:?} accepted");
            assert!(
                RequestId::new(v.clone()).is_err(),
                "request id {v:?} accepted"
            );
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[test]
fn the_required_placeholders_are_in_the_list() {
    for p in [
        "none",
        "null",
        "nil",
        "undefined",
        "placeholder",
        "default",
        "test",
        "mock",
        "example",
        "registry",
        "dummy",
        "fake",
        "temp",
        "anonymous",
        "unknown",
        "system",
    ] {
        assert!(PLACEHOLDER_VALUES.contains(&p), "{p} missing");
    }
}

#[test]
fn short_ids_with_placeholder_prefixes_are_rejected() {
    for v in [
        "test_1",
        "mock-user",
        "Test-42",
        "temp2",
        "dummy.x",
        "NULL_0",
        "fake_bob",
    ] {
        assert!(
            matches!(UserId::new(v), Err(ContextError::PlaceholderId { .. })),
            "{v:?} accepted"
        );
    }
    // Made only of placeholder/generic words and digits, whatever the length.
    for v in ["default_user", "test-user-000001", "anonymous_session_id"] {
        assert!(UserId::new(v).is_err(), "{v:?} accepted");
    }
}

#[test]
fn real_ids_are_accepted_and_trimmed() {
    for v in [
        "alice",
        "user_123",
        "testament",
        "mockingbird",
        "test_alice_2024",
        "42",
        "8f14e45f-ceea-467f-a0e6-3c2d1f6e1b7a",
        "temperature-sensor-service",
    ] {
        let id = UserId::new(format!(" {v}\t")).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert_eq!(id.as_str(), v);
        assert_eq!(id.to_string(), v);
    }
}

#[test]
fn empty_long_and_control_ids_are_rejected() {
    assert_eq!(
        UserId::new("   "),
        Err(ContextError::EmptyId { kind: IdKind::User })
    );
    assert!(matches!(
        RunId::new("r".repeat(MAX_ID_LEN + 1)),
        Err(ContextError::IdTooLong {
            kind: IdKind::Run,
            max: MAX_ID_LEN,
            ..
        })
    ));
    assert!(RunId::new("r".repeat(MAX_ID_LEN)).is_ok());
    for v in ["ali\nce", "bob\0", "eve\u{1b}[31m", "x\u{7f}y"] {
        assert!(
            matches!(UserId::new(v), Err(ContextError::ControlCharacter { .. })),
            "{v:?} accepted"
        );
    }
}

#[test]
fn errors_are_clear() {
    let e = UserId::new("Anonymous").unwrap_err();
    assert_eq!(
        e.to_string(),
        "user id `Anonymous` is a placeholder, not a real identifier"
    );
}

#[test]
fn reserved_metadata_keys_are_rejected() {
    let mut keys: Vec<String> = RESERVED_METADATA_KEYS
        .iter()
        .map(|k| k.to_string())
        .collect();
    keys.extend(
        [
            "USER_ID",
            "User-Id",
            "userid",
            "isolate.",
            "isolate.tenant",
            "ISOLATE.x",
            " run_id ",
        ]
        .map(String::from),
    );
    for key in keys {
        let r = RequestContext::builder(
            support::user("alice"),
            ThreadId::new("thread-1").unwrap(),
            RunId::new("run-1").unwrap(),
        )
        .metadata("client", "web")
        .metadata(key.clone(), "bob")
        .build();
        assert!(
            matches!(r, Err(ContextError::ReservedMetadataKey { .. })),
            "{key:?} accepted"
        );
    }
}

#[test]
fn malformed_metadata_is_rejected() {
    let base = || {
        RequestContext::builder(
            support::user("alice"),
            ThreadId::new("thread-1").unwrap(),
            RunId::new("run-1").unwrap(),
        )
    };
    assert!(base().metadata("", "v").build().is_err());
    assert!(base().metadata("k\n", "v").build().is_err());
    assert!(base().metadata("k".repeat(129), "v").build().is_err());
    assert!(base().metadata("k", "v".repeat(4097)).build().is_err());
    let mut b = base();
    for i in 0..65 {
        b = b.metadata(format!("key{i}"), "v");
    }
    assert!(b.build().is_err());
    let ok = base()
        .metadata("k", "v1")
        .metadata("k", "v2")
        .build()
        .unwrap();
    assert_eq!(ok.metadata().get("k").map(String::as_str), Some("v2"));
}

#[test]
fn child_contexts_keep_identity_and_link_to_parent() {
    let root = RequestContext::builder(
        support::user("alice"),
        ThreadId::new("thread-1").unwrap(),
        RunId::new("run-1").unwrap(),
    )
    .metadata("client", "web")
    .build()
    .unwrap();
    assert_eq!(root.depth(), 0);
    assert_eq!(root.parent_request_id(), None);
    assert_eq!(root.operation(), None);

    let child = root.child("search").unwrap();
    assert_eq!(child.user_id(), root.user_id());
    assert_eq!(child.thread_id(), root.thread_id());
    assert_eq!(child.run_id(), root.run_id());
    assert_eq!(child.metadata(), root.metadata());
    assert_eq!(child.parent_request_id(), Some(root.request_id()));
    assert_ne!(child.request_id(), root.request_id());
    assert_eq!(child.operation(), Some("search"));
    assert_eq!(child.depth(), 1);
    assert!(child.created_at() >= root.created_at());

    // Siblings get distinct ids.
    let sibling = root.child("search").unwrap();
    assert_ne!(sibling.request_id(), child.request_id());

    assert!(matches!(
        root.child(""),
        Err(ContextError::InvalidOperation { .. })
    ));
    assert!(matches!(
        root.child("a\u{0}b"),
        Err(ContextError::InvalidOperation { .. })
    ));
    assert!(matches!(
        root.child("x".repeat(129)),
        Err(ContextError::InvalidOperation { .. })
    ));
}

#[test]
fn child_depth_is_limited() {
    let mut c = ctx();
    for depth in 1..=MAX_DEPTH {
        c = c.child(format!("level-{depth}")).unwrap();
        assert_eq!(c.depth(), depth);
    }
    assert_eq!(
        c.child("one-too-deep").unwrap_err(),
        ContextError::DepthLimitExceeded { max: MAX_DEPTH }
    );
}

#[test]
fn clones_share_one_allocation_and_request_ids_are_unique() {
    let a = ctx();
    let b = a.clone();
    assert!(std::ptr::eq(a.user_id(), b.user_id()));
    // Fewer under Miri, which interprets the RNG.
    let n = if cfg!(miri) { 200 } else { 10_000 };
    let ids: HashSet<RequestId> = (0..n).map(|_| RequestId::generate()).collect();
    assert_eq!(ids.len(), n);
    assert_ne!(ctx().request_id(), ctx().request_id());
}

#[test]
fn external_request_id_is_used() {
    let id = RequestId::new("req-from-header-123").unwrap();
    let c = RequestContext::builder(
        support::user("alice"),
        ThreadId::new("thread-1").unwrap(),
        RunId::new("run-1").unwrap(),
    )
    .request_id(id.clone())
    .build()
    .unwrap();
    assert_eq!(c.request_id(), &id);
}
