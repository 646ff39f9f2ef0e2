// A scope that nobody owns cannot be leaked: `RequestScope` has no public constructor, so there
// is no value to `Box::leak` into a `&'static RequestScope` (and from it a `'static` product).
use isolate::{RequestContext, RequestScope};

fn leak(ctx: RequestContext) -> &'static RequestScope {
    Box::leak(Box::new(RequestScope::new(ctx)))
}

fn forge(ctx: RequestContext) -> RequestScope {
    RequestScope { context: ctx }
}

fn main() {
    let _ = (leak, forge);
}
