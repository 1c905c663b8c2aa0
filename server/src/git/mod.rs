//! Git ingestion: locations that point at repositories.
//!
//! - [`spec`]: what a Git location names (repository URL, branch, path or glob), including
//!   Backstage's `url` form (`https://host/org/repo/blob/<branch>/<path>`) and the web URLs
//!   derived from it (view, edit, source).
//! - [`mirror`]: one bare mirror per repository in the data directory, fetched shallowly with the
//!   `git` program (every transport, credential and proxy setting git supports, no working tree).
//! - [`remote`]: asks a remote where a branch points, in-process (git:// and smart HTTP), so a
//!   visit to an unchanged repository spawns nothing.
//! - [`tree`]: reads a commit's files straight from the mirror's object store with gix.
//! - [`source`]: Git locations as the catalog's entity source: check, fetch, read, docs tree.
//! - [`read`]: a commit as the catalog's walker sees it (matching, targets, annotations).
//! - [`jobs`]: push routing and scheduled discovery, through the catalog's doors.
//! - [`webhook`]: push payloads from GitHub, GitLab and Gitea.
//! - [`url`]: one identity per repository URL however it is written; credentials redacted.
//!
//! Why fetch with `git` and read with gix: fetching is network work where git's own transports,
//! credential handling and server compatibility are the reference; reading is the hot path, done
//! in-process without spawning anything, and so is the question "did the branch move?", so a
//! refresh of a repository whose head did not move costs one round trip and nothing else.

pub mod discovery;
pub mod jobs;
pub mod mirror;
pub mod read;
pub mod remote;
pub mod source;
pub mod spec;
pub mod tree;
pub mod url;
pub mod webhook;

#[cfg(test)]
pub mod testing;
#[cfg(test)]
mod tests;

pub use mirror::{GitSettings, Mirrors};
pub use source::GitSource;
pub use spec::GitSpec;

/// What can go wrong reading a repository. Messages are meant for the location's owner.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum GitError {
    /// The location does not name a repository Backlot can read.
    #[error("{0}")]
    InvalidSpec(String),
    /// The fetch failed: unreachable server, refused credentials, missing branch…
    #[error("{0}")]
    Fetch(String),
    /// The repository is over a configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// The mirror could not be read.
    #[error("{0}")]
    Read(String),
}
