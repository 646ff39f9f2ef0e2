// The entry marker takes no arguments and only goes on functions.
#[isolate::entry(public)]
async fn handler() {}

#[isolate::entry]
struct NotAFunction;

fn main() {
    let _ = handler();
    let _ = NotAFunction;
}
