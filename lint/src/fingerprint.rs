//! What identifies a finding across edits, for baselines and SARIF `partialFingerprints`:
//! the rule, the file (relative to its workspace root), the item path
//! ([`Diagnostic::item_path`]) and, for baselines, a hash of the item's normalised text.
//!
//! The normalised text of an item is its token sequence: comments, doc comments (`///`,
//! `#[doc]`) and whitespace are dropped, every identifier, literal and punctuation character is
//! kept as written, and groups keep their delimiters. Reformatting, moving the item, editing its
//! docs or anything outside it keeps the hash; changing its type, initialiser, attributes or
//! (for an accessor fn) its signature or body changes it. The item is the one whose name the
//! finding points at: a `static` (also inside `thread_local!`/`lazy_static!`, where it runs to
//! its `;`) or a fn. A finding at no item (a suppression comment) hashes the text of its lines,
//! whitespace collapsed. The hash is 64-bit FNV-1a, written as 16 hex digits: stable across
//! platforms, Rust versions and runs.

use std::collections::BTreeMap;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::{self, Visit};

use crate::diagnostic::{Diagnostic, Loc};
use crate::source::{FileId, SourceDb};

/// 64-bit FNV-1a.
pub(crate) fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `rule`, file and item path of `d`, hashed: SARIF's `partialFingerprints` value (before an
/// occurrence suffix for look-alikes).
pub(crate) fn identity(d: &Diagnostic, sources: &SourceDb) -> String {
    let file = &sources.path(d.primary.file).workspace_rel;
    let key = format!("{}\u{1f}{file}\u{1f}{}", d.rule.id, d.item_path);
    format!("{:016x}", fnv64(key.as_bytes()))
}

/// The hash of the normalised text of each diagnostic's item, in order (see the module docs).
/// Each file with a finding is parsed again, once, on a thread with a parser-sized stack.
pub(crate) fn item_hashes(diagnostics: &[&Diagnostic], sources: &SourceDb) -> Vec<String> {
    let mut by_file: BTreeMap<FileId, Vec<(usize, Loc)>> = BTreeMap::new();
    for (i, d) in diagnostics.iter().enumerate() {
        by_file
            .entry(d.primary.file)
            .or_default()
            .push((i, d.primary.loc));
    }
    let work = |parse: bool| -> Vec<(usize, u64)> {
        let mut hashes = Vec::new();
        for (file, wanted) in &by_file {
            let text = sources.text(*file).unwrap_or_default();
            let locs = wanted.iter().map(|(_, loc)| *loc);
            let found = if parse {
                hash_items(&text, locs)
            } else {
                locs.map(|l| line_hash(&text, &l)).collect()
            };
            hashes.extend(wanted.iter().map(|(i, _)| *i).zip(found));
        }
        hashes
    };
    let hashes = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(PARSER_STACK)
            .spawn_scoped(s, || work(true))
            .ok()
            .and_then(|t| t.join().ok())
    })
    // No thread to be had (or it failed): parsing on this stack is not safe; hash the lines.
    .unwrap_or_else(|| work(false));
    let mut out = vec![String::new(); diagnostics.len()];
    for (i, h) in hashes {
        out[i] = format!("{h:016x}");
    }
    out
}

/// Stack size of the thread that parses files again (syn parses recursively).
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Hashes of the items named at `locs` in `text` (the line fallback where no item is named
/// there, or the text does not parse).
fn hash_items(text: &str, locs: impl Iterator<Item = Loc>) -> Vec<u64> {
    let locs: Vec<Loc> = locs.collect();
    let mut finder = Finder {
        wanted: locs.iter().map(|l| (l.line, l.column)).collect(),
        found: BTreeMap::new(),
    };
    if crate::parse::max_nesting(text) <= crate::parse::MAX_NESTING
        && let Ok(file) = syn::parse_file(text)
    {
        finder.visit_file(&file);
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    locs.iter()
        .map(|l| {
            finder
                .found
                .get(&(l.line, l.column))
                .copied()
                .unwrap_or_else(|| line_hash(text, l))
        })
        .collect()
}

/// The lines of `loc`, whitespace collapsed.
fn line_hash(text: &str, loc: &Loc) -> u64 {
    let lines: Vec<&str> = text
        .lines()
        .skip(loc.line.saturating_sub(1) as usize)
        .take((loc.end_line.saturating_sub(loc.line) + 1) as usize)
        .collect();
    let collapsed = lines
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    fnv64(collapsed.as_bytes())
}

/// Walks a file for the items whose names sit at the wanted positions.
struct Finder {
    wanted: Vec<(u32, u32)>,
    found: BTreeMap<(u32, u32), u64>,
}

fn at(ident: &proc_macro2::Ident) -> (u32, u32) {
    let start = ident.span().start();
    (start.line as u32, start.column as u32 + 1)
}

impl Finder {
    fn consider(&mut self, ident: &proc_macro2::Ident, tokens: impl FnOnce() -> TokenStream) {
        let pos = at(ident);
        if self.wanted.contains(&pos) && !self.found.contains_key(&pos) {
            self.found.insert(pos, hash_tokens(tokens()));
        }
    }

    /// The items of a `thread_local!`/`lazy_static!` body: each runs to its `;`.
    fn macro_body(&mut self, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for item in trees.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';')) {
            let name = item.iter().find_map(|t| match t {
                TokenTree::Ident(i) if self.wanted.contains(&at(i)) => Some(i.clone()),
                _ => None,
            });
            if let Some(name) = name {
                self.consider(&name, || item.iter().cloned().collect());
            }
        }
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        self.consider(&item.ident, || item.to_token_stream());
        visit::visit_item_static(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.consider(&item.sig.ident, || item.to_token_stream());
        visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.consider(&item.sig.ident, || item.to_token_stream());
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        self.consider(&item.sig.ident, || item.to_token_stream());
        visit::visit_trait_item_fn(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        if matches!(name.as_deref(), Some("thread_local" | "lazy_static")) {
            self.macro_body(&mac.tokens);
        }
        visit::visit_macro(self, mac);
    }
}

/// FNV-1a over the token sequence, doc attributes left out.
fn hash_tokens(tokens: TokenStream) -> u64 {
    let mut text = String::new();
    write_tokens(tokens, &mut text);
    fnv64(text.as_bytes())
}

fn write_tokens(tokens: TokenStream, out: &mut String) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        if let Some(len) = doc_attribute_len(&trees[i..]) {
            i += len;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                out.push('\u{1f}');
                write_tokens(g.stream(), out);
                out.push_str(close);
            }
            TokenTree::Ident(ident) => out.push_str(&ident.to_string()),
            TokenTree::Punct(p) => out.push(p.as_char()),
            TokenTree::Literal(l) => out.push_str(&l.to_string()),
        }
        out.push('\u{1f}');
        i += 1;
    }
}

/// `#[doc ...]` or `#![doc ...]` at the start of `trees`: how many trees it spans.
fn doc_attribute_len(trees: &[TokenTree]) -> Option<usize> {
    let TokenTree::Punct(hash) = trees.first()? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    let bang = matches!(trees.get(1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
    let group_at = 1 + usize::from(bang);
    let TokenTree::Group(g) = trees.get(group_at)? else {
        return None;
    };
    let first = g.stream().into_iter().next();
    let is_doc = g.delimiter() == Delimiter::Bracket
        && matches!(first, Some(TokenTree::Ident(i)) if i == "doc");
    is_doc.then_some(group_at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: u32, column: u32) -> Loc {
        Loc {
            line,
            column,
            end_line: line,
            end_column: column + 1,
            ..Loc::default()
        }
    }

    fn hash_at(text: &str, line: u32, column: u32) -> u64 {
        hash_items(text, std::iter::once(loc(line, column)))[0]
    }

    #[test]
    fn formatting_comments_docs_and_moves_keep_the_hash() {
        let a = "static mut COUNT: u32 = 0;\n";
        let b = "// a comment\n\n/// Counts.\n/// More docs.\nstatic   mut COUNT :u32=\n    0 ; // trailing\n";
        assert_eq!(hash_at(a, 1, 12), hash_at(b, 5, 14));
        let c = "static mut COUNT: u64 = 0;\n";
        assert_ne!(
            hash_at(a, 1, 12),
            hash_at(c, 1, 12),
            "the type is part of the item"
        );
        let d = "static mut COUNT: u32 = 1;\n";
        assert_ne!(
            hash_at(a, 1, 12),
            hash_at(d, 1, 12),
            "so is the initialiser"
        );
    }

    #[test]
    fn items_inside_macros_fns_and_impls() {
        let text = "thread_local! {\n    static A: Cell<u8> = Cell::new(0);\n    static B: RefCell<Vec<u8>> = RefCell::new(Vec::new())\n}\n\
                    fn f() { static X: AtomicU8 = AtomicU8::new(0); }\n\
                    impl S { fn get() -> &'static S { &S } }\n";
        let a = hash_at(text, 2, 12);
        let b = hash_at(text, 3, 12);
        assert_ne!(a, b);
        let alone = "thread_local! { static A: Cell<u8> = Cell::new(0) }\n";
        assert_eq!(
            a,
            hash_at(alone, 1, 24),
            "one item, whatever its neighbours"
        );
        let x = hash_at(text, 5, 17);
        let x_alone = "static X: AtomicU8 = AtomicU8::new(0);\n";
        assert_eq!(x, hash_at(x_alone, 1, 8));
        let get = hash_at(text, 6, 13);
        let get_moved = "\n\nimpl S {\n    fn get() -> &'static S {\n        &S\n    }\n}\n";
        assert_eq!(get, hash_at(get_moved, 4, 8));
    }

    #[test]
    fn no_item_at_the_position_hashes_the_lines() {
        let text = "// isolate: allow(static_mut)   --   why\nstatic A: u8 = 0;\n";
        let moved = "\n\n   // isolate: allow(static_mut) -- why\n";
        assert_eq!(hash_at(text, 1, 1), hash_at(moved, 3, 4));
        assert_eq!(
            hash_items("fn (", std::iter::once(loc(1, 1))),
            vec![line_hash("fn (", &loc(1, 1))]
        );
    }

    #[test]
    fn fnv_is_the_reference_function() {
        assert_eq!(fnv64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
