// The marker attributes leave the item unchanged.
struct Handlers;

impl Handlers {
    #[isolate::entry]
    fn create_run(&self) -> u32 {
        7
    }
}

#[isolate::entry]
async fn list_runs() -> Vec<u32> {
    Vec::new()
}

#[isolate::allow(global_state, reason = "read-only table built at startup")]
static MODELS: [&str; 2] = ["small", "large"];

#[isolate::allow(request_id_from_path, reason = "admin route, checked against the token")]
#[isolate::entry]
fn admin() -> usize {
    MODELS.len()
}

fn main() {
    assert_eq!(Handlers.create_run(), 7);
    assert_eq!(admin(), 2);
    drop(list_runs());
}
