//! What a Git location names, and the web addresses of its files.
//!
//! Two ways to register one: `{"type": "git", "target": "<repository URL>", "branch", "path"}`,
//! or Backstage's `{"type": "url", "target": "https://host/org/repo/blob/<branch>/<path>"}` for
//! GitHub-, GitLab- and Gitea-style hosts.

use super::url::redact_url;
use super::GitError;
use crate::catalog::source::LocationType;

/// Default path inside a repository: every descriptor file, at any depth.
pub const DEFAULT_PATH: &str = "**/catalog-info.yaml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSpec {
    /// Clone URL as given (may hold credentials: never show it, use [`GitSpec::display_url`]).
    pub url: String,
    /// Branch to read; `None`: the remote's default branch (its HEAD).
    pub branch: Option<String>,
    /// Path or glob of descriptor files inside the repository, without a leading `/`.
    pub path: String,
}

/// How a host lays out its web pages for files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebFlavour {
    Github,
    Gitlab,
    Gitea,
}

impl GitSpec {
    /// The spec of a stored location (`git` or `url` type).
    pub fn from_location(
        location_type: LocationType,
        target: &str,
        branch: Option<&str>,
        path: Option<&str>,
    ) -> Result<GitSpec, GitError> {
        match location_type {
            LocationType::Git => GitSpec::new(target, branch, path),
            LocationType::Url => GitSpec::from_web_url(target),
            other => Err(GitError::InvalidSpec(format!(
                "location type \"{other}\" is not a Git location"
            ))),
        }
    }

    /// A `git` location: checks the URL's form, branch and path.
    pub fn new(url: &str, branch: Option<&str>, path: Option<&str>) -> Result<GitSpec, GitError> {
        let url = url.trim();
        let known = ["https://", "http://", "ssh://", "git://", "file://"]
            .iter()
            .any(|p| url.starts_with(p))
            || is_scp_like(url);
        if !known {
            return Err(GitError::InvalidSpec(format!(
                "target \"{}\" is not a repository URL; expected https://, http://, ssh://, git://, file:// or user@host:path",
                redact_url(url)
            )));
        }
        let branch = branch.map(str::trim).filter(|b| !b.is_empty());
        if let Some(b) = branch {
            if !valid_branch(b) {
                return Err(GitError::InvalidSpec(format!(
                    "branch \"{b}\" is not a valid branch name"
                )));
            }
        }
        let path = path
            .map(|p| p.trim().trim_start_matches('/'))
            .filter(|p| !p.is_empty())
            .unwrap_or(DEFAULT_PATH);
        if path.split('/').any(|c| c == "..") {
            return Err(GitError::InvalidSpec(format!(
                "path \"{path}\" leaves the repository; expected a path or glob inside it"
            )));
        }
        if let Err(e) = glob::Pattern::new(path) {
            return Err(GitError::InvalidSpec(format!(
                "path \"{path}\" is not a valid glob: {e}"
            )));
        }
        Ok(GitSpec {
            url: url.to_string(),
            branch: branch.map(str::to_string),
            path: path.to_string(),
        })
    }

    /// Backstage's `url` target: the web address of a file (or folder) on a Git host.
    pub fn from_web_url(target: &str) -> Result<GitSpec, GitError> {
        let bad = || {
            GitError::InvalidSpec(format!(
                "target \"{}\" is not a file on a Git host; expected https://host/org/repo/blob/<branch>/<path> (GitHub), https://host/group/repo/-/blob/<branch>/<path> (GitLab) or https://host/org/repo/src/branch/<branch>/<path> (Gitea)",
                redact_url(target)
            ))
        };
        let rest = target
            .strip_prefix("https://")
            .or_else(|| target.strip_prefix("http://"))
            .ok_or_else(bad)?;
        let scheme = &target[..target.len() - rest.len()];
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let parts: Vec<&str> = rest.split('/').collect();
        // GitLab: …/-/blob|tree/<branch>/<path>
        let (repo_end, kind_at) = if let Some(i) = parts.iter().position(|p| *p == "-") {
            (i, i + 1)
        } else if let Some(i) = parts
            .iter()
            .enumerate()
            .skip(3)
            .find(|(_, p)| **p == "src")
            .map(|(i, _)| i)
            .filter(|i| parts.get(i + 1) == Some(&"branch"))
        {
            // Gitea: …/src/branch/<branch>/<path>
            (i, i + 1)
        } else {
            (3, 3)
        };
        if repo_end < 3 {
            return Err(bad());
        }
        let kind = *parts.get(kind_at).ok_or_else(bad)?;
        if !matches!(kind, "blob" | "tree" | "branch") {
            return Err(bad());
        }
        let branch = parts
            .get(kind_at + 1)
            .filter(|b| !b.is_empty())
            .ok_or_else(bad)?;
        let path = parts[kind_at + 2..].join("/");
        let path = if kind == "tree" || path.is_empty() || path.ends_with('/') {
            let dir = path.trim_end_matches('/');
            if dir.is_empty() {
                "catalog-info.yaml".to_string()
            } else {
                format!("{dir}/catalog-info.yaml")
            }
        } else {
            path
        };
        let url = format!("{scheme}{}", parts[..repo_end].join("/"));
        GitSpec::new(&url, Some(branch), Some(&path))
    }

    /// The URL without credentials, for pages and logs.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The repository's web address (`https://github.com/org/repo`) and its layout, when the
    /// host is a known kind reachable over HTTP(S).
    pub fn web(&self) -> Option<(String, WebFlavour)> {
        let url = redact_url(&self.url);
        let (scheme, host_path) = if let Some(r) = url.strip_prefix("https://") {
            ("https://", r.to_string())
        } else if let Some(r) = url.strip_prefix("http://") {
            ("http://", r.to_string())
        } else if let Some(r) = url.strip_prefix("ssh://") {
            let r = r.split_once('@').map(|(_, h)| h).unwrap_or(r);
            let (host, path) = r.split_once('/')?;
            let host = host.split(':').next().unwrap_or(host);
            ("https://", format!("{host}/{path}"))
        } else if is_scp_like(&url) {
            let r = url.split_once('@').map(|(_, h)| h).unwrap_or(&url);
            let (host, path) = r.split_once(':')?;
            ("https://", format!("{host}/{path}"))
        } else {
            return None;
        };
        let host = host_path.split('/').next()?.to_ascii_lowercase();
        let flavour = if host.contains("gitlab") {
            WebFlavour::Gitlab
        } else if host.contains("gitea") || host.contains("codeberg") || host.contains("forgejo") {
            WebFlavour::Gitea
        } else if host.contains("github") {
            WebFlavour::Github
        } else {
            return None;
        };
        let base = host_path.trim_end_matches('/');
        let base = base.strip_suffix(".git").unwrap_or(base);
        Some((format!("{scheme}{base}"), flavour))
    }

    /// Web address to view a file (or, with `edit`, to edit it) at a branch.
    pub fn file_url(&self, branch: &str, path: &str, edit: bool) -> Option<String> {
        let (base, flavour) = self.web()?;
        Some(match (flavour, edit) {
            (WebFlavour::Github, false) => format!("{base}/blob/{branch}/{path}"),
            (WebFlavour::Github, true) => format!("{base}/edit/{branch}/{path}"),
            (WebFlavour::Gitlab, false) => format!("{base}/-/blob/{branch}/{path}"),
            (WebFlavour::Gitlab, true) => format!("{base}/-/edit/{branch}/{path}"),
            (WebFlavour::Gitea, false) => format!("{base}/src/branch/{branch}/{path}"),
            (WebFlavour::Gitea, true) => format!("{base}/_edit/{branch}/{path}"),
        })
    }

    /// Web address of a folder at a branch (ends with `/`).
    pub fn dir_url(&self, branch: &str, dir: &str) -> Option<String> {
        let (base, flavour) = self.web()?;
        let dir = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        Some(match flavour {
            WebFlavour::Github => format!("{base}/tree/{branch}/{dir}"),
            WebFlavour::Gitlab => format!("{base}/-/tree/{branch}/{dir}"),
            WebFlavour::Gitea => format!("{base}/src/branch/{branch}/{dir}"),
        })
    }

    /// Web address of a commit (`sha`: hexadecimal, 7 to 64 characters), when the host is a known
    /// kind.
    pub fn commit_url(&self, sha: &str) -> Option<String> {
        if !(7..=64).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let (base, flavour) = self.web()?;
        Some(match flavour {
            WebFlavour::Github | WebFlavour::Gitea => format!("{base}/commit/{sha}"),
            WebFlavour::Gitlab => format!("{base}/-/commit/{sha}"),
        })
    }

    /// The repository a `backstage.io/source-location` value names (`url:<web address of a
    /// folder or file>`, or `url:`/`git:` and a repository URL), when it is a Git repository.
    pub fn of_source_location(value: &str) -> Option<GitSpec> {
        let target = value
            .strip_prefix("url:")
            .or_else(|| value.strip_prefix("git:"))?
            .trim();
        GitSpec::from_web_url(target)
            .or_else(|_| GitSpec::new(target.split('?').next().unwrap_or(target), None, None))
            .ok()
    }

    /// Backstage's `managed-by-location` value for a file: `url:<web address>` where the host
    /// has one, otherwise `git:<repository>?ref=<branch>&path=<path>`.
    pub fn location_ref(&self, branch: &str, path: &str) -> String {
        match self.file_url(branch, path, false) {
            Some(u) => format!("url:{u}"),
            None => format!("git:{}?ref={branch}&path={path}", self.display_url()),
        }
    }
}

/// A folder or a file of a repository named by one URL, as the scaffolder's fetch actions take
/// them (`url: https://github.com/org/repo/tree/main/skeleton`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// The repository's clone URL (may hold credentials: show [`RemoteRef::display_url`]).
    pub url: String,
    /// `None`: the remote's default branch.
    pub branch: Option<String>,
    /// The folder or file in the repository, without leading or trailing `/` (`""`: the root).
    pub path: String,
    /// Whether the URL names a file (`/blob/`) rather than a folder (`/tree/`, the root).
    pub file: bool,
}

impl RemoteRef {
    /// Reads the forms Backlot knows:
    /// - a web address on a GitHub-, GitLab- or Gitea-style host:
    ///   `https://host/org/repo/tree/<branch>/<dir>`, `…/blob/<branch>/<file>`,
    ///   `https://host/group/sub/repo/-/tree/<branch>/<dir>` (GitLab),
    ///   `https://host/org/repo/src/branch/<branch>/<dir>` (Gitea), or `https://host/org/repo`
    ///   (the whole repository at its default branch);
    /// - a plain repository URL whose path ends in `.git` (`https://`, `http://`, `git://`,
    ///   `ssh://`), the whole repository at its default branch, optionally followed by
    ///   `/tree/<branch>/<dir>` or `/blob/<branch>/<file>` (the managed host's `repoContentsUrl`
    ///   is one: `…/team/svc.git/blob/main`).
    ///
    /// Other schemes (`file://` among them) are refused: a template does not read the server's
    /// disk.
    pub fn parse(target: &str) -> Result<RemoteRef, GitError> {
        let shown = redact_url(target);
        let bad = |why: &str| {
            GitError::InvalidSpec(format!(
                "\"{shown}\" {why}; expected https://host/org/repo/tree/<branch>/<dir> (or /blob/<branch>/<file>, GitLab's /-/tree/, Gitea's /src/branch/) or a repository URL ending in .git (https://, http://, git://, ssh://)"
            ))
        };
        let (scheme, rest) = target
            .split_once("://")
            .ok_or_else(|| bad("is not a URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "https" | "http" | "git" | "ssh") {
            return Err(bad(&format!(
                "has the scheme {scheme}://, which is not read"
            )));
        }
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.first().is_none_or(|h| h.is_empty()) {
            return Err(bad("names no host"));
        }
        // The repository ends at a `.git` segment, else where the host's layout says.
        let dot_git = parts
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, p)| p.len() > 4 && p.to_ascii_lowercase().ends_with(".git"))
            .map(|(i, _)| i + 1);
        let (repo_end, kind_at) = match dot_git {
            Some(end) => {
                let dash = parts.get(end) == Some(&"-");
                (end, if dash { end + 1 } else { end })
            }
            None => {
                if let Some(i) = parts.iter().position(|p| *p == "-") {
                    (i, i + 1)
                } else if let Some(i) = parts
                    .iter()
                    .enumerate()
                    .skip(3)
                    .find(|(i, p)| **p == "src" && parts.get(i + 1) == Some(&"branch"))
                    .map(|(i, _)| i)
                {
                    (i, i + 1)
                } else {
                    (3.min(parts.len()), 3)
                }
            }
        };
        if repo_end < 3 && dot_git.is_none() {
            return Err(bad("names no repository (host/owner/repo)"));
        }
        let url = format!("{scheme}://{}", parts[..repo_end].join("/"));
        let after: Vec<&str> = parts[kind_at.min(parts.len())..].to_vec();
        let trailing = after.iter().all(|p| p.is_empty());
        let (branch, path, file) = if trailing {
            (None, String::new(), false)
        } else {
            let kind = after[0];
            if !matches!(kind, "tree" | "blob" | "branch") {
                return Err(bad(&format!(
                    "has \"{kind}\" where /tree/ or /blob/ belongs"
                )));
            }
            let branch = after
                .get(1)
                .filter(|b| !b.is_empty())
                .ok_or_else(|| bad("names no branch"))?;
            let path = after[2..].join("/");
            let path = path.trim_matches('/').to_string();
            if path.split('/').any(|c| c == ".." || c == ".") {
                return Err(bad("leaves the repository"));
            }
            // Gitea's `src/branch/` names files and folders alike: read as a folder, or as a
            // file by the actions that fetch one file.
            // `…/blob/<branch>` alone is the root (publish actions' `repoContentsUrl`).
            let file = kind == "blob" && !path.is_empty();
            (Some(branch.to_string()), path, file)
        };
        let spec = GitSpec::new(&url, branch.as_deref(), None)?;
        Ok(RemoteRef {
            url: spec.url,
            branch: spec.branch,
            path,
            file,
        })
    }

    /// The URL without credentials, for logs.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// `user@host:path` (scp-like SSH syntax).
fn is_scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((before, after)) => {
            !before.contains('/') && before.contains('@') && !after.starts_with("//")
        }
        None => false,
    }
}

/// Git's ref-name rules, enough to keep option-like or odd names out of the fetch command (and
/// out of the branches `publish:git` creates).
pub fn valid_branch(b: &str) -> bool {
    !b.starts_with('-')
        && !b.starts_with('/')
        && !b.ends_with('/')
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b.contains("@{")
        && b.chars()
            .all(|c| !c.is_control() && !" ~^:?*[\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_targets_are_checked() {
        let s = GitSpec::new("git://127.0.0.1/x.git", None, None).unwrap();
        assert_eq!((s.branch, s.path.as_str()), (None, DEFAULT_PATH));
        let s = GitSpec::new(
            "git@github.com:org/repo.git",
            Some("main"),
            Some("/a/*.yaml"),
        )
        .unwrap();
        assert_eq!(s.path, "a/*.yaml");
        for (url, branch, path, expected) in [
            ("ftp://x/y", None, None, "not a repository URL"),
            (
                "https://x/y",
                Some("--upload-pack=evil"),
                None,
                "not a valid branch",
            ),
            (
                "https://x/y",
                None,
                Some("../../etc/passwd"),
                "leaves the repository",
            ),
            ("https://x/y", None, Some("a/[b"), "not a valid glob"),
        ] {
            let e = GitSpec::new(url, branch, path).unwrap_err().to_string();
            assert!(e.contains(expected), "{url}: {e}");
        }
        let e = GitSpec::new("ftp://me:s3cret@x/y", None, None).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn backstage_url_targets() {
        let s = GitSpec::from_web_url(
            "https://github.com/acme/payments/blob/main/services/api/catalog-info.yaml",
        )
        .unwrap();
        assert_eq!(s.url, "https://github.com/acme/payments");
        assert_eq!(s.branch.as_deref(), Some("main"));
        assert_eq!(s.path, "services/api/catalog-info.yaml");
        let s = GitSpec::from_web_url(
            "https://gitlab.example.com/group/sub/repo/-/blob/dev/catalog-info.yaml",
        )
        .unwrap();
        assert_eq!(s.url, "https://gitlab.example.com/group/sub/repo");
        assert_eq!(s.branch.as_deref(), Some("dev"));
        assert_eq!(s.path, "catalog-info.yaml");
        let s = GitSpec::from_web_url("https://github.com/acme/web/tree/main/").unwrap();
        assert_eq!(s.path, "catalog-info.yaml");
        let s = GitSpec::from_web_url(
            "https://codeberg.org/acme/web/src/branch/main/catalog-info.yaml",
        )
        .unwrap();
        assert_eq!(s.url, "https://codeberg.org/acme/web");
        assert!(GitSpec::from_web_url("https://github.com/acme").is_err());
        assert!(GitSpec::from_web_url("/etc/passwd").is_err());
    }

    #[test]
    fn commits_link_on_known_hosts_from_a_source_location() {
        let sha = "abc1234567890abcdef1234567890abcdef12345";
        let gh = GitSpec::of_source_location("url:https://github.com/acme/web/tree/main/").unwrap();
        assert_eq!(
            gh.commit_url(sha).as_deref(),
            Some("https://github.com/acme/web/commit/abc1234567890abcdef1234567890abcdef12345")
        );
        let gl = GitSpec::of_source_location(
            "url:https://gitlab.example.com/shop/web/-/blob/main/catalog-info.yaml",
        )
        .unwrap();
        assert_eq!(
            gl.commit_url("abc1234").as_deref(),
            Some("https://gitlab.example.com/shop/web/-/commit/abc1234")
        );
        let tea = GitSpec::of_source_location("url:https://codeberg.org/acme/web").unwrap();
        assert_eq!(
            tea.commit_url("abc1234").as_deref(),
            Some("https://codeberg.org/acme/web/commit/abc1234")
        );
        // Not a commit; an unknown host; not a Git location.
        assert_eq!(gh.commit_url("v1.2.3"), None);
        assert_eq!(gh.commit_url("abc"), None);
        let other =
            GitSpec::of_source_location("url:https://git.example.com/shop/web.git").unwrap();
        assert_eq!(other.commit_url(sha), None);
        assert!(GitSpec::of_source_location("file:/srv/catalog/").is_none());
    }

    #[test]
    fn web_addresses_by_host_kind() {
        let s = GitSpec::new("git@github.com:acme/web.git", None, None).unwrap();
        assert_eq!(
            s.file_url("main", "a/catalog-info.yaml", false).as_deref(),
            Some("https://github.com/acme/web/blob/main/a/catalog-info.yaml")
        );
        assert_eq!(
            s.file_url("main", "catalog-info.yaml", true).as_deref(),
            Some("https://github.com/acme/web/edit/main/catalog-info.yaml")
        );
        assert_eq!(
            s.dir_url("main", "a").as_deref(),
            Some("https://github.com/acme/web/tree/main/a/")
        );
        let s = GitSpec::new("https://tok@gitlab.com/g/r.git", None, None).unwrap();
        assert_eq!(
            s.file_url("dev", "x.yaml", true).as_deref(),
            Some("https://gitlab.com/g/r/-/edit/dev/x.yaml")
        );
        let s = GitSpec::new("git://127.0.0.1:9418/r.git", None, None).unwrap();
        assert_eq!(s.web(), None);
        assert_eq!(
            s.location_ref("main", "catalog-info.yaml"),
            "git:git://127.0.0.1:9418/r.git?ref=main&path=catalog-info.yaml"
        );
    }

    #[test]
    fn remote_refs_of_fetch_actions() {
        let r = |u: &str| RemoteRef::parse(u).unwrap();
        let gh = r("https://github.com/acme/templates/tree/main/service/skeleton");
        assert_eq!(
            gh,
            RemoteRef {
                url: "https://github.com/acme/templates".into(),
                branch: Some("main".into()),
                path: "service/skeleton".into(),
                file: false
            }
        );
        let blob = r("https://github.com/acme/templates/blob/v2/README.md?plain=1");
        assert_eq!(
            (blob.branch.as_deref(), blob.path.as_str(), blob.file),
            (Some("v2"), "README.md", true)
        );
        let gl = r("https://gitlab.example.com/group/sub/repo/-/tree/main/skel/");
        assert_eq!(gl.url, "https://gitlab.example.com/group/sub/repo");
        assert_eq!((gl.path.as_str(), gl.file), ("skel", false));
        let gitea = r("https://codeberg.org/acme/t/src/branch/main/dir");
        assert_eq!(gitea.url, "https://codeberg.org/acme/t");
        assert_eq!(gitea.path, "dir");
        let whole = r("https://github.com/acme/templates");
        assert_eq!((whole.branch, whole.path.as_str()), (None, ""));
        // Plain repository URLs, bare or with a folder or file after `.git`.
        let plain = r("git://127.0.0.1:9418/skeletons.git");
        assert_eq!(plain.url, "git://127.0.0.1:9418/skeletons.git");
        assert_eq!((plain.branch, plain.path.as_str()), (None, ""));
        let served = r("http://127.0.0.1:8088/cgi-bin/git/t.git/blob/main/a/b.txt");
        assert_eq!(served.url, "http://127.0.0.1:8088/cgi-bin/git/t.git");
        assert_eq!(
            (served.branch.as_deref(), served.path.as_str(), served.file),
            (Some("main"), "a/b.txt", true)
        );
        let managed = r("http://localhost:3000/git/team/svc.git/blob/main");
        assert_eq!(
            (
                managed.branch.as_deref(),
                managed.path.as_str(),
                managed.file
            ),
            (Some("main"), "", false)
        );
        // Refused, naming why.
        for (bad, why) in [
            ("file:///srv/git/t.git", "file://"),
            ("ftp://host/a/b", "ftp://"),
            ("ext::sh -c touch% /tmp/x", "not a URL"),
            ("https://github.com/acme", "no repository"),
            ("https://github.com/acme/t/commits/main", "\"commits\""),
            ("https://github.com/acme/t/tree/", "no branch"),
            ("https://github.com/acme/t/tree/main/../../x", "leaves"),
            (
                "https://github.com/acme/t/tree/-x/dir",
                "not a valid branch",
            ),
            ("https://u:pw@github.com/acme", "no repository"),
        ] {
            let msg = RemoteRef::parse(bad).unwrap_err().to_string();
            assert!(msg.contains(why), "{bad}: {msg}");
            assert!(!msg.contains(":pw@"), "{msg}");
        }
    }
}
