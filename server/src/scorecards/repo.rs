//! Facts from an entity's repository, read through the catalog's seam
//! ([`EntityFiles`](crate::catalog::source::EntityFiles): a Git location's commit, or a file
//! location's folder), never from a provider: which files the `file` rules name are there, and
//! whether one has a line matching a pattern.
//!
//! One tree is read once per evaluation however many entities share it (a Git location's
//! entities share its commit). A Git location's entities are evaluated again when its commit
//! moves (the commit is part of what tells an entity did not change); a file location's folder
//! has no revision, so its files are read again only when one of its entities changes.

use crate::catalog::snapshot::{LocationInfo, Record};
use crate::catalog::source::{EntityFiles, SourceTree, Sources};
use regex_lite::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// What a `file` rule asks: a path (ending in `/`: a folder with a file in it) and, maybe, a
/// pattern one of its lines must match.
#[derive(Debug, Clone)]
pub struct FileQuery {
    pub path: String,
    pub matches: Option<Regex>,
}

impl FileQuery {
    fn same(&self, path: &str, matches: Option<&Regex>) -> bool {
        self.path == path && self.matches.as_ref().map(Regex::as_str) == matches.map(Regex::as_str)
    }
}

/// What a tree says about one [`FileQuery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// The entity's files cannot be read (its location offers none, or the tree did not open).
    Unreadable,
    Missing,
    Present,
    /// The file's line (1-based) that matches.
    Matched(u32),
    /// The file is there, and no line matches.
    NotMatched,
}

/// The answers of one tree to every query the scorecards ask.
#[derive(Debug, Default)]
pub struct RepoFacts {
    answers: Vec<(FileQuery, FileState)>,
}

impl RepoFacts {
    /// Asks `tree` every query.
    pub fn read(tree: &dyn SourceTree, queries: &[FileQuery]) -> RepoFacts {
        let answers = queries
            .iter()
            .map(|q| {
                let state = if let Some(dir) = q.path.strip_suffix('/') {
                    if tree.list(dir).is_empty() {
                        FileState::Missing
                    } else {
                        FileState::Present
                    }
                } else {
                    match (tree.read(&q.path), &q.matches) {
                        (None, _) => FileState::Missing,
                        (Some(_), None) => FileState::Present,
                        (Some(bytes), Some(re)) => String::from_utf8_lossy(&bytes)
                            .lines()
                            .position(|l| re.is_match(l))
                            .map_or(FileState::NotMatched, |n| {
                                FileState::Matched(u32::try_from(n + 1).unwrap_or(u32::MAX))
                            }),
                    }
                };
                (q.clone(), state)
            })
            .collect();
        RepoFacts { answers }
    }

    /// The answer to one query (unknown queries: unreadable).
    pub fn get(&self, path: &str, matches: Option<&Regex>) -> FileState {
        self.answers
            .iter()
            .find(|(q, _)| q.same(path, matches))
            .map_or(FileState::Unreadable, |(_, s)| *s)
    }
}

/// Opens entities' trees through their locations' sources, each tree once.
pub struct RepoReader<'a> {
    sources: &'a Sources,
    queries: &'a [FileQuery],
    locations: HashMap<&'a str, &'a LocationInfo>,
    /// By (location id, revision or descriptor file).
    read: HashMap<(String, String), Option<Arc<RepoFacts>>>,
}

impl<'a> RepoReader<'a> {
    pub fn new(
        sources: &'a Sources,
        queries: &'a [FileQuery],
        locations: &'a [Arc<LocationInfo>],
    ) -> Self {
        RepoReader {
            sources,
            queries,
            // Nothing to ask: no map to build.
            locations: if queries.is_empty() {
                HashMap::new()
            } else {
                locations.iter().map(|l| (l.id.as_str(), &**l)).collect()
            },
            read: HashMap::new(),
        }
    }

    /// The location's revision (a Git commit), what tells that its files changed.
    pub fn revision(&self, r: &Record) -> Option<&str> {
        self.locations
            .get(r.stored.location_id.as_str())
            .and_then(|l| l.commit.as_deref())
    }

    /// The facts of `r`'s tree (blocking work the first time a tree is asked).
    pub fn facts(&mut self, r: &Record) -> Option<Arc<RepoFacts>> {
        let location = *self.locations.get(r.stored.location_id.as_str())?;
        let files: Arc<dyn EntityFiles> = self
            .sources
            .of(location.location_type)
            .ok()?
            .files(location, &r.stored.source_file)?;
        let key = (
            location.id.clone(),
            files
                .revision()
                .map_or_else(|| r.stored.source_file.clone(), str::to_string),
        );
        let queries = self.queries;
        self.read
            .entry(key)
            .or_insert_with(|| match files.open() {
                Ok(tree) => Some(Arc::new(RepoFacts::read(&*tree, queries))),
                Err(e) => {
                    tracing::debug!(entity = %r.stored.key, error = %e, "scorecards: files not readable");
                    None
                }
            })
            .clone()
    }
}

/// A tree of files in memory, for tests.
#[cfg(test)]
pub struct SourceTreeForTests(pub Vec<(&'static str, &'static str)>);

#[cfg(test)]
impl SourceTree for SourceTreeForTests {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, c)| c.as_bytes().to_vec())
    }
    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.0
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_answers_every_query() {
        let q = |path: &str, re: Option<&str>| FileQuery {
            path: path.into(),
            matches: re.map(|r| Regex::new(r).expect("pattern")),
        };
        let queries = [
            q("README.md", None),
            q("CODEOWNERS", None),
            q(".github/workflows/", None),
            q("Dockerfile", Some(r"^FROM \S+:\d")),
            q("Dockerfile", Some("^FROM .*:latest$")),
        ];
        let tree = SourceTreeForTests(vec![
            ("README.md", "# Hello\n"),
            (".github/workflows/ci.yml", "on: push\n"),
            ("Dockerfile", "# build\nFROM rust:1.95 AS build\n"),
        ]);
        let facts = RepoFacts::read(&tree, &queries);
        assert_eq!(facts.get("README.md", None), FileState::Present);
        assert_eq!(facts.get("CODEOWNERS", None), FileState::Missing);
        assert_eq!(facts.get(".github/workflows/", None), FileState::Present);
        assert_eq!(
            facts.get("Dockerfile", queries[3].matches.as_ref()),
            FileState::Matched(2)
        );
        assert_eq!(
            facts.get("Dockerfile", queries[4].matches.as_ref()),
            FileState::NotMatched
        );
        assert_eq!(facts.get("LICENSE", None), FileState::Unreadable);
    }
}
