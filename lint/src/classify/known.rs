//! What the linter knows about library types.
//!
//! A type is looked up by the path it resolves to (through `use` renames, re-exports and
//! globs: see [`crate::resolve`]). Two kinds of knowledge, two kinds of matching:
//!
//! - Knowing that a type is **mutable** (a lock, a cell, a lazy, a concurrent map, a channel)
//!   can only make the linter report more, so those lists match by name from any crate
//!   (`parking_lot::Mutex`, `tokio::sync::Mutex`, `async_lock::Mutex`, ...).
//! - Knowing that a type is **immutable** (or only wraps its arguments, or is a collection that
//!   needs a lock to change) hides findings, so it is trusted only for the crate that defines
//!   it: `std`/`core`/`alloc` names ([`STD`]), and a table of library types by crate and name
//!   ([`CRATES`]), each with the reason it holds no state one request can change for another.
//!   `evil::String` or the scanned code's own `struct String { inner: Mutex<..> }` is never
//!   taken for std's `String`.
//!
//! A bare name nothing in scope defines (its `use` is hidden in a macro the linter cannot
//! expand) is matched by name alone, as the last resort ([`Origin::Unresolved`]).

/// What a known type does to the data it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Initialised on first use, then shared: `Lazy`, `OnceLock`, ...
    Lazy,
    /// Hands out mutable access through a shared reference: locks, cells, atomics.
    Interior,
    /// A map, set or cache that is mutable through `&self` by design: `DashMap`, moka, ...
    ConcurrentMap,
    /// A channel or queue: every holder sends into (or receives from) one queue.
    Channel,
    /// A `watch` channel end: one shared value, replaced by the sender, read by every receiver
    /// (a configuration watcher).
    Watch,
    /// A metrics instrument (Prometheus, `metrics`, OpenTelemetry): counts across users by
    /// design.
    Metric,
    /// An owning collection: mutable state once it sits behind interior mutability.
    Collection,
    /// A collection by name from a crate the linter does not know: a collection behind a lock
    /// (where the global is reported either way), a type it cannot see into elsewhere.
    UntrustedCollection,
    /// Wraps its arguments without adding mutability: `Arc`, `Box`, `Option`, ...
    Transparent,
    /// Holds no mutable state, and a value that can carry request data: `String`, `Url`,
    /// `Regex`, a JSON value, a signing key.
    Immutable,
    /// Holds no mutable state and no request data: numbers, flags, durations, status codes.
    Scalar,
}

/// How the path being looked up was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The path it resolves to (or was written as), crate first.
    Full,
    /// A name nothing in scope defines: matched by name alone.
    Unresolved,
}

const STD_CRATES: &[&str] = &["std", "core", "alloc"];

/// `std`/`core`/`alloc` types by name (any module path below the crate).
const STD: &[(&[&str], Known)] = &[
    (
        &["LazyLock", "OnceLock", "LazyCell", "OnceCell"],
        Known::Lazy,
    ),
    (
        &[
            "Mutex",
            "RwLock",
            "Cell",
            "RefCell",
            "UnsafeCell",
            "SyncUnsafeCell",
            "ReentrantLock",
            "Exclusive",
        ],
        Known::Interior,
    ),
    (&["Sender", "SyncSender", "Receiver"], Known::Channel),
    (
        &[
            "Vec",
            "VecDeque",
            "LinkedList",
            "BinaryHeap",
            "HashMap",
            "HashSet",
            "BTreeMap",
            "BTreeSet",
        ],
        Known::Collection,
    ),
    (
        &[
            "Arc",
            "Rc",
            "Box",
            "Option",
            "Result",
            "Pin",
            "Cow",
            "Weak",
            "ManuallyDrop",
            "Reverse",
            "Wrapping",
            "Saturating",
            "MaybeUninit",
            "NonNull",
            "AssertUnwindSafe",
            "Ready",
        ],
        Known::Transparent,
    ),
    (
        &[
            "String",
            "str",
            "PathBuf",
            "Path",
            "OsString",
            "OsStr",
            "CString",
            "CStr",
            "IpAddr",
            "Ipv4Addr",
            "Ipv6Addr",
            "SocketAddr",
            "SocketAddrV4",
            "SocketAddrV6",
        ],
        Known::Immutable,
    ),
    (
        &[
            "Duration",
            "Instant",
            "SystemTime",
            // Holds no value at all (kanidm's `DaemonClientBlocking.inner.codec.phantom_d`).
            "PhantomData",
            "Ordering",
            "TypeId",
            "Layout",
            "Alignment",
            "Infallible",
            "Location",
            "NonZero",
            "NonZeroU8",
            "NonZeroU16",
            "NonZeroU32",
            "NonZeroU64",
            "NonZeroU128",
            "NonZeroUsize",
            "NonZeroI8",
            "NonZeroI16",
            "NonZeroI32",
            "NonZeroI64",
            "NonZeroI128",
            "NonZeroIsize",
            "ThreadId",
        ],
        Known::Scalar,
    ),
];

const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char",
];

/// One row of the library table: types `names` of crates `crates` (the path's first segment;
/// frameworks that re-export a crate are listed with it: `axum::http::StatusCode`) are `known`,
/// because `why`; with `module`, only below a module of that name (`tokio::sync::watch`).
struct Entry {
    crates: &'static [&'static str],
    module: Option<&'static str>,
    names: &'static [&'static str],
    known: Known,
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "documentation, checked by a test")
    )]
    why: &'static str,
}

const HTTP_CRATES: &[&str] = &[
    "http",
    "hyper",
    "axum",
    "axum_core",
    "actix_web",
    "actix_http",
    "reqwest",
    "tonic",
    "warp",
    "poem",
    "salvo",
    "rocket",
    "ureq",
    "isahc",
    "surf",
    "http_types",
    "tower_http",
    "hyper_util",
    "awc",
];

/// Library types by crate and name. Immutable rows name types with no interior mutability (or
/// only caches invisible to callers, said so); a lazy of one is a constant, never reported.
const CRATES: &[Entry] = &[
    // ---- time ----
    Entry {
        crates: &["chrono"],
        module: None,
        names: &[
            "TimeDelta",
            "Duration",
            "NaiveDate",
            "NaiveTime",
            "NaiveDateTime",
            "DateTime",
            "Utc",
            "Local",
            "FixedOffset",
            "Weekday",
            "Month",
            "Days",
            "Months",
            "IsoWeek",
            "SecondsFormat",
        ],
        known: Known::Scalar,
        why: "plain date/time values (`Copy` structs of integers)",
    },
    Entry {
        crates: &["chrono_tz"],
        module: None,
        names: &["Tz"],
        known: Known::Scalar,
        why: "a time zone id (an enum)",
    },
    Entry {
        crates: &["time"],
        module: None,
        names: &[
            "Duration",
            "OffsetDateTime",
            "PrimitiveDateTime",
            "UtcDateTime",
            "Date",
            "Time",
            "UtcOffset",
            "Weekday",
            "Month",
            "Instant",
        ],
        known: Known::Scalar,
        why: "plain date/time values",
    },
    Entry {
        crates: &["time"],
        module: None,
        names: &["OwnedFormatItem", "BorrowedFormatItem", "FormatItem"],
        known: Known::Immutable,
        why: "a parsed format description, only read",
    },
    Entry {
        crates: &["jiff"],
        module: None,
        names: &[
            "Timestamp",
            "Zoned",
            "SignedDuration",
            "Span",
            "Date",
            "DateTime",
            "Time",
            "TimeZone",
        ],
        known: Known::Scalar,
        why: "plain date/time values (a time zone is shared immutable data)",
    },
    Entry {
        crates: &["humantime", "tokio", "async_std"],
        module: None,
        names: &["Duration", "Instant"],
        known: Known::Scalar,
        why: "durations and instants (tokio's and async-std's re-export or wrap std's)",
    },
    Entry {
        crates: &["cron"],
        module: None,
        names: &["Schedule"],
        known: Known::Immutable,
        why: "a parsed schedule; iterating it borrows",
    },
    // ---- text matching ----
    Entry {
        crates: &["regex", "regex_lite", "fancy_regex", "lazy_regex"],
        module: None,
        names: &["Regex", "RegexSet", "RegexBuilder", "RegexSetBuilder"],
        known: Known::Immutable,
        why: "compiled patterns; the only interior state is a pool of match scratch space, \
              invisible to callers",
    },
    Entry {
        crates: &["aho_corasick", "memchr"],
        module: None,
        names: &["AhoCorasick", "Finder", "FinderRev"],
        known: Known::Immutable,
        why: "compiled searchers, only read",
    },
    Entry {
        crates: &["globset", "glob", "wildmatch"],
        module: None,
        names: &["Glob", "GlobSet", "GlobMatcher", "Pattern", "WildMatch"],
        known: Known::Immutable,
        why: "compiled glob patterns",
    },
    Entry {
        crates: &["levenshtein_automata"],
        module: None,
        names: &["LevenshteinAutomatonBuilder", "DFA"],
        known: Known::Immutable,
        why: "a precomputed automaton table; building a DFA takes `&self`",
    },
    Entry {
        crates: &["fst"],
        module: None,
        names: &["Set", "Map"],
        known: Known::Immutable,
        why: "finite state transducers: no mutation API at all",
    },
    Entry {
        crates: &["phf"],
        module: None,
        names: &["Map", "Set", "OrderedMap", "OrderedSet"],
        known: Known::Immutable,
        why: "compile-time perfect-hash tables: no mutation API at all",
    },
    // ---- web ----
    Entry {
        crates: &["url"],
        module: None,
        names: &["Url", "Host", "Origin"],
        known: Known::Immutable,
        why: "a parsed URL",
    },
    Entry {
        crates: HTTP_CRATES,
        module: None,
        names: &[
            "Method",
            "StatusCode",
            "Status",
            "Version",
            "HeaderName",
            "Scheme",
        ],
        known: Known::Scalar,
        why: "HTTP protocol constants",
    },
    Entry {
        crates: HTTP_CRATES,
        module: None,
        names: &[
            "HeaderValue",
            "Uri",
            "Authority",
            "PathAndQuery",
            "Url",
            "Mime",
        ],
        known: Known::Immutable,
        why: "parsed HTTP values (reqwest re-exports `url::Url`)",
    },
    Entry {
        crates: &["mime", "mime_guess"],
        module: None,
        names: &["Mime"],
        known: Known::Immutable,
        why: "a parsed media type",
    },
    Entry {
        crates: &["ipnet", "ipnetwork"],
        module: None,
        names: &[
            "IpNet",
            "Ipv4Net",
            "Ipv6Net",
            "IpNetwork",
            "Ipv4Network",
            "Ipv6Network",
        ],
        known: Known::Immutable,
        why: "network addresses",
    },
    Entry {
        crates: &["email_address"],
        module: None,
        names: &["EmailAddress"],
        known: Known::Immutable,
        why: "a parsed address",
    },
    Entry {
        crates: &["webauthn_rs", "webauthn_rs_core"],
        module: None,
        names: &["Webauthn", "WebauthnCore"],
        known: Known::Immutable,
        why: "relying-party configuration; every ceremony's state is returned to the caller, \
              never kept",
    },
    Entry {
        crates: &["webauthn_rs", "webauthn_rs_core", "webauthn_rs_proto"],
        module: None,
        names: &[
            "SecurityKey",
            "Passkey",
            "AttestedPasskey",
            "Credential",
            "CredentialID",
            "AttestationCa",
            "AttestationCaList",
            "COSEKey",
        ],
        known: Known::Immutable,
        why: "a registered credential's public data; updates return a new value",
    },
    Entry {
        crates: &["sshkey_attest", "ssh_key", "openssh_keys", "osshkeys"],
        module: None,
        names: &["PublicKey", "PrivateKey", "Fingerprint", "SshPublicKey"],
        known: Known::Immutable,
        why: "parsed SSH keys",
    },
    Entry {
        crates: &["compact_jwt"],
        module: None,
        names: &[
            "JwsEs256Signer",
            "JwsRs256Signer",
            "JwsHs256Signer",
            "JwsEs256Verifier",
            "JwsRs256Verifier",
            "JwsHs256Verifier",
            "Jwk",
            "JwkKeySet",
        ],
        known: Known::Immutable,
        why: "signing and verifying keys; signing takes `&self`",
    },
    Entry {
        crates: &[
            "crypto_glue",
            "x509_cert",
            "rustls_pki_types",
            "sha2",
            "der",
        ],
        module: None,
        names: &[
            "Certificate",
            "CertificateDer",
            "PrivateKeyDer",
            "Sha256Output",
            "Sha256",
            "Output",
        ],
        known: Known::Immutable,
        why: "parsed certificates and digests",
    },
    Entry {
        crates: &["zeroize", "crypto_glue", "secrecy"],
        module: None,
        names: &[
            "Zeroizing",
            "SecretBox",
            "Secret",
            "SecretString",
            "SecretSlice",
        ],
        known: Known::Transparent,
        why: "wrappers that wipe or hide the value they own, adding no mutability",
    },
    Entry {
        crates: &["ammonia"],
        module: None,
        names: &["Builder"],
        known: Known::Immutable,
        why: "sanitiser settings; `clean` takes `&self`",
    },
    Entry {
        crates: &["clearurls"],
        module: None,
        names: &["UrlCleaner"],
        known: Known::Immutable,
        why: "rules loaded once; cleaning takes `&self`",
    },
    // ---- OS handles ----
    Entry {
        crates: &["io_uring", "rustix", "mio", "polling"],
        module: None,
        names: &[
            "IoUring", "OwnedFd", "Poll", "Poller", "Waker", "Token", "Registry",
        ],
        known: Known::Scalar,
        why: "kernel handles: a pool of them is reused, it keeps no request's data",
    },
    // ---- ids, versions, numbers ----
    Entry {
        crates: &["uuid"],
        module: None,
        names: &["Uuid"],
        known: Known::Scalar,
        why: "a 128-bit id",
    },
    Entry {
        crates: &["ulid"],
        module: None,
        names: &["Ulid"],
        known: Known::Scalar,
        why: "a 128-bit id",
    },
    Entry {
        crates: &["semver"],
        module: None,
        names: &[
            "Version",
            "VersionReq",
            "Comparator",
            "Prerelease",
            "BuildMetadata",
        ],
        known: Known::Immutable,
        why: "parsed versions",
    },
    Entry {
        crates: &[
            "rust_decimal",
            "bigdecimal",
            "num_bigint",
            "num",
            "ordered_float",
        ],
        module: None,
        names: &[
            "Decimal",
            "BigDecimal",
            "BigInt",
            "BigUint",
            "OrderedFloat",
            "NotNan",
        ],
        known: Known::Scalar,
        why: "numbers",
    },
    Entry {
        crates: &["tracing", "tracing_core", "tracing_subscriber", "log"],
        module: None,
        names: &["Level", "LevelFilter"],
        known: Known::Scalar,
        why: "log levels",
    },
    // ---- strings and bytes ----
    Entry {
        crates: &[
            "smartstring",
            "compact_str",
            "smol_str",
            "ecow",
            "arcstr",
            "bytestring",
            "kstring",
            "ustr",
            "camino",
            "flexstr",
            "hipstr",
        ],
        module: None,
        names: &[
            "String",
            "SmartString",
            "CompactString",
            "SmolStr",
            "EcoString",
            "ArcStr",
            "Substr",
            "ByteString",
            "KString",
            "Ustr",
            "Utf8PathBuf",
            "Utf8Path",
            "SharedStr",
            "LocalStr",
            "HipStr",
        ],
        known: Known::Immutable,
        why: "immutable or owned string types (smartstring's `alias::String` included)",
    },
    Entry {
        crates: &[
            "bytes",
            "axum",
            "hyper",
            "actix_web",
            "poem",
            "salvo",
            "warp",
        ],
        module: None,
        names: &["Bytes"],
        known: Known::Immutable,
        why: "shared immutable bytes (web frameworks re-export `bytes::Bytes`)",
    },
    Entry {
        crates: &["bytes"],
        module: None,
        names: &["BytesMut"],
        known: Known::Collection,
        why: "an owned growable buffer",
    },
    // ---- encodings, keys, tokens ----
    Entry {
        crates: &["base64"],
        module: None,
        names: &[
            "GeneralPurpose",
            "GeneralPurposeConfig",
            "Config",
            "Alphabet",
        ],
        known: Known::Immutable,
        why: "an encoding engine: an alphabet table and flags",
    },
    Entry {
        crates: &["data_encoding", "encoding_rs"],
        module: None,
        names: &["Encoding"],
        known: Known::Immutable,
        why: "an encoding table",
    },
    Entry {
        crates: &["jsonwebtoken"],
        module: None,
        names: &[
            "Header",
            "EncodingKey",
            "DecodingKey",
            "Validation",
            "Algorithm",
            "Jwk",
            "JwkSet",
        ],
        known: Known::Immutable,
        why: "JWT headers, keys and validation settings: plain data",
    },
    Entry {
        crates: &["ring", "aws_lc_rs"],
        module: None,
        names: &[
            "Ed25519KeyPair",
            "EcdsaKeyPair",
            "RsaKeyPair",
            "Key",
            "LessSafeKey",
            "SystemRandom",
            "UnparsedPublicKey",
        ],
        known: Known::Immutable,
        why: "keys; signing takes `&self` (`SystemRandom` reads the OS)",
    },
    Entry {
        crates: &["rsa", "ed25519_dalek", "p256", "p384", "x25519_dalek"],
        module: None,
        names: &[
            "RsaPrivateKey",
            "RsaPublicKey",
            "SigningKey",
            "VerifyingKey",
            "PublicKey",
        ],
        known: Known::Immutable,
        why: "keys",
    },
    Entry {
        crates: &["argon2"],
        module: None,
        names: &["Argon2", "Params"],
        known: Known::Immutable,
        why: "hashing parameters; hashing takes `&self`",
    },
    Entry {
        crates: &["secrecy"],
        module: None,
        names: &["SecretString"],
        known: Known::Immutable,
        why: "a string zeroed on drop",
    },
    Entry {
        crates: &["secrecy"],
        module: None,
        names: &["SecretBox", "Secret"],
        known: Known::Transparent,
        why: "wraps its value, zeroed on drop",
    },
    Entry {
        crates: &["governor"],
        module: None,
        names: &["Quota"],
        known: Known::Scalar,
        why: "a rate (numbers)",
    },
    Entry {
        crates: &["tiktoken_rs"],
        module: None,
        names: &["CoreBPE"],
        known: Known::Immutable,
        why: "a tokenizer's tables; encoding takes `&self`",
    },
    // ---- structured data ----
    Entry {
        crates: &["serde_json", "serde_yaml", "toml", "serde_value"],
        module: None,
        names: &["Value", "Number"],
        known: Known::Immutable,
        why: "a parsed document, only read unless behind a lock",
    },
    Entry {
        crates: &["serde_json", "toml"],
        module: None,
        names: &["Map", "Table"],
        known: Known::Collection,
        why: "maps of values",
    },
    Entry {
        crates: &["jsonschema"],
        module: None,
        names: &["Validator", "JSONSchema"],
        known: Known::Immutable,
        why: "a compiled schema; validating takes `&self`",
    },
    // ---- markdown, templates, highlighting, parsing ----
    Entry {
        crates: &["markdown_it"],
        module: None,
        names: &["MarkdownIt"],
        known: Known::Immutable,
        why: "a parser's rule chains, built once; `parse` takes `&self`",
    },
    Entry {
        crates: &["pulldown_cmark", "comrak", "markdown"],
        module: None,
        names: &["Options", "ComrakOptions", "ParseOptions", "CompileOptions"],
        known: Known::Immutable,
        why: "parser options",
    },
    Entry {
        crates: &["syntect"],
        module: None,
        names: &["SyntaxSet", "SyntaxReference", "ThemeSet", "Theme", "Style"],
        known: Known::Immutable,
        why: "syntax and theme definitions; compiled regexes are cached per pattern (once), \
              invisible to callers",
    },
    Entry {
        crates: &["tree_sitter", "tree_sitter_highlight"],
        module: None,
        names: &["Query", "Language", "HighlightConfiguration"],
        known: Known::Immutable,
        why: "a compiled query / a grammar; running one takes a separate mutable cursor",
    },
    Entry {
        crates: &["tera", "handlebars", "tinytemplate"],
        module: None,
        names: &["Tera", "Handlebars", "TinyTemplate"],
        known: Known::Immutable,
        why: "compiled templates; rendering takes `&self` (reloading needs `&mut`)",
    },
    Entry {
        crates: &["tokei"],
        module: None,
        names: &["Config"],
        known: Known::Immutable,
        why: "counting options",
    },
    Entry {
        crates: &["vaporetto"],
        module: None,
        names: &["Predictor"],
        known: Known::Immutable,
        why: "a tokenizer model; `predict` takes `&self`",
    },
    Entry {
        crates: &["unic_langid", "icu_locid", "icu_locale"],
        module: None,
        names: &["LanguageIdentifier", "Locale"],
        known: Known::Immutable,
        why: "locale ids",
    },
    // ---- terminal styling ----
    Entry {
        crates: &[
            "crossterm",
            "ratatui",
            "tui",
            "ansi_term",
            "nu_ansi_term",
            "yansi",
            "console",
            "owo_colors",
            "colored",
            "anstyle",
            "termcolor",
        ],
        module: None,
        names: &[
            "ContentStyle",
            "Color",
            "Colour",
            "Style",
            "Attribute",
            "Attributes",
            "Modifier",
            "ColorSpec",
            "ColorChoice",
        ],
        known: Known::Scalar,
        why: "styles and colours: plain values",
    },
    // ---- syntax trees (proc macros, build tools) ----
    Entry {
        crates: &["proc_macro2", "syn"],
        module: None,
        names: &["Span", "Ident", "Literal"],
        known: Known::Immutable,
        why: "tokens",
    },
    // ---- collections from crates (mutable only behind a lock) ----
    Entry {
        crates: &[
            "hashbrown",
            "indexmap",
            "ahash",
            "rustc_hash",
            "fxhash",
            "fnv",
            "slab",
            "smallvec",
            "smolset",
            "arrayvec",
            "tinyvec",
            "thin_vec",
            "lru",
            "schnellru",
            "clru",
            "hashlink",
            "linked_hash_map",
            "slotmap",
            "bit_vec",
            "bit_set",
            "bitvec",
            "im",
            "imbl",
            "rpds",
            "priority_queue",
            "enum_map",
            "vec_map",
            "cached",
            "roaring",
            "radix_trie",
            "sequence_trie",
            "stable_vec",
            "btreemultimap",
            "multimap",
        ],
        module: None,
        names: &[
            "HashMap",
            "HashSet",
            "HashTable",
            "IndexMap",
            "IndexSet",
            "AHashMap",
            "AHashSet",
            "FxHashMap",
            "FxHashSet",
            "FnvHashMap",
            "FnvHashSet",
            "Slab",
            "SmallVec",
            "SmolSet",
            "ArrayVec",
            "ArrayString",
            "TinyVec",
            "ThinVec",
            "LruCache",
            "LinkedHashMap",
            "LinkedHashSet",
            "SlotMap",
            "HopSlotMap",
            "DenseSlotMap",
            "SecondaryMap",
            "SparseSecondaryMap",
            "BitVec",
            "BitSet",
            "Vector",
            "OrdMap",
            "OrdSet",
            "HashTrieMap",
            "RedBlackTreeMap",
            "List",
            "PriorityQueue",
            "EnumMap",
            "VecMap",
            "SizedCache",
            "TimedCache",
            "TimedSizedCache",
            "UnboundCache",
            "ExpiringValueCache",
            "RoaringBitmap",
            "RoaringTreemap",
            "Trie",
            "SequenceTrie",
            "StableVec",
            "BTreeMultiMap",
            "MultiMap",
        ],
        known: Known::Collection,
        why: "owning collections: mutable only through `&mut`, i.e. behind a lock",
    },
    Entry {
        crates: &[
            "either",
            "triomphe",
            "servo_arc",
            "crossbeam_utils",
            "unicase",
            "futures",
        ],
        module: None,
        names: &[
            "Either",
            "Arc",
            "ThinArc",
            "CachePadded",
            "UniCase",
            "Ready",
        ],
        known: Known::Transparent,
        why: "wrap their arguments and add no state",
    },
    // ---- concurrent maps and caches ----
    Entry {
        crates: &["concread"],
        module: None,
        names: &[
            "BptreeMap",
            "HashMap",
            "HashTrie",
            "ARCache",
            "ARCacheBuilder",
            "BptreeMapReadTxn",
            "HashMapReadTxn",
        ],
        known: Known::ConcurrentMap,
        why: "transactional concurrent maps and caches: writers commit through `&self`",
    },
    Entry {
        crates: &["concread"],
        module: None,
        names: &["CowCell", "EbrCell", "ZoneCell"],
        known: Known::Interior,
        why: "transactional cells: writers commit a new value through `&self`",
    },
    Entry {
        crates: &["governor"],
        module: None,
        names: &[
            "DashMapStateStore",
            "HashMapStateStore",
            "DefaultKeyedStateStore",
            "DefaultKeyedRateLimiter",
        ],
        known: Known::ConcurrentMap,
        why: "a keyed rate limiter's store: one entry per key, added through `&self`",
    },
    Entry {
        crates: &["governor"],
        module: None,
        names: &["InMemoryState", "DefaultDirectRateLimiter"],
        known: Known::Interior,
        why: "a direct rate limiter's state (an atomic)",
    },
    Entry {
        crates: &["governor"],
        module: None,
        names: &["RateLimiter"],
        known: Known::Transparent,
        why: "a rate limiter: what it holds is its state store argument",
    },
    Entry {
        crates: &["governor"],
        module: None,
        names: &[
            "NotKeyed",
            "DefaultClock",
            "QuantaClock",
            "QuantaUpkeepClock",
            "MonotonicClock",
            "SystemClock",
            "NoOpMiddleware",
        ],
        known: Known::Scalar,
        why: "markers and clocks",
    },
    Entry {
        crates: &["retainer", "foyer", "cached"],
        module: None,
        names: &["Cache", "HybridCache", "DiskCache"],
        known: Known::ConcurrentMap,
        why: "concurrent caches, filled through `&self`",
    },
    // ---- watch channels ----
    Entry {
        crates: &["tokio", "async_watch", "postage"],
        module: Some("watch"),
        names: &["Sender", "Receiver", "Ref"],
        known: Known::Watch,
        why: "one shared value replaced by the sender (tokio's `sync::watch` module included)",
    },
    // ---- metrics ----
    Entry {
        crates: &["prometheus"],
        module: None,
        names: &[
            "Counter",
            "CounterVec",
            "Gauge",
            "GaugeVec",
            "Histogram",
            "HistogramVec",
            "IntCounter",
            "IntCounterVec",
            "IntGauge",
            "IntGaugeVec",
            "GenericCounter",
            "GenericCounterVec",
            "GenericGauge",
            "GenericGaugeVec",
            "Registry",
        ],
        known: Known::Metric,
        why: "Prometheus instruments and registries",
    },
    Entry {
        crates: &["prometheus_client"],
        module: None,
        names: &[
            "Counter",
            "Gauge",
            "Histogram",
            "Family",
            "Registry",
            "Info",
        ],
        known: Known::Metric,
        why: "prometheus-client instruments",
    },
    Entry {
        crates: &["metrics", "metrics_exporter_prometheus"],
        module: None,
        names: &[
            "Counter",
            "Gauge",
            "Histogram",
            "PrometheusHandle",
            "PrometheusRecorder",
        ],
        known: Known::Metric,
        why: "`metrics` handles and recorders",
    },
    Entry {
        crates: &["opentelemetry", "opentelemetry_sdk"],
        module: None,
        names: &[
            "Counter",
            "UpDownCounter",
            "Histogram",
            "Gauge",
            "ObservableCounter",
            "ObservableUpDownCounter",
            "ObservableGauge",
            "Meter",
            "SdkMeterProvider",
        ],
        known: Known::Metric,
        why: "OpenTelemetry instruments and meters",
    },
];

// ---- names matched from any crate (they only ever make the linter report more) ----

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
    "AsyncOnceCell",
    "Lazy2",
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
    "CowCell",
    "EbrCell",
];

pub(crate) const CHANNEL: &[&str] = &[
    "Sender",
    "SyncSender",
    "UnboundedSender",
    "Receiver",
    "UnboundedReceiver",
    "SegQueue",
    "ArrayQueue",
    "Injector",
    "Stealer",
    "ConcurrentQueue",
    "WeakSender",
    "WeakUnboundedSender",
];

/// Scalar interior-mutable types: flags and permits.
const INTERIOR_SCALAR: &[&str] = &["Semaphore", "Notify", "Condvar", "Barrier"];

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
    "BptreeMap",
    "ARCache",
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
    "sharded_slab",
    "cht",
    "lockfree",
    "contrie",
];

/// Names of collections: counted as collections from any crate when behind a lock (where
/// either way the global is reported), but not trusted to be immutable elsewhere unless the
/// crate is known.
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

/// Names trusted without a crate only for bare names nothing in scope defines (the linter's
/// behaviour before it resolved paths): the prelude and the most common library types.
const UNRESOLVED_IMMUTABLE: &[&str] = &[
    "String",
    "str",
    "PathBuf",
    "Path",
    "OsString",
    "OsStr",
    "CString",
    "CStr",
    "Regex",
    "RegexSet",
    "Uuid",
    "Url",
    "Uri",
    "Bytes",
    "IpAddr",
    "Ipv4Addr",
    "Ipv6Addr",
    "SocketAddr",
    "Tera",
    "Handlebars",
    "Glob",
    "GlobSet",
    "AhoCorasick",
    "Encoding",
    "Decimal",
    "BigInt",
    "BigUint",
    "HeaderValue",
];

const UNRESOLVED_SCALAR: &[&str] = &[
    "Duration",
    "Instant",
    "SystemTime",
    "Ordering",
    "Level",
    "LevelFilter",
    "Method",
    "StatusCode",
    "HeaderName",
    "TypeId",
    "Layout",
    "Infallible",
    "NaiveDate",
    "NaiveDateTime",
    "DateTime",
    "Utc",
    "Tz",
];

/// The prelude's types: what a bare name means when nothing in scope defines it.
pub fn is_prelude(name: &str) -> bool {
    matches!(name, "String" | "str" | "Vec" | "Option" | "Result" | "Box")
        || PRIMITIVES.contains(&name)
}

/// Classifies a path. `None` means "not a type we know": the caller treats it as unknown.
pub fn lookup(segments: &[String], has_args: bool, origin: Origin) -> Option<Known> {
    let name = segments.last()?.as_str();
    // `spin::Once<T>` holds a value like `OnceCell`; `std::sync::Once` is a bare flag.
    if name == "Once" {
        return Some(if has_args { Known::Lazy } else { Known::Scalar });
    }
    if segments.len() == 1 && PRIMITIVES.contains(&name) {
        return Some(Known::Scalar);
    }
    let krate = segments[0].as_str();
    if origin == Origin::Full && segments.len() > 1 {
        if STD_CRATES.contains(&krate) {
            // tokio-style `std::sync::mpsc::Sender` is a channel; the table wins otherwise.
            if let Some(&(_, k)) = STD.iter().find(|(names, _)| names.contains(&name)) {
                return Some(k);
            }
            if is_atomic(name) {
                return Some(Known::Interior);
            }
        }
        if let Some(e) = CRATES.iter().find(|e| {
            e.names.contains(&name)
                && e.crates.contains(&krate)
                && e.module
                    .is_none_or(|m| segments[1..].iter().any(|s| s == m))
        }) {
            return Some(e.known);
        }
    }
    by_name(segments, name, origin)
}

/// The name lists: mutable kinds from any crate; immutable kinds only for unresolved names.
fn by_name(segments: &[String], name: &str, origin: Origin) -> Option<Known> {
    let from_concurrent_crate = segments
        .iter()
        .any(|s| CONCURRENT_CRATES.contains(&s.as_str()));
    let transparent_std = STD
        .iter()
        .any(|(names, k)| *k == Known::Transparent && names.contains(&name));
    if from_concurrent_crate && segments.len() > 1 && !transparent_std {
        return Some(Known::ConcurrentMap);
    }
    if CONCURRENT_MAP.contains(&name) {
        return Some(Known::ConcurrentMap);
    }
    if LAZY.contains(&name) {
        return Some(Known::Lazy);
    }
    if INTERIOR.contains(&name) || is_atomic(name) {
        return Some(Known::Interior);
    }
    if CHANNEL.contains(&name) {
        return Some(Known::Channel);
    }
    if COLLECTION.contains(&name) {
        if GENERIC_COLLECTION_NAMES.contains(&name) && segments.len() == 1 {
            return None;
        }
        return Some(if origin == Origin::Unresolved {
            Known::Collection
        } else {
            Known::UntrustedCollection
        });
    }
    if origin == Origin::Unresolved {
        if transparent_std {
            return Some(Known::Transparent);
        }
        if UNRESOLVED_IMMUTABLE.contains(&name) {
            return Some(Known::Immutable);
        }
        if UNRESOLVED_SCALAR.contains(&name) || PRIMITIVES.contains(&name) {
            return Some(Known::Scalar);
        }
    }
    None
}

/// Whether a scalar interior-mutable type holds no data of its own (`Semaphore`, `Notify`).
pub fn is_scalar_interior(segments: &[String]) -> bool {
    segments
        .last()
        .is_some_and(|n| INTERIOR_SCALAR.contains(&n.as_str()) || is_atomic(n))
}

fn is_atomic(name: &str) -> bool {
    name.strip_prefix("Atomic")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        && !matches!(
            name,
            "AtomicCell" | "AtomicRefCell" | "AtomicOption" | "AtomicTake" | "AtomicLazyCell"
        )
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

    fn full(s: &str) -> Option<Known> {
        lookup(&seg(s), false, Origin::Full)
    }

    #[test]
    fn classifies_by_name_and_crate() {
        assert_eq!(
            lookup(&seg("std::sync::Mutex"), true, Origin::Full),
            Some(Known::Interior)
        );
        assert_eq!(full("std::sync::atomic::AtomicU64"), Some(Known::Interior));
        assert_eq!(
            lookup(&seg("AtomicU64"), false, Origin::Unresolved),
            Some(Known::Interior)
        );
        assert_eq!(lookup(&seg("Atomics"), false, Origin::Unresolved), None);
        assert_eq!(full("papaya::HashMap"), Some(Known::ConcurrentMap));
        assert_eq!(full("sharded_slab::Slab"), Some(Known::ConcurrentMap));
        assert_eq!(full("std::collections::HashMap"), Some(Known::Collection));
        assert_eq!(
            lookup(&seg("spin::Once"), true, Origin::Full),
            Some(Known::Lazy)
        );
        assert_eq!(full("std::sync::Once"), Some(Known::Scalar));
        assert_eq!(lookup(&seg("Cache"), true, Origin::Unresolved), None);
        assert_eq!(full("lru::LruCache"), Some(Known::Collection));
        assert_eq!(full("tokio::sync::mpsc::Sender"), Some(Known::Channel));
        assert_eq!(full("tokio::sync::watch::Receiver"), Some(Known::Watch));
        assert_eq!(full("prometheus::IntCounterVec"), Some(Known::Metric));
        assert_eq!(
            full("concread::bptree::BptreeMap"),
            Some(Known::ConcurrentMap)
        );
        assert_eq!(full("concread::cowcell::CowCell"), Some(Known::Interior));
        assert_eq!(
            full("governor::state::keyed::DashMapStateStore"),
            Some(Known::ConcurrentMap)
        );
    }

    #[test]
    fn immutable_library_types_by_full_path() {
        for p in [
            "chrono::TimeDelta",
            "chrono::Duration",
            "chrono::naive::NaiveDate",
            "time::OffsetDateTime",
            "axum::http::StatusCode",
            "reqwest::Method",
            "uuid::Uuid",
        ] {
            assert_eq!(full(p), Some(Known::Scalar), "{p}");
        }
        for p in [
            "regex::Regex",
            "url::Url",
            "semver::Version",
            "base64::engine::GeneralPurpose",
            "base64::engine::general_purpose::GeneralPurpose",
            "jsonwebtoken::Header",
            "jsonwebtoken::EncodingKey",
            "markdown_it::MarkdownIt",
            "syntect::parsing::SyntaxSet",
            "tree_sitter::Query",
            "webauthn_rs::prelude::Webauthn",
            "serde_json::Value",
            "levenshtein_automata::LevenshteinAutomatonBuilder",
            "smartstring::alias::String",
            "http::HeaderValue",
        ] {
            assert_eq!(full(p), Some(Known::Immutable), "{p}");
        }
    }

    #[test]
    fn immutable_names_are_not_trusted_from_other_crates() {
        // The soundness hole of suffix matching: a std name from any other crate.
        assert_eq!(full("evil::String"), None);
        assert_eq!(full("evil::Arc"), None);
        assert_eq!(full("evil::Duration"), None);
        assert_eq!(full("evil::Vec"), Some(Known::UntrustedCollection));
        assert_eq!(full("evil::Header"), None);
        assert_eq!(full("evil::time::Duration"), None);
        assert_eq!(full("evil::http::StatusCode"), None);
        // A bare name nothing defines falls back to the name lists.
        assert_eq!(
            lookup(&seg("String"), false, Origin::Unresolved),
            Some(Known::Immutable)
        );
        assert_eq!(
            lookup(&seg("Vec"), true, Origin::Unresolved),
            Some(Known::Collection)
        );
    }

    #[test]
    fn every_library_row_says_why() {
        for e in CRATES {
            assert!(!e.why.is_empty() && !e.crates.is_empty() && !e.names.is_empty());
        }
    }
}
