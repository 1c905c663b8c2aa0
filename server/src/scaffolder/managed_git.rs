//! The Git host Backlot manages itself (`scaffolder.managed_git`): bare repositories under one
//! folder (`<repos_dir>/<owner>/<repo>.git`), where `publish:git` creates repositories and from
//! which `catalog:register` registers them, so a template can create a service without an
//! account anywhere.
//!
//! - Names: `repoUrl` is RepoUrlPicker's `host?owner=x&repo=y`; the host must be the managed
//!   host's name, owner and repo must be safe folder names ([`RepoName`]).
//! - Addresses: the clone URL is `<base_url>/git/<owner>/<repo>.git` (the server answers git
//!   clients there, read-only: `http/git_http.rs`), or `file://<repos_dir>/<owner>/<repo>.git`
//!   when no base URL is known; a repository's contents at a branch (`repoContentsUrl`) are that
//!   URL followed by `/blob/<branch>`, as GitHub's are, and a file in it by
//!   `/blob/<branch>/<path>`. [`ManagedGit::location`] turns either form back into a `git`
//!   location of the bare repository's `file://` URL: the catalog reads it from the disk.
//! - Publishing ([`ManagedGit::publish`]): the repository folder is made with one `mkdir` (two
//!   tasks asking for one name: one gets "already exists"; an existing one is never touched),
//!   `git init --bare`, then the files are committed in a temporary folder under the data
//!   directory and pushed. The temporary folder always goes; a repository left half made by a
//!   failure is removed.
//!
//! git runs as the mirrors run it (`git/mirror.rs`): no prompt, no system or global config (no
//! hooks, signing or templates of whoever runs the server), stdin closed, killed when its
//! timeout passes.

use super::config::ScaffolderSettings;
use super::workspace::WorkspaceFile;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The managed Git host: its name, where its repositories live, where publishing works.
#[derive(Debug, Clone)]
pub struct ManagedGit {
    /// The host name templates use (`repoUrl: backlot?owner=…&repo=…`).
    pub host: String,
    /// The folder of the bare repositories.
    pub repos_dir: PathBuf,
    /// Where publishing makes its temporary folders (`<data_dir>/tmp`).
    pub work_dir: PathBuf,
    /// Longest one git command may take.
    pub timeout: Duration,
    /// Where git clients reach this server (no trailing `/`); `None`: clone URLs are `file://`.
    pub http_base: Option<String>,
}

/// Why publishing or naming a repository failed, in words for the task's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManagedGitError {
    /// The input names no repository of this host, or an unsafe one.
    #[error("{0}")]
    Input(String),
    /// The repository is there already.
    #[error("{0}")]
    Exists(String),
    /// git or the file system failed.
    #[error("{0}")]
    Failed(String),
}

/// A safe owner and repository name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub repo: String,
}

/// The longest owner or repository name.
const MAX_NAME: usize = 100;

/// Why `name` cannot name a folder of the host; `None` when it can: `[A-Za-z0-9._-]+`, at most
/// 100 characters, not `.` or `..`, not starting with `-` (git would read an option), not
/// ending in `.git` (`x.git.git` and `x.git` are one repository to most clients).
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > MAX_NAME {
        return Some("is longer than 100 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Some("may only hold letters, digits, '.', '_' and '-'");
    }
    if name == "." || name == ".." {
        return Some("may not be '.' or '..'");
    }
    if name.starts_with('-') {
        return Some("may not start with '-'");
    }
    if name.to_ascii_lowercase().ends_with(".git") {
        return Some("may not end in .git");
    }
    None
}

impl RepoName {
    pub fn new(owner: &str, repo: &str) -> Result<RepoName, ManagedGitError> {
        for (what, name) in [("owner", owner), ("repo", repo)] {
            if let Some(why) = unsafe_name(name) {
                return Err(ManagedGitError::Input(format!(
                    "repoUrl: the {what} {name:?} {why}"
                )));
            }
        }
        Ok(RepoName {
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)
    }
}

/// What was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The clone URL.
    pub remote_url: String,
    /// The contents at the default branch (`<remote_url>/blob/<branch>`).
    pub repo_contents_url: String,
    /// The commit pushed (hex).
    pub commit: String,
}

/// The repository's identity in the managed host, read back from a contents or file URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedLocation {
    /// `file://<repos_dir>/<owner>/<repo>.git`.
    pub repo_url: String,
    pub branch: String,
    /// The file's path in the repository (no leading `/`).
    pub path: String,
}

/// How publishing names the commit's author.
#[derive(Debug, Clone)]
pub struct Commit<'a> {
    pub branch: &'a str,
    pub message: &'a str,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub description: Option<&'a str>,
}

impl ManagedGit {
    /// As `scaffolder.managed_git` and the data directory say; git commands wait at most
    /// `timeout`.
    pub fn new(settings: &ScaffolderSettings, data_dir: &Path, timeout: Duration) -> ManagedGit {
        ManagedGit {
            host: settings.managed_git.host.clone(),
            repos_dir: settings.repos_dir(data_dir),
            work_dir: data_dir.join("tmp"),
            timeout,
            http_base: settings
                .managed_git
                .base_url
                .as_deref()
                .map(|b| b.trim_end_matches('/').to_string()),
        }
    }

    /// RepoUrlPicker's `host?owner=x&repo=y` of this host, checked.
    pub fn parse_repo_url(&self, repo_url: &str) -> Result<RepoName, ManagedGitError> {
        let (host, query) = repo_url.split_once('?').unwrap_or((repo_url, ""));
        if host != self.host {
            return Err(ManagedGitError::Input(format!(
                "repoUrl: publish:git publishes to the Git host Backlot manages, {:?} (scaffolder.managed_git.host); {repo_url:?} names the host {host:?}",
                self.host
            )));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
            ManagedGitError::Input(format!(
                "repoUrl: {repo_url:?} is not host?owner=…&repo=…: {e}"
            ))
        })?;
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| {
                    ManagedGitError::Input(format!(
                        "repoUrl: {repo_url:?} has no {key} (expected {}?owner=…&repo=…)",
                        self.host
                    ))
                })
        };
        RepoName::new(get("owner")?, get("repo")?)
    }

    /// Where a repository's bare folder is.
    pub fn repo_path(&self, name: &RepoName) -> PathBuf {
        self.repos_dir
            .join(&name.owner)
            .join(format!("{}.git", name.repo))
    }

    /// The clone URL of a repository: over HTTP when the server's address is known.
    pub fn clone_url(&self, name: &RepoName) -> String {
        match &self.http_base {
            Some(base) => format!("{base}/git/{}/{}.git", name.owner, name.repo),
            None => self.file_url(name),
        }
    }

    /// The `file://` URL of a repository's bare folder (what the catalog reads).
    pub fn file_url(&self, name: &RepoName) -> String {
        format!("file://{}", self.repo_path(name).display())
    }

    /// The address of a repository's contents at `branch`, as `repoContentsUrl`.
    pub fn contents_url(&self, name: &RepoName, branch: &str) -> String {
        format!("{}/blob/{branch}", self.clone_url(name))
    }

    /// A file of this host as a location: `repoContentsUrl` with `catalogInfoPath` (the whole
    /// rest after `/blob/` is the branch), or a file URL `…/blob/<branch>/<path>` (the branch is
    /// the first segment). `None` for a URL of another host.
    pub fn location(
        &self,
        url: &str,
        path: Option<&str>,
    ) -> Option<Result<ManagedLocation, ManagedGitError>> {
        let prefix = format!("file://{}/", self.repos_dir.display());
        let http = self.http_base.as_ref().map(|b| format!("{b}/git/"));
        let rest = url
            .strip_prefix(&prefix)
            .or_else(|| http.as_deref().and_then(|h| url.strip_prefix(h)))?;
        let bad = |why: &str| {
            Some(Err(ManagedGitError::Input(format!(
                "{url:?} is not a repository of the managed Git host ({why}); expected {prefix}<owner>/<repo>.git/blob/<branch>[/<path>]"
            ))))
        };
        let mut parts = rest.splitn(4, '/');
        let (Some(owner), Some(repo_git), Some("blob"), Some(after)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return bad("no /blob/<branch>");
        };
        let Some(repo) = repo_git.strip_suffix(".git") else {
            return bad("the repository folder must end in .git");
        };
        let name = match RepoName::new(owner, repo) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let (branch, file) = match path {
            Some(p) => (after.trim_end_matches('/'), p),
            None => after.split_once('/').unwrap_or((after, "")),
        };
        let file = file.trim_start_matches('/');
        if branch.is_empty() || !crate::git::spec::valid_branch(branch) {
            return bad("no valid branch");
        }
        if file.is_empty() {
            return bad("no file");
        }
        Some(Ok(ManagedLocation {
            repo_url: self.file_url(&name),
            branch: branch.to_string(),
            path: file.to_string(),
        }))
    }

    /// Creates the repository `name` and pushes one commit with `files` (paths relative to the
    /// repository's root) on `commit.branch`. Refused when the repository exists; nothing of a
    /// failed attempt is left behind.
    pub async fn publish(
        &self,
        name: &RepoName,
        files: Vec<(String, WorkspaceFile)>,
        commit: &Commit<'_>,
    ) -> Result<Published, ManagedGitError> {
        if !crate::git::spec::valid_branch(commit.branch) {
            return Err(ManagedGitError::Input(format!(
                "defaultBranch: {:?} is not a valid branch name",
                commit.branch
            )));
        }
        check_paths(&files)?;
        let repo = self.repo_path(name);
        let failed = |what: &str, e: std::io::Error| {
            ManagedGitError::Failed(format!("could not {what}: {e}"))
        };
        let owner_dir = repo.parent().unwrap_or(&self.repos_dir).to_path_buf();
        tokio::fs::create_dir_all(&owner_dir)
            .await
            .map_err(|e| failed(&format!("create {}", owner_dir.display()), e))?;
        match tokio::fs::create_dir(&repo).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ManagedGitError::Exists(format!(
                    "the repository {name} already exists on {}",
                    self.host
                )))
            }
            Err(e) => return Err(failed(&format!("create {}", repo.display()), e)),
        }
        // From here on the folder is ours: a failure removes it.
        let made = RemoveOnDrop(Some(repo.clone()));
        tokio::fs::create_dir_all(&self.work_dir)
            .await
            .map_err(|e| failed(&format!("create {}", self.work_dir.display()), e))?;
        let work = self
            .work_dir
            .join(format!("publish-{}", uuid::Uuid::new_v4()));
        tokio::fs::create_dir(&work)
            .await
            .map_err(|e| failed(&format!("create {}", work.display()), e))?;
        let _work = RemoveOnDrop(Some(work.clone()));
        let published = self.publish_in(name, &repo, &work, files, commit).await?;
        made.keep();
        Ok(published)
    }

    async fn publish_in(
        &self,
        name: &RepoName,
        repo: &Path,
        work: &Path,
        files: Vec<(String, WorkspaceFile)>,
        commit: &Commit<'_>,
    ) -> Result<Published, ManagedGitError> {
        let branch_arg = format!("--initial-branch={}", commit.branch);
        self.git(repo, &["init", "--quiet", "--bare", &branch_arg], commit)
            .await?;
        if let Some(description) = commit.description {
            tokio::fs::write(repo.join("description"), format!("{description}\n"))
                .await
                .map_err(|e| {
                    ManagedGitError::Failed(format!("could not write the description: {e}"))
                })?;
        }
        let repo_arg = repo.display().to_string();
        let hash = self
            .commit_and_push(work, files, commit, &repo_arg, &[])
            .await?;
        tracing::info!(repository = %name, branch = commit.branch, commit = %hash, "repository published on the managed Git host");
        Ok(Published {
            remote_url: self.clone_url(name),
            repo_contents_url: self.contents_url(name, commit.branch),
            commit: hash,
        })
    }

    /// Pushes `files` as one commit on `commit.branch` to `remote` (a URL or a path), from a
    /// temporary folder that always goes; the commit's hash. `env` is added to git's
    /// environment (credentials reach git there, never on its command line), and every value of
    /// it is scrubbed from git's error output.
    pub async fn push_new(
        &self,
        files: Vec<(String, WorkspaceFile)>,
        commit: &Commit<'_>,
        remote: &str,
        env: &[(String, crate::secret::Secret)],
    ) -> Result<String, ManagedGitError> {
        if !crate::git::spec::valid_branch(commit.branch) {
            return Err(ManagedGitError::Input(format!(
                "defaultBranch: {:?} is not a valid branch name",
                commit.branch
            )));
        }
        check_paths(&files)?;
        tokio::fs::create_dir_all(&self.work_dir)
            .await
            .map_err(|e| {
                ManagedGitError::Failed(format!(
                    "could not create {}: {e}",
                    self.work_dir.display()
                ))
            })?;
        let work = self
            .work_dir
            .join(format!("publish-{}", uuid::Uuid::new_v4()));
        tokio::fs::create_dir(&work).await.map_err(|e| {
            ManagedGitError::Failed(format!("could not create {}: {e}", work.display()))
        })?;
        let _work = RemoveOnDrop(Some(work.clone()));
        self.commit_and_push(&work, files, commit, remote, env)
            .await
    }

    /// Commits `files` in `work` (files and git's folder apart: nothing in the workspace
    /// reaches git's own files) and pushes the commit to `remote`; its hash.
    async fn commit_and_push(
        &self,
        work: &Path,
        files: Vec<(String, WorkspaceFile)>,
        commit: &Commit<'_>,
        remote: &str,
        env: &[(String, crate::secret::Secret)],
    ) -> Result<String, ManagedGitError> {
        let branch_arg = format!("--initial-branch={}", commit.branch);
        let tree = work.join("files");
        let git_dir = work.join("git");
        write_files(&tree, files).await?;
        let git_dir_arg = format!("--git-dir={}", git_dir.display());
        let tree_arg = format!("--work-tree={}", tree.display());
        let with = |args: &[&str]| -> Vec<String> {
            [git_dir_arg.as_str(), tree_arg.as_str()]
                .iter()
                .chain(args)
                .map(|s| s.to_string())
                .collect()
        };
        self.git_owned(work, with(&["init", "--quiet", &branch_arg]), commit)
            .await?;
        self.git_owned(work, with(&["add", "--all", "--force", "."]), commit)
            .await?;
        self.git_owned(
            work,
            with(&[
                "commit",
                "--quiet",
                "--allow-empty",
                "--no-verify",
                "-m",
                commit.message,
            ]),
            commit,
        )
        .await?;
        let hash = self
            .git_owned(work, with(&["rev-parse", "HEAD"]), commit)
            .await?
            .trim()
            .to_string();
        let target = format!("HEAD:refs/heads/{}", commit.branch);
        self.git_env(
            work,
            with(&["push", "--quiet", "--no-verify", "--", remote, &target]),
            commit,
            env,
        )
        .await?;
        Ok(hash)
    }

    async fn git(
        &self,
        dir: &Path,
        args: &[&str],
        commit: &Commit<'_>,
    ) -> Result<String, ManagedGitError> {
        self.git_owned(dir, args.iter().map(|s| s.to_string()).collect(), commit)
            .await
    }

    /// Runs git in `dir` with the commit's identity; its output, or its error output.
    async fn git_owned(
        &self,
        dir: &Path,
        args: Vec<String>,
        commit: &Commit<'_>,
    ) -> Result<String, ManagedGitError> {
        self.git_env(dir, args, commit, &[]).await
    }

    /// [`Self::git_owned`] with `env` added to git's environment and scrubbed from its errors.
    async fn git_env(
        &self,
        dir: &Path,
        args: Vec<String>,
        commit: &Commit<'_>,
        env: &[(String, crate::secret::Secret)],
    ) -> Result<String, ManagedGitError> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.arg("-C")
            .arg(dir)
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(&args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", commit.author_name)
            .env("GIT_AUTHOR_EMAIL", commit.author_email)
            .env("GIT_COMMITTER_NAME", commit.author_name)
            .env("GIT_COMMITTER_EMAIL", commit.author_email)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        for (name, value) in env {
            cmd.env(name, value.expose());
        }
        let what = args
            .iter()
            .find(|a| !a.starts_with("--"))
            .cloned()
            .unwrap_or_default();
        let output = match tokio::time::timeout(self.timeout, cmd.output()).await {
            Err(_) => {
                return Err(ManagedGitError::Failed(format!(
                    "git {what} took longer than {} s",
                    self.timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                return Err(ManagedGitError::Failed(format!(
                    "could not run git: {e} (is git installed?)"
                )))
            }
            Ok(Ok(o)) => o,
        };
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        for (_, value) in env {
            if !value.expose().is_empty() {
                stderr = stderr.replace(value.expose(), "<redacted>");
            }
        }
        Err(ManagedGitError::Failed(format!(
            "git {what} failed: {}",
            stderr.trim()
        )))
    }
}

/// Refuses a path inside `.git`: it cannot be published.
fn check_paths(files: &[(String, WorkspaceFile)]) -> Result<(), ManagedGitError> {
    match files
        .iter()
        .find(|(p, _)| p.split('/').any(|part| part.eq_ignore_ascii_case(".git")))
    {
        Some((path, _)) => Err(ManagedGitError::Input(format!(
            "the workspace holds {path:?}: a path inside .git cannot be published"
        ))),
        None => Ok(()),
    }
}

/// Writes the files under `root`, executable ones with mode 755.
async fn write_files(
    root: &Path,
    files: Vec<(String, WorkspaceFile)>,
) -> Result<(), ManagedGitError> {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&root)?;
        for (path, file) in files {
            let target = root.join(&path);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&target, &file.contents)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = if file.executable { 0o755 } else { 0o644 };
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| ManagedGitError::Failed(format!("could not write the files: {e}")))?
    .map_err(|e| ManagedGitError::Failed(format!("could not write the files: {e}")))
}

/// A folder removed (with everything in it) when this goes, unless kept.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::warn!(path = %path.display(), error = %e, "a scaffolder folder could not be removed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(dir: &Path) -> ManagedGit {
        ManagedGit {
            host: "backlot".into(),
            repos_dir: dir.join("repos"),
            work_dir: dir.join("tmp"),
            timeout: Duration::from_secs(20),
            http_base: None,
        }
    }

    #[test]
    fn repo_urls_name_this_host_and_safe_names() {
        let h = host(Path::new("/data"));
        assert_eq!(
            h.parse_repo_url("backlot?owner=team-a&repo=svc.v2_x")
                .unwrap(),
            RepoName {
                owner: "team-a".into(),
                repo: "svc.v2_x".into()
            }
        );
        let e = h
            .parse_repo_url("github.com?owner=a&repo=b")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"backlot\"") && e.contains("github.com"), "{e}");
        for (url, why) in [
            ("backlot?owner=a", "no repo"),
            ("backlot?repo=a", "no owner"),
            ("backlot?owner=..&repo=x", "'.' or '..'"),
            ("backlot?owner=.&repo=x", "'.' or '..'"),
            ("backlot?owner=a&repo=x.git", ".git"),
            ("backlot?owner=a.GIT&repo=x", ".git"),
            ("backlot?owner=a%2Fb&repo=x", "letters"),
            ("backlot?owner=a&repo=..%2F..%2Fetc", "letters"),
            ("backlot?owner=a&repo=-x", "'-'"),
            ("backlot?owner=a&repo=", "empty"),
            ("backlot?owner=a&repo=x%00", "letters"),
        ] {
            let e = h.parse_repo_url(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
        let long = "a".repeat(101);
        assert!(h
            .parse_repo_url(&format!("backlot?owner=a&repo={long}"))
            .is_err());
    }

    #[test]
    fn contents_and_file_urls_read_back_as_locations() {
        let h = host(Path::new("/data"));
        let name = RepoName::new("team", "svc").unwrap();
        assert_eq!(h.clone_url(&name), "file:///data/repos/team/svc.git");
        let contents = h.contents_url(&name, "feature/x");
        assert_eq!(contents, "file:///data/repos/team/svc.git/blob/feature/x");
        let l = h
            .location(&contents, Some("/catalog-info.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(
            l,
            ManagedLocation {
                repo_url: "file:///data/repos/team/svc.git".into(),
                branch: "feature/x".into(),
                path: "catalog-info.yaml".into(),
            }
        );
        let l = h
            .location(
                "file:///data/repos/team/svc.git/blob/main/a/catalog-info.yaml",
                None,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.branch.as_str(), l.path.as_str()),
            ("main", "a/catalog-info.yaml")
        );
        assert!(h
            .location("https://github.com/a/b/blob/main/x.yaml", None)
            .is_none());
        assert!(h
            .location("file:///elsewhere/a/b.git/blob/main/x", None)
            .is_none());
        assert!(h
            .location("http://127.0.0.1:3000/git/team/svc.git/blob/main/x", None)
            .is_none());
        for bad in [
            "file:///data/repos/team/svc.git",
            "file:///data/repos/team/svc/blob/main/x.yaml",
            "file:///data/repos/../etc/x.git/blob/main/x.yaml",
            "file:///data/repos/team/svc.git/blob/main",
            "file:///data/repos/team/svc.git/blob/ma..in/x",
        ] {
            assert!(
                matches!(h.location(bad, None), Some(Err(_))),
                "{bad}: {:?}",
                h.location(bad, None)
            );
        }
    }

    #[test]
    fn with_the_servers_address_clone_urls_are_http_ones() {
        let h = ManagedGit {
            http_base: Some("http://127.0.0.1:3000".into()),
            ..host(Path::new("/data"))
        };
        let name = RepoName::new("team", "svc").unwrap();
        assert_eq!(h.clone_url(&name), "http://127.0.0.1:3000/git/team/svc.git");
        let contents = h.contents_url(&name, "main");
        assert_eq!(contents, "http://127.0.0.1:3000/git/team/svc.git/blob/main");
        // Both forms read back as the bare folder: the catalog reads the disk.
        for (url, path) in [
            (contents.as_str(), Some("/catalog-info.yaml")),
            (
                "file:///data/repos/team/svc.git/blob/main/catalog-info.yaml",
                None,
            ),
        ] {
            let l = h.location(url, path).unwrap().unwrap();
            assert_eq!(l.repo_url, "file:///data/repos/team/svc.git", "{url}");
            assert_eq!(l.path, "catalog-info.yaml");
        }
        assert!(h
            .location("http://127.0.0.1:3000/api/x/y.git/blob/main/a", None)
            .is_none());
    }

    fn file(text: &str, executable: bool) -> WorkspaceFile {
        WorkspaceFile {
            contents: text.as_bytes().to_vec(),
            executable,
        }
    }

    fn commit() -> Commit<'static> {
        Commit {
            branch: "trunk",
            message: "first",
            author_name: "Ann",
            author_email: "ann@example.com",
            description: Some("The service"),
        }
    }

    #[tokio::test]
    async fn publishes_once_with_modes_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let h = host(dir.path());
        let name = RepoName::new("team", "svc").unwrap();
        let files = vec![
            ("README.md".to_string(), file("# svc\n", false)),
            ("bin/run.sh".to_string(), file("#!/bin/sh\n", true)),
        ];
        let p = h.publish(&name, files.clone(), &commit()).await.unwrap();
        assert_eq!(p.remote_url, h.clone_url(&name));
        let repo = h.repo_path(&name);
        let git = |args: &[&str]| crate::git::testing::git(&repo, args);
        assert_eq!(git(&["rev-parse", "refs/heads/trunk"]), p.commit);
        assert_eq!(git(&["symbolic-ref", "HEAD"]), "refs/heads/trunk");
        assert_eq!(git(&["rev-list", "--count", "trunk"]), "1");
        let tree = git(&["ls-tree", "-r", "trunk"]);
        assert!(
            tree.contains("100755 blob") && tree.contains("bin/run.sh"),
            "{tree}"
        );
        assert!(
            tree.contains("100644 blob") && tree.contains("README.md"),
            "{tree}"
        );
        assert_eq!(
            git(&["log", "-1", "--format=%an <%ae> %s", "trunk"]),
            "Ann <ann@example.com> first"
        );
        assert_eq!(
            std::fs::read_to_string(repo.join("description")).unwrap(),
            "The service\n"
        );
        // The temporary folder is gone.
        assert_eq!(std::fs::read_dir(&h.work_dir).unwrap().count(), 0);

        // Never twice, and the first is untouched.
        let e = h
            .publish(&name, vec![("x".into(), file("x", false))], &commit())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ManagedGitError::Exists(m) if m.contains("already exists")),
            "{e}"
        );
        assert_eq!(git(&["rev-parse", "refs/heads/trunk"]), p.commit);

        // A failure removes the half-made repository and the temporary folder.
        let other = RepoName::new("team", "other").unwrap();
        let bad = Commit {
            author_email: "",
            author_name: "",
            ..commit()
        };
        let e = h
            .publish(&other, files, &bad)
            .await
            .expect_err("git refuses an empty identity");
        assert!(matches!(e, ManagedGitError::Failed(_)), "{e}");
        assert!(!h.repo_path(&other).exists());
        assert_eq!(std::fs::read_dir(&h.work_dir).unwrap().count(), 0);

        // Nothing inside .git, nor a bad branch.
        let e = h
            .publish(
                &other,
                vec![("sub/.git/hooks/post-commit".into(), file("x", true))],
                &commit(),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains(".git"), "{e}");
        let e = h
            .publish(
                &other,
                vec![],
                &Commit {
                    branch: "a..b",
                    ..commit()
                },
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("defaultBranch"), "{e}");
        assert!(!h.repo_path(&other).exists());
    }
}
