//! A folder on disk as a [`SourceTree`] (what docs read for entities from files). Paths are
//! relative to the folder; nothing outside it is read.

use crate::catalog::source::SourceTree;
use std::path::{Component, Path, PathBuf};

/// Files listed from a folder at most.
const MAX_LISTED_FILES: usize = 20_000;
/// Folder depth walked at most.
const MAX_LIST_DEPTH: usize = 32;

/// `dir/name`, or `name` at the top.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// A folder on disk. Paths are relative to `root`; `..`, absolute paths and symbolic links
/// leading out of `root` are refused, and files over `max_bytes` are not read.
pub struct Folder {
    pub root: PathBuf,
    pub max_bytes: u64,
}

impl Folder {
    /// The canonical root, or `None` when it does not exist.
    fn canonical_root(&self) -> Option<PathBuf> {
        self.root.canonicalize().ok()
    }

    /// The canonical file-system path of `path` (relative to the root), if it stays inside.
    fn resolve(&self, root: &Path, path: &str) -> Option<PathBuf> {
        if path.contains('\\') || path.chars().any(char::is_control) {
            return None;
        }
        let rel = Path::new(path);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return None;
        }
        let full = root.join(rel).canonicalize().ok()?;
        full.starts_with(root).then_some(full)
    }
}

impl SourceTree for Folder {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let root = self.canonical_root()?;
        let full = self.resolve(&root, path)?;
        let meta = std::fs::metadata(&full).ok()?;
        if !meta.is_file() {
            return None;
        }
        if meta.len() > self.max_bytes {
            tracing::warn!(
                path,
                size = meta.len(),
                limit = self.max_bytes,
                "docs: file too large, not read"
            );
            return None;
        }
        match std::fs::read(&full) {
            Ok(bytes) => Some(bytes),
            Err(err) => {
                tracing::warn!(path = %full.display(), error = %err, "docs: file not read");
                None
            }
        }
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let Some(root) = self.canonical_root() else {
            return Vec::new();
        };
        let start = if dir.is_empty() {
            root.clone()
        } else {
            match self.resolve(&root, dir) {
                Some(start) => start,
                None => return Vec::new(),
            }
        };
        let mut out = Vec::new();
        // (folder on disk, its path relative to the root as the caller sees it, depth)
        let mut stack = vec![(start, dir.trim_matches('/').to_string(), 0usize)];
        while let Some((folder, rel, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if name == ".git" {
                    continue;
                }
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = join(&rel, &name);
                if kind.is_dir() {
                    if depth < MAX_LIST_DEPTH {
                        stack.push((entry.path(), path, depth + 1));
                    }
                } else if kind.is_file() {
                    out.push(path);
                } else if kind.is_symlink() {
                    // Linked files count when they stay inside the root; linked folders are
                    // not followed (no loops, no surprises).
                    let inside = entry
                        .path()
                        .canonicalize()
                        .ok()
                        .filter(|target| target.starts_with(&root) && target.is_file());
                    if inside.is_some() {
                        out.push(path);
                    }
                }
                if out.len() >= MAX_LISTED_FILES {
                    tracing::warn!(root = %root.display(), dir, limit = MAX_LISTED_FILES, "docs: too many files, listing truncated");
                    out.sort();
                    return out;
                }
            }
        }
        out.sort();
        out
    }
}
