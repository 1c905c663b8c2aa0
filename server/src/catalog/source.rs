//! The seam between the catalog and the places entities come from.
//!
//! Every kind of location (files on disk, Git repositories; next: clusters, the scaffolder) is
//! an [`EntitySource`]. The catalog knows no provider: it asks the source of a location to
//! [`check`](EntitySource::check) it before it is stored, to [`prepare`](EntitySource::prepare)
//! a read (network work, no lock held), and then reads the prepared result into a
//! [`LocationRead`] on a blocking thread, which goes through the catalog's one door (plan the
//! changes against the current catalog, keep the last good version of what broke, write, publish).
//!
//! Reading files out of a tree is the same job wherever the tree is: [`super::walk`] does it once
//! for every source that implements its small `Tree` trait.
//!
//! Adding a kind of source: implement [`EntitySource`] in the source's own folder, give it the
//! location types it reads, and add it to the [`Sources`] built at start-up (`cli::serve`).

use super::processing::{FileStates, LocationRead};
use super::snapshot::LocationInfo;
use super::CatalogError;
use futures_util::future::BoxFuture;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The kinds of location, as stored and as Backstage's API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationType {
    /// A file or glob on the machine Backlot runs on.
    File,
    /// A Git repository: URL, branch and path given apart.
    Git,
    /// Backstage's `url` form: one URL naming repository, branch and file.
    Url,
}

impl LocationType {
    pub const ALL: [LocationType; 3] = [LocationType::File, LocationType::Git, LocationType::Url];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationType::File => "file",
            LocationType::Git => "git",
            LocationType::Url => "url",
        }
    }

    /// Reads a type as given by a user (config file, API, UI).
    pub fn parse(s: &str) -> Result<LocationType, CatalogError> {
        let s = s.trim();
        LocationType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                CatalogError::InvalidInput(format!(
                    "location type \"{s}\" is not supported; use \"file\", \"git\" or \"url\""
                ))
            })
    }
}

impl fmt::Display for LocationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who registered a location. The operator's (config, demo, discovery) are trusted; what
/// arrives through the API or the UI is confined (file roots) and may be removed the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// `catalog.locations` in the config file.
    Config,
    /// The demo organisation.
    Demo,
    /// `POST /api/catalog/locations` or the Locations page.
    Api,
    /// A discovery of that name (`git.discovery`).
    Discovery(String),
}

impl Origin {
    /// Reads an origin as stored; anything unknown is treated as registered through the API
    /// (the least trusted).
    pub fn parse(s: &str) -> Origin {
        match s {
            "config" => Origin::Config,
            "demo" => Origin::Demo,
            "api" => Origin::Api,
            other => match other.strip_prefix("discovery:") {
                Some(name) => Origin::Discovery(name.to_string()),
                None => Origin::Api,
            },
        }
    }

    /// Whether the operator wrote it (and no file-root confinement applies).
    pub fn is_trusted(&self) -> bool {
        !matches!(self, Origin::Api)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Config => f.write_str("config"),
            Origin::Demo => f.write_str("demo"),
            Origin::Api => f.write_str("api"),
            Origin::Discovery(name) => write!(f, "discovery:{name}"),
        }
    }
}

/// A location to register: a file or glob, or a Git repository (`git`, or Backstage's `url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLocation {
    pub location_type: LocationType,
    pub target: String,
    /// Git: branch (default: the remote's default branch).
    pub branch: Option<String>,
    /// Git: path or glob in the repository (default `**/catalog-info.yaml`).
    pub path: Option<String>,
}

impl NewLocation {
    pub fn new(location_type: LocationType, target: &str) -> NewLocation {
        NewLocation {
            location_type,
            target: target.to_string(),
            branch: None,
            path: None,
        }
    }

    /// A location as a user wrote it, type as text.
    pub fn parse(
        location_type: &str,
        target: &str,
        branch: Option<String>,
        path: Option<String>,
    ) -> Result<NewLocation, CatalogError> {
        Ok(NewLocation {
            location_type: LocationType::parse(location_type)?,
            target: target.trim().to_string(),
            branch: branch.filter(|b| !b.trim().is_empty()),
            path: path.filter(|p| !p.trim().is_empty()),
        })
    }
}

/// A read made ready by [`EntitySource::prepare`]: what is left is local, blocking work.
pub trait PreparedRead: Send {
    /// The revision about to be read (for Git: the commit). A location whose revision is the
    /// one of its last clean read is not read again.
    fn revision(&self) -> Option<&str>;

    /// Reads the location's files. Runs on a blocking thread; `previous` is what was
    /// remembered about each file after the last read, so unchanged files are skipped.
    fn read(self: Box<Self>, previous: &FileStates) -> Result<LocationRead, CatalogError>;
}

/// A kind of location: where its entities come from and how they are read.
pub trait EntitySource: Send + Sync + 'static {
    /// The location types this source reads.
    fn types(&self) -> &'static [LocationType];

    /// Checks a location before it is stored and returns it as it will be stored (targets
    /// normalised). Confinement (file roots) applies to what is not [`Origin::is_trusted`].
    fn check(&self, new: NewLocation, origin: &Origin) -> Result<NewLocation, CatalogError>;

    /// Gets a read ready: the network work (a fetch), done with no lock held. `pushed`: a
    /// webhook said the location's branch moved.
    fn prepare<'a>(
        &'a self,
        location: &'a LocationInfo,
        pushed: bool,
    ) -> BoxFuture<'a, Result<Box<dyn PreparedRead>, CatalogError>>;

    /// How often a location is visited.
    fn interval(&self) -> Duration;

    /// How long preparing a read may take at most (a location's lease outlives it).
    fn timeout(&self) -> Duration;

    /// A target as shown in pages, answers and logs (credentials removed).
    fn display_target(&self, target: &str) -> String {
        target.to_string()
    }

    /// Where the files of an entity of this location can be read now (`file` is the
    /// descriptor as recorded on the entity), if they can.
    fn files(&self, location: &LocationInfo, file: &str) -> Option<Arc<dyn EntityFiles>>;

    /// The repository a location reads, for the entity page's repository panel.
    fn repository(&self, _location: &LocationInfo) -> Option<Repository> {
        None
    }
}

/// A repository as the entity page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// Its URL, without credentials.
    pub url: String,
    pub branch: Option<String>,
}

/// Where an entity's files are: what docs and scorecards read.
pub trait EntityFiles: Send + Sync {
    /// The revision the files are at (a commit), or `None` for files that may change any time.
    fn revision(&self) -> Option<&str>;

    /// The descriptor's path in the tree (`/`-separated, relative to its root).
    fn descriptor(&self) -> &str;

    /// Opens the tree (blocking work).
    fn open(&self) -> Result<Box<dyn SourceTree>, String>;

    /// The web page that shows (or, with `edit`, edits) a file of the tree, when there is one.
    fn file_url(&self, _path: &str, _edit: bool) -> Option<String> {
        None
    }
}

/// The files of one tree: a folder on disk, or one commit of a repository. Paths are relative
/// to the tree's root and never leave it.
pub trait SourceTree {
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Paths of all files under `dir` (recursive); `""` is the whole tree.
    fn list(&self, dir: &str) -> Vec<String>;
    /// When the tree's commit was made, in seconds since the epoch (the committer's time);
    /// `None` for a tree that is no commit (a folder on disk).
    fn commit_time(&self) -> Option<i64> {
        None
    }
}

/// Every entity source of this process, by the location types they read. Cloning it (each
/// request's view of the catalog does) costs one reference count.
#[derive(Clone)]
pub struct Sources {
    sources: Arc<[Arc<dyn EntitySource>]>,
}

impl Default for Sources {
    fn default() -> Self {
        Sources::new(Vec::new())
    }
}

impl Sources {
    pub fn new(sources: Vec<Arc<dyn EntitySource>>) -> Sources {
        Sources {
            sources: sources.into(),
        }
    }

    /// The source that reads locations of this type.
    pub fn of(&self, location_type: LocationType) -> Result<&dyn EntitySource, CatalogError> {
        self.sources
            .iter()
            .find(|s| s.types().contains(&location_type))
            .map(|s| &**s)
            .ok_or_else(|| {
                CatalogError::InvalidInput(format!(
                    "location type \"{location_type}\" is not enabled in this Backlot"
                ))
            })
    }

    /// A target as shown (credentials removed by its source).
    pub fn display_target(&self, location_type: LocationType, target: &str) -> String {
        match self.of(location_type) {
            Ok(s) => s.display_target(target),
            Err(_) => target.to_string(),
        }
    }

    /// The longest time any source may take to prepare a read.
    pub fn longest_timeout(&self) -> Duration {
        self.sources
            .iter()
            .map(|s| s.timeout())
            .max()
            .unwrap_or(Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_round_trip_and_unknown_ones_are_untrusted() {
        for o in [
            Origin::Config,
            Origin::Demo,
            Origin::Api,
            Origin::Discovery("github".into()),
        ] {
            assert_eq!(Origin::parse(&o.to_string()), o);
        }
        assert_eq!(Origin::parse("something-else"), Origin::Api);
        assert!(!Origin::parse("something-else").is_trusted());
        assert!(Origin::Discovery("x".into()).is_trusted());
    }

    #[test]
    fn location_types_parse_as_written_and_refuse_others() {
        assert_eq!(LocationType::parse(" url ").unwrap(), LocationType::Url);
        let err = LocationType::parse("svn").unwrap_err().to_string();
        assert!(err.contains("\"svn\" is not supported"), "{err}");
    }
}
