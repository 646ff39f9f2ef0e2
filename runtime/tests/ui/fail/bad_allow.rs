// A suppression needs a rule id and a non-empty reason.
#[isolate::allow(global_state)]
fn no_reason() {}

#[isolate::allow(global_state, reason = "  ")]
fn empty_reason() {}

#[isolate::allow("global_state", reason = "cache is keyed by user")]
fn rule_not_an_ident() {}

#[isolate::allow(global_state, because = "cache is keyed by user")]
fn wrong_key() {}

#[isolate::allow(global_state, reason = why)]
fn reason_not_a_string() {}

#[isolate::allow]
fn no_arguments() {}

fn main() {
    no_reason();
    empty_reason();
    rule_not_an_ident();
    wrong_key();
    reason_not_a_string();
    no_arguments();
}
