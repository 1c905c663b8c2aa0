//! A task's workspace: the files its steps write, by workspace-relative path. Every path that
//! comes from a template or a value is checked here ([`safe_path`]): `..` that would climb out,
//! absolute paths and empty names are refused with an error naming the path. Kept in memory
//! (templates are small; a dry-run never touches the disk); a task writes it out where it
//! publishes.

use std::collections::BTreeMap;

/// One file of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceFile {
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// The files, by normalised relative path (`a/b.txt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    files: BTreeMap<String, WorkspaceFile>,
}

/// A path a step asked for that would leave the workspace or names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path:?}: {why}")]
pub struct PathError {
    pub path: String,
    pub why: &'static str,
}

/// `path` normalised inside the workspace: `.` segments and duplicate slashes dropped, `..`
/// resolved; refused when absolute, when `..` climbs above the root, or when nothing is left
/// and `allow_root` is false.
pub fn safe_path(path: &str, allow_root: bool) -> Result<String, PathError> {
    let refuse = |why| PathError {
        path: path.to_string(),
        why,
    };
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') && is_windows_abs(path)
    {
        return Err(refuse("absolute paths are not allowed"));
    }
    if path.contains('\0') {
        return Err(refuse("the path contains a NUL character"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(refuse("the path would leave the workspace"));
                }
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() && !allow_root {
        return Err(refuse("the path names no file"));
    }
    Ok(parts.join("/"))
}

fn is_windows_abs(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// `base` joined with `rel` (both workspace-relative), checked.
pub fn join(base: &str, rel: &str) -> Result<String, PathError> {
    if base.is_empty() {
        safe_path(rel, true)
    } else {
        safe_path(&format!("{base}/{rel}"), true)
    }
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes a file (replacing one at the same path).
    pub fn write(
        &mut self,
        path: &str,
        contents: Vec<u8>,
        executable: bool,
    ) -> Result<(), PathError> {
        let path = safe_path(path, false)?;
        self.files.insert(
            path,
            WorkspaceFile {
                contents,
                executable,
            },
        );
        Ok(())
    }

    pub fn get(&self, path: &str) -> Option<&WorkspaceFile> {
        self.files.get(path)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Whether `path` is a file or a folder holding files.
    pub fn exists(&self, path: &str) -> bool {
        self.contains(path) || self.under(path).next().is_some()
    }

    /// The files under folder `dir` (every file for the root, `""`), with their full paths.
    pub fn under<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a WorkspaceFile)> {
        self.files.iter().filter(move |(p, _)| {
            dir.is_empty() || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
        })
    }

    /// Removes a file or a folder with everything under it; how many files went.
    pub fn remove(&mut self, path: &str) -> usize {
        let before = self.files.len();
        let prefix = format!("{path}/");
        self.files
            .retain(|p, _| p != path && !p.starts_with(&prefix));
        before - self.files.len()
    }

    /// Moves a file or a folder to `to`; `false` when there was nothing at `from`.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        if let Some(file) = self.files.remove(from) {
            self.files.insert(to.to_string(), file);
            return true;
        }
        let prefix = format!("{from}/");
        let moved: Vec<String> = self
            .files
            .keys()
            .filter(|p| p.starts_with(&prefix))
            .cloned()
            .collect();
        for path in &moved {
            if let Some(file) = self.files.remove(path) {
                self.files
                    .insert(format!("{to}/{}", &path[prefix.len()..]), file);
            }
        }
        !moved.is_empty()
    }

    /// Every path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.files.keys()
    }

    /// Every file, by path.
    pub fn files(&self) -> &BTreeMap<String, WorkspaceFile> {
        &self.files
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert_eq!(safe_path("a/./b//c.txt", false).unwrap(), "a/b/c.txt");
        assert_eq!(safe_path("a/../b", false).unwrap(), "b");
        for bad in ["../x", "a/../../x", "/etc/passwd", "\\x", "C:/x", ".", ""] {
            let e = safe_path(bad, false).expect_err(bad);
            assert_eq!(e.path, bad);
        }
        assert_eq!(safe_path(".", true).unwrap(), "");
        assert_eq!(join("skeleton", "../x").unwrap(), "x");
        assert!(join("a", "../../x").is_err());
    }

    #[test]
    fn files_and_folders_move_and_go() {
        let mut w = Workspace::new();
        w.write("a/one.txt", b"1".to_vec(), false).unwrap();
        w.write("a/b/two.txt", b"2".to_vec(), true).unwrap();
        w.write("ab.txt", b"3".to_vec(), false).unwrap();
        assert!(w.write("../x", vec![], false).is_err());
        assert!(w.exists("a") && w.exists("a/b") && !w.exists("a/c"));
        assert_eq!(w.under("a").count(), 2, "ab.txt is not under a");
        assert!(w.rename("a", "z"));
        assert_eq!(
            w.paths().cloned().collect::<Vec<_>>(),
            ["ab.txt", "z/b/two.txt", "z/one.txt"]
        );
        assert!(w.get("z/b/two.txt").unwrap().executable);
        assert!(!w.rename("nothing", "x"));
        assert_eq!(w.remove("z"), 2);
        assert_eq!(w.len(), 1);
    }
}
