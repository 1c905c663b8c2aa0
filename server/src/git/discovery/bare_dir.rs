//! The `bare-dir` source: every repository below a directory, bare ones and working trees, up to
//! [`MAX_DEPTH`] levels down; hidden directories and symbolic links are not followed.

use super::{DiscoveredRepo, DiscoveryConfig, DiscoveryError, MAX_DEPTH, MAX_DIR_REPOS};
use std::path::{Path, PathBuf};

/// Most directories one `bare-dir` discovery looks into.
const MAX_DIRS_VISITED: usize = 100_000;

pub(super) fn scan_dir(
    cfg: &DiscoveryConfig,
    dir: &Path,
) -> Result<Vec<DiscoveredRepo>, DiscoveryError> {
    let setup = |message: String| DiscoveryError::Setup {
        discovery: cfg.name.clone(),
        message,
    };
    let root = std::fs::canonicalize(dir)
        .map_err(|e| setup(format!("cannot read directory {}: {e}", dir.display())))?;
    if !root.is_dir() {
        return Err(setup(format!("{} is not a directory", root.display())));
    }
    let mut scan = Scan {
        root: &root,
        found: Vec::new(),
        visited: 0,
    };
    scan.walk(&root, 0).map_err(setup)?;
    Ok(scan.found)
}

struct Scan<'a> {
    root: &'a Path,
    found: Vec<DiscoveredRepo>,
    visited: usize,
}

impl Scan<'_> {
    fn walk(&mut self, dir: &Path, depth: usize) -> Result<(), String> {
        self.visited += 1;
        if self.visited > MAX_DIRS_VISITED {
            return Err(format!(
                "more than {MAX_DIRS_VISITED} directories below {}; point `dir` at a narrower one",
                self.root.display()
            ));
        }
        let head = if is_bare_repo(dir) {
            Some(dir.join("HEAD"))
        } else if dir.join(".git").join("HEAD").is_file() {
            Some(dir.join(".git").join("HEAD"))
        } else {
            None
        };
        if let Some(head) = head {
            self.found_repo(dir, &head)?;
            return Ok(());
        }
        if depth >= MAX_DEPTH {
            return Ok(());
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if depth == 0 => {
                return Err(format!("cannot read directory {}: {e}", dir.display()))
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "discovery skips an unreadable directory");
                return Ok(());
            }
        };
        let mut children: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            // `file_type` does not follow symbolic links: no loops.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        children.sort();
        for child in children {
            self.walk(&child, depth + 1)?;
        }
        Ok(())
    }

    fn found_repo(&mut self, dir: &Path, head: &Path) -> Result<(), String> {
        let Some(abs) = dir.to_str() else {
            tracing::warn!(dir = %dir.display(), "discovery skips a repository whose path is not UTF-8");
            return Ok(());
        };
        if self.found.len() >= MAX_DIR_REPOS {
            return Err(format!(
                "more than {MAX_DIR_REPOS} repositories below {}",
                self.root.display()
            ));
        }
        let rel = dir
            .strip_prefix(self.root)
            .ok()
            .map(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .filter(|r| !r.is_empty())
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| abs.to_string());
        let default_branch = std::fs::read_to_string(head).ok().and_then(|h| {
            h.trim()
                .strip_prefix("ref: refs/heads/")
                .map(str::to_string)
                .filter(|b| !b.is_empty())
        });
        self.found.push(DiscoveredRepo {
            name: rel.trim_end_matches(".git").to_string(),
            url: format!("file://{abs}"),
            default_branch,
            web_url: None,
        });
        Ok(())
    }
}

fn is_bare_repo(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

#[cfg(test)]
mod tests {
    use super::super::discover;
    use super::super::testing::{config, names};
    use super::*;
    use crate::git::spec::DEFAULT_PATH;

    fn git(args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn bare_dir_finds_repositories_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let init_bare = |rel: &str, branch: &str| {
            let p = root.join(rel);
            git(&[
                "init",
                "--quiet",
                "--bare",
                &format!("--initial-branch={branch}"),
                p.to_str().unwrap(),
            ]);
        };
        init_bare("zeta.git", "main");
        init_bare("team/billing.git", "trunk");
        init_bare("a/b/c/d/too-deep.git", "main");
        init_bare(".hidden/secret.git", "main");
        git(&[
            "init",
            "--quiet",
            "--initial-branch=dev",
            root.join("work").to_str().unwrap(),
        ]);
        std::fs::create_dir_all(root.join("team/notes")).unwrap();
        std::fs::write(root.join("team/notes/readme.txt"), "not a repository").unwrap();
        std::fs::create_dir_all(root.join("fake.git")).unwrap();
        std::fs::write(root.join("fake.git/HEAD"), "ref: refs/heads/main\n").unwrap();

        let cfg = config(&format!(
            "name: local\ntype: bare-dir\ndir: {}\n",
            root.display()
        ));
        let repos = discover(&cfg).unwrap();
        let canon = std::fs::canonicalize(root).unwrap();
        let url = |rel: &str| format!("file://{}", canon.join(rel).display());
        assert_eq!(
            repos,
            [
                DiscoveredRepo {
                    name: "team/billing".into(),
                    url: url("team/billing.git"),
                    default_branch: Some("trunk".into()),
                    web_url: None,
                },
                DiscoveredRepo {
                    name: "work".into(),
                    url: url("work"),
                    default_branch: Some("dev".into()),
                    web_url: None,
                },
                DiscoveredRepo {
                    name: "zeta".into(),
                    url: url("zeta.git"),
                    default_branch: Some("main".into()),
                    web_url: None,
                },
            ]
        );
        assert!(repos[2].url.starts_with("file:///"));
        let spec = cfg.spec_for(&repos[0]).unwrap();
        assert_eq!(spec.branch.as_deref(), Some("trunk"));
        assert_eq!(spec.path, DEFAULT_PATH);
        assert_eq!(cfg.origin(), "discovery:local");

        let only = config(&format!(
            "name: local\ntype: bare-dir\ndir: {}\nexclude: ['team/*']\nbranch: main\npath: catalog-info.yaml\n",
            root.display()
        ));
        let repos = discover(&only).unwrap();
        assert_eq!(names(&repos), ["work", "zeta"]);
        let spec = only.spec_for(&repos[0]).unwrap();
        assert_eq!(spec.branch.as_deref(), Some("main"));
        assert_eq!(spec.path, "catalog-info.yaml");

        let missing = config(&format!(
            "name: gone\ntype: bare-dir\ndir: {}\n",
            root.join("nope").display()
        ));
        let msg = discover(&missing).unwrap_err().to_string();
        assert!(
            msg.starts_with("discovery `gone`: cannot read directory"),
            "{msg}"
        );
    }
}
