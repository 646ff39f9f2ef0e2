// One user's identity must not become everyone's: a shared field holding a request's ids,
// directly, through an alias, in a collection or inside a struct, is refused by type.
use std::sync::Arc;

use isolate::{Frozen, RequestContext, RequestId, RequestScoped, RunId, Sealed, ThreadId, UserId};

type Ctx = RequestContext;

#[derive(Frozen)]
struct Owner {
    thread: ThreadId,
    request: RequestId,
}

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(shared)]
    user: UserId,
    #[isolate(shared)]
    ctx: &'r Ctx,
    #[isolate(shared)]
    runs: Arc<Vec<RunId>>,
    #[isolate(shared)]
    owner: &'r Owner,
    _seal: Sealed<'r>,
}

fn main() {}
