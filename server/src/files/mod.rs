//! File locations: descriptor files (a path or a glob) on the machine Backlot runs on, as an
//! [`EntitySource`].
//!
//! What arrives through the API or the UI may only read inside the configured roots
//! (`catalog.file_roots`, `BACKLOT_FILE_ROOTS`; the data directory by default); the config
//! file, the demo and discovery are written by the operator and are not confined. A file whose
//! size and modification time are those of its last clean read is not even opened; one whose
//! content hash is the same is not parsed again.

mod folder;

pub use folder::Folder;

use crate::catalog::placeholder::{io_reason, FileReader};
use crate::catalog::processing::{
    parse_descriptor, FileOrigin, FileStates, LocationRead, ParsedFile, PreviousFile,
};
use crate::catalog::snapshot::LocationInfo;
use crate::catalog::source::{
    EntityFiles, EntitySource, LocationType, NewLocation, Origin, PreparedRead, SourceTree,
};
use crate::catalog::walk::{self, Found, Loaded, Tree};
use crate::catalog::CatalogError;
use crate::util::content_hash;
use futures_util::future::BoxFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Largest descriptor file read.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Where file locations may read, and how often they are read.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// Directories locations registered through the API or the UI may read (canonical paths).
    pub roots: Vec<PathBuf>,
    /// How often file locations are read.
    pub refresh_interval: Duration,
    /// Largest file docs read from a folder.
    pub max_docs_bytes: u64,
}

impl FileSettings {
    /// Whether a location registered through the API or the UI may read `path`.
    pub fn allows(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| path.starts_with(root))
    }

    /// Whether a location of this origin may read `path`: only what arrives through the API and
    /// the UI is confined to the roots.
    pub fn may_read(&self, origin: &Origin, path: &Path) -> bool {
        origin.is_trusted() || self.allows(path)
    }
}

/// The source of `file` locations.
pub struct FileSource {
    settings: Arc<FileSettings>,
}

impl FileSource {
    pub fn new(settings: FileSettings) -> FileSource {
        FileSource {
            settings: Arc::new(settings),
        }
    }

    pub fn settings(&self) -> &FileSettings {
        &self.settings
    }
}

impl EntitySource for FileSource {
    fn types(&self) -> &'static [LocationType] {
        &[LocationType::File]
    }

    fn check(&self, new: NewLocation, origin: &Origin) -> Result<NewLocation, CatalogError> {
        let target = absolute_target(&new.target)?;
        if !origin.is_trusted() {
            let check = glob_base(&target);
            let canonical = check.canonicalize().unwrap_or(check.clone());
            if !self.settings.allows(&canonical) {
                return Err(CatalogError::Forbidden(format!(
                    "{target} is outside the directories file locations may read; allow it with catalog.file_roots in the config or BACKLOT_FILE_ROOTS (a ':'-separated list)"
                )));
            }
        }
        Ok(NewLocation::new(LocationType::File, &target))
    }

    fn prepare<'a>(
        &'a self,
        location: &'a LocationInfo,
        _pushed: bool,
    ) -> BoxFuture<'a, Result<Box<dyn PreparedRead>, CatalogError>> {
        let read: Box<dyn PreparedRead> = Box::new(PreparedFiles {
            settings: self.settings.clone(),
            origin: location.origin.clone(),
            target: location.target.clone(),
        });
        Box::pin(std::future::ready(Ok(read)))
    }

    fn interval(&self) -> Duration {
        self.settings.refresh_interval
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn files(&self, location: &LocationInfo, file: &str) -> Option<Arc<dyn EntityFiles>> {
        let path = Path::new(file);
        let dir = path.parent()?.to_path_buf();
        let descriptor = path.file_name()?.to_string_lossy().into_owned();
        self.settings
            .may_read(&location.origin, &dir)
            .then(|| -> Arc<dyn EntityFiles> {
                Arc::new(FolderFiles {
                    dir,
                    descriptor,
                    max_bytes: self.settings.max_docs_bytes,
                })
            })
    }
}

/// A file location, ready to be read (files need no preparation).
struct PreparedFiles {
    settings: Arc<FileSettings>,
    origin: Origin,
    target: String,
}

impl PreparedRead for PreparedFiles {
    fn revision(&self) -> Option<&str> {
        None
    }

    fn read(self: Box<Self>, previous: &FileStates) -> Result<LocationRead, CatalogError> {
        let allowed = |p: &Path| self.settings.may_read(&self.origin, p);
        let tree = FsTree {
            origin: format!("file:{}", self.target),
            allowed: &allowed,
        };
        Ok(walk::walk(&tree, &self.target, previous))
    }
}

/// The file system as the walker sees it: absolute paths, globs, roots.
struct FsTree<'a> {
    /// `backstage.io/managed-by-origin-location` of every entity.
    origin: String,
    allowed: &'a dyn Fn(&Path) -> bool,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Tree for FsTree<'_> {
    fn matching(&self, pattern: &str) -> Result<Vec<Result<Found, String>>, String> {
        let paths: Vec<PathBuf> = if is_glob(pattern) {
            let paths = glob::glob(pattern)
                .map_err(|e| format!("{pattern} is not a valid glob pattern: {e}"))?;
            let mut v: Vec<PathBuf> = paths
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            v
        } else {
            vec![PathBuf::from(pattern)]
        };
        Ok(paths
            .into_iter()
            .map(|path| {
                let canonical = path.canonicalize().map_err(|e| {
                    format!("could not read {}: {}", path.display(), io_reason(&e))
                })?;
                if !(self.allowed)(&canonical) {
                    return Err(format!(
                        "{} is outside the directories Backlot may read (catalog.file_roots / BACKLOT_FILE_ROOTS)",
                        canonical.display()
                    ));
                }
                Ok(Found {
                    path: canonical.to_string_lossy().into_owned(),
                    id: None,
                })
            })
            .collect())
    }

    fn nothing_matches(&self, pattern: &str, _referrer: Option<&str>) -> String {
        format!("{pattern} matches no file")
    }

    fn target(&self, location_type: &str, target: &str) -> Result<String, String> {
        if location_type == "file" {
            Ok(target.to_string())
        } else {
            Err(format!(
                "location type \"{location_type}\" ({target}) is not supported yet; use type \"file\""
            ))
        }
    }

    fn same_as(&self, file: &Found, previous: &PreviousFile) -> bool {
        std::fs::metadata(&file.path).is_ok_and(|meta| {
            meta.is_file()
                && meta.len() == previous.size
                && modified_ns(&meta) == previous.modified_ns
        })
    }

    fn load(&self, file: &Found) -> Result<Loaded, String> {
        let meta = std::fs::metadata(&file.path).map_err(|e| io_reason(&e))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "it is {} bytes, more than the {MAX_FILE_BYTES} allowed",
                meta.len()
            ));
        }
        let bytes = std::fs::read(&file.path).map_err(|e| io_reason(&e))?;
        Ok(Loaded {
            hash: content_hash(&bytes),
            modified_ns: modified_ns(&meta),
            size: meta.len(),
            bytes,
        })
    }

    fn parse(&self, path: &str, text: &str) -> ParsedFile {
        parse_file(text, path, &self.origin, self.allowed)
    }
}

/// Modification time in nanoseconds since the epoch (0 when the platform has none).
fn modified_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Parses, validates and completes every document of one file. `file` is its absolute path;
/// placeholders read files that `allowed` lets through.
pub fn parse_file(
    text: &str,
    file: &str,
    origin: &str,
    allowed: &dyn Fn(&Path) -> bool,
) -> ParsedFile {
    let base_dir = Path::new(file).parent().unwrap_or(Path::new("/"));
    let reader = FileReader { allowed };
    parse_descriptor(
        text,
        &FileOrigin {
            file,
            base_dir,
            managed_by: format!("file:{file}"),
            origin,
            defaults: Vec::new(),
            forced: Vec::new(),
            placeholders: &reader,
        },
    )
}

/// The folder of an entity's descriptor, which docs read as its tree.
struct FolderFiles {
    dir: PathBuf,
    descriptor: String,
    max_bytes: u64,
}

impl EntityFiles for FolderFiles {
    fn revision(&self) -> Option<&str> {
        None
    }

    fn descriptor(&self) -> &str {
        &self.descriptor
    }

    fn open(&self) -> Result<Box<dyn SourceTree>, String> {
        Ok(Box::new(Folder {
            root: self.dir.clone(),
            max_bytes: self.max_bytes,
        }))
    }
}

/// Makes a file target absolute (relative to the working directory), without resolving globs.
pub fn absolute_target(target: &str) -> Result<String, CatalogError> {
    let t = target.strip_prefix("file:").unwrap_or(target).trim();
    if t.is_empty() {
        return Err(CatalogError::InvalidInput(
            "target is empty; expected a file path or glob".into(),
        ));
    }
    let cwd = std::env::current_dir().map_err(|e| CatalogError::Internal(e.to_string()))?;
    Ok(crate::util::absolute(&cwd, Path::new(t))
        .to_string_lossy()
        .into_owned())
}

/// The longest leading part of a path without glob characters (what must be inside a root).
fn glob_base(target: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in Path::new(target).components() {
        let s = part.as_os_str().to_string_lossy();
        if is_glob(&s) {
            break;
        }
        out.push(part.as_os_str());
    }
    out
}
