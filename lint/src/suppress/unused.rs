use crate::rules::{Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "unused_suppression",
    default_level: Level::Warn,
    summary: "an `isolate: allow(...)` suppression that matches no finding",
    doc: r#"# unused_suppression

## What it finds
A suppression comment whose rule produced no finding on the item below it (or on its own line),
including suppressions naming an unknown rule id.

## Why it matters
Stale suppressions hide future findings: when the global they excused is removed, the comment
stays and silently covers whatever is declared there next.

## Bad
```rust
// isolate: allow(static_mut) -- legacy counter
const LIMIT: usize = 10; // a const is never a finding
```

## Good
```rust
const LIMIT: usize = 10;
```

## Fix
Delete the comment, or correct the rule id.
"#,
    global: None,
    project: None,
};
