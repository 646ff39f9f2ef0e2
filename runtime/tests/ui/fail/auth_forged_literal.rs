// The capability has no public fields: it cannot be written as a struct literal.
use isolate::{AuthenticatedUser, UserId};

fn forge(user: UserId) -> AuthenticatedUser {
    AuthenticatedUser { user }
}

fn main() {
    let _ = forge;
}
