// A user id built from a string is not a user who can act: contexts, listing and cancelling
// take an `AuthenticatedUser`, which only `Authority::vouch` makes.
use isolate::{AuthenticatedUser, RequestContext, RunId, Runtime, ThreadId, UserId};

fn forged_context() -> RequestContext {
    RequestContext::builder(
        UserId::new("alice").unwrap(),
        ThreadId::new("thread-1").unwrap(),
        RunId::new("run-1").unwrap(),
    )
    .build()
    .unwrap()
}

fn cancel_someone_elses(runtime: &Runtime, run: &RunId) -> bool {
    let alice = UserId::new("alice").unwrap();
    runtime.active_runs(&alice);
    runtime.cancel(&alice, run)
}

fn convert(user: UserId) -> AuthenticatedUser {
    user.into()
}

fn main() {
    let _ = (forged_context, cancel_someone_elses, convert);
}
