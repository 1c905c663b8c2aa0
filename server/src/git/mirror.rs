//! One bare mirror per repository under `<data_dir>/git`, kept up to date with shallow fetches
//! by the `git` program. Whether a branch moved is asked in-process where the transport allows
//! ([`super::remote`]), so an unchanged repository costs no process at all.
//!
//! A fetch asks only for the one branch a location reads, at depth 1, into a private ref
//! (`refs/backlot/<branch>`), so a mirror holds one commit's objects plus what earlier fetches
//! left until git's own housekeeping prunes it. When the head did not move, the fetch is a
//! negotiation with no pack transferred.
//!
//! Credentials come from the config or the environment and reach git through its environment
//! (`GIT_CONFIG_*`, `GIT_SSH_COMMAND`), never through its command line (which other local users
//! can read) and never through logs: git's error output is stripped of URLs' user information.

use super::spec::GitSpec;
use super::url::redact_url;
use super::GitError;
use crate::secret::Secret;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings of the `git` section of the config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GitSettings {
    /// Where mirrors live (default `<data_dir>/git`).
    pub mirror_dir: Option<PathBuf>,
    /// How often each Git location is fetched when no webhook says so (jittered ±10%).
    pub refresh_interval_secs: u64,
    /// A fetch taking longer is stopped and reported.
    pub fetch_timeout_secs: u64,
    /// Largest repository (objects in its mirror) read, in MiB.
    pub max_repo_mib: u64,
    /// Largest descriptor or docs file read, in KiB.
    pub max_file_kib: u64,
    /// Fetches running at once.
    pub max_concurrent_fetches: usize,
    /// Shared secret of `POST /api/webhooks/git` (`BACKLOT_WEBHOOK_SECRET` overrides it).
    pub webhook_secret: Option<Secret>,
    /// Credentials per host.
    pub credentials: Vec<Credential>,
    /// Repositories found by scanning (a directory of bare repositories, a list, a GitHub
    /// organisation, a GitLab group); each becomes a Git location.
    pub discovery: Vec<super::discovery::DiscoveryConfig>,
    /// How often discovery runs again.
    pub discovery_interval_secs: u64,
}

impl Default for GitSettings {
    fn default() -> Self {
        Self {
            mirror_dir: None,
            refresh_interval_secs: 300,
            fetch_timeout_secs: 120,
            max_repo_mib: 1024,
            max_file_kib: 1024,
            max_concurrent_fetches: 4,
            webhook_secret: None,
            credentials: Vec::new(),
            discovery: Vec::new(),
            discovery_interval_secs: 600,
        }
    }
}

/// How to authenticate to one host. Tokens go over HTTP(S) as Basic auth
/// (`username`:`token`, GitHub's and GitLab's convention); SSH uses a key file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Credential {
    /// Host name as in the repository URLs, e.g. `github.com` or `git.example.com:8443`.
    pub host: String,
    /// Default `x-access-token` (accepted by GitHub and, as any name, by GitLab; `oauth2` for
    /// the pushes of `publish:gitlab`).
    pub username: Option<String>,
    pub token: Option<Secret>,
    /// Name of an environment variable holding the token.
    pub token_env: Option<String>,
    /// Private key for SSH URLs.
    pub ssh_key_file: Option<PathBuf>,
    /// The host's REST API, for the scaffolder's `publish:github` and `publish:gitlab`: default
    /// `https://api.github.com` for github.com (`https://<host>/api/v3` for another GitHub
    /// host) and `https://<host>/api/v4` for GitLab.
    pub api_base_url: Option<String>,
}

impl Credential {
    /// The token: `token`, else the variable `token_env` names (`None` when neither gives one).
    pub fn resolve_token(&self) -> Option<Secret> {
        self.token
            .clone()
            .or_else(|| {
                self.token_env
                    .as_ref()
                    .and_then(|v| std::env::var(v).ok())
                    .map(Secret::new)
            })
            .filter(|t| !t.expose().trim().is_empty())
    }
}

/// A fetched head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Where the mirror is.
    pub mirror: PathBuf,
    /// The branch read (the remote's default branch when the location names none).
    pub branch: String,
    /// Hex commit id.
    pub commit: String,
}

/// The mirrors of every repository, with one lock per mirror so that two locations of one
/// repository never fetch into it at once.
pub struct Mirrors {
    root: PathBuf,
    settings: GitSettings,
    locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    fetches: tokio::sync::Semaphore,
    /// Visits to remotes so far (clone, ls-remote or fetch; for tests).
    fetched: std::sync::atomic::AtomicU64,
    /// What each mirror's refs point to, as this process last wrote or read them: a visit to
    /// an unchanged repository opens nothing on disk.
    refs: Mutex<HashMap<PathBuf, MirrorRefs>>,
    /// Keep-alive connections for asking smart HTTP remotes where a branch points.
    agent: ureq::Agent,
}

#[derive(Default, Clone)]
struct MirrorRefs {
    /// The branch HEAD names (the remote's default branch at clone time).
    head: Option<String>,
    /// Branch → commit.
    branches: HashMap<String, String>,
}

impl Mirrors {
    pub fn new(data_dir: &Path, settings: GitSettings) -> Mirrors {
        let root = settings
            .mirror_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("git"));
        // git runs in the mirror's parent folder: every path handed to it must be absolute.
        let root = std::path::absolute(&root).unwrap_or(root);
        let permits = settings.max_concurrent_fetches.max(1);
        let agent = super::remote::agent(Duration::from_secs(settings.fetch_timeout_secs.max(1)));
        Mirrors {
            agent,
            root,
            settings,
            locks: Mutex::new(HashMap::new()),
            fetches: tokio::sync::Semaphore::new(permits),
            fetched: Default::default(),
            refs: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &GitSettings {
        &self.settings
    }

    /// Visits to remotes so far (clone, ls-remote or fetch).
    pub fn fetch_count(&self) -> u64 {
        self.fetched.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The mirror directory of a repository: readable name plus a hash of the exact URL.
    pub fn mirror_path(&self, url: &str) -> PathBuf {
        let shown = redact_url(url);
        let name: String = shown
            .rsplit(['/', ':'])
            .find(|s| !s.is_empty())
            .unwrap_or("repo")
            .trim_end_matches(".git")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let hash = crate::util::content_hash(url.as_bytes());
        self.root.join(format!("{name}-{}.git", &hash[..16]))
    }

    /// Fetches the location's branch into its mirror and returns the head.
    ///
    /// The first time, a shallow bare clone (one process, and the remote's default branch
    /// comes with it as the mirror's HEAD). Afterwards one `ls-remote` asks whether the branch
    /// moved, and only then a shallow fetch; with `moved` (a webhook said so), no asking.
    pub async fn fetch(&self, spec: &GitSpec, moved: bool) -> Result<Head, GitError> {
        let mirror = self.mirror_path(&spec.url);
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(mirror.clone()).or_default().clone()
        };
        let _mirror_guard = lock.lock().await;
        // A push is waited for by someone: it does not queue behind scheduled visits.
        let _permit = if moved {
            None
        } else {
            Some(
                self.fetches
                    .acquire()
                    .await
                    .map_err(|_| GitError::Fetch("shutting down".into()))?,
            )
        };
        self.fetched
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cloned = if mirror.join("HEAD").exists() {
            false
        } else {
            self.remember(&mirror, |r| *r = MirrorRefs::default());
            self.clone_mirror(&mirror, spec).await?;
            true
        };
        let branch = match &spec.branch {
            Some(b) => b.clone(),
            None => self.head_branch(&mirror).ok_or_else(|| {
                GitError::Fetch(format!(
                    "{} has no default branch (an empty repository?); name a branch",
                    spec.display_url()
                ))
            })?,
        };
        let local_ref = format!("refs/heads/{branch}");
        let local = match self.known(&mirror, |r| r.branches.get(&branch).cloned()) {
            Some(commit) => Some(commit),
            None => super::tree::resolve_ref(&mirror, &local_ref)?,
        };
        if let Some(commit) = &local {
            self.remember(&mirror, |r| {
                r.branches.insert(branch.clone(), commit.clone());
            });
        }
        if let (Some(local), true) = (&local, cloned) {
            return Ok(Head {
                mirror,
                branch,
                commit: local.clone(),
            });
        }
        if let Some(local) = local.filter(|_| !moved) {
            // Cheapest question first: did the branch move? (One round trip, no negotiation.)
            let remote = self.remote_head(&mirror, spec, &local_ref).await?;
            match remote.as_deref() {
                None => {
                    return Err(GitError::Fetch(format!(
                        "branch \"{branch}\" does not exist in {} any more",
                        spec.display_url()
                    )))
                }
                Some(remote) if remote == local => {
                    return Ok(Head {
                        mirror,
                        branch,
                        commit: local,
                    })
                }
                Some(_) => {}
            }
        }
        let refspec = format!("+{local_ref}:{local_ref}");
        let fetched = self
            .git(
                &mirror,
                spec,
                &[
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--no-auto-gc",
                    "--depth=1",
                    "--",
                    &spec.url,
                    &refspec,
                ],
            )
            .await;
        if let Err(GitError::Fetch(message)) = &fetched {
            if message.contains("couldn't find remote ref") {
                return Err(GitError::Fetch(format!(
                    "branch \"{branch}\" does not exist in {}",
                    spec.display_url()
                )));
            }
        }
        fetched?;
        self.check_size(&mirror)?;
        let commit = super::tree::resolve_ref(&mirror, &local_ref)?.ok_or_else(|| {
            GitError::Read(format!(
                "the fetch of {} stored no {local_ref}",
                spec.display_url()
            ))
        })?;
        self.remember(&mirror, |r| {
            r.branches.insert(branch.clone(), commit.clone());
        });
        Ok(Head {
            mirror,
            branch,
            commit,
        })
    }

    /// Where the branch points on the remote: asked in-process over git:// and smart HTTP(S),
    /// else (and whenever that fails, for git's own words about why) by `git ls-remote`.
    async fn remote_head(
        &self,
        mirror: &Path,
        spec: &GitSpec,
        local_ref: &str,
    ) -> Result<Option<String>, GitError> {
        let timeout = Duration::from_secs(self.settings.fetch_timeout_secs.max(1));
        let authorization = self
            .basic_auth(spec)
            .map(|basic| Secret::new(format!("Basic {}", basic.expose())));
        match super::remote::lookup(&self.agent, &spec.url, local_ref, authorization, timeout).await
        {
            super::remote::Lookup::Head(head) => return Ok(head),
            super::remote::Lookup::TimedOut => {
                return Err(GitError::Fetch(format!(
                    "{} did not answer within {} s (git.fetch_timeout_secs)",
                    spec.display_url(),
                    timeout.as_secs()
                )))
            }
            super::remote::Lookup::Unsupported => {}
        }
        let out = self
            .git(mirror, spec, &["ls-remote", "--", &spec.url, local_ref])
            .await?;
        let suffix = format!("\t{local_ref}");
        Ok(out
            .lines()
            .find(|l| l.ends_with(&suffix))
            .and_then(|l| l.split('\t').next())
            .map(str::to_string))
    }

    /// A new mirror: a shallow bare clone into a temporary folder, renamed once complete, so
    /// that a process that dies mid-clone leaves nothing half made.
    async fn clone_mirror(&self, mirror: &Path, spec: &GitSpec) -> Result<(), GitError> {
        let parent = mirror.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .map_err(|e| GitError::Read(format!("could not create {}: {e}", parent.display())))?;
        let partial = mirror.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        let target = partial.to_string_lossy().into_owned();
        let mut args = vec!["clone", "--bare", "--quiet", "--depth=1", "--no-tags"];
        if let Some(b) = &spec.branch {
            args.extend(["--branch", b.as_str()]);
        }
        args.extend(["--", spec.url.as_str(), target.as_str()]);
        let cloned = self.git(parent, spec, &args).await;
        if let Err(GitError::Fetch(message)) = &cloned {
            let _ = std::fs::remove_dir_all(&partial);
            if message.contains("Remote branch") && message.contains("not found") {
                return Err(GitError::Fetch(format!(
                    "branch \"{}\" does not exist in {}",
                    spec.branch.as_deref().unwrap_or_default(),
                    spec.display_url()
                )));
            }
        }
        cloned?;
        if let Err(e) = self.check_size(&partial) {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, mirror)
            .map_err(|e| GitError::Read(format!("could not create {}: {e}", mirror.display())))
    }

    fn check_size(&self, mirror: &Path) -> Result<(), GitError> {
        let size = pack_bytes(mirror);
        let limit = self.settings.max_repo_mib.saturating_mul(1024 * 1024);
        if size > limit {
            return Err(GitError::TooLarge(format!(
                "the repository is {} MiB, more than the {} MiB allowed (git.max_repo_mib)",
                size / (1024 * 1024),
                self.settings.max_repo_mib
            )));
        }
        Ok(())
    }

    /// The branch a location reads: the one it names, else the remote's default branch as the
    /// mirror learnt it when it was cloned (`None` before the first clone).
    pub fn branch_of(&self, spec: &GitSpec) -> Option<String> {
        spec.branch
            .clone()
            .or_else(|| self.head_branch(&self.mirror_path(&spec.url)))
    }

    fn head_branch(&self, mirror: &Path) -> Option<String> {
        if let Some(head) = self.known(mirror, |r| r.head.clone()) {
            return Some(head);
        }
        let head = head_branch(mirror)?;
        self.remember(mirror, |r| r.head = Some(head.clone()));
        Some(head)
    }

    fn known<T>(&self, mirror: &Path, get: impl FnOnce(&MirrorRefs) -> Option<T>) -> Option<T> {
        let refs = self.refs.lock().unwrap_or_else(|e| e.into_inner());
        refs.get(mirror).and_then(get)
    }

    fn remember(&self, mirror: &Path, change: impl FnOnce(&mut MirrorRefs)) {
        let mut refs = self.refs.lock().unwrap_or_else(|e| e.into_inner());
        change(refs.entry(mirror.to_path_buf()).or_default());
    }

    /// Runs git in the mirror with the credentials of the repository's host.
    async fn git(&self, mirror: &Path, spec: &GitSpec, args: &[&str]) -> Result<String, GitError> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.arg("-C")
            .arg(mirror)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("SSH_ASKPASS", "true")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env(
                "GIT_SSH_COMMAND",
                "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
            )
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        self.apply_credentials(&mut cmd, spec);
        let timeout = Duration::from_secs(self.settings.fetch_timeout_secs.max(1));
        let output = match tokio::time::timeout(timeout, cmd.output()).await {
            Err(_) => {
                return Err(GitError::Fetch(format!(
                    "{} did not answer within {} s (git.fetch_timeout_secs)",
                    spec.display_url(),
                    timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                return Err(GitError::Fetch(format!(
                    "could not run git: {e} (is git installed?)"
                )))
            }
            Ok(Ok(o)) => o,
        };
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(GitError::Fetch(explain(&stderr, spec)))
    }

    /// The credentials configured for the repository's host.
    fn credential(&self, spec: &GitSpec) -> Option<&Credential> {
        let host = host_of(&spec.url);
        self.settings
            .credentials
            .iter()
            .find(|c| c.host.eq_ignore_ascii_case(&host))
    }

    /// HTTP(S) Basic credentials for the repository's host: `user:token`, base64-encoded.
    fn basic_auth(&self, spec: &GitSpec) -> Option<Secret> {
        use base64::Engine;
        let c = self.credential(spec)?;
        let token = c.resolve_token()?;
        let user = c.username.as_deref().unwrap_or("x-access-token");
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", token.expose()));
        Some(Secret::new(basic))
    }

    fn apply_credentials(&self, cmd: &mut tokio::process::Command, spec: &GitSpec) {
        let Some(c) = self.credential(spec) else {
            return;
        };
        if let Some(basic) = self.basic_auth(spec) {
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env(
                    "GIT_CONFIG_VALUE_0",
                    format!("Authorization: Basic {}", basic.expose()),
                );
        }
        if let Some(key) = &c.ssh_key_file {
            cmd.env(
                "GIT_SSH_COMMAND",
                format!(
                    "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes -i '{}'",
                    key.display().to_string().replace('\'', "")
                ),
            );
        }
    }
}

/// Host (with port) of a repository URL, lower case.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    let host = rest.split('/').next().unwrap_or(rest);
    // scp-like `git@host:path`
    let host = if url.contains("://") {
        host
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host.to_ascii_lowercase()
}

/// The branch a mirror's HEAD names (the remote's default branch when it was cloned).
fn head_branch(mirror: &Path) -> Option<String> {
    let repo = gix::open_opts(mirror, gix::open::Options::isolated()).ok()?;
    let name = repo.head_name().ok()??;
    name.as_bstr()
        .to_string()
        .strip_prefix("refs/heads/")
        .map(str::to_string)
}

/// Bytes of packs and loose objects in a mirror.
fn pack_bytes(mirror: &Path) -> u64 {
    fn walk(dir: &Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path()),
                Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
                Err(_) => 0,
            })
            .sum()
    }
    walk(&mirror.join("objects"))
}

/// Git's error output in words a developer understands, without credentials.
fn explain(stderr: &str, spec: &GitSpec) -> String {
    let url = spec.display_url();
    let lower = stderr.to_ascii_lowercase();
    let detail: String = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(redact_words)
        .collect::<Vec<_>>()
        .join("; ");
    let summary = if lower.contains("authentication failed")
        || lower.contains("could not read username")
        || lower.contains("permission denied (publickey")
        || lower.contains("http basic: access denied")
        || lower.contains("returned error: 401")
        || lower.contains("returned error: 403")
    {
        format!("{url} refused the credentials (check git.credentials for its host)")
    } else if lower.contains("could not resolve host") {
        format!("{url}: the host name does not resolve")
    } else if lower.contains("connection refused")
        || lower.contains("unable to connect")
        || lower.contains("failed to connect")
        || lower.contains("couldn't connect")
        || lower.contains("connection timed out")
    {
        format!("{url} cannot be reached")
    } else if lower.contains("not found")
        || lower.contains("does not appear to be a git repository")
        || lower.contains("returned error: 404")
        || lower.contains("no such repository")
    {
        format!("{url}: no such repository (or no access to it)")
    } else {
        format!("reading {url} failed")
    };
    if detail.is_empty() {
        summary
    } else {
        format!("{summary} — git said: {detail}")
    }
}

/// Strips user information from every URL in a line of text.
fn redact_words(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            if w.contains("://") {
                let trimmed = w.trim_matches(|c| c == '\'' || c == '"');
                w.replace(trimmed, &redact_url(trimmed))
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_errors() {
        assert_eq!(host_of("https://u:p@GitHub.com/a/b"), "github.com");
        assert_eq!(host_of("git@gitlab.com:a/b.git"), "gitlab.com");
        assert_eq!(host_of("http://127.0.0.1:8088/x"), "127.0.0.1:8088");
        let spec = GitSpec::new("https://user:s3cret@example.com/a.git", None, None).unwrap();
        let msg = explain(
            "fatal: Authentication failed for 'https://user:s3cret@example.com/a.git/'\n",
            &spec,
        );
        assert!(msg.contains("refused the credentials"), "{msg}");
        assert!(!msg.contains("s3cret"), "{msg}");
        let msg = explain(
            "fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n",
            &spec,
        );
        assert!(msg.contains("cannot be reached"), "{msg}");
    }

    #[test]
    fn credentials_are_not_debug_printed() {
        let c = Credential {
            host: "github.com".into(),
            token: Some("ghp_secret".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("ghp_secret"));
    }
}
