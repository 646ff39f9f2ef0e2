//! What the linter knows about library types, by name (last path segment) and, where a name is
//! ambiguous, by the crate it comes from. Configuration can add to these lists.

/// What a known type does to the data it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Initialised on first use, then shared: `Lazy`, `OnceLock`, ...
    Lazy,
    /// Hands out mutable access through a shared reference: locks, cells, atomics, queues.
    Interior,
    /// A map or set that is mutable through `&self` by design: `DashMap`, ...
    ConcurrentMap,
    /// An owning collection: mutable state once it sits behind interior mutability.
    Collection,
    /// Wraps its arguments without adding mutability: `Arc`, `Box`, `Option`, ...
    Transparent,
    /// Known to hold no mutable state: primitives, `String`, `Regex`, ...
    Immutable,
}

const LAZY: &[&str] = &[
    "Lazy",
    "LazyLock",
    "LazyCell",
    "OnceLock",
    "OnceCell",
    "OnceBox",
    "OnceNonZeroUsize",
    "OnceBool",
    "OnceRef",
    "GILOnceCell",
    "AtomicLazyCell",
    "LazyTransform",
];

const INTERIOR: &[&str] = &[
    "Mutex",
    "RwLock",
    "RefCell",
    "Cell",
    "UnsafeCell",
    "SyncUnsafeCell",
    "ReentrantMutex",
    "FairMutex",
    "SpinMutex",
    "TicketMutex",
    "SeqLock",
    "ShardedLock",
    "TryLock",
    "ArcSwap",
    "ArcSwapOption",
    "ArcSwapAny",
    "ArcSwapWeak",
    "AtomicCell",
    "AtomicRefCell",
    "AtomicOption",
    "AtomicTake",
    "SegQueue",
    "ArrayQueue",
    "Injector",
    "Stealer",
    "ConcurrentQueue",
    "Sender",
    "SyncSender",
    "UnboundedSender",
    "Receiver",
    "UnboundedReceiver",
    "Semaphore",
    "Notify",
    "Condvar",
    "Barrier",
    "ThreadLocal",
    "CachedThreadLocal",
    "RcCell",
    "QCell",
    "LCell",
    "TCell",
    "Arena",
    "Bump",
];

const CONCURRENT_MAP: &[&str] = &[
    "DashMap",
    "DashSet",
    "ClashMap",
    "ClashSet",
    "SkipMap",
    "SkipSet",
    "CHashMap",
    "ConcurrentHashMap",
    "LeapMap",
    "HashIndex",
    "TreeIndex",
    "HashCache",
    "ReadHandle",
    "WriteHandle",
    "LockFreeHashMap",
    "FrozenMap",
    "FrozenVec",
];

/// Crates whose `HashMap`/`HashSet`/`Cache`/... are concurrent, mutable through `&self`.
const CONCURRENT_CRATES: &[&str] = &[
    "dashmap",
    "papaya",
    "scc",
    "evmap",
    "flurry",
    "moka",
    "quick_cache",
    "mini_moka",
    "stretto",
    "concurrent_map",
    "chashmap",
    "crossbeam_skiplist",
    "leapfrog",
    "whirlwind",
];

const COLLECTION: &[&str] = &[
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "Vec",
    "VecDeque",
    "LinkedList",
    "BinaryHeap",
    "IndexMap",
    "IndexSet",
    "Slab",
    "SmallVec",
    "ArrayVec",
    "TinyVec",
    "ThinVec",
    "LruCache",
    "FxHashMap",
    "FxHashSet",
    "AHashMap",
    "AHashSet",
    "FnvHashMap",
    "FnvHashSet",
    "HashTable",
    "SlotMap",
    "HopSlotMap",
    "DenseSlotMap",
    "SecondaryMap",
    "SparseSecondaryMap",
    "StableVec",
    "BitVec",
    "BitSet",
    "BytesMut",
    "Trie",
    "RadixMap",
    "VecMap",
    "EnumMap",
    "TtlCache",
    "TimedCache",
    "SizedCache",
    "UnboundCache",
    "Cache",
    "Map",
    "Set",
    "List",
    "Stack",
    "Queue",
    "Deque",
    "Heap",
];

/// Collection names that are too generic to trust alone: only counted when the path says which
/// crate they come from, or when no user type of that name exists.
const GENERIC_COLLECTION_NAMES: &[&str] = &[
    "Cache", "Map", "Set", "List", "Stack", "Queue", "Deque", "Heap",
];

const TRANSPARENT: &[&str] = &[
    "Arc",
    "Rc",
    "Box",
    "Option",
    "Result",
    "Pin",
    "Cow",
    "Weak",
    "PhantomData",
    "ManuallyDrop",
    "Reverse",
    "Wrapping",
    "Saturating",
    "MaybeUninit",
    "CachePadded",
    "Either",
    "NonNull",
    "AssertUnwindSafe",
    "Exclusive",
    "Ready",
];

const IMMUTABLE: &[&str] = &[
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
    "bool",
    "char",
    "str",
    "String",
    "Regex",
    "RegexSet",
    "RegexBuilder",
    "PathBuf",
    "Path",
    "OsString",
    "OsStr",
    "CString",
    "CStr",
    "Duration",
    "Instant",
    "SystemTime",
    "Uuid",
    "Url",
    "Uri",
    "Bytes",
    "Ordering",
    "IpAddr",
    "Ipv4Addr",
    "Ipv6Addr",
    "SocketAddr",
    "NonZeroU8",
    "NonZeroU16",
    "NonZeroU32",
    "NonZeroU64",
    "NonZeroUsize",
    "NonZeroI32",
    "NonZeroI64",
    "NonZero",
    "Level",
    "LevelFilter",
    "Method",
    "StatusCode",
    "HeaderName",
    "HeaderValue",
    "Version",
    "TypeId",
    "Layout",
    "Alignment",
    "Once",
    "AhoCorasick",
    "Glob",
    "GlobSet",
    "Tera",
    "Handlebars",
    "Encoding",
    "Tz",
    "DateTime",
    "NaiveDate",
    "NaiveDateTime",
    "Utc",
    "Local",
    "FixedOffset",
    "Decimal",
    "BigInt",
    "BigUint",
    "Style",
    "Color",
    "ColorChoice",
    "Span",
    "Ident",
    "Literal",
    "Symbol",
    "Infallible",
];

/// Classifies a resolved path by its segments. `None` means "not a type we know".
pub fn lookup(segments: &[String], has_args: bool) -> Option<Known> {
    let name = segments.last()?.as_str();
    let from_concurrent_crate = segments
        .iter()
        .any(|s| CONCURRENT_CRATES.contains(&s.as_str()));
    if from_concurrent_crate && segments.len() > 1 && !TRANSPARENT.contains(&name) {
        return Some(Known::ConcurrentMap);
    }
    if CONCURRENT_MAP.contains(&name) {
        return Some(Known::ConcurrentMap);
    }
    // `spin::Once<T>` holds a value like `OnceCell`; `std::sync::Once` is a bare flag.
    if name == "Once" && has_args {
        return Some(Known::Lazy);
    }
    if LAZY.contains(&name) {
        return Some(Known::Lazy);
    }
    if INTERIOR.contains(&name) || is_atomic(name) {
        return Some(Known::Interior);
    }
    if COLLECTION.contains(&name) {
        if GENERIC_COLLECTION_NAMES.contains(&name) && segments.len() == 1 {
            return None;
        }
        return Some(Known::Collection);
    }
    if TRANSPARENT.contains(&name) {
        return Some(Known::Transparent);
    }
    if IMMUTABLE.contains(&name) {
        return Some(Known::Immutable);
    }
    None
}

fn is_atomic(name: &str) -> bool {
    name.strip_prefix("Atomic")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Traits whose objects hold no state we can see (`dyn Fn()`), as opposed to arbitrary
/// `dyn Trait` objects, which are unknown.
pub fn is_stateless_trait(path: &[String]) -> bool {
    matches!(
        path.last().map(String::as_str),
        Some(
            "Fn" | "FnMut"
                | "FnOnce"
                | "Send"
                | "Sync"
                | "Unpin"
                | "Any"
                | "Error"
                | "Debug"
                | "Display"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(s: &str) -> Vec<String> {
        s.split("::").map(String::from).collect()
    }

    #[test]
    fn classifies_by_name_and_crate() {
        assert_eq!(
            lookup(&seg("std::sync::Mutex"), true),
            Some(Known::Interior)
        );
        assert_eq!(lookup(&seg("AtomicU64"), false), Some(Known::Interior));
        assert_eq!(lookup(&seg("Atomics"), false), None);
        assert_eq!(
            lookup(&seg("papaya::HashMap"), true),
            Some(Known::ConcurrentMap)
        );
        assert_eq!(
            lookup(&seg("std::collections::HashMap"), true),
            Some(Known::Collection)
        );
        assert_eq!(lookup(&seg("spin::Once"), true), Some(Known::Lazy));
        assert_eq!(
            lookup(&seg("std::sync::Once"), false),
            Some(Known::Immutable)
        );
        assert_eq!(lookup(&seg("Cache"), true), None);
        assert_eq!(lookup(&seg("lru::Cache"), true), Some(Known::Collection));
    }
}
