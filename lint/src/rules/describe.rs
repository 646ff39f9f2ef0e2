//! What the global rules say: the path to the mutable part of a global ("`WS_USERS`:
//! `WebSocketUsers.map` is a `DashMap<..>`", with a related span at each field on the way, in
//! whatever file it is declared), and help that fits the kind of state - a metrics counter is
//! not told to key its entries by user, a per-thread scratch buffer is not told to move into a
//! per-request engine.

use super::GlobalView;
use crate::classify::trail::{Target, Trail};
use crate::classify::{StateKind, TypeIndex};
use crate::diagnostic::{Loc, Related, Span};
use crate::facts::{LocalModule, TypeExpr};
use crate::source::FileId;

/// The part of a global a message is about.
pub(crate) struct Part {
    /// `: `WebSocketUsers.map` is a `DashMap<..>`` - empty when the global's own type shows it.
    pub detail: String,
    pub related: Vec<Related>,
    /// The part's type as written, when it was found through a field or an alias.
    pub part: Option<String>,
}

/// The target a state kind's message names.
pub(crate) fn target_of(kind: StateKind) -> Target {
    match kind {
        StateKind::ConcurrentMap => Target::ConcurrentMap,
        StateKind::LockedCollection | StateKind::ScratchBuffer => Target::LockedCollection,
        StateKind::Channel => Target::Channel,
        StateKind::Watch => Target::Watch,
        StateKind::Metric => Target::Metric,
        StateKind::LockedData => Target::LockedData,
        StateKind::UnknownContents => Target::Unknown,
        StateKind::Scalar | StateKind::StaticMut | StateKind::Constant => Target::Interior,
    }
}

/// Finds the part `target` names in `v`'s type. Nothing is said when the part is the global's
/// type itself (its type is in the message already) or cannot be found.
pub(crate) fn part(v: &GlobalView, target: Target) -> Part {
    part_of(
        v.types,
        v.classified_type(),
        v.file,
        v.global.module,
        target,
    )
}

/// Finds the part `target` names in `ty`, written in `module` of `file` (a global's type, or an
/// application state field's).
pub(crate) fn part_of(
    types: &TypeIndex,
    ty: &TypeExpr,
    file: FileId,
    module: LocalModule,
    target: Target,
) -> Part {
    let none = Part {
        detail: String::new(),
        related: Vec::new(),
        part: None,
    };
    let Some(trail) = types.trail(ty, file, module, target) else {
        return none;
    };
    if trail.steps.is_empty() {
        return Part {
            part: Some(trail.part),
            ..none
        };
    }
    Part {
        detail: detail(&trail, target),
        related: related(&trail),
        part: Some(trail.part.clone()),
    }
}

fn detail(t: &Trail, target: Target) -> String {
    let fields = t.field_path();
    let subject = if fields.is_empty() {
        // Only aliases on the way: name the outermost.
        t.steps.first().map(|s| s.owner.clone()).unwrap_or_default()
    } else {
        fields
    };
    let behind = match (&t.lock, target) {
        (Some(lock), Target::LockedCollection) => format!(" behind `{lock}`"),
        _ => String::new(),
    };
    let unknown = if target == Target::Unknown {
        ", which the linter cannot see into"
    } else {
        ""
    };
    let full = match &t.full {
        Some(f) => format!(" (`{f}`)"),
        None => String::new(),
    };
    format!(": `{subject}` is a `{}`{full}{behind}{unknown}", t.part)
}

fn related(t: &Trail) -> Vec<Related> {
    t.steps
        .iter()
        .filter(|s| s.pos.0 > 0)
        .map(|s| {
            let (name, message) = if s.field.is_empty() {
                (
                    s.owner.rsplit('.').next().unwrap_or(&s.owner).to_string(),
                    format!("`{}` is declared here", s.owner),
                )
            } else {
                let last = s.field.rsplit('.').next().unwrap_or(&s.field).to_string();
                (last, format!("`{}.{}` is declared here", s.owner, s.field))
            };
            let width = name.chars().count() as u32;
            Related {
                span: Span {
                    file: s.file,
                    loc: Loc::on_line(s.pos.0, s.pos.1, width),
                },
                message,
            }
        })
        .collect()
}

/// Who shares a global.
pub(crate) fn sharers(v: &GlobalView) -> &'static str {
    if v.is_thread_local() {
        "every request that runs on the same thread"
    } else {
        "every request of every user"
    }
}

/// Help that fits the state kind (`rule_id` names the rule for a suppression example).
pub(crate) fn help(v: &GlobalView, kind: StateKind, rule_id: &str, part: &Part) -> String {
    if v.is_thread_local() {
        return thread_local_help(kind, rule_id);
    }
    match kind {
        StateKind::ConcurrentMap | StateKind::LockedCollection => {
            "keep the collection in a per-request engine (a fresh field of a \
             #[derive(isolate::RequestScoped)] struct); if it must outlive the request, key \
             every entry by the authenticated user"
                .into()
        }
        StateKind::Channel => "every request sends into (or receives from) the same queue: make \
             each message carry the user it belongs to and never hand it to another user's \
             request, or create the channel per request or run"
            .into(),
        StateKind::Watch => format!(
            "a watched configuration value is read by every request: fine when it holds no \
             user data; pass the watcher in app state (isolate::Shared<T>) rather than through \
             a global, or suppress with a reason: // isolate: allow({rule_id}) -- configuration"
        ),
        StateKind::Metric => format!(
            "a metrics instrument counts across users by design: keep user identifiers out of \
             its labels (they would be shared, unbounded state) and suppress with a reason: \
             // isolate: allow({rule_id}) -- metrics"
        ),
        StateKind::Scalar => format!(
            "a shared counter, flag or id is fine when it never decides what one user sees \
             (metrics, id generators, start-up flags): suppress it with a reason then, e.g. \
             // isolate: allow({rule_id}) -- metrics only; per-request values belong in the \
             RequestContext or a #[derive(isolate::RequestScoped)] struct"
        ),
        StateKind::UnknownContents => {
            let mut h = String::from(
                "build it per request with an isolate factory (#[derive(isolate::RequestScoped)]); \
                 pass request-agnostic clients explicitly as isolate::Shared<T>",
            );
            if let Some(p) = &part.part {
                let name = p.split('<').next().unwrap_or(p);
                h.push_str(&format!(
                    "; if `{name}` holds no mutable state, list it in `immutable_types` \
                     (isolate.toml)"
                ));
            }
            h
        }
        StateKind::LockedData
        | StateKind::ScratchBuffer
        | StateKind::StaticMut
        | StateKind::Constant => "move the state into a per-request struct \
             (#[derive(isolate::RequestScoped)]) or the RequestContext"
            .into(),
    }
}

fn thread_local_help(kind: StateKind, rule_id: &str) -> String {
    match kind {
        StateKind::ScratchBuffer => format!(
            "a per-thread scratch buffer of plain values carries no user data if it is cleared \
             before every use and never held across an .await; allocate it per call if that is \
             not so, else suppress with a reason: // isolate: allow({rule_id}) -- scratch \
             buffer, cleared before use"
        ),
        StateKind::ConcurrentMap | StateKind::LockedCollection | StateKind::Channel => {
            "a thread-local is reused by every request that runs on the thread (and an async \
             request can move to another thread at each .await): keep the collection in \
             per-request state (a fresh field of a #[derive(isolate::RequestScoped)] struct) or \
             pass it explicitly"
                .into()
        }
        _ => "an async runtime runs many users' requests on one thread (and an async request \
              can move to another thread at each .await): pass the value in the RequestContext \
              or a per-request struct instead"
            .into(),
    }
}
