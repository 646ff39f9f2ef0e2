//! Between the linter's positions and the protocol's: position encodings, line indexes, URIs.
//!
//! The linter counts lines from 1 and columns in characters from 1 ([`Loc`]); LSP counts both
//! from 0 and measures columns in the code units of the negotiated encoding (UTF-16 unless the
//! client offers UTF-8 or UTF-32). A line ends at `\n` (a `\r` before it is not part of the
//! line's length), as in the linter's own line count.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position,
    PositionEncodingKind, Range, Url,
};

use crate::diagnostic::{Diagnostic, Loc, Severity, Span};
use crate::source::FileId;
use crate::{ConfigFailure, Workspace};

/// The unit LSP columns are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The first encoding the client offers (its order is its preference), else UTF-16, the
    /// protocol's default and the only one every client must support.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        offered
            .unwrap_or_default()
            .iter()
            .find_map(|k| match k.as_str() {
                "utf-8" => Some(Encoding::Utf8),
                "utf-16" => Some(Encoding::Utf16),
                "utf-32" => Some(Encoding::Utf32),
                _ => None,
            })
            .unwrap_or(Encoding::Utf16)
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }

    /// How many code units `c` takes.
    fn units(self, c: char) -> u32 {
        match self {
            Encoding::Utf8 => c.len_utf8() as u32,
            Encoding::Utf16 => c.len_utf16() as u32,
            Encoding::Utf32 => 1,
        }
    }
}

/// Where each line of a text starts, for conversions in both directions.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each line's first character; always holds 0.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The text of line `line` (0-based) without its line ending; empty past the end.
    fn line(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line) else {
            return "";
        };
        let end = self.starts.get(line + 1).map_or(self.text.len(), |e| e - 1);
        let l = &self.text[start..end];
        l.strip_suffix('\r').unwrap_or(l)
    }

    /// The byte offset of `pos`, clamped as the protocol asks: a line past the end is the end
    /// of the text, a character past the end of its line is the line's end, and a position
    /// inside a character (half a UTF-16 surrogate pair, a UTF-8 continuation byte) is that
    /// character's start.
    pub fn offset(&self, pos: Position, enc: Encoding) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        let mut units = 0u32;
        for (i, c) in self.line(line).char_indices() {
            units += enc.units(c);
            if units > pos.character {
                return start + i;
            }
        }
        start + self.line(line).len()
    }

    /// The position of byte `offset` (clamped to the text, and back to a character start).
    pub fn position(&self, offset: usize, enc: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let before = &self.text[self.starts[line]..offset];
        Position::new(line as u32, before.chars().map(|c| enc.units(c)).sum())
    }

    /// The position of the linter's 1-based `line` and `column` (in characters), clamped to
    /// the line's end.
    pub fn line_column(&self, line: u32, column: u32, enc: Encoding) -> Position {
        let l = line.saturating_sub(1);
        let chars = column.saturating_sub(1) as usize;
        let units = self
            .line(l as usize)
            .chars()
            .take(chars)
            .map(|c| enc.units(c))
            .sum();
        Position::new(l, units)
    }

    /// The range of a linter position.
    pub fn range(&self, loc: &Loc, enc: Encoding) -> Range {
        Range::new(
            self.line_column(loc.line, loc.column, enc),
            self.line_column(loc.end_line, loc.end_column, enc),
        )
    }
}

/// A linter position as a range when the file's text is not at hand: columns counted in
/// characters, right for the ASCII lines that almost every Rust line is.
pub(crate) fn range_without_text(loc: &Loc) -> Range {
    let p =
        |line: u32, column: u32| Position::new(line.saturating_sub(1), column.saturating_sub(1));
    Range::new(p(loc.line, loc.column), p(loc.end_line, loc.end_column))
}

/// The absolute path a `file:` URI names (`None` for other schemes and remote hosts), with
/// `.` and `..` removed as the workspace stores paths.
pub(crate) fn path_of(uri: &Url) -> Option<PathBuf> {
    if uri.scheme() != "file" {
        return None;
    }
    let path = uri.to_file_path().ok()?;
    path.is_absolute().then(|| crate::source::normalize(&path))
}

/// The `file:` URI of an absolute path.
pub(crate) fn uri_of(path: &Path) -> Option<Url> {
    Url::from_file_path(path).ok()
}

/// File texts for conversions: the workspace's (it keeps every open document's and every
/// file a finding can point into), else the disk's, for a related span into a file whose text
/// was not kept (never an open document: those are always in the workspace).
pub(crate) struct Texts<'a> {
    ws: &'a Workspace,
    cache: HashMap<FileId, Option<String>>,
}

impl<'a> Texts<'a> {
    pub fn new(ws: &'a Workspace) -> Self {
        Texts {
            ws,
            cache: HashMap::new(),
        }
    }

    pub fn get(&mut self, file: FileId) -> Option<&str> {
        let ws = self.ws;
        self.cache
            .entry(file)
            .or_insert_with(|| {
                ws.sources()
                    .text(file)
                    .or_else(|| std::fs::read_to_string(&ws.sources().path(file).abs).ok())
            })
            .as_deref()
    }

    /// The range of a span in its file's text.
    pub fn range(&mut self, span: &Span, enc: Encoding) -> Range {
        match self.get(span.file) {
            Some(text) => LineIndex::new(text).range(&span.loc, enc),
            None => range_without_text(&span.loc),
        }
    }

    /// The range an edit replaces: its byte range when it carries one (exact even for a whole
    /// last line), else its lines and columns.
    pub fn edit_range(&mut self, span: &Span, enc: Encoding) -> Range {
        match self.get(span.file) {
            Some(text) => {
                let idx = LineIndex::new(text);
                match span.loc.bytes_in(text) {
                    Some(b) if b.start <= b.end && b.end <= text.len() => {
                        Range::new(idx.position(b.start, enc), idx.position(b.end, enc))
                    }
                    _ => idx.range(&span.loc, enc),
                }
            }
            None => range_without_text(&span.loc),
        }
    }

    pub fn uri(&self, file: FileId) -> Option<Url> {
        uri_of(&self.ws.sources().path(file).abs)
    }

    pub fn location(&mut self, span: &Span, enc: Encoding) -> Option<Location> {
        Some(Location::new(self.uri(span.file)?, self.range(span, enc)))
    }

    /// How a file is shown in messages: relative to its workspace folder.
    pub fn shown(&self, file: FileId) -> &str {
        &self.ws.sources().path(file).rel
    }
}

/// The code a finding is shown with, as in the linter's other outputs.
pub(crate) fn code(d: &Diagnostic) -> String {
    format!("isolate::{}", d.rule.id)
}

/// A finding as an LSP diagnostic: its message (and help), its rule as the code, its related
/// spans and the steps of its execution path as related information.
pub(crate) fn diagnostic(
    d: &Diagnostic,
    texts: &mut Texts,
    enc: Encoding,
) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut related = Vec::new();
    for r in &d.related {
        if let Some(location) = texts.location(&r.span, enc) {
            related.push(DiagnosticRelatedInformation {
                location,
                message: r.message.clone(),
            });
        }
    }
    let steps = d.execution_path.len();
    for (i, step) in d.execution_path.iter().enumerate() {
        if let Some(location) = texts.location(&step.span, enc) {
            let role = match i {
                0 => "entry point",
                _ if i + 1 == steps => "uses it",
                _ => "calls on",
            };
            related.push(DiagnosticRelatedInformation {
                location,
                message: format!(
                    "execution path {}/{steps}: `{}` ({role})",
                    i + 1,
                    step.function
                ),
            });
        }
    }
    lsp_types::Diagnostic {
        range: texts.range(&d.primary, enc),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(code(d))),
        code_description: None,
        source: Some("isolate".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// A config file that cannot be used, as a diagnostic at the offending spot (the start of the
/// file when there is none).
pub(crate) fn config_diagnostic(
    failure: &ConfigFailure,
    enc: Encoding,
) -> Option<(Url, lsp_types::Diagnostic)> {
    let uri = uri_of(Path::new(failure.path()))?;
    let start = match failure.location() {
        Some((line, column, line_text)) => {
            let units = line_text
                .chars()
                .take(column.saturating_sub(1))
                .map(|c| enc.units(c))
                .sum();
            Position::new(line.saturating_sub(1) as u32, units)
        }
        None => Position::new(0, 0),
    };
    let message = match failure {
        ConfigFailure::Invalid(e) => e.message.clone(),
        ConfigFailure::Read(e) => e.to_string(),
    };
    let d = lsp_types::Diagnostic {
        range: Range::new(start, start),
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String("isolate::config".into())),
        source: Some("isolate".into()),
        message: format!(
            "{message} (isolate keeps its previous configuration until this is fixed)"
        ),
        ..lsp_types::Diagnostic::default()
    };
    Some((uri, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Encoding; 3] = [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32];

    #[test]
    fn negotiation_follows_the_clients_order_and_defaults_to_utf16() {
        use PositionEncodingKind as K;
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(Some(&[])), Encoding::Utf16);
        assert_eq!(
            Encoding::negotiate(Some(&[K::new("utf-7"), K::UTF32, K::UTF8])),
            Encoding::Utf32
        );
        assert_eq!(
            Encoding::negotiate(Some(&[K::UTF8, K::UTF16])),
            Encoding::Utf8
        );
        assert_eq!(
            Encoding::negotiate(Some(&[K::new("latin-1")])),
            Encoding::Utf16
        );
    }

    #[test]
    fn columns_in_every_encoding_on_non_ascii_lines() {
        // `é` is 2 UTF-8 bytes and 1 UTF-16 unit; `🦀` is 4 bytes and 2 UTF-16 units.
        let text = "// é🦀\nstatic mut 🦀É: u8 = 0;\r\n";
        let idx = LineIndex::new(text);
        // The global's name: line 2, characters 12..14 (1-based, end exclusive).
        let loc = Loc {
            line: 2,
            column: 12,
            end_line: 2,
            end_column: 14,
            ..Loc::default()
        };
        let expect = [
            (Encoding::Utf8, 11, 17),
            (Encoding::Utf16, 11, 14),
            (Encoding::Utf32, 11, 13),
        ];
        for (enc, start, end) in expect {
            let r = idx.range(&loc, enc);
            assert_eq!(
                (r.start, r.end),
                (Position::new(1, start), Position::new(1, end)),
                "{enc:?}"
            );
            // And back to bytes: the name itself.
            let bytes = idx.offset(r.start, enc)..idx.offset(r.end, enc);
            assert_eq!(&text[bytes.clone()], "🦀É", "{enc:?}");
            assert_eq!(idx.position(bytes.start, enc), r.start);
            assert_eq!(idx.position(bytes.end, enc), r.end);
        }
    }

    #[test]
    fn hostile_positions_are_clamped() {
        let text = "ab🦀\r\ncd";
        let idx = LineIndex::new(text);
        for enc in ALL {
            // Past the last line: the end of the text.
            assert_eq!(
                idx.offset(Position::new(u32::MAX, u32::MAX), enc),
                text.len()
            );
            // Past the end of a line: its end, before the `\r\n`.
            assert_eq!(idx.offset(Position::new(0, 1000), enc), 6);
            assert_eq!(idx.offset(Position::new(1, 7), enc), text.len());
        }
        // Inside the crab: its first byte.
        assert_eq!(idx.offset(Position::new(0, 3), Encoding::Utf16), 2);
        assert_eq!(idx.offset(Position::new(0, 4), Encoding::Utf8), 2);
        // Offsets past the end or inside a character.
        assert_eq!(
            idx.position(usize::MAX, Encoding::Utf16),
            Position::new(1, 2)
        );
        assert_eq!(idx.position(4, Encoding::Utf16), Position::new(0, 2));
        // Linter positions past a line's end stop at it.
        assert_eq!(idx.line_column(1, 99, Encoding::Utf16), Position::new(0, 4));
        assert_eq!(idx.line_column(9, 3, Encoding::Utf16), Position::new(8, 0));
        let empty = LineIndex::new("");
        assert_eq!(empty.offset(Position::new(3, 3), Encoding::Utf8), 0);
        assert_eq!(empty.position(3, Encoding::Utf8), Position::new(0, 0));
    }

    #[test]
    fn uris() {
        let p = path_of(&Url::parse("file:///w/app/src/a%20b/../lib.rs").unwrap()).unwrap();
        assert_eq!(p, PathBuf::from("/w/app/src/lib.rs"));
        assert_eq!(uri_of(&p).unwrap().as_str(), "file:///w/app/src/lib.rs");
        assert_eq!(path_of(&Url::parse("untitled:Untitled-1").unwrap()), None);
        assert_eq!(
            path_of(&Url::parse("file://host/share/a.rs").unwrap()),
            None
        );
        let spaced = uri_of(Path::new("/w/my app/é.rs")).unwrap();
        assert_eq!(spaced.as_str(), "file:///w/my%20app/%C3%A9.rs");
        assert_eq!(path_of(&spaced).unwrap(), PathBuf::from("/w/my app/é.rs"));
    }
}
