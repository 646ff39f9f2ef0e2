use crate::rules::{Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "suppression_without_reason",
    default_level: Level::Warn,
    summary: "a suppression (`// isolate: allow(..)` or `#[isolate::allow(..)]`) that gives no reason",
    doc: r#"# suppression_without_reason

## What it finds
A suppression comment `// isolate: allow(rule)` with no `-- reason` after it, or an
`#[isolate::allow(rule)]` attribute without `reason = "..."` (which the `isolate` crate also
refuses to compile). The suppression still applies; the missing reason is reported.

## Why it matters
A suppressed global is shared state someone decided is safe. Without the reason, the next
reader cannot tell a reviewed metrics counter from a silenced cross-user leak.

## Bad
```rust
// isolate: allow(interior_mutable_static)
static REQUESTS: AtomicU64 = AtomicU64::new(0);
```

## Good
```rust
// isolate: allow(interior_mutable_static) -- process metrics, never read back into a response
static REQUESTS: AtomicU64 = AtomicU64::new(0);
```

## Fix
Add `-- ` and one sentence saying why sharing this value across users is safe.
"#,
    global: None,
    project: None,
};
