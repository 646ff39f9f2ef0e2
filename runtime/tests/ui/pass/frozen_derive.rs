// Deeply immutable types derive Frozen: structs, enums, generics (bounded per field), and the
// reviewed Shared<T> escape hatch.
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use isolate::{Frozen, Shared, SharedClient};

#[derive(Frozen)]
struct Limits {
    per_user: HashMap<String, u32>,
    timeout: Duration,
    models: Arc<[String]>,
}

#[derive(Frozen)]
enum Backend {
    Local { root: PathBuf },
    Remote(String, u16),
    Disabled,
}

#[derive(Frozen)]
struct Catalog<'a, T, const N: usize>
where
    T: Clone,
{
    entries: BTreeMap<String, Vec<T>>,
    tags: HashSet<Cow<'a, str>>,
    fixed: [T; N],
    _marker: PhantomData<std::cell::Cell<T>>,
}

struct HttpClient {
    _pool: std::sync::Mutex<Vec<u8>>,
}

// SAFETY: reviewed: the pool is internally synchronised and keeps no per-user data.
unsafe impl SharedClient for HttpClient {}

#[derive(Frozen)]
struct Deps {
    limits: Arc<Limits>,
    backend: Backend,
    http: Shared<HttpClient>,
}

fn assert_frozen<T: ?Sized + Frozen>() {}

fn main() {
    assert_frozen::<Limits>();
    assert_frozen::<Backend>();
    assert_frozen::<Catalog<'static, u64, 3>>();
    assert_frozen::<Deps>();
    assert_frozen::<(u8, &str, Option<Result<String, ()>>, [u16; 4], Box<[i64]>)>();
}
