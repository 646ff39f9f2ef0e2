// Without the request lifetime an instance could outlive its request.
use isolate::RequestScoped;

#[derive(RequestScoped)]
struct Engine {
    active_runs: Vec<String>,
}

fn main() {}
