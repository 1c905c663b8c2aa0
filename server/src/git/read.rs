//! A commit of a repository as the catalog's walker sees it ([`crate::catalog::walk::Tree`]):
//! descriptor files matching the location's path or glob, `Location` targets that stay inside
//! the repository, placeholders resolved from the same commit, Backstage's annotations filled in.
//!
//! Incremental by blob: a file whose blob id is the one read cleanly last time is not even
//! loaded, so a push that touches one file of a thousand parses one file.

use super::spec::GitSpec;
use super::tree::RepoTree;
use crate::catalog::annotations::{
    EDIT_URL, SOURCE_CHANGED_AT, SOURCE_COMMIT, SOURCE_LOCATION, VIEW_URL,
};
use crate::catalog::placeholder::PlaceholderReader;
use crate::catalog::processing::{parse_descriptor, FileOrigin, ParsedFile, PreviousFile};
use crate::catalog::walk::{Found, Loaded, Tree};
use std::path::Path;

/// One commit of a location's repository, read for the catalog.
pub struct CommitFiles<'a> {
    pub tree: &'a RepoTree,
    pub spec: &'a GitSpec,
    pub branch: &'a str,
    /// `managed-by-origin-location` of every entity (the registered location).
    pub origin: String,
}

impl Tree for CommitFiles<'_> {
    fn matching(&self, pattern: &str) -> Result<Vec<Result<Found, String>>, String> {
        let found = |(path, id): (String, gix::ObjectId)| {
            Ok(Found {
                path,
                id: Some(id.to_string()),
            })
        };
        if !pattern.contains(['*', '?', '[']) {
            return Ok(self
                .tree
                .entry(pattern)
                .map_err(|e| e.to_string())?
                .map(|id| vec![found((pattern.to_string(), id))])
                .unwrap_or_default());
        }
        let glob = glob::Pattern::new(pattern).map_err(|e| format!("\"{pattern}\": {e}"))?;
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        // `**/x` also matches `x` at the top.
        let top = pattern
            .strip_prefix("**/")
            .and_then(|t| glob::Pattern::new(t).ok());
        Ok(self
            .tree
            .files()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(p, _)| {
                glob.matches_with(p, opts)
                    || top
                        .as_ref()
                        .is_some_and(|t| !p.contains('/') && t.matches(p))
            })
            .map(found)
            .collect())
    }

    fn nothing_matches(&self, pattern: &str, referrer: Option<&str>) -> String {
        match referrer {
            None => format!(
                "no file in {} at branch {} matches \"{pattern}\"",
                self.spec.display_url(),
                self.branch,
            ),
            Some(_) => format!("Location target {pattern} matches no file in the repository"),
        }
    }

    fn target(&self, location_type: &str, target: &str) -> Result<String, String> {
        if target.contains("://")
            || Path::new(target).is_absolute()
            || !(location_type == "file" || location_type == "url")
        {
            return Err(format!(
                "Location target {location_type}:{target} is outside this repository and is not followed; register it as a location of its own"
            ));
        }
        Ok(target.trim_start_matches("./").to_string())
    }

    fn same_as(&self, file: &Found, previous: &PreviousFile) -> bool {
        file.id.as_deref() == Some(previous.hash.as_str())
    }

    fn load(&self, file: &Found) -> Result<Loaded, String> {
        let id = file
            .id
            .as_deref()
            .and_then(|id| gix::ObjectId::from_hex(id.as_bytes()).ok())
            .ok_or_else(|| format!("{} has no blob id", file.path))?;
        let bytes = self.tree.blob(&file.path, id)?;
        Ok(Loaded {
            bytes,
            hash: id.to_string(),
            modified_ns: 0,
            size: 0,
        })
    }

    fn parse(&self, path: &str, text: &str) -> ParsedFile {
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let (spec, branch) = (self.spec, self.branch);
        let mut defaults = Vec::new();
        if let Some(u) = spec.dir_url(branch, dir) {
            defaults.push((SOURCE_LOCATION, format!("url:{u}")));
        }
        if let Some(u) = spec.file_url(branch, path, false) {
            defaults.push((VIEW_URL, u));
        }
        if let Some(u) = spec.file_url(branch, path, true) {
            defaults.push((EDIT_URL, u));
        }
        let reader = TreeReader { tree: self.tree };
        parse_descriptor(
            text,
            &FileOrigin {
                file: path,
                base_dir: Path::new(dir),
                managed_by: spec.location_ref(branch, path),
                origin: &self.origin,
                defaults,
                forced: vec![
                    (SOURCE_COMMIT, self.tree.commit.clone()),
                    (
                        SOURCE_CHANGED_AT,
                        crate::util::format_rfc3339(self.tree.commit_time, 0),
                    ),
                ],
                placeholders: &reader,
            },
        )
    }
}

/// `$text`/`$json`/`$yaml` from the same commit, relative to the descriptor's folder.
struct TreeReader<'a> {
    tree: &'a RepoTree,
}

impl PlaceholderReader for TreeReader<'_> {
    fn read(&self, base_dir: &Path, target: &str) -> Result<String, String> {
        if target.contains("://") {
            return Err(format!(
                "could not read {target}: placeholders read files of the same repository; use a relative path"
            ));
        }
        let mut parts: Vec<&str> = Vec::new();
        let joined = base_dir.join(target);
        for c in joined.components() {
            match c {
                std::path::Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
                std::path::Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(format!(
                            "could not read {target}: it is outside the repository"
                        ));
                    }
                }
                std::path::Component::CurDir => {}
                _ => {
                    return Err(format!(
                        "could not read {target}: use a path relative to the descriptor"
                    ))
                }
            }
        }
        let path = parts.join("/");
        let bytes = self.tree.read(&path)?;
        String::from_utf8(bytes).map_err(|_| format!("could not read {path}: it is not UTF-8 text"))
    }
}
