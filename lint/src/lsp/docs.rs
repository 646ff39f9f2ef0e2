//! The documents the editor has open: their unsaved texts (the only source of an open file's
//! text: never the disk) and which of them changed since the last analysis.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use lsp_types::TextDocumentContentChangeEvent;

use super::convert::{Encoding, LineIndex};

/// One open document.
#[derive(Debug)]
pub(crate) struct Document {
    pub version: i32,
    pub text: String,
}

#[derive(Debug, Default)]
pub(crate) struct Documents {
    open: HashMap<PathBuf, Document>,
    /// Changed since they were last handed to the workspace.
    dirty: BTreeSet<PathBuf>,
}

impl Documents {
    pub fn open(&mut self, path: PathBuf, version: i32, text: String) {
        self.dirty.insert(path.clone());
        self.open.insert(path, Document { version, text });
    }

    /// Applies the editor's changes in order (a change without a range replaces the text).
    /// `Err` when the document is not open.
    pub fn change(
        &mut self,
        path: &Path,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
        enc: Encoding,
    ) -> Result<(), String> {
        let doc = self
            .open
            .get_mut(path)
            .ok_or_else(|| "a change to a document that is not open".to_string())?;
        for change in changes {
            match change.range {
                None => doc.text = change.text,
                Some(range) => {
                    let idx = LineIndex::new(&doc.text);
                    let start = idx.offset(range.start, enc);
                    // A range that ends before it starts is read as empty at its start.
                    let end = idx.offset(range.end, enc).max(start);
                    doc.text.replace_range(start..end, &change.text);
                }
            }
        }
        doc.version = version;
        self.dirty.insert(path.to_path_buf());
        Ok(())
    }

    /// Closes a document; its text is forgotten.
    pub fn close(&mut self, path: &Path) -> Option<Document> {
        self.dirty.remove(path);
        self.open.remove(path)
    }

    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.open.get(path)
    }

    pub fn is_open(&self, path: &Path) -> bool {
        self.open.contains_key(path)
    }

    /// Whether a document changed since the last [`Documents::take_dirty`].
    pub fn any_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The changed documents' paths and texts, and marks them clean.
    pub fn take_dirty(&mut self) -> Vec<(PathBuf, &str)> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .filter_map(|p| {
                let text = self.open.get(&p)?.text.as_str();
                Some((p, text))
            })
            .collect()
    }

    /// Marks every open document changed (after the workspace was replaced).
    pub fn mark_all_dirty(&mut self) {
        self.dirty.extend(self.open.keys().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn edit(range: Option<((u32, u32), (u32, u32))>, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range
                .map(|((a, b), (c, d))| Range::new(Position::new(a, b), Position::new(c, d))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_changes_in_the_negotiated_encoding() {
        let mut docs = Documents::default();
        let path = PathBuf::from("/w/src/lib.rs");
        docs.open(path.clone(), 1, "// 🦀\nstatic A: u8 = 0;\n".into());
        assert_eq!(docs.take_dirty().len(), 1);
        assert!(!docs.any_dirty());
        // After the crab (2 UTF-16 units): insert; then replace `A` on line 2.
        let changes = vec![
            edit(Some(((0, 5), (0, 5))), "!"),
            edit(Some(((1, 7), (1, 8))), "B"),
        ];
        docs.change(&path, 2, changes, Encoding::Utf16).unwrap();
        assert_eq!(docs.get(&path).unwrap().text, "// 🦀!\nstatic B: u8 = 0;\n");
        // The same place in UTF-8 (4 bytes for the crab) and UTF-32 (1 character).
        docs.change(
            &path,
            3,
            vec![edit(Some(((0, 7), (0, 8))), "?")],
            Encoding::Utf8,
        )
        .unwrap();
        docs.change(
            &path,
            4,
            vec![edit(Some(((0, 4), (0, 5))), "")],
            Encoding::Utf32,
        )
        .unwrap();
        assert_eq!(docs.get(&path).unwrap().text, "// 🦀\nstatic B: u8 = 0;\n");
        // Hostile ranges: reversed, past the end; a full replacement.
        docs.change(
            &path,
            5,
            vec![edit(Some(((9, 9), (0, 0))), "x")],
            Encoding::Utf16,
        )
        .unwrap();
        assert!(docs.get(&path).unwrap().text.ends_with("0;\nx"));
        docs.change(
            &path,
            6,
            vec![edit(None, "const C: u8 = 1;")],
            Encoding::Utf16,
        )
        .unwrap();
        assert_eq!(docs.get(&path).unwrap().text, "const C: u8 = 1;");
        assert_eq!(docs.get(&path).unwrap().version, 6);
        assert!(
            docs.change(Path::new("/w/other.rs"), 1, vec![], Encoding::Utf16)
                .is_err()
        );
        assert!(docs.close(&path).is_some());
        assert!(!docs.any_dirty());
    }
}
