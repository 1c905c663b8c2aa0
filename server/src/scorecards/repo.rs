//! Facts from an entity's repository, read through the catalog's seam
//! ([`EntityFiles`](crate::catalog::source::EntityFiles): a Git location's commit, or a file
//! location's folder), never from a provider: which files the `file` rules name are there, and
//! whether one has a line matching a pattern; when the commit was made (`lastCommit`); the
//! entity's TechDocs as the docs pages build them (`techdocs`, `docsPages`).
//!
//! One tree is read once per evaluation however many entities share it (a Git location's
//! entities share its commit); an entity's docs once per docs folder. A Git location's
//! entities are evaluated again when its commit moves (the commit is part of what tells an
//! entity did not change); a file location's folder has no revision, so its files are read
//! again only when one of its entities changes.

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

/// What the scorecards ask of entities' repositories.
#[derive(Debug, Clone, Default)]
pub struct RepoQueries {
    /// Files (`file` rules), each once.
    pub files: Vec<FileQuery>,
    /// When the commit was made (`lastCommit`): results then change with time too.
    pub commit: bool,
    /// The entity's TechDocs (`techdocs`, `docsPages`).
    pub docs: bool,
}

impl RepoQueries {
    /// Adds a file query unless it is there already.
    pub fn add_file(&mut self, q: &FileQuery) {
        if !self
            .files
            .iter()
            .any(|o| o.same(&q.path, q.matches.as_ref()))
        {
            self.files.push(q.clone());
        }
    }

    /// Everything `other` asks too.
    pub fn merge(&mut self, other: &RepoQueries) {
        other.files.iter().for_each(|q| self.add_file(q));
        self.commit |= other.commit;
        self.docs |= other.docs;
    }

    /// Nothing to ask: no repository is opened.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && !self.commit && !self.docs
    }

    /// Whether the tree itself is read (files or the commit; docs may be asked alone).
    fn reads_tree(&self) -> bool {
        !self.files.is_empty() || self.commit
    }
}

/// An entity's TechDocs, as the docs pages would build them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocsState {
    /// No `backstage.io/techdocs-ref` annotation.
    NoRef,
    /// Annotated, but the entity's files cannot be read.
    Unreadable,
    /// Annotated, and no site can be built: why, in the docs' own words.
    Broken(String),
    /// The site's pages.
    Pages(usize),
}

/// What one entity's repository says: its tree's answers (`None`: it cannot be read) and its
/// docs (`None`: not asked).
#[derive(Debug, Clone, Default)]
pub struct EntityRepo {
    pub files: Option<Arc<RepoFacts>>,
    pub docs: Option<DocsState>,
}

/// The answers of one tree to every query the scorecards ask.
#[derive(Debug, Default)]
pub struct RepoFacts {
    answers: Vec<(FileQuery, FileState)>,
    /// When the tree's commit was made (seconds since the epoch); `None`: no commit (a folder).
    pub commit_time: Option<i64>,
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
        RepoFacts {
            answers,
            commit_time: tree.commit_time(),
        }
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
    queries: &'a RepoQueries,
    locations: HashMap<&'a str, &'a LocationInfo>,
    /// By (location id, revision or descriptor file).
    read: HashMap<(String, String), Option<Arc<RepoFacts>>>,
    /// By (location id, revision or descriptor file, docs folder).
    docs: HashMap<(String, String, String), DocsState>,
}

impl<'a> RepoReader<'a> {
    pub fn new(
        sources: &'a Sources,
        queries: &'a RepoQueries,
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
            docs: HashMap::new(),
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
        self.entity(r).files
    }

    /// What `r`'s repository says to every query (blocking work the first time a tree or a
    /// docs folder is asked). The tree is opened at most once, and not at all when everything
    /// asked is known.
    pub fn entity(&mut self, r: &Record) -> EntityRepo {
        let mut out = EntityRepo::default();
        if self.queries.is_empty() {
            return out;
        }
        let reference = if self.queries.docs {
            let reference = crate::docs::service::techdocs_ref(r);
            if reference.is_none() {
                out.docs = Some(DocsState::NoRef);
            }
            reference
        } else {
            None
        };
        let location = self.locations.get(r.stored.location_id.as_str()).copied();
        let files: Option<(&LocationInfo, Arc<dyn EntityFiles>)> = location.and_then(|location| {
            let files = self
                .sources
                .of(location.location_type)
                .ok()?
                .files(location, &r.stored.source_file)?;
            Some((location, files))
        });
        let Some((location, files)) = files else {
            if reference.is_some() {
                out.docs = Some(DocsState::Unreadable);
            }
            return out;
        };
        let key = (
            location.id.clone(),
            files
                .revision()
                .map_or_else(|| r.stored.source_file.clone(), str::to_string),
        );
        let mut tree: Option<Result<Box<dyn SourceTree>, String>> = None;
        if self.queries.reads_tree() {
            if !self.read.contains_key(&key) {
                let facts = opened(&mut tree, &*files, r)
                    .map(|t| Arc::new(RepoFacts::read(t, &self.queries.files)));
                self.read.insert(key.clone(), facts);
            }
            out.files = self.read.get(&key).cloned().flatten();
        }
        if let Some(reference) = reference {
            out.docs = Some(
                match crate::docs::service::docs_folder(files.descriptor(), &reference) {
                    Err(why) => DocsState::Broken(why),
                    Ok(dir) => {
                        let docs_key = (key.0, key.1, dir);
                        match self.docs.get(&docs_key) {
                            Some(known) => known.clone(),
                            None => {
                                let state = match opened(&mut tree, &*files, r) {
                                    None => DocsState::Unreadable,
                                    Some(t) => match crate::docs::load_site(t, &docs_key.2, "") {
                                        Ok(site) => DocsState::Pages(site.pages.len()),
                                        Err(e) => DocsState::Broken(e.to_string()),
                                    },
                                };
                                self.docs.insert(docs_key, state.clone());
                                state
                            }
                        }
                    }
                },
            );
        }
        out
    }
}

/// The tree of `files`, opened on first use (`None`: it cannot be opened).
fn opened<'t>(
    tree: &'t mut Option<Result<Box<dyn SourceTree>, String>>,
    files: &dyn EntityFiles,
    r: &Record,
) -> Option<&'t dyn SourceTree> {
    match tree.get_or_insert_with(|| files.open()) {
        Ok(t) => Some(&**t),
        Err(e) => {
            tracing::debug!(entity = %r.stored.key, error = %e, "scorecards: files not readable");
            None
        }
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
