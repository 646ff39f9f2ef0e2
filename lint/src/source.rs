//! The source database: every linted file's identity (a [`FileId`]), where it is (absolute,
//! relative to its scanned root, and as shown to the user) and its text, read once.
//!
//! Texts are kept for the whole run so that renderers, suppression edits and the language
//! server never read a file twice, but a workspace holds hundreds of megabytes of Rust: a text
//! is therefore stored compressed (LZ4, about 3.7 times smaller on Rust source, decompressed at
//! over 1 GB/s) once its file is parsed, and decompressed when a renderer asks for it; and
//! [`crate::Workspace::load`] keeps only the texts a diagnostic can point into unless asked for
//! all or none ([`crate::KeepTexts`]). Texts handed in by an editor
//! ([`crate::Workspace::set_file_text`]) are always kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A linted file, stable for the lifetime of a [`crate::Workspace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) u32);

impl FileId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a file is.
#[derive(Debug, Clone)]
pub struct FilePath {
    /// Absolute (not canonicalised: symlinks are kept as the user named them).
    pub abs: PathBuf,
    /// Relative to the scanned root it was found under, `/`-separated: JSON's `file`.
    pub rel: String,
    /// As shown to the user: relative to the current directory when below it, else absolute,
    /// `/`-separated. Human output and JSON's `path`.
    pub display: String,
    /// Relative to [`FilePath::workspace_root`], `/`-separated: SARIF's `uri`, baselines and
    /// rustc-JSON's `file_name`, the same wherever the run started.
    pub workspace_rel: String,
    /// The Cargo workspace root of the file's package (a lone package's own directory); for a
    /// file in no package, the scanned root it was found under.
    pub workspace_root: Arc<Path>,
}

/// A file's text, as the database keeps it.
#[derive(Debug, Clone)]
enum Text {
    /// Not read (yet), or unreadable.
    None,
    /// LZ4 block with its uncompressed size prepended.
    Compressed(Arc<[u8]>),
}

#[derive(Debug, Clone)]
struct Entry {
    path: FilePath,
    text: Text,
}

/// Every file of a workspace, by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceDb {
    files: Vec<Entry>,
}

impl SourceDb {
    /// Adds a file (without text) and returns its id.
    pub(crate) fn add(&mut self, path: FilePath) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(Entry {
            path,
            text: Text::None,
        });
        id
    }

    /// Stores `text` as the file's text.
    pub(crate) fn set_text(&mut self, file: FileId, text: &str) {
        self.files[file.index()].text = compress(text);
    }

    /// Stores text compressed earlier (by a parser thread) with [`compress_text`].
    pub(crate) fn set_compressed(&mut self, file: FileId, text: CompressedText) {
        self.files[file.index()].text = text.0;
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the database is empty.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file id, in order.
    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len() as u32).map(FileId)
    }

    /// Where `file` is.
    pub fn path(&self, file: FileId) -> &FilePath {
        &self.files[file.index()].path
    }

    /// The file's text, if it was read (decompressed on every call: keep the result while
    /// you need it).
    pub fn text(&self, file: FileId) -> Option<String> {
        match &self.files[file.index()].text {
            Text::None => None,
            Text::Compressed(bytes) => lz4_flex::block::decompress_size_prepended(bytes)
                .ok()
                .and_then(|b| String::from_utf8(b).ok()),
        }
    }

    /// The id of the file at `abs`, if it is in the database.
    pub fn find(&self, abs: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|e| e.path.abs == abs)
            .map(|i| FileId(i as u32))
    }

    /// Bytes held for texts (compressed), for benchmarks.
    pub fn text_bytes(&self) -> usize {
        self.files
            .iter()
            .map(|e| match &e.text {
                Text::None => 0,
                Text::Compressed(b) => b.len(),
            })
            .sum()
    }
}

/// A text compressed off the main thread, ready for [`SourceDb::set_compressed`].
#[derive(Debug)]
pub(crate) struct CompressedText(Text);

/// Compresses `text` for the database (done by the thread that read the file).
pub(crate) fn compress_text(text: &str) -> CompressedText {
    CompressedText(compress(text))
}

fn compress(text: &str) -> Text {
    Text::Compressed(lz4_flex::block::compress_prepend_size(text.as_bytes()).into())
}

/// `path` relative to `base`, `/`-separated (`path` itself when it is not below `base`).
pub(crate) fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    slashed(rel)
}

/// A path with `/` separators.
pub(crate) fn slashed(path: &Path) -> String {
    let parts: Vec<_> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    let joined = parts.join("/");
    if path.is_absolute() && !joined.starts_with('/') {
        // `/` itself is a component on Unix; keep the leading slash once.
        format!("/{}", joined.trim_start_matches('/'))
    } else {
        joined.replacen("//", "/", 1)
    }
}

/// How a file is shown to the user: relative to `cwd` when below it, else absolute.
pub(crate) fn display_path(cwd: &Path, abs: &Path) -> String {
    match abs.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => slashed(rel),
        _ => slashed(abs),
    }
}

/// Makes `path` absolute against `cwd` and removes `.` and `..` components lexically (no
/// symlink resolution, so the path stays the one the user named).
pub(crate) fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&cwd.join(path))
    }
}

/// Removes `.` and `..` components lexically.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip_compressed() {
        let mut db = SourceDb::default();
        let id = db.add(FilePath {
            abs: "/p/src/lib.rs".into(),
            rel: "src/lib.rs".into(),
            display: "src/lib.rs".into(),
            workspace_rel: "src/lib.rs".into(),
            workspace_root: Path::new("/p").into(),
        });
        assert_eq!(db.text(id), None);
        let text = "static A: u8 = 0; // é\n".repeat(200);
        db.set_text(id, &text);
        assert_eq!(db.text(id).as_deref(), Some(text.as_str()));
        assert!(db.text_bytes() < text.len() / 4, "{}", db.text_bytes());
        assert_eq!(db.find(Path::new("/p/src/lib.rs")), Some(id));
    }

    #[test]
    fn paths_for_display() {
        let cwd = Path::new("/w/ws/crates");
        assert_eq!(
            display_path(cwd, Path::new("/w/ws/crates/api/src/a.rs")),
            "api/src/a.rs"
        );
        assert_eq!(
            display_path(cwd, Path::new("/w/ws/src/a.rs")),
            "/w/ws/src/a.rs"
        );
        assert_eq!(
            absolute(cwd, Path::new("../src/./a.rs")),
            PathBuf::from("/w/ws/src/a.rs")
        );
        assert_eq!(relative(Path::new("/w"), Path::new("/w/a/b.rs")), "a/b.rs");
    }
}
