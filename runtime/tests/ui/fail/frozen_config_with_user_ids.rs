// A frozen config that holds bare user ids is refused, with the way to say that they are
// configuration (`Configured<UserId>`, see pass/frozen_shapes.rs).
use std::collections::HashSet;

use isolate::{Frozen, UserId};

#[derive(Frozen)]
struct Access {
    admins: HashSet<UserId>,
}

fn main() {}
