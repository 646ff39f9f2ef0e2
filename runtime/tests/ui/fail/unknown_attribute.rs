// A misspelt role is an error on the misspelt word, not a silently fresh field; `Frozen`
// fields take only `recursive`.
use isolate::{RequestScoped, Sealed};

#[derive(RequestScoped)]
struct Engine<'r> {
    #[isolate(sharde)]
    client: String,
    _seal: Sealed<'r>,
}

#[derive(RequestScoped)]
#[isolate(factory_name = Builder)]
struct Other<'r> {
    _seal: Sealed<'r>,
}

#[derive(isolate::Frozen)]
struct Config {
    #[isolate(shared)]
    name: String,
}

fn main() {}
