// An authenticated user kept by a factory would let every later request act as the first
// request's user: the capability is per-request, like the context it comes from.
use isolate::{AuthenticatedUser, RequestScoped, Sealed};

#[derive(RequestScoped)]
pub struct Engine<'r> {
    #[isolate(shared)]
    acting_as: AuthenticatedUser,
    _seal: Sealed<'r>,
}

fn main() {}
