// The forms of `#[isolate::allow(..)]`, one table for both readers of the attribute: this
// macro (its unit test in `mod.rs`) and the `cargo isolate` linter (the e2e test
// `tests/allow_forms.rs`, which also compiles every accepted form through the real macro).
// Each includer defines `allow_forms!` before `include!`-ing this file.
//
// accepted: the macro expands them unchanged and the linter reads them as suppressions of
//           the rules they name, with their reason.
// rejected: the macro refuses them with an error on the user's tokens and the linter reports
//           them (`suppression_without_reason` for a missing or empty reason, which still
//           suppresses; `unused_suppression` "cannot read" for the rest, which does not).
allow_forms! {
    accepted: [
        [static_mut, reason = "written once before the server starts"],
        [isolate::static_mut, reason = "prefixed as in the output"],
        [static_mut, interior_mutable_static, reason = "two rules"],
        [isolate::static_mut, interior_mutable_static, reason = "mixed spellings",],
        [static_mut, reason = "  padded  "],
        [static_mut, reason = r"a raw string"],
    ],
    rejected: [
        [],
        [static_mut],
        [static_mut, interior_mutable_static],
        [static_mut, reason = ""],
        [static_mut, reason = "   "],
        [reason = "no rule"],
        ["static_mut", reason = "a string is not a rule id"],
        [static_mut, because = "unknown key"],
        [static_mut, reason = why],
        [static_mut, reason = "x", interior_mutable_static],
        [static_mut, reason = "x", reason = "twice"],
        [other::static_mut, reason = "not isolate's"],
        [isolate::static_mut::more, reason = "too long"],
        [static_mut reason = "no comma"],
        [static, reason = "a keyword"],
    ],
}
