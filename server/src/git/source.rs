//! Git locations as an [`EntitySource`]: a location names a repository, branch and path; a
//! read fetches the branch into the repository's mirror (network work, no lock held), then walks
//! the fetched commit's tree. Entities read from Git keep the commit they were read at, so their
//! docs are read from exactly that commit ([`CommitTree`]).

use super::mirror::Head;
use super::read::CommitFiles;
use super::tree::RepoTree;
use super::url::redact_url;
use super::{GitSettings, GitSpec, Mirrors};
use crate::catalog::processing::{FileStates, LocationRead};
use crate::catalog::snapshot::LocationInfo;
use crate::catalog::source::{
    EntityFiles, EntitySource, LocationType, NewLocation, Origin, PreparedRead, Repository,
    SourceTree,
};
use crate::catalog::walk;
use crate::catalog::CatalogError;
use futures_util::future::BoxFuture;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The source of `git` and `url` locations.
pub struct GitSource {
    mirrors: Mirrors,
    /// Where a `file://` repository registered through the API may be (canonical paths).
    file_roots: Vec<PathBuf>,
}

/// What a Git location reads.
pub fn spec_of(location: &LocationInfo) -> Result<GitSpec, CatalogError> {
    GitSpec::from_location(
        location.location_type,
        &location.target,
        location.branch.as_deref(),
        location.path.as_deref(),
    )
    .map_err(|e| CatalogError::InvalidInput(e.to_string()))
}

/// Whether a location is read from Git.
pub fn is_git(location: &LocationInfo) -> bool {
    matches!(
        location.location_type,
        LocationType::Git | LocationType::Url
    )
}

impl GitSource {
    /// Mirrors live in `git.mirror_dir`, else `<data_dir>/git`.
    pub fn new(data_dir: &Path, settings: GitSettings, file_roots: Vec<PathBuf>) -> GitSource {
        GitSource {
            mirrors: Mirrors::new(data_dir, settings),
            file_roots,
        }
    }

    pub fn settings(&self) -> &GitSettings {
        self.mirrors.settings()
    }

    pub fn mirrors(&self) -> &Mirrors {
        &self.mirrors
    }

    /// Visits to Git remotes this process has made (clone, ls-remote or fetch).
    pub fn fetch_count(&self) -> u64 {
        self.mirrors.fetch_count()
    }

    fn max_blob(&self) -> u64 {
        self.settings().max_file_kib.saturating_mul(1024)
    }
}

impl EntitySource for GitSource {
    fn types(&self) -> &'static [LocationType] {
        &[LocationType::Git, LocationType::Url]
    }

    fn check(&self, new: NewLocation, origin: &Origin) -> Result<NewLocation, CatalogError> {
        let spec = GitSpec::from_location(
            new.location_type,
            &new.target,
            new.branch.as_deref(),
            new.path.as_deref(),
        )
        .map_err(|e| CatalogError::InvalidInput(e.to_string()))?;
        // A repository on this machine is a file like any other: only inside the roots.
        if let Some(path) = spec
            .url
            .strip_prefix("file://")
            .filter(|_| !origin.is_trusted())
        {
            let p = Path::new(path);
            let canonical = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            if !self.file_roots.iter().any(|r| canonical.starts_with(r)) {
                return Err(CatalogError::Forbidden(format!(
                    "{path} is outside the directories Backlot may read; allow it with catalog.file_roots in the config or BACKLOT_FILE_ROOTS"
                )));
            }
        }
        // `url` locations carry branch and path in the URL.
        let git = new.location_type == LocationType::Git;
        Ok(NewLocation {
            target: new.target.trim().to_string(),
            branch: spec.branch.filter(|_| git),
            path: new.path.map(|_| spec.path).filter(|_| git),
            ..new
        })
    }

    fn prepare<'a>(
        &'a self,
        location: &'a LocationInfo,
        pushed: bool,
    ) -> BoxFuture<'a, Result<Box<dyn PreparedRead>, CatalogError>> {
        Box::pin(async move {
            let spec = spec_of(location)?;
            let head = self
                .mirrors
                .fetch(&spec, pushed)
                .await
                .map_err(|e| CatalogError::Source(e.to_string()))?;
            let read: Box<dyn PreparedRead> = Box::new(PreparedCommit {
                spec,
                head,
                max_blob: self.max_blob(),
            });
            Ok(read)
        })
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(self.settings().refresh_interval_secs.max(1))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings().fetch_timeout_secs.max(1))
    }

    fn display_target(&self, target: &str) -> String {
        redact_url(target)
    }

    fn files(&self, location: &LocationInfo, file: &str) -> Option<Arc<dyn EntityFiles>> {
        let spec = spec_of(location).ok()?;
        let branch = self.mirrors.branch_of(&spec)?;
        Some(Arc::new(GitFiles {
            mirror: self.mirrors.mirror_path(&spec.url),
            commit: location.commit.clone()?,
            branch,
            file: file.to_string(),
            spec,
            max_blob: self.max_blob(),
        }))
    }

    fn repository(&self, location: &LocationInfo) -> Option<Repository> {
        let spec = spec_of(location).ok()?;
        Some(Repository {
            url: spec.display_url(),
            branch: spec.branch,
        })
    }
}

/// A fetched head, ready to be read.
struct PreparedCommit {
    spec: GitSpec,
    head: Head,
    max_blob: u64,
}

impl PreparedRead for PreparedCommit {
    fn revision(&self) -> Option<&str> {
        Some(&self.head.commit)
    }

    fn read(self: Box<Self>, previous: &FileStates) -> Result<LocationRead, CatalogError> {
        let head = &self.head;
        let tree = RepoTree::open(&head.mirror, &head.commit, self.max_blob)
            .map_err(|e| CatalogError::Source(e.to_string()))?;
        let files = CommitFiles {
            tree: &tree,
            spec: &self.spec,
            branch: &head.branch,
            origin: self.spec.location_ref(&head.branch, &self.spec.path),
        };
        Ok(walk::walk(&files, &self.spec.path, previous))
    }
}

/// An entity's files: its location's commit in the mirror.
struct GitFiles {
    mirror: PathBuf,
    commit: String,
    branch: String,
    /// The descriptor's path in the repository.
    file: String,
    spec: GitSpec,
    max_blob: u64,
}

impl EntityFiles for GitFiles {
    fn revision(&self) -> Option<&str> {
        Some(&self.commit)
    }

    fn descriptor(&self) -> &str {
        &self.file
    }

    fn open(&self) -> Result<Box<dyn SourceTree>, String> {
        let tree = RepoTree::open(&self.mirror, &self.commit, self.max_blob).map_err(|err| {
            tracing::warn!(mirror = %self.mirror.display(), commit = %self.commit, error = %err, "cannot open the repository");
            format!("the repository cannot be read: {err}")
        })?;
        Ok(Box::new(CommitTree::new(tree)))
    }

    fn file_url(&self, path: &str, edit: bool) -> Option<String> {
        self.spec.file_url(&self.branch, path, edit)
    }
}

/// The files of one commit of a repository mirror. Paths are repository paths. The file list
/// is read once, on the first [`SourceTree::list`].
pub struct CommitTree {
    tree: RepoTree,
    files: OnceCell<Vec<String>>,
}

impl CommitTree {
    pub fn new(tree: RepoTree) -> CommitTree {
        CommitTree {
            tree,
            files: OnceCell::new(),
        }
    }

    /// The commit read (hex).
    pub fn commit(&self) -> &str {
        &self.tree.commit
    }

    fn files(&self) -> &[String] {
        self.files.get_or_init(|| match self.tree.files() {
            Ok(files) => files.into_iter().map(|(path, _)| path).collect(),
            Err(err) => {
                tracing::warn!(commit = %self.tree.commit, error = %err, "docs: cannot list the repository");
                Vec::new()
            }
        })
    }
}

impl SourceTree for CommitTree {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self.tree.entry(path) {
            Ok(Some(id)) => match self.tree.blob(path, id) {
                Ok(bytes) => Some(bytes),
                Err(err) => {
                    tracing::warn!(commit = %self.tree.commit, path, error = %err, "docs: file not read");
                    None
                }
            },
            Ok(None) => None,
            Err(err) => {
                tracing::debug!(commit = %self.tree.commit, path, error = %err, "docs: lookup failed");
                None
            }
        }
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let files = self.files();
        if dir.is_empty() {
            return files.to_vec();
        }
        // Sorted by bytes: everything under `dir/` is one contiguous range.
        let prefix = format!("{dir}/");
        let start = files.partition_point(|p| p.as_str() < prefix.as_str());
        files[start..]
            .iter()
            .take_while(|p| p.starts_with(&prefix))
            .cloned()
            .collect()
    }

    fn commit_time(&self) -> Option<i64> {
        Some(self.tree.commit_time)
    }
}
