//! Levels that follow risk: a finding about state gets its level from what the state can hold
//! (its [`StateClass`]) and whether a request handler reaches it ([`Reach`]), through a table
//! ([`Policy`]) that configuration can change cell by cell (`[levels.<class>]`).
//!
//! The class decision is [`class_of`], one function over the classified [`Shape`] and the type
//! as written: the precision work on shapes and known types refines what it reads, not where the
//! decision is made.

use crate::classify::Shape;
use crate::diagnostic::Severity;
use crate::facts::{GlobalKind, TypeExpr};

/// What a piece of shared state can hold, as far as its type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum StateClass {
    /// `static mut`; collections, maps and caches behind interior mutability, concurrent maps,
    /// channels and queues (also as app-state fields): many users' entries side by side.
    Collection,
    /// One mutable value that can hold request data: `Mutex<Option<T>>`, `RefCell<T>`, a lazy of
    /// a type with interior mutability.
    Payload,
    /// A lazy global of a type the linter cannot see into (an HTTP or SMTP client, a logger,
    /// another crate's config struct): nothing shows it holds request data, nothing shows it
    /// does not.
    Opaque,
    /// Numbers and flags: atomics, `Mutex<bool>`, a cached `(Instant, u64)`, ids, metrics
    /// instruments (Prometheus, `metrics`, OpenTelemetry).
    Scalar,
    /// A thread-local holding payload or a collection of it (`RefCell<Option<UserId>>`,
    /// `RefCell<HashMap<String, Run>>`).
    ThreadLocalPayload,
    /// A thread-local scalar or scratch buffer of plain numbers (`Cell<u32>`,
    /// `RefCell<Vec<f64>>`).
    ThreadLocalScalar,
}

impl StateClass {
    pub const ALL: [StateClass; 6] = [
        StateClass::Collection,
        StateClass::Payload,
        StateClass::Opaque,
        StateClass::Scalar,
        StateClass::ThreadLocalPayload,
        StateClass::ThreadLocalScalar,
    ];

    /// The config key (`[levels.collection]`).
    pub fn key(self) -> &'static str {
        match self {
            StateClass::Collection => "collection",
            StateClass::Payload => "payload",
            StateClass::Opaque => "opaque",
            StateClass::Scalar => "scalar",
            StateClass::ThreadLocalPayload => "thread_local_payload",
            StateClass::ThreadLocalScalar => "thread_local_scalar",
        }
    }

    pub fn from_key(key: &str) -> Option<StateClass> {
        StateClass::ALL.into_iter().find(|c| c.key() == key)
    }

    fn index(self) -> usize {
        StateClass::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// Whether a request handler reaches the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Reach {
    /// Some entry point's chain of calls uses it.
    Reached,
    /// The scan has entry points; none reaches it.
    NotReached,
    /// The scan has no entry point (a library): nobody can tell.
    NoEntryPoints,
}

impl Reach {
    pub const ALL: [Reach; 3] = [Reach::Reached, Reach::NotReached, Reach::NoEntryPoints];

    /// The config key (`reached`, `not_reached`, `no_entry_points`).
    pub fn key(self) -> &'static str {
        match self {
            Reach::Reached => "reached",
            Reach::NotReached => "not_reached",
            Reach::NoEntryPoints => "no_entry_points",
        }
    }

    pub fn from_key(key: &str) -> Option<Reach> {
        Reach::ALL.into_iter().find(|r| r.key() == key)
    }

    fn index(self) -> usize {
        match self {
            Reach::Reached => 0,
            Reach::NotReached => 1,
            Reach::NoEntryPoints => 2,
        }
    }
}

/// The level of each (class, reach) cell; `None` hides the finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    cells: [[Option<Severity>; 3]; 6],
}

impl Default for Policy {
    /// The default policy (README "Levels that follow risk"):
    ///
    /// | class | reached | not reached | no entry point |
    /// |---|---|---|---|
    /// | collection | error | warning | error |
    /// | payload | error | note | warning |
    /// | opaque | warning | note | warning |
    /// | scalar | warning | note | warning |
    /// | thread-local payload | error | note | warning |
    /// | thread-local scalar | warning | note | warning |
    fn default() -> Self {
        use Severity::{Error as E, Note as N, Warning as W};
        Policy {
            cells: [
                [Some(E), Some(W), Some(E)],
                [Some(E), Some(N), Some(W)],
                [Some(W), Some(N), Some(W)],
                [Some(W), Some(N), Some(W)],
                [Some(E), Some(N), Some(W)],
                [Some(W), Some(N), Some(W)],
            ],
        }
    }
}

impl Policy {
    /// The level of a finding about state of `class` that is `reach`.
    pub fn severity(&self, class: StateClass, reach: Reach) -> Option<Severity> {
        self.cells[class.index()][reach.index()]
    }

    /// Sets one cell (configuration).
    pub fn set(&mut self, class: StateClass, reach: Reach, level: Option<Severity>) {
        self.cells[class.index()][reach.index()] = level;
    }
}

/// Parses a policy cell: `error`, `warning`, `note` or `allow` (hidden).
pub(crate) fn parse_cell(text: &str) -> Option<Option<Severity>> {
    match text {
        "error" | "deny" => Some(Some(Severity::Error)),
        "warning" | "warn" => Some(Some(Severity::Warning)),
        "note" => Some(Some(Severity::Note)),
        "allow" => Some(None),
        _ => None,
    }
}

/// Numbers, flags, times and concurrency limits: what a scalar is made of.
const SCALARS: &[&str] = &[
    "bool",
    "char",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "AtomicBool",
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicUsize",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "AtomicIsize",
    "AtomicF32",
    "AtomicF64",
    "Instant",
    "Duration",
    "SystemTime",
    "NonZeroU32",
    "NonZeroU64",
    "NonZeroUsize",
    // Concurrency limits and signals: permits and flags, never request data.
    "Semaphore",
    "Notify",
    "Barrier",
    "CancellationToken",
];

/// Wrappers that add no data of their own: locks, cells, lazies, pointers, `Option`.
const WRAPPERS: &[&str] = &[
    "Mutex",
    "RwLock",
    "Cell",
    "RefCell",
    "UnsafeCell",
    "OnceLock",
    "OnceCell",
    "Lazy",
    "LazyLock",
    "LazyCell",
    "Arc",
    "Rc",
    "Box",
    "Option",
    "ReentrantMutex",
    "AtomicCell",
    "CachePadded",
];

/// Metrics instruments (Prometheus, `metrics`, OpenTelemetry) that are unambiguous by name.
const METRICS: &[&str] = &[
    "IntCounter",
    "IntCounterVec",
    "IntGauge",
    "IntGaugeVec",
    "CounterVec",
    "GaugeVec",
    "HistogramVec",
    "UpDownCounter",
    "ObservableGauge",
    "ObservableCounter",
    "GenericCounter",
    "GenericGauge",
];

/// Metrics instruments whose names are common words: only with their crate in the path.
const METRICS_QUALIFIED: &[&str] = &["Counter", "Gauge", "Histogram", "Summary", "Meter"];
const METRICS_CRATES: &[&str] = &[
    "prometheus",
    "metrics",
    "opentelemetry",
    "prometheus_client",
];

/// Channel and queue ends: the classifier's list.
use crate::classify::known::CHANNEL as CHANNELS;

/// Elements of a thread-local scratch buffer: plain numbers and bytes.
const PLAIN: &[&str] = &[
    "Vec",
    "VecDeque",
    "SmallVec",
    "ArrayVec",
    "BinaryHeap",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
];

/// `class`, refined by what the type classification knows from resolved paths (known library
/// types by crate): a metrics instrument or scalar it recognised is a scalar, a per-thread
/// scratch buffer of plain values (also a pool of kernel handles) a thread-local scalar.
pub(crate) fn refine(class: StateClass, kind: crate::classify::StateKind) -> StateClass {
    use crate::classify::StateKind as K;
    match (class, kind) {
        (StateClass::ThreadLocalPayload, K::ScratchBuffer) => StateClass::ThreadLocalScalar,
        (StateClass::Payload | StateClass::Opaque, K::Metric | K::Scalar) => StateClass::Scalar,
        (StateClass::Collection, K::Metric) => StateClass::Scalar,
        (class, _) => class,
    }
}

/// What a global, accessor or app-state field is, for the levels policy: the one place the
/// class is decided. `kind` is `None` for an app-state field.
pub(crate) fn class_of(kind: Option<GlobalKind>, shape: Shape, ty: &TypeExpr) -> StateClass {
    let mut leaves = Vec::new();
    leaf_paths(ty, &mut leaves);
    let names = || leaves.iter().filter_map(|p| p.last().map(String::as_str));
    let is_metric = leaves.iter().any(|p| {
        let last = p.last().map_or("", String::as_str);
        METRICS.contains(&last)
            || (METRICS_QUALIFIED.contains(&last)
                && p.iter().any(|s| METRICS_CRATES.contains(&s.as_str())))
    });
    let scalar =
        names().all(|n| SCALARS.contains(&n) || WRAPPERS.contains(&n)) && !leaves.is_empty();
    let channel = leaves.iter().any(|p| {
        p.last().is_some_and(|l| CHANNELS.contains(&l.as_str())) && !p.iter().any(|s| s == "watch")
    });
    // A `watch` channel end holds one value, the latest: no queue of many users' items. It is
    // what it carries (`watch::Receiver<bool>` is a flag), unless a collection is written too.
    let watch_end = |p: &[String]| {
        p.iter().any(|s| s == "watch")
            && p.last()
                .is_some_and(|l| matches!(l.as_str(), "Receiver" | "Sender"))
    };
    let plain_or_queue = names().any(|n| {
        PLAIN.contains(&n) || (CHANNELS.contains(&n) && !matches!(n, "Receiver" | "Sender"))
    });
    if leaves.iter().any(|p| watch_end(p))
        && !plain_or_queue
        && !matches!(kind, Some(GlobalKind::StaticMut | GlobalKind::ThreadLocal))
    {
        let carried_scalar = leaves
            .iter()
            .filter(|p| !watch_end(p))
            .filter_map(|p| p.last().map(String::as_str))
            .all(|n| SCALARS.contains(&n) || WRAPPERS.contains(&n));
        return if carried_scalar {
            StateClass::Scalar
        } else {
            StateClass::Payload
        };
    }
    match kind {
        Some(GlobalKind::StaticMut) => StateClass::Collection,
        Some(GlobalKind::ThreadLocal) => {
            let plain = names()
                .all(|n| SCALARS.contains(&n) || WRAPPERS.contains(&n) || PLAIN.contains(&n));
            if scalar || (plain && !is_metric) {
                StateClass::ThreadLocalScalar
            } else {
                StateClass::ThreadLocalPayload
            }
        }
        _ if is_metric => StateClass::Scalar,
        _ if shape.mutable_map() || channel => StateClass::Collection,
        _ if scalar => StateClass::Scalar,
        _ if shape.interior => StateClass::Payload,
        _ if shape.unknown => StateClass::Opaque,
        _ => StateClass::Payload,
    }
}

/// The paths at the leaves of a type, with the wrappers they sit in: for
/// `Mutex<Option<(Instant, u64)>>` the paths `Mutex`, `Option`, `Instant`, `u64`.
fn leaf_paths<'t>(ty: &'t TypeExpr, out: &mut Vec<&'t [String]>) {
    match ty {
        TypeExpr::Path { segments, args } => {
            out.push(segments);
            for a in args {
                leaf_paths(a, out);
            }
        }
        TypeExpr::Tuple(items) => items.iter().for_each(|t| leaf_paths(t, out)),
        TypeExpr::Array(inner) | TypeExpr::Ref { inner, .. } | TypeExpr::Ptr(inner) => {
            leaf_paths(inner, out)
        }
        TypeExpr::FnPtr => {}
        TypeExpr::Traits(_) | TypeExpr::Other => out.push(&[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> TypeExpr {
        crate::facts::types::from_syn(&syn::parse_str(src).unwrap())
    }

    fn shape(interior: bool, map: bool, unknown: bool) -> Shape {
        Shape {
            interior,
            map_under_lock: map,
            unknown,
            ..Shape::default()
        }
    }

    #[test]
    fn classes() {
        use StateClass::*;
        let s = |k, sh, t| class_of(k, sh, &ty(t));
        assert_eq!(
            s(Some(GlobalKind::StaticMut), Shape::default(), "bool"),
            Collection
        );
        assert_eq!(
            s(None, shape(true, true, false), "Mutex<HashMap<u64, Run>>"),
            Collection
        );
        assert_eq!(
            s(None, shape(true, false, false), "Mutex<Option<UserId>>"),
            Payload
        );
        assert_eq!(
            s(
                None,
                shape(true, false, false),
                "Mutex<Option<(Instant, u64)>>"
            ),
            Scalar
        );
        assert_eq!(s(None, shape(true, false, false), "AtomicU64"), Scalar);
        assert_eq!(
            s(
                None,
                shape(true, false, false),
                "Arc<tokio::sync::Semaphore>"
            ),
            Scalar
        );
        assert_eq!(
            s(None, shape(true, false, false), "Option<Semaphore>"),
            Scalar
        );
        // A watch channel holds its latest value, not a queue (atuin `caps.warmed`).
        assert_eq!(
            s(
                None,
                shape(true, true, false),
                "tokio::sync::watch::Receiver<bool>"
            ),
            Scalar
        );
        assert_eq!(
            s(None, shape(true, true, false), "watch::Receiver<Config>"),
            Payload
        );
        assert_eq!(
            s(
                None,
                shape(true, true, false),
                "watch::Receiver<HashMap<u64, Run>>"
            ),
            Collection
        );
        assert_eq!(
            s(None, shape(false, false, true), "LazyLock<reqwest::Client>"),
            Opaque
        );
        assert_eq!(s(None, shape(false, false, true), "IntCounterVec"), Scalar);
        assert_eq!(
            s(None, shape(false, false, true), "prometheus::Histogram"),
            Scalar
        );
        assert_eq!(
            s(None, shape(true, false, false), "UnboundedSender<Event>"),
            Collection
        );
        assert_eq!(
            s(
                None,
                shape(true, false, false),
                "watch::Receiver<Arc<Settings>>"
            ),
            Payload
        );
        let tl = Some(GlobalKind::ThreadLocal);
        assert_eq!(
            s(tl, shape(true, true, false), "RefCell<Vec<f64>>"),
            ThreadLocalScalar
        );
        assert_eq!(
            s(tl, shape(true, false, false), "Cell<u32>"),
            ThreadLocalScalar
        );
        assert_eq!(
            s(
                tl,
                shape(true, true, false),
                "RefCell<HashMap<String, Run>>"
            ),
            ThreadLocalPayload
        );
        assert_eq!(
            s(tl, shape(true, false, false), "Cell<Option<UserId>>"),
            ThreadLocalPayload
        );
    }

    #[test]
    fn policy_cells_and_keys() {
        let mut p = Policy::default();
        assert_eq!(
            p.severity(StateClass::Collection, Reach::Reached),
            Some(Severity::Error)
        );
        assert_eq!(
            p.severity(StateClass::Opaque, Reach::Reached),
            Some(Severity::Warning)
        );
        assert_eq!(
            p.severity(StateClass::Payload, Reach::NotReached),
            Some(Severity::Note)
        );
        p.set(StateClass::Opaque, Reach::Reached, None);
        assert_eq!(p.severity(StateClass::Opaque, Reach::Reached), None);
        for c in StateClass::ALL {
            assert_eq!(StateClass::from_key(c.key()), Some(c));
        }
        for r in Reach::ALL {
            assert_eq!(Reach::from_key(r.key()), Some(r));
        }
        assert_eq!(parse_cell("note"), Some(Some(Severity::Note)));
        assert_eq!(parse_cell("fatal"), None);
    }
}
