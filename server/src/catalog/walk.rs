//! The one walker over descriptor files, for every kind of tree (a folder on disk, a commit of a
//! repository): find the files a pattern names, skip those unchanged since their last clean
//! read, parse the rest, follow the targets of `Location` entities (depth-limited, each file
//! once), and keep the last state of files that cannot be read, so their entities keep their
//! last good version and the targets they had are still followed.
//!
//! A tree says only what differs between trees ([`Tree`]): how a pattern matches, which
//! `Location` targets stay inside it, how to tell a file unchanged without reading it, how to
//! read one, and how its entities are annotated.

use super::processing::{
    file_problem, problem, FileOutcome, FileStates, LocationRead, ParsedFile, PreviousFile,
};
use app::model::ProblemView;
use std::collections::HashSet;

/// How deep `Location` entities may nest.
pub const MAX_DEPTH: usize = 16;

/// A file a pattern matched.
#[derive(Debug, Clone)]
pub struct Found {
    /// The file as problems, states and entities name it (unique in the tree).
    pub path: String,
    /// What the tree knows of the content without reading it (a Git blob id).
    pub id: Option<String>,
}

/// A file's content with what identifies it.
pub struct Loaded {
    pub bytes: Vec<u8>,
    /// Content hash (for Git: the blob id).
    pub hash: String,
    /// Modification time (ns) and size, where the tree has them (0 otherwise).
    pub modified_ns: i64,
    pub size: u64,
}

/// What the walker needs of a tree.
pub trait Tree {
    /// The files a pattern (a path or a glob, as this tree writes them) matches, sorted. Each
    /// entry is a file, or why a matched path cannot be used. `Err`: the pattern is unusable.
    fn matching(&self, pattern: &str) -> Result<Vec<Result<Found, String>>, String>;

    /// The problem when a pattern matches nothing; `referrer` is the file whose `Location`
    /// named it (`None`: the location's own target).
    fn nothing_matches(&self, pattern: &str, referrer: Option<&str>) -> String;

    /// The pattern a `Location` target (type and target as the entity gives them, relative
    /// ones already resolved against the entity's folder) names in this tree, or why it is not
    /// followed.
    fn target(&self, location_type: &str, target: &str) -> Result<String, String>;

    /// Whether, without reading it, the file is known to be as it was when last read.
    fn same_as(&self, file: &Found, previous: &PreviousFile) -> bool;

    /// Reads a file; `Err` says why it cannot be.
    fn load(&self, file: &Found) -> Result<Loaded, String>;

    /// Parses a descriptor: validated, completed entities with this tree's annotations, and
    /// placeholders read from this tree.
    fn parse(&self, path: &str, text: &str) -> ParsedFile;
}

/// Reads every file `root` names, and the files their `Location` entities name.
pub fn walk(tree: &dyn Tree, root: &str, previous: &FileStates) -> LocationRead {
    let mut walk = Walk {
        tree,
        previous,
        out: LocationRead::default(),
        visited: HashSet::new(),
    };
    walk.pattern(root, None, 0);
    walk.out
}

struct Walk<'a> {
    tree: &'a dyn Tree,
    previous: &'a FileStates,
    out: LocationRead,
    visited: HashSet<String>,
}

impl Walk<'_> {
    fn pattern(&mut self, pattern: &str, referrer: Option<&str>, depth: usize) {
        let at = |m: String| match referrer {
            Some(r) => file_problem(r, m),
            None => problem(m),
        };
        if depth > MAX_DEPTH {
            self.out.problems.push(at(format!(
                "{pattern}: Location entities nest deeper than {MAX_DEPTH} levels"
            )));
            return;
        }
        let found = match self.tree.matching(pattern) {
            Ok(found) => found,
            Err(m) => return self.out.problems.push(at(m)),
        };
        if found.is_empty() {
            let m = self.tree.nothing_matches(pattern, referrer);
            return self.out.problems.push(at(m));
        }
        for f in found {
            match f {
                Ok(f) => self.file(f, depth),
                Err(m) => self.out.problems.push(at(m)),
            }
        }
    }

    fn file(&mut self, f: Found, depth: usize) {
        if !self.visited.insert(f.path.clone()) {
            return;
        }
        for (ty, target) in self.read(&f) {
            match self.tree.target(&ty, &target) {
                Ok(pattern) => self.pattern(&pattern, Some(&f.path), depth + 1),
                Err(m) => self.out.problems.push(file_problem(&f.path, m)),
            }
        }
    }

    /// Reads one file; returns the targets of its `Location` entities.
    fn read(&mut self, f: &Found) -> Vec<(String, String)> {
        let path = f.path.as_str();
        let previous = self.previous.get(path);
        let clean_before = previous.filter(|p| p.clean);
        if let Some(prev) = clean_before.filter(|p| self.tree.same_as(f, p)) {
            self.out.files.push(FileOutcome::Unchanged {
                path: path.to_string(),
            });
            self.out.file_state.push((path.to_string(), None));
            return prev.targets.clone();
        }
        let loaded = match self.tree.load(f) {
            Ok(l) => l,
            Err(reason) => {
                let p = file_problem(path, format!("could not read {path}: {reason}"));
                return self.failed(path, p, previous);
            }
        };
        if let Some(prev) = clean_before.filter(|p| p.hash == loaded.hash) {
            // Touched but not changed: remember the new size and time, read nothing.
            self.out.files.push(FileOutcome::Unchanged {
                path: path.to_string(),
            });
            self.out.file_state.push((
                path.to_string(),
                Some(PreviousFile {
                    modified_ns: loaded.modified_ns,
                    size: loaded.size,
                    ..prev.clone()
                }),
            ));
            return prev.targets.clone();
        }
        let Loaded {
            bytes,
            hash,
            modified_ns,
            size,
        } = loaded;
        let Ok(text) = String::from_utf8(bytes) else {
            let p = file_problem(path, format!("could not read {path}: it is not UTF-8 text"));
            return self.failed(path, p, previous);
        };
        let parsed = self.tree.parse(path, &text);
        drop(text);
        if parsed.all_failed_yaml {
            // Nothing in the file could be parsed: treat it as unreadable so its entities stay.
            let p = parsed
                .problems
                .into_iter()
                .next()
                .unwrap_or_else(|| file_problem(path, "could not parse"));
            return self.failed(path, p, previous);
        }
        let clean = parsed.is_clean();
        self.out.file_state.push((
            path.to_string(),
            Some(PreviousFile {
                hash: hash.clone(),
                clean,
                modified_ns,
                size,
                targets: parsed.targets.clone(),
            }),
        ));
        self.out.files.push(FileOutcome::Read {
            path: path.to_string(),
            hash,
            entities: parsed.entities,
            problems: parsed.problems,
            invalid: parsed.invalid,
            broken_documents: parsed.broken_documents,
        });
        parsed.targets
    }

    /// A file that could not be used keeps its last state, and the targets it pointed to are
    /// still followed: one broken `Location` file must not remove everything below it.
    fn failed(
        &mut self,
        path: &str,
        problem: ProblemView,
        previous: Option<&PreviousFile>,
    ) -> Vec<(String, String)> {
        self.out.files.push(FileOutcome::Failed {
            path: path.to_string(),
            problem,
        });
        match previous {
            Some(prev) => {
                self.out.file_state.push((
                    path.to_string(),
                    Some(PreviousFile {
                        clean: false,
                        ..prev.clone()
                    }),
                ));
                prev.targets.clone()
            }
            None => Vec::new(),
        }
    }
}
