//! One commit of a mirror, read straight from its object store with gix: the list of files with
//! their blob ids, and the content of a blob. Nothing is checked out.

use super::GitError;
use gix::ObjectId;
use std::path::Path;

/// A commit opened for reading. Not shared between threads: open one per read.
pub struct RepoTree {
    repo: gix::Repository,
    tree: ObjectId,
    /// Hex id of the commit.
    pub commit: String,
    /// Committer time, seconds since the epoch.
    pub commit_time: i64,
    /// Largest blob read, in bytes.
    max_blob: u64,
}

fn read_err(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Read(format!("{what}: {e}"))
}

/// The commit a ref of the mirror points to (`None` when the ref does not exist yet).
pub fn resolve_ref(mirror: &Path, name: &str) -> Result<Option<String>, GitError> {
    let repo = gix::open_opts(mirror, gix::open::Options::isolated()).map_err(|e| {
        read_err(
            &format!("could not open the mirror {}", mirror.display()),
            e,
        )
    })?;
    let Some(mut r) = repo
        .try_find_reference(name)
        .map_err(|e| read_err(&format!("could not read {name}"), e))?
    else {
        return Ok(None);
    };
    let id = r
        .peel_to_id()
        .map_err(|e| read_err(&format!("could not resolve {name}"), e))?;
    Ok(Some(id.to_string()))
}

impl RepoTree {
    /// Opens `commit` (hex) in the bare repository at `mirror`.
    pub fn open(mirror: &Path, commit: &str, max_blob: u64) -> Result<RepoTree, GitError> {
        let repo = gix::open_opts(mirror, gix::open::Options::isolated()).map_err(|e| {
            read_err(
                &format!("could not open the mirror {}", mirror.display()),
                e,
            )
        })?;
        let id = ObjectId::from_hex(commit.as_bytes())
            .map_err(|e| read_err(&format!("bad commit id {commit}"), e))?;
        let (tree, commit_time) = {
            let c = repo
                .find_commit(id)
                .map_err(|e| read_err(&format!("commit {commit} is missing"), e))?;
            let time = c.time().map(|t| t.seconds).unwrap_or(0);
            let tree = c
                .tree_id()
                .map_err(|e| read_err(&format!("commit {commit} has no tree"), e))?
                .detach();
            (tree, time)
        };
        Ok(RepoTree {
            repo,
            tree,
            commit: commit.to_string(),
            commit_time,
            max_blob,
        })
    }

    /// Every file (blob or symlink target text excluded) with its blob id, sorted by path.
    pub fn files(&self) -> Result<Vec<(String, ObjectId)>, GitError> {
        let tree = self
            .repo
            .find_tree(self.tree)
            .map_err(|e| read_err("could not read the tree", e))?;
        let entries = tree
            .traverse()
            .breadthfirst
            .files()
            .map_err(|e| read_err("could not list the files", e))?;
        let mut out: Vec<(String, ObjectId)> = entries
            .into_iter()
            .filter(|e| e.mode.is_blob())
            .map(|e| (e.filepath.to_string(), e.oid))
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The blob id of a file, if it exists and is a file.
    pub fn entry(&self, path: &str) -> Result<Option<ObjectId>, GitError> {
        let tree = self
            .repo
            .find_tree(self.tree)
            .map_err(|e| read_err("could not read the tree", e))?;
        let entry = tree
            .lookup_entry_by_path(path)
            .map_err(|e| read_err(&format!("could not look up {path}"), e))?;
        Ok(entry.filter(|e| e.mode().is_blob()).map(|e| e.object_id()))
    }

    /// The content of a blob, refusing blobs over the size limit.
    pub fn blob(&self, path: &str, id: ObjectId) -> Result<Vec<u8>, String> {
        let header = self
            .repo
            .find_header(id)
            .map_err(|e| format!("could not read {path}: {e}"))?;
        if header.size() > self.max_blob {
            return Err(format!(
                "{path} is {} bytes, more than the {} allowed (git.max_file_kib)",
                header.size(),
                self.max_blob
            ));
        }
        let mut blob = self
            .repo
            .find_blob(id)
            .map_err(|e| format!("could not read {path}: {e}"))?;
        Ok(blob.take_data())
    }

    /// The content of a file by path.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        match self.entry(path) {
            Ok(Some(id)) => self.blob(path, id),
            Ok(None) => Err(format!("{path}: no such file in the repository")),
            Err(e) => Err(e.to_string()),
        }
    }
}
