//! One function per notification and request the server handles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lsp_server::ErrorCode;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, FileChangeType, Hover, HoverContents, HoverParams, MarkupContent,
    MarkupKind, MessageType, Range, TextEdit, Url, WorkspaceEdit,
};
use serde_json::Value;

use super::convert::{self, Texts};
use super::server::{CONFIG_FILES, Failure, Server};
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::suppress;

/// The path of a document the server lints (a `file:` URI of a `.rs` file), or `None` after
/// logging why not.
fn rust_file(s: &Server, uri: &Url) -> Option<PathBuf> {
    let Some(path) = convert::path_of(uri) else {
        s.out.log(
            MessageType::INFO,
            format!("ignored {uri}: only file: URIs are linted"),
        );
        return None;
    };
    path.extension().is_some_and(|e| e == "rs").then_some(path)
}

fn is_config(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| CONFIG_FILES.iter().any(|c| n == *c))
}

pub(super) fn did_open(s: &mut Server, p: DidOpenTextDocumentParams) {
    let doc = p.text_document;
    let Some(path) = rust_file(s, &doc.uri) else {
        return;
    };
    s.docs.open(path, doc.version, doc.text);
    s.debounce.now(Instant::now());
}

pub(super) fn did_change(s: &mut Server, p: DidChangeTextDocumentParams) {
    let Some(path) = rust_file(s, &p.text_document.uri) else {
        return;
    };
    match s
        .docs
        .change(&path, p.text_document.version, p.content_changes, s.enc)
    {
        Ok(()) => s.debounce.changed(Instant::now()),
        Err(why) => s.out.log(
            MessageType::WARNING,
            format!("ignored a change to {}: {why}", p.text_document.uri),
        ),
    }
}

pub(super) fn did_save(s: &mut Server, p: DidSaveTextDocumentParams) {
    let Some(path) = convert::path_of(&p.text_document.uri) else {
        return;
    };
    if is_config(&path) {
        s.out.log(
            MessageType::INFO,
            format!("{} saved: reloading the workspace", path.display()),
        );
        s.start_load();
        return;
    }
    if !s.docs.is_open(&path) {
        return;
    }
    if let Some(text) = p.text {
        let full = lsp_types::TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text,
        };
        let version = s.docs.get(&path).map_or(0, |d| d.version);
        let _ = s.docs.change(&path, version, vec![full], s.enc);
    }
    s.debounce.now(Instant::now());
}

pub(super) fn did_close(s: &mut Server, p: DidCloseTextDocumentParams) {
    let Some(path) = rust_file(s, &p.text_document.uri) else {
        return;
    };
    if s.docs.close(&path).is_none() {
        return;
    }
    // Unsaved changes are gone: the file is what the disk says again (a file that is not
    // there, or was linted only because it was open, is emptied and so cleared).
    if s.ws.file_id(&path).is_some() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        s.ws.set_file_text(&path, text);
        s.debounce.changed(Instant::now());
    }
}

pub(super) fn watched_files_changed(s: &mut Server, p: DidChangeWatchedFilesParams) {
    let mut reload = false;
    let mut changed = false;
    for change in p.changes {
        let Some(path) = convert::path_of(&change.uri) else {
            continue;
        };
        if is_config(&path) {
            reload = true;
        } else if path.extension().is_some_and(|e| e == "rs") && !s.docs.is_open(&path) {
            // New and deleted files change what the walk finds; a changed file is read alone.
            if change.typ == FileChangeType::CHANGED {
                if s.ws.file_id(&path).is_some() {
                    match std::fs::read_to_string(&path) {
                        Ok(text) => {
                            s.ws.set_file_text(&path, text);
                            changed = true;
                        }
                        Err(e) => s.out.log(
                            MessageType::WARNING,
                            format!("cannot read {}: {e}", path.display()),
                        ),
                    }
                }
            } else {
                reload = true;
            }
        }
    }
    if reload {
        s.start_load();
    } else if changed {
        s.debounce.changed(Instant::now());
    }
}

/// The findings of the open file at `uri` whose range meets `range`, with their ranges, after
/// analysing any change the client made since the last analysis.
fn findings_at(s: &mut Server, uri: &Url, range: Range) -> Vec<(Diagnostic, Range)> {
    let Some(path) = convert::path_of(uri) else {
        return Vec::new();
    };
    s.flush();
    let Some(file) = s.ws.file_id(&path) else {
        return Vec::new();
    };
    let mut texts = Texts::new(&s.ws);
    s.report
        .diagnostics
        .iter()
        .filter(|d| d.primary.file == file)
        .filter_map(|d| {
            let r = texts.range(&d.primary, s.enc);
            (r.start <= range.end && range.start <= r.end).then(|| (d.clone(), r))
        })
        .collect()
}

pub(super) fn hover(s: &mut Server, p: HoverParams) -> Result<Value, Failure> {
    let at = p.text_document_position_params;
    let pos = at.position;
    let found = findings_at(s, &at.text_document.uri, Range::new(pos, pos));
    let Some(range) = found.first().map(|(_, r)| *r) else {
        return Ok(Value::Null);
    };
    let texts = Texts::new(&s.ws);
    let parts: Vec<String> = found.iter().map(|(d, _)| hover_text(d, &texts)).collect();
    let hover = Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range: Some(range),
    };
    serde_json::to_value(hover).map_err(internal)
}

/// A finding in Markdown: the rule and level, the message, help and notes, the execution path
/// (entry point first), then the rule's `explain` text.
pub(crate) fn hover_text(d: &Diagnostic, texts: &Texts) -> String {
    let mut out = format!(
        "**{}** ({})\n\n{}\n",
        convert::code(d),
        d.severity.as_str(),
        d.message
    );
    if let Some(help) = &d.help {
        out.push_str(&format!("\nhelp: {help}\n"));
    }
    for note in &d.notes {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    if !d.execution_path.is_empty() {
        out.push_str("\n**Execution path** (from the request's entry point):\n\n");
        for (i, step) in d.execution_path.iter().enumerate() {
            let line = step.span.loc.line;
            let shown = texts.shown(step.span.file);
            let place = match texts.uri(step.span.file) {
                Some(uri) => format!("[{shown}:{line}]({uri}#L{line})"),
                None => format!("{shown}:{line}"),
            };
            out.push_str(&format!("{}. `{}` at {place}\n", i + 1, step.function));
        }
    }
    // The explain text's own title repeats the rule id; its sections follow.
    let doc = d
        .rule
        .doc
        .split_once('\n')
        .map_or(d.rule.doc, |(_, rest)| rest);
    out.push_str(&format!("\n---\n\n{}", doc.trim_start()));
    out
}

pub(super) fn code_actions(s: &mut Server, p: CodeActionParams) -> Result<Value, Failure> {
    let wanted = |kind: &CodeActionKind| {
        p.context.only.as_ref().is_none_or(|only| {
            only.iter().any(|o| {
                kind.as_str() == o.as_str()
                    || kind.as_str().starts_with(&format!("{}.", o.as_str()))
            })
        })
    };
    if !wanted(&CodeActionKind::QUICKFIX) {
        return Ok(Value::Array(Vec::new()));
    }
    let uri = p.text_document.uri;
    let found = findings_at(s, &uri, p.range);
    let mut actions = Vec::new();
    let mut texts = Texts::new(&s.ws);
    for (d, _) in &found {
        let lsp_diagnostic = convert::diagnostic(d, &mut texts, s.enc);
        if let Some(fix) = &d.fix {
            let edit = workspace_edit(fix, &mut texts, s.enc);
            actions.push(action(
                fix.message.clone(),
                lsp_diagnostic.clone(),
                edit,
                fix.applicability == Applicability::MachineApplicable,
            ));
        }
        let text = texts.get(d.primary.file).map(str::to_string);
        if let Some(fix) =
            text.and_then(|t| suppress::allow_fix(d, &t, suppress::REASON_PLACEHOLDER))
        {
            let edit = workspace_edit(&fix, &mut texts, s.enc);
            actions.push(action(
                format!("Allow {} here, with a reason", convert::code(d)),
                lsp_diagnostic,
                edit,
                false,
            ));
        }
    }
    serde_json::to_value(actions).map_err(internal)
}

fn action(
    title: String,
    diagnostic: lsp_types::Diagnostic,
    edit: WorkspaceEdit,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(edit),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    })
}

/// A fix's edits, by file, in the client's positions.
fn workspace_edit(fix: &Fix, texts: &mut Texts, enc: convert::Encoding) -> WorkspaceEdit {
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for e in &fix.edits {
        if let Some(uri) = texts.uri(e.span.file) {
            let range = texts.edit_range(&e.span, enc);
            changes.entry(uri).or_default().push(TextEdit {
                range,
                new_text: e.replacement.clone(),
            });
        }
    }
    WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    }
}

fn internal(e: serde_json::Error) -> Failure {
    (ErrorCode::InternalError, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Loc, PathStep, Span};
    use crate::{Workspace, WorkspaceOptions};

    /// The execution path is filled by the call graph (issue 7); until then a synthetic one
    /// shows how the hover and the diagnostic's related information render it.
    #[test]
    fn the_execution_path_in_the_hover_and_the_related_information() {
        let mut ws = Workspace::new(WorkspaceOptions::default());
        let api = ws.set_file_text(
            "/virtual/app/src/api.rs",
            "// é\npub async fn create_run() {\n    engine::start();\n}\n",
        );
        ws.set_file_text(
            "/virtual/app/src/engine.rs",
            "pub static mut RUNS: u32 = 0;\n",
        );
        let mut d = ws.analyse().diagnostics.remove(0);
        let at = |line, column, len| Span {
            file: api,
            loc: Loc {
                line,
                column,
                end_line: line,
                end_column: column + len,
                ..Loc::default()
            },
        };
        d.execution_path = vec![
            PathStep {
                function: "create_run".into(),
                span: at(2, 14, 10),
            },
            PathStep {
                function: "engine::start".into(),
                span: at(3, 5, 13),
            },
        ];
        let mut texts = Texts::new(&ws);
        let hover = hover_text(&d, &texts);
        assert!(
            hover.contains(
                "**Execution path** (from the request's entry point):\n\n\
                 1. `create_run` at [/virtual/app/src/api.rs:2](file:///virtual/app/src/api.rs#L2)\n\
                 2. `engine::start` at [/virtual/app/src/api.rs:3](file:///virtual/app/src/api.rs#L3)\n"
            ),
            "{hover}"
        );
        assert!(
            hover.starts_with("**isolate::static_mut** (error)"),
            "{hover}"
        );
        assert!(hover.contains("## Why it is a cross-user leak"), "{hover}");
        let lsp = convert::diagnostic(&d, &mut texts, convert::Encoding::Utf16);
        let related = lsp.related_information.unwrap();
        assert_eq!(related.len(), 2);
        assert_eq!(
            related[0].message,
            "execution path 1/2: `create_run` (entry point)"
        );
        assert_eq!(
            related[1].message,
            "execution path 2/2: `engine::start` (uses it)"
        );
        assert_eq!(
            related[0].location.uri.as_str(),
            "file:///virtual/app/src/api.rs"
        );
        assert_eq!(
            (
                related[0].location.range.start,
                related[0].location.range.end
            ),
            (
                lsp_types::Position::new(1, 13),
                lsp_types::Position::new(1, 23)
            )
        );
    }
}
