use crate::rules::{Level, Rule};

pub(crate) static RULE: Rule = Rule {
    id: "unused_suppression",
    default_level: Level::Warn,
    summary: "a suppression that matches no finding, names an unknown rule or cannot be read",
    doc: r#"# unused_suppression

## What it finds
A suppression (`// isolate: allow(..)` comment or `#[isolate::allow(..)]` attribute) whose rules
produced no finding on the item below it (or on its own line); a suppression naming a rule id
that does not exist, even beside ids that did match (with the closest real id); and one that
cannot be read (`// isolate: allow static_mut`, an attribute the macro would refuse).

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
Delete the suppression (the finding carries that edit), or correct the rule id (the finding
suggests the closest one).
"#,
    global: None,
    project: None,
};
