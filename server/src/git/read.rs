//! A commit of a repository → what the catalog needs: descriptor files matching the location's
//! path or glob, `Location` entities inside the repository followed, placeholders resolved from
//! the same commit, Backstage's annotations filled in.
//!
//! Incremental by blob: a file whose blob id is the one read cleanly last time is not even
//! loaded, so a push that touches one file of a thousand parses one file.

use super::spec::GitSpec;
use super::tree::RepoTree;
use crate::catalog::placeholder::PlaceholderReader;
use crate::catalog::processing::{
    file_problem, keep_previous, parse_descriptor, problem, FileOrigin, FileOutcome, LocationRead,
    PreviousFile,
};
use gix::ObjectId;
use std::collections::HashSet;
use std::path::Path;

/// The commit a file's entities were read at.
pub const SOURCE_COMMIT: &str = "backlot.dev/source-commit";
/// When that commit was made (RFC 3339): when the descriptor last changed, as far as Backlot saw.
pub const SOURCE_CHANGED_AT: &str = "backlot.dev/source-changed-at";
pub const SOURCE_LOCATION: &str = "backstage.io/source-location";
pub const VIEW_URL: &str = "backstage.io/view-url";
pub const EDIT_URL: &str = "backstage.io/edit-url";

const MAX_DEPTH: usize = 16;

/// What one read needs besides the tree.
pub struct GitRead<'a> {
    pub spec: &'a GitSpec,
    pub branch: &'a str,
    /// `managed-by-origin-location` of every entity (the registered location).
    pub origin: &'a str,
    pub previous: &'a dyn Fn(&str) -> Option<&'a PreviousFile>,
}

/// Reads the location's files at the tree's commit.
pub fn read_commit(tree: &RepoTree, ctx: &GitRead<'_>) -> LocationRead {
    let mut out = LocationRead::default();
    let mut visited = HashSet::new();
    let files = match matching(tree, &ctx.spec.path) {
        Ok(f) => f,
        Err(e) => {
            out.problems.push(problem(e));
            return out;
        }
    };
    if files.is_empty() {
        out.problems.push(problem(format!(
            "no file in {} at branch {} matches \"{}\"",
            ctx.spec.display_url(),
            ctx.branch,
            ctx.spec.path
        )));
    }
    for (path, id) in files {
        follow_file(tree, ctx, &path, id, &mut out, &mut visited, 0);
    }
    out
}

/// Files of the tree matching a path or glob.
fn matching(tree: &RepoTree, pattern: &str) -> Result<Vec<(String, ObjectId)>, String> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(tree
            .entry(pattern)
            .map_err(|e| e.to_string())?
            .map(|id| vec![(pattern.to_string(), id)])
            .unwrap_or_default());
    }
    let glob = glob::Pattern::new(pattern).map_err(|e| format!("\"{pattern}\": {e}"))?;
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    // `**/x` also matches `x` at the top.
    let top = pattern.strip_prefix("**/");
    Ok(tree
        .files()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|(p, _)| glob.matches_with(p, opts) || top.is_some_and(|t| glob_top(t, p)))
        .collect())
}

fn glob_top(pattern: &str, path: &str) -> bool {
    !path.contains('/') && glob::Pattern::new(pattern).is_ok_and(|g| g.matches(path))
}

fn follow_target(
    tree: &RepoTree,
    ctx: &GitRead<'_>,
    referrer: &str,
    (ty, target): (&str, &str),
    out: &mut LocationRead,
    visited: &mut HashSet<String>,
    depth: usize,
) {
    let at = |m: String| file_problem(referrer, m);
    if target.contains("://") || Path::new(target).is_absolute() || !(ty == "file" || ty == "url") {
        out.problems.push(at(format!(
            "Location target {ty}:{target} is outside this repository and is not followed; register it as a location of its own"
        )));
        return;
    }
    let target = target.trim_start_matches("./");
    match matching(tree, target) {
        Ok(files) if files.is_empty() => out.problems.push(at(format!(
            "Location target {target} matches no file in the repository"
        ))),
        Ok(files) => {
            for (path, id) in files {
                follow_file(tree, ctx, &path, id, out, visited, depth + 1);
            }
        }
        Err(e) => out.problems.push(at(e)),
    }
}

fn follow_file(
    tree: &RepoTree,
    ctx: &GitRead<'_>,
    path: &str,
    id: ObjectId,
    out: &mut LocationRead,
    visited: &mut HashSet<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        out.problems.push(problem(format!(
            "{path}: Location entities nest deeper than {MAX_DEPTH} levels"
        )));
        return;
    }
    if !visited.insert(path.to_string()) {
        return;
    }
    let hash = id.to_string();
    let previous = (ctx.previous)(path);
    if let Some(prev) = previous.filter(|p| p.clean && p.hash == hash) {
        out.files.push(FileOutcome::Unchanged {
            path: path.to_string(),
        });
        out.file_state.push((path.to_string(), None));
        for (ty, target) in &prev.targets {
            follow_target(tree, ctx, path, (ty, target), out, visited, depth);
        }
        return;
    }
    let text = tree
        .blob(path, id)
        .and_then(|b| String::from_utf8(b).map_err(|_| format!("{path} is not UTF-8 text")));
    let text = match text {
        Ok(t) => t,
        Err(reason) => {
            let problem = file_problem(path, format!("could not read {path}: {reason}"));
            return failed(tree, ctx, path, problem, previous, out, visited, depth);
        }
    };
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let spec = ctx.spec;
    let mut defaults = Vec::new();
    if let Some(u) = spec.dir_url(ctx.branch, dir) {
        defaults.push((SOURCE_LOCATION, format!("url:{u}")));
    }
    if let Some(u) = spec.file_url(ctx.branch, path, false) {
        defaults.push((VIEW_URL, u));
    }
    if let Some(u) = spec.file_url(ctx.branch, path, true) {
        defaults.push((EDIT_URL, u));
    }
    let reader = TreeReader { tree };
    let parsed = parse_descriptor(
        &text,
        &FileOrigin {
            file: path,
            base_dir: Path::new(dir),
            managed_by: spec.location_ref(ctx.branch, path),
            origin: ctx.origin,
            defaults,
            forced: vec![
                (SOURCE_COMMIT, tree.commit.clone()),
                (
                    SOURCE_CHANGED_AT,
                    crate::util::format_rfc3339(tree.commit_time, 0),
                ),
            ],
            placeholders: &reader,
        },
    );
    if parsed.all_failed_yaml {
        let problem = parsed
            .problems
            .into_iter()
            .next()
            .unwrap_or_else(|| file_problem(path, "could not parse"));
        return failed(tree, ctx, path, problem, previous, out, visited, depth);
    }
    let clean = parsed.is_clean();
    let targets = parsed.targets.clone();
    out.file_state.push((
        path.to_string(),
        Some(PreviousFile {
            hash: hash.clone(),
            clean,
            modified_ns: 0,
            size: 0,
            targets: targets.clone(),
        }),
    ));
    out.files.push(FileOutcome::Read {
        path: path.to_string(),
        hash,
        entities: parsed.entities,
        problems: parsed.problems,
        invalid: parsed.invalid,
        broken_documents: parsed.broken_documents,
    });
    for (ty, target) in &targets {
        follow_target(tree, ctx, path, (ty, target), out, visited, depth);
    }
}

/// A file that could not be used: its entities keep their last good version and the targets it
/// had are still followed.
#[allow(clippy::too_many_arguments)]
fn failed(
    tree: &RepoTree,
    ctx: &GitRead<'_>,
    path: &str,
    problem: app::model::ProblemView,
    previous: Option<&PreviousFile>,
    out: &mut LocationRead,
    visited: &mut HashSet<String>,
    depth: usize,
) {
    out.files.push(FileOutcome::Failed {
        path: path.to_string(),
        problem,
    });
    for (ty, target) in keep_previous(path, previous, out) {
        follow_target(tree, ctx, path, (&ty, &target), out, visited, depth);
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
