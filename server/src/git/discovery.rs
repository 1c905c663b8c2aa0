//! Discovery: finds many repositories at once, so that nobody registers them one by one.
//!
//! A discovery names a source of repositories, filters them, and says which branch and path
//! each discovered repository's Git location reads (by default its default branch and
//! [`DEFAULT_PATH`](super::spec::DEFAULT_PATH)). The caller turns every [`DiscoveredRepo`]
//! into a location with [`DiscoveryConfig::spec_for`], whose origin is
//! [`DiscoveryConfig::origin`] (`discovery:<name>`).
//!
//! Sources:
//! - `bare-dir`: every repository below a directory, up to [`MAX_DEPTH`] levels down: bare ones
//!   (a directory with `HEAD`, `objects/` and `refs/`) and working trees (with a `.git/`).
//!   Hidden directories and symbolic links are not followed.
//! - `list`: an explicit list of repository URLs.
//! - `github`: an organisation's repositories (a user's when there is no such organisation)
//!   through GitHub's REST API, `GET /orgs/{org}/repos`, following `Link: rel="next"`.
//! - `gitlab`: a group's projects, subgroups included, through GitLab's REST API,
//!   `GET /groups/{path}/projects`, following `X-Next-Page` (or `Link: rel="next"`).
//!
//! ```yaml
//! - name: acme
//!   type: github
//!   org: acme
//!   api_url: https://api.github.com   # default; GitHub Enterprise: https://ghe.example.com/api/v3
//!   token_env: GITHUB_TOKEN           # or token: …
//!   include: ["*-service"]            # globs on the repository name (GitLab: path with namespace)
//!   exclude: ["sandbox-*"]
//!   include_archived: false           # default
//!   include_forks: false              # default
//!   branch: main                      # default: each repository's default branch
//!   path: catalog-info.yaml           # default: **/catalog-info.yaml
//! - name: platform
//!   type: gitlab
//!   group: acme/platform
//!   api_url: https://gitlab.example.com/api/v4   # default https://gitlab.com/api/v4
//!   token_env: GITLAB_TOKEN
//! - name: local
//!   type: bare-dir
//!   dir: /srv/git
//! - name: extras
//!   type: list
//!   urls: [https://git.example.com/a.git, git@git.example.com:b.git]
//! ```
//!
//! Globs match case-insensitively, and `*` matches `/` too. Exclusions win over inclusions.
//! GitHub's disabled repositories and GitLab's empty projects are always left out: there is
//! nothing to read in them.
//!
//! Network calls are blocking (run them on `tokio::task::spawn_blocking`), time out (connect
//! [`CONNECT_TIMEOUT`], whole request [`REQUEST_TIMEOUT`]), read at most [`MAX_BODY_BYTES`] per
//! page and at most [`MAX_PAGES`] pages, follow no redirects, and follow a `next` link only to
//! the API's own origin, so a token never leaves it. Tokens never appear in `Debug` output, error
//! messages or logs. A discovery that fails returns an error rather than a partial list, so the
//! caller can keep the locations it found before.

use super::spec::GitSpec;
use super::url::redact_url;
use super::GitError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default GitHub API (GitHub Enterprise Server: `https://<host>/api/v3`).
pub const GITHUB_API: &str = "https://api.github.com";
/// Default GitLab API.
pub const GITLAB_API: &str = "https://gitlab.com/api/v4";
/// Establishing a connection taking longer fails the discovery.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One request, body included, taking longer fails the discovery.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest page read.
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// Most pages read (of 100 repositories each).
pub const MAX_PAGES: usize = 100;
/// How deep `bare-dir` looks below its directory.
pub const MAX_DEPTH: usize = 4;
/// Most repositories one `bare-dir` discovery may find.
pub const MAX_DIR_REPOS: usize = 10_000;
/// Most directories one `bare-dir` discovery looks into.
const MAX_DIRS_VISITED: usize = 100_000;
const PER_PAGE: u32 = 100;
const USER_AGENT: &str = "backlot";

/// A secret string (a token): compared and cloned like a string, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself: only to put in a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where an API token comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Token {
    /// No token: public repositories only, at the hosts' low anonymous rate limits.
    #[default]
    None,
    /// Written in the config (`token:`).
    Value(Secret),
    /// Read from this environment variable at each discovery (`token_env:`).
    Env(String),
}

impl Token {
    /// The token to send; an error when its environment variable is unset or empty (running
    /// without the token would quietly find fewer repositories).
    fn resolve(&self) -> Result<Option<Secret>, String> {
        match self {
            Token::None => Ok(None),
            Token::Value(s) => Ok(Some(Secret::new(s.expose().trim()))),
            Token::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::new(v.trim()))),
                _ => Err(format!(
                    "environment variable {var} (token_env) is not set or empty"
                )),
            },
        }
    }
}

/// Where a discovery finds repositories.
#[derive(Debug, Clone, PartialEq)]
pub enum DiscoverySource {
    /// Every repository below a directory.
    BareDir { dir: PathBuf },
    /// Exactly these repository URLs.
    List { urls: Vec<String> },
    /// An organisation's or a user's repositories on GitHub or GitHub Enterprise.
    Github {
        org: String,
        api_url: String,
        token: Token,
    },
    /// A group's projects, subgroups included, on GitLab.
    Gitlab {
        group: String,
        api_url: String,
        token: Token,
    },
}

impl DiscoverySource {
    fn kind(&self) -> &'static str {
        match self {
            DiscoverySource::BareDir { .. } => "bare-dir",
            DiscoverySource::List { .. } => "list",
            DiscoverySource::Github { .. } => "github",
            DiscoverySource::Gitlab { .. } => "gitlab",
        }
    }
}

/// One discovery of the config. Deserialized from a flat map with a `type` key (see the module
/// documentation); unknown keys, and keys of another type, are rejected.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(try_from = "RawDiscoveryConfig")]
pub struct DiscoveryConfig {
    /// A name for messages and for the location origin (`discovery:<name>`).
    pub name: String,
    pub source: DiscoverySource,
    /// Only repositories whose name (GitLab: path with namespace; `bare-dir`: path below the
    /// directory without `.git`; `list`: the URL's path without `.git`) matches one of these
    /// globs (default all).
    pub include: Vec<String>,
    /// Repositories whose name matches one of these globs are left out.
    pub exclude: Vec<String>,
    /// GitHub and GitLab: also archived repositories.
    pub include_archived: bool,
    /// GitHub and GitLab: also forks.
    pub include_forks: bool,
    /// Branch read in every discovered repository (default: each one's default branch).
    pub branch: Option<String>,
    /// Path or glob read in every discovered repository
    /// (default [`DEFAULT_PATH`](super::spec::DEFAULT_PATH)).
    pub path: Option<String>,
}

impl DiscoveryConfig {
    /// The origin of the locations this discovery registers.
    pub fn origin(&self) -> String {
        format!("discovery:{}", self.name)
    }

    /// The Git location to register for a discovered repository.
    pub fn spec_for(&self, repo: &DiscoveredRepo) -> Result<GitSpec, GitError> {
        let branch = self.branch.as_deref().or(repo.default_branch.as_deref());
        GitSpec::new(&repo.url, branch, self.path.as_deref())
    }
}

/// The YAML shape: every key of every type, checked and sorted out by `TryFrom`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscoveryConfig {
    name: String,
    #[serde(rename = "type")]
    kind: RawKind,
    #[serde(default)]
    dir: Option<PathBuf>,
    #[serde(default)]
    urls: Option<Vec<String>>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    api_url: Option<String>,
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    include_archived: Option<bool>,
    #[serde(default)]
    include_forks: Option<bool>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum RawKind {
    BareDir,
    List,
    Github,
    Gitlab,
}

impl TryFrom<RawDiscoveryConfig> for DiscoveryConfig {
    type Error = String;

    fn try_from(raw: RawDiscoveryConfig) -> Result<Self, String> {
        let name = raw.name.trim().to_string();
        if name.is_empty() {
            return Err("a discovery needs a non-empty `name`".into());
        }
        let kind = match raw.kind {
            RawKind::BareDir => "bare-dir",
            RawKind::List => "list",
            RawKind::Github => "github",
            RawKind::Gitlab => "gitlab",
        };
        let fail = |m: String| format!("discovery `{name}` ({kind}): {m}");
        let given = [
            ("dir", raw.dir.is_some()),
            ("urls", raw.urls.is_some()),
            ("org", raw.org.is_some()),
            ("group", raw.group.is_some()),
            ("api_url", raw.api_url.is_some()),
            ("token", raw.token.is_some()),
            ("token_env", raw.token_env.is_some()),
            ("include_archived", raw.include_archived.is_some()),
            ("include_forks", raw.include_forks.is_some()),
        ];
        let allowed: &[&str] = match raw.kind {
            RawKind::BareDir => &["dir"],
            RawKind::List => &["urls"],
            RawKind::Github => &[
                "org",
                "api_url",
                "token",
                "token_env",
                "include_archived",
                "include_forks",
            ],
            RawKind::Gitlab => &[
                "group",
                "api_url",
                "token",
                "token_env",
                "include_archived",
                "include_forks",
            ],
        };
        if let Some((key, _)) = given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
            return Err(fail(format!(
                "`{key}` does not apply to this type (it takes: {})",
                allowed.join(", ")
            )));
        }
        for pattern in raw.include.iter().chain(&raw.exclude) {
            if let Err(e) = glob::Pattern::new(pattern) {
                return Err(fail(format!("\"{pattern}\" is not a valid glob: {e}")));
            }
        }
        let branch = raw
            .branch
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty());
        let path = raw
            .path
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        // Checks branch and path the way every location checks them.
        GitSpec::new("file:///discovery", branch.as_deref(), path.as_deref())
            .map_err(|e| fail(e.to_string()))?;
        let token = match (raw.token, raw.token_env) {
            (Some(_), Some(_)) => {
                return Err(fail("give either `token` or `token_env`, not both".into()))
            }
            (Some(t), None) if t.expose().trim().is_empty() => {
                return Err(fail("`token` is empty".into()))
            }
            (Some(t), None) => Token::Value(t),
            (None, Some(v)) if v.trim().is_empty() => {
                return Err(fail("`token_env` is empty".into()))
            }
            (None, Some(v)) => Token::Env(v.trim().to_string()),
            (None, None) => Token::None,
        };
        let api_url = |default: &str| -> Result<String, String> {
            let url = raw
                .api_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(default)
                .trim_end_matches('/')
                .to_string();
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && !authority(&url).is_empty()
                && !authority(&url).contains('@');
            if ok {
                Ok(url)
            } else {
                Err(fail(format!(
                    "api_url \"{}\" is not an http(s) URL without credentials",
                    redact_url(&url)
                )))
            }
        };
        let required = |value: Option<String>, key: &str| -> Result<String, String> {
            value
                .map(|v| v.trim().trim_matches('/').to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| fail(format!("`{key}` is required")))
        };
        let source = match raw.kind {
            RawKind::BareDir => match raw.dir {
                Some(dir) if !dir.as_os_str().is_empty() => DiscoverySource::BareDir { dir },
                _ => return Err(fail("`dir` is required".into())),
            },
            RawKind::List => {
                let urls: Vec<String> = raw
                    .urls
                    .ok_or_else(|| fail("`urls` is required".into()))?
                    .into_iter()
                    .map(|u| u.trim().to_string())
                    .collect();
                for url in &urls {
                    GitSpec::new(url, None, None).map_err(|e| fail(e.to_string()))?;
                }
                DiscoverySource::List { urls }
            }
            RawKind::Github => DiscoverySource::Github {
                org: required(raw.org, "org")?,
                api_url: api_url(GITHUB_API)?,
                token,
            },
            RawKind::Gitlab => DiscoverySource::Gitlab {
                group: required(raw.group, "group")?,
                api_url: api_url(GITLAB_API)?,
                token,
            },
        };
        Ok(DiscoveryConfig {
            name,
            source,
            include: raw.include,
            exclude: raw.exclude,
            include_archived: raw.include_archived.unwrap_or(false),
            include_forks: raw.include_forks.unwrap_or(false),
            branch,
            path,
        })
    }
}

/// A repository a discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredRepo {
    /// What include and exclude globs match: the repository's name (GitLab: path with
    /// namespace; `bare-dir`: path below the directory; `list`: the URL's path), without `.git`.
    pub name: String,
    /// Clone URL, without credentials (`list`: as configured).
    pub url: String,
    /// As the host or the repository's `HEAD` says.
    pub default_branch: Option<String>,
    /// The repository's web page, when the host has one.
    pub web_url: Option<String>,
}

/// A repository in a page of GitHub's `GET /orgs/{org}/repos` (the fields Backlot reads).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct GithubRepo {
    pub name: String,
    pub clone_url: String,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub fork: bool,
    #[serde(default)]
    pub disabled: bool,
}

/// A project in a page of GitLab's `GET /groups/:id/projects` (the fields Backlot reads).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct GitlabProject {
    pub path_with_namespace: String,
    pub http_url_to_repo: String,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
    /// `forked_from_project` is present (and not null).
    #[serde(default, rename = "forked_from_project", deserialize_with = "present")]
    pub fork: bool,
    #[serde(default)]
    pub empty_repo: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<serde::de::IgnoredAny>::deserialize(d)?.is_some())
}

/// What can go wrong discovering. Messages name the discovery and the URL asked (never a token).
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The discovery cannot start or go on: unset token variable, unreadable directory, too
    /// many repositories…
    #[error("discovery `{discovery}`: {message}")]
    Setup { discovery: String, message: String },
    /// No answer: DNS, connection, TLS or timeout.
    #[error("discovery `{discovery}`: could not reach {url}: {reason}")]
    Unreachable {
        discovery: String,
        url: String,
        reason: String,
    },
    /// HTTP 401 or 403 to a request that carried a token.
    #[error("discovery `{discovery}`: {url} refused the token (HTTP {status}: {message}); check the token and its scopes")]
    TokenRefused {
        discovery: String,
        url: String,
        status: u16,
        message: String,
    },
    /// Any other unsuccessful HTTP status, with the API's `message`.
    #[error("discovery `{discovery}`: {url} answered HTTP {status}: {message}")]
    Status {
        discovery: String,
        url: String,
        status: u16,
        message: String,
    },
    /// A successful status with a body that is not a page of repositories, or paging that
    /// cannot be followed.
    #[error("discovery `{discovery}`: {url}: {reason}")]
    BadResponse {
        discovery: String,
        url: String,
        reason: String,
    },
    /// A page that does not parse (from [`parse_github_page`] and [`parse_gitlab_page`];
    /// [`discover`] reports it as [`DiscoveryError::BadResponse`]).
    #[error("expected a JSON array of repositories: {0}")]
    Parse(String),
}

/// Finds the repositories of a discovery, filtered, sorted by name and without duplicate URLs.
/// Blocking: call it from `tokio::task::spawn_blocking`.
pub fn discover(cfg: &DiscoveryConfig) -> Result<Vec<DiscoveredRepo>, DiscoveryError> {
    let filter = Filter::new(cfg)?;
    let found = match &cfg.source {
        DiscoverySource::BareDir { dir } => scan_dir(cfg, dir)?,
        DiscoverySource::List { urls } => urls.iter().map(|u| listed(u)).collect(),
        DiscoverySource::Github {
            org,
            api_url,
            token,
        } => github(cfg, org, api_url, token)?,
        DiscoverySource::Gitlab {
            group,
            api_url,
            token,
        } => gitlab(cfg, group, api_url, token)?,
    };
    let total = found.len();
    let mut repos: Vec<DiscoveredRepo> = found
        .into_iter()
        .filter(|r| filter.keeps(&r.name))
        .collect();
    repos.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.url.cmp(&b.url)));
    let mut seen = std::collections::HashSet::new();
    repos.retain(|r| seen.insert(r.url.clone()));
    tracing::debug!(
        discovery = %cfg.name,
        source = cfg.source.kind(),
        found = total,
        kept = repos.len(),
        "discovery done"
    );
    Ok(repos)
}

/// Include and exclude globs.
struct Filter {
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
}

const MATCH: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: false,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

impl Filter {
    fn new(cfg: &DiscoveryConfig) -> Result<Filter, DiscoveryError> {
        let compile = |patterns: &[String]| {
            patterns
                .iter()
                .map(|p| {
                    glob::Pattern::new(p).map_err(|e| DiscoveryError::Setup {
                        discovery: cfg.name.clone(),
                        message: format!("\"{p}\" is not a valid glob: {e}"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Filter {
            include: compile(&cfg.include)?,
            exclude: compile(&cfg.exclude)?,
        })
    }

    fn keeps(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches_with(name, MATCH)))
            && !self.exclude.iter().any(|p| p.matches_with(name, MATCH))
    }
}

// ---------------------------------------------------------------------------------------------
// list

fn listed(url: &str) -> DiscoveredRepo {
    let shown = redact_url(url);
    // The path: after the authority for URLs, after the colon for `user@host:path`.
    let path = match shown.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => shown.split_once(':').map_or(shown.as_str(), |(_, p)| p),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let name = path
        .trim_matches('/')
        .trim_end_matches(".git")
        .trim_end_matches('/');
    DiscoveredRepo {
        name: if name.is_empty() {
            shown.clone()
        } else {
            name.to_string()
        },
        url: url.to_string(),
        default_branch: None,
        web_url: None,
    }
}

// ---------------------------------------------------------------------------------------------
// bare-dir

fn scan_dir(cfg: &DiscoveryConfig, dir: &Path) -> Result<Vec<DiscoveredRepo>, DiscoveryError> {
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

// ---------------------------------------------------------------------------------------------
// GitHub

fn github(
    cfg: &DiscoveryConfig,
    org: &str,
    api_url: &str,
    token: &Token,
) -> Result<Vec<DiscoveredRepo>, DiscoveryError> {
    let token = token.resolve().map_err(|message| DiscoveryError::Setup {
        discovery: cfg.name.clone(),
        message,
    })?;
    let mut headers = vec![
        ("Accept", "application/vnd.github+json".to_string()),
        ("X-GitHub-Api-Version", "2022-11-28".to_string()),
    ];
    if let Some(t) = &token {
        headers.push(("Authorization", format!("Bearer {}", t.expose())));
    }
    let http = Http::new(&cfg.name, api_url, headers, token);
    let org_segment = encode_segment(org);
    let mut url = format!("{api_url}/orgs/{org_segment}/repos?per_page={PER_PAGE}&type=all");
    let mut page = http.get(&url)?;
    if page.status == 404 {
        tracing::debug!(discovery = %cfg.name, org, "no such GitHub organisation; trying a user");
        url = format!("{api_url}/users/{org_segment}/repos?per_page={PER_PAGE}&type=owner");
        page = http.get(&url)?;
        if page.status == 404 {
            return Err(DiscoveryError::Status {
                discovery: cfg.name.clone(),
                url,
                status: 404,
                message: format!(
                    "{} (no GitHub organisation or user named \"{org}\" that the token can see)",
                    http.message(&page.body)
                ),
            });
        }
    }
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        http.check(&url, &page)?;
        pages += 1;
        for repo in parse_github_page(&page.body).map_err(|e| http.bad_page(&url, e))? {
            let skip = repo.disabled
                || (repo.archived && !cfg.include_archived)
                || (repo.fork && !cfg.include_forks);
            if !skip {
                found.push(DiscoveredRepo {
                    name: repo.name,
                    url: repo.clone_url,
                    default_branch: repo.default_branch.filter(|b| !b.is_empty()),
                    web_url: repo.html_url,
                });
            }
        }
        let Some(next) = page.link.as_deref().and_then(next_link) else {
            break;
        };
        url = http.follow(&url, next, pages)?;
        page = http.get(&url)?;
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// GitLab

fn gitlab(
    cfg: &DiscoveryConfig,
    group: &str,
    api_url: &str,
    token: &Token,
) -> Result<Vec<DiscoveredRepo>, DiscoveryError> {
    let token = token.resolve().map_err(|message| DiscoveryError::Setup {
        discovery: cfg.name.clone(),
        message,
    })?;
    let mut headers = vec![("Accept", "application/json".to_string())];
    if let Some(t) = &token {
        headers.push(("PRIVATE-TOKEN", t.expose().to_string()));
    }
    let http = Http::new(&cfg.name, api_url, headers, token);
    let page_url = |n: &str| {
        format!(
            "{api_url}/groups/{}/projects?include_subgroups=true&per_page={PER_PAGE}&page={n}",
            encode_segment(group)
        )
    };
    let mut url = page_url("1");
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        let page = http.get(&url)?;
        if page.status == 404 {
            return Err(DiscoveryError::Status {
                discovery: cfg.name.clone(),
                url,
                status: 404,
                message: format!(
                    "{} (no GitLab group \"{group}\" that the token can see)",
                    http.message(&page.body)
                ),
            });
        }
        http.check(&url, &page)?;
        pages += 1;
        for project in parse_gitlab_page(&page.body).map_err(|e| http.bad_page(&url, e))? {
            let skip = project.empty_repo
                || (project.archived && !cfg.include_archived)
                || (project.fork && !cfg.include_forks);
            if !skip {
                found.push(DiscoveredRepo {
                    name: project.path_with_namespace,
                    url: project.http_url_to_repo,
                    default_branch: project.default_branch.filter(|b| !b.is_empty()),
                    web_url: project.web_url,
                });
            }
        }
        // `X-Next-Page` when GitLab sends it (empty on the last page); else `Link` (keyset
        // pagination, and offset pagination past GitLab's count limit).
        let next = match page.next_page.as_deref().map(str::trim) {
            Some("") => None,
            Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => Some(page_url(n)),
            Some(n) => {
                return Err(http.bad_page(
                    &url,
                    format!(
                        "X-Next-Page header \"{}\" is not a page number",
                        n.escape_debug()
                    ),
                ))
            }
            None => page.link.as_deref().and_then(next_link),
        };
        let Some(next) = next else {
            break;
        };
        url = http.follow(&url, next, pages)?;
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Pages

/// Parses a page of GitHub's repository list.
pub fn parse_github_page(body: &[u8]) -> Result<Vec<GithubRepo>, DiscoveryError> {
    serde_json::from_slice(body).map_err(|e| DiscoveryError::Parse(e.to_string()))
}

/// Parses a page of GitLab's project list.
pub fn parse_gitlab_page(body: &[u8]) -> Result<Vec<GitlabProject>, DiscoveryError> {
    serde_json::from_slice(body).map_err(|e| DiscoveryError::Parse(e.to_string()))
}

/// The `rel="next"` target of an HTTP `Link` header
/// (`<https://…?page=2>; rel="next", <https://…?page=9>; rel="last"`).
pub fn next_link(link_header: &str) -> Option<String> {
    let mut rest = link_header;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let target = after[..end].trim();
        let params_and_more = &after[end + 1..];
        let params_end = params_and_more.find('<').unwrap_or(params_and_more.len());
        let is_next = params_and_more[..params_end]
            .split([';', ','])
            .filter_map(|p| p.split_once('='))
            .any(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
        if is_next && !target.is_empty() {
            return Some(target.to_string());
        }
        rest = &params_and_more[params_end..];
    }
    None
}

/// Percent-encodes one path segment (GitLab's `group/subgroup` → `group%2Fsubgroup`).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `host[:port]` of an URL (lowercased), empty when there is none.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..end].to_ascii_lowercase()
}

/// `scheme://host[:port]` of an URL, lowercased.
fn origin(url: &str) -> String {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    format!("{}://{}", scheme.to_ascii_lowercase(), authority(url))
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// A response, read whole.
struct Page {
    status: u16,
    link: Option<String>,
    next_page: Option<String>,
    rate_limited: bool,
    location: Option<String>,
    body: Vec<u8>,
}

/// Requests to one API with one set of headers.
struct Http<'a> {
    agent: ureq::Agent,
    discovery: &'a str,
    origin: String,
    headers: Vec<(&'static str, String)>,
    token: Option<Secret>,
}

impl<'a> Http<'a> {
    fn new(
        discovery: &'a str,
        api_url: &str,
        headers: Vec<(&'static str, String)>,
        token: Option<Secret>,
    ) -> Http<'a> {
        let host = authority(api_url);
        let host = host.rsplit_once(':').map_or(host.as_str(), |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host.as_str()
            }
        });
        let loopback = matches!(host, "localhost" | "[::1]") || host.starts_with("127.");
        let mut config = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            // A redirect could carry a custom token header elsewhere: report it instead.
            .max_redirects(0)
            .user_agent(USER_AGENT);
        if loopback {
            // The environment's proxy never serves loopback addresses.
            config = config.proxy(None);
        }
        Http {
            agent: config.build().into(),
            discovery,
            origin: origin(api_url),
            headers,
            token,
        }
    }

    fn get(&self, url: &str) -> Result<Page, DiscoveryError> {
        tracing::debug!(discovery = %self.discovery, url, "discovery request");
        let unreachable = |e: ureq::Error| DiscoveryError::Unreachable {
            discovery: self.discovery.to_string(),
            url: url.to_string(),
            reason: self.scrub(&match e {
                ureq::Error::Timeout(_) => format!(
                    "timed out (connect {} s, request {} s)",
                    CONNECT_TIMEOUT.as_secs(),
                    REQUEST_TIMEOUT.as_secs()
                ),
                e => e.to_string(),
            }),
        };
        let mut request = self.agent.get(url);
        for (name, value) in &self.headers {
            request = request.header(*name, value.as_str());
        }
        let mut response = request.call().map_err(unreachable)?;
        let header = |name: &str| {
            let values: Vec<&str> = response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(", "))
        };
        let status = response.status().as_u16();
        let link = header("link");
        let next_page = header("x-next-page");
        let rate_limited = status == 429
            || header("x-ratelimit-remaining").is_some_and(|r| r.trim() == "0")
            || header("retry-after").is_some();
        let location = header("location");
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => self.bad_page(
                    url,
                    format!("answer larger than {} MiB", MAX_BODY_BYTES / (1024 * 1024)),
                ),
                e => unreachable(e),
            })?;
        Ok(Page {
            status,
            link,
            next_page,
            rate_limited,
            location,
            body,
        })
    }

    /// An error for an unsuccessful status.
    fn check(&self, url: &str, page: &Page) -> Result<(), DiscoveryError> {
        if (200..300).contains(&page.status) {
            return Ok(());
        }
        let mut message = self.message(&page.body);
        let status = page.status;
        if matches!(status, 401 | 403) && !page.rate_limited && self.token.is_some() {
            return Err(DiscoveryError::TokenRefused {
                discovery: self.discovery.to_string(),
                url: url.to_string(),
                status,
                message,
            });
        }
        if page.rate_limited {
            message.push_str(" (rate limited: try again later, or configure a token)");
        } else if matches!(status, 401 | 403) {
            message.push_str(" (no token is configured)");
        } else if (300..400).contains(&status) {
            let to = page.location.as_deref().map(redact_url);
            message.push_str(&format!(
                " (redirected to {}; set api_url to the API's address)",
                to.as_deref().unwrap_or("an unnamed location")
            ));
        }
        Err(DiscoveryError::Status {
            discovery: self.discovery.to_string(),
            url: url.to_string(),
            status,
            message,
        })
    }

    /// The next page's URL, when it may be followed.
    fn follow(&self, url: &str, next: String, pages: usize) -> Result<String, DiscoveryError> {
        if pages >= MAX_PAGES {
            return Err(self.bad_page(
                url,
                format!("more than {MAX_PAGES} pages of repositories; stopped"),
            ));
        }
        if origin(&next) != self.origin {
            return Err(self.bad_page(
                url,
                format!(
                    "the next page ({}) is not on {}; not following it",
                    redact_url(&next),
                    self.origin
                ),
            ));
        }
        if next == url {
            return Err(self.bad_page(url, "the next page is this page again"));
        }
        Ok(next)
    }

    fn bad_page(&self, url: &str, reason: impl std::fmt::Display) -> DiscoveryError {
        DiscoveryError::BadResponse {
            discovery: self.discovery.to_string(),
            url: url.to_string(),
            reason: self.scrub(&reason.to_string()),
        }
    }

    /// The API's own explanation: `message` (GitHub, GitLab), `error_description` or `error`
    /// (OAuth errors), else the start of the body.
    fn message(&self, body: &[u8]) -> String {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = json.as_ref().and_then(|v| {
            ["message", "error_description", "error"]
                .iter()
                .find_map(|k| v.get(*k))
                .map(|m| match m {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        });
        let text = field.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        let mut text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 200 {
            text = text.chars().take(200).collect::<String>() + "…";
        }
        if text.is_empty() {
            text = "no message".into();
        }
        self.scrub(&text)
    }

    /// Removes the token from text that might echo it.
    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(t) if !t.expose().is_empty() => text.replace(t.expose(), "<redacted>"),
            _ => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::spec::DEFAULT_PATH;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    const GITHUB_PAGE1: &[u8] = include_bytes!("testdata/discovery/github-org-repos-page1.json");
    const GITHUB_PAGE2: &[u8] = include_bytes!("testdata/discovery/github-org-repos-page2.json");
    const GITLAB_PAGE1: &[u8] =
        include_bytes!("testdata/discovery/gitlab-group-projects-page1.json");
    const GITLAB_PAGE2: &[u8] =
        include_bytes!("testdata/discovery/gitlab-group-projects-page2.json");

    // ---- a tiny HTTP/1.1 server on loopback ----

    #[derive(Debug, Clone)]
    struct Request {
        target: String,
        headers: Vec<(String, String)>,
    }

    impl Request {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    fn reply(status: u16, body: &[u8]) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    impl Reply {
        fn with(mut self, name: &str, value: &str) -> Reply {
            self.headers.push((name.into(), value.into()));
            self
        }
    }

    struct Server {
        base: String,
        requests: Arc<Mutex<Vec<Request>>>,
    }

    impl Server {
        fn targets(&self) -> Vec<String> {
            self.requests
                .lock()
                .unwrap()
                .iter()
                .map(|r| r.target.clone())
                .collect()
        }
    }

    /// Serves `handler(request, base URL)` on 127.0.0.1, one connection per request.
    fn serve(handler: impl Fn(&Request, &str) -> Reply + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (log, served_base) = (requests.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line.split(' ').nth(1).unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((n, v)) = h.trim_end().split_once(':') {
                        headers.push((n.trim().to_string(), v.trim().to_string()));
                    }
                }
                let request = Request { target, headers };
                let r = handler(&request, &served_base);
                log.lock().unwrap().push(request);
                let mut out = format!("HTTP/1.1 {} X\r\n", r.status);
                out.push_str("Content-Type: application/json; charset=utf-8\r\n");
                out.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
                out.push_str("Connection: close\r\n");
                for (n, v) in &r.headers {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let _ = stream.write_all(out.as_bytes());
                let _ = stream.write_all(&r.body);
                let _ = stream.flush();
            }
        });
        Server { base, requests }
    }

    fn config(yaml: &str) -> DiscoveryConfig {
        yaml_serde::from_str(yaml).unwrap()
    }

    fn names(repos: &[DiscoveredRepo]) -> Vec<&str> {
        repos.iter().map(|r| r.name.as_str()).collect()
    }

    // ---- GitHub ----

    const GITHUB_TOKEN: &str = "ghp_GoodToken123";

    /// GitHub: organisation `acme` in two pages; user `jdoe` (no such organisation).
    fn github_server() -> Server {
        serve(|req, base| {
            if req.header("authorization") != Some(&format!("Bearer {GITHUB_TOKEN}")) {
                return reply(401, br#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}"#);
            }
            let not_found = || {
                reply(404, br#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/repos#list-organization-repositories","status":"404"}"#)
            };
            match req.target.as_str() {
                "/orgs/acme/repos?per_page=100&type=all" => reply(200, GITHUB_PAGE1).with(
                    "Link",
                    &format!(
                        "<{base}/organizations/1000001/repos?per_page=100&type=all&page=2>; rel=\"next\", \
                         <{base}/organizations/1000001/repos?per_page=100&type=all&page=2>; rel=\"last\""
                    ),
                ),
                "/organizations/1000001/repos?per_page=100&type=all&page=2" => {
                    reply(200, GITHUB_PAGE2).with(
                        "Link",
                        &format!(
                            "<{base}/organizations/1000001/repos?per_page=100&type=all&page=1>; rel=\"prev\", \
                             <{base}/organizations/1000001/repos?per_page=100&type=all&page=1>; rel=\"first\""
                        ),
                    )
                }
                "/users/jdoe/repos?per_page=100&type=owner" => reply(200, GITHUB_PAGE2),
                _ => not_found(),
            }
        })
    }

    fn github_config(base: &str, org: &str, extra: &str) -> DiscoveryConfig {
        config(&format!(
            "name: acme\ntype: github\norg: {org}\napi_url: {base}\ntoken: {GITHUB_TOKEN}\n{extra}"
        ))
    }

    #[test]
    fn github_reads_both_pages_and_leaves_out_archived_forks_and_disabled() {
        let server = github_server();
        let repos = discover(&github_config(&server.base, "acme", "")).unwrap();
        assert_eq!(
            names(&repos),
            ["api", "docs-site", "payments-service", "web"]
        );
        let web = &repos[3];
        assert_eq!(web.url, "https://github.com/acme/web.git");
        assert_eq!(web.default_branch.as_deref(), Some("trunk"));
        assert_eq!(web.web_url.as_deref(), Some("https://github.com/acme/web"));
        assert_eq!(
            server.targets(),
            [
                "/orgs/acme/repos?per_page=100&type=all",
                "/organizations/1000001/repos?per_page=100&type=all&page=2"
            ]
        );
        let requests = server.requests.lock().unwrap().clone();
        for r in &requests {
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {GITHUB_TOKEN}").as_str())
            );
            assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
            assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
            assert_eq!(r.header("user-agent"), Some("backlot"));
            assert_eq!(r.header("private-token"), None);
        }
    }

    #[test]
    fn github_includes_archived_and_forks_when_asked() {
        let server = github_server();
        let cfg = github_config(
            &server.base,
            "acme",
            "include_archived: true\ninclude_forks: true\n",
        );
        let repos = discover(&cfg).unwrap();
        assert_eq!(
            names(&repos),
            [
                "api",
                "docs-site",
                "forked-lib",
                "legacy-billing",
                "payments-service",
                "web"
            ]
        );
        let legacy = repos.iter().find(|r| r.name == "legacy-billing").unwrap();
        assert_eq!(legacy.default_branch.as_deref(), Some("master"));
    }

    #[test]
    fn github_include_and_exclude_globs() {
        let server = github_server();
        let cfg = github_config(
            &server.base,
            "acme",
            "include: ['*-SERVICE', 'api', 'web*']\nexclude: ['payments-*']\n",
        );
        assert_eq!(names(&discover(&cfg).unwrap()), ["api", "web"]);
    }

    #[test]
    fn github_falls_back_to_a_user_on_404() {
        let server = github_server();
        let repos = discover(&github_config(&server.base, "jdoe", "")).unwrap();
        assert_eq!(names(&repos), ["docs-site", "payments-service"]);
        assert_eq!(
            server.targets(),
            [
                "/orgs/jdoe/repos?per_page=100&type=all",
                "/users/jdoe/repos?per_page=100&type=owner"
            ]
        );
        let err = discover(&github_config(&server.base, "nobody", "")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("HTTP 404: Not Found"), "{msg}");
        assert!(
            msg.contains("no GitHub organisation or user named \"nobody\""),
            "{msg}"
        );
        assert!(msg.contains("/users/nobody/repos"), "{msg}");
    }

    #[test]
    fn github_wrong_token_is_refused_and_never_shown() {
        let server = github_server();
        let secret = "ghp_WrongToken987";
        let cfg = config(&format!(
            "name: acme\ntype: github\norg: acme\napi_url: {}\ntoken: {secret}\n",
            server.base
        ));
        assert!(!format!("{cfg:?}").contains(secret));
        let err = discover(&cfg).unwrap_err();
        assert!(matches!(
            err,
            DiscoveryError::TokenRefused { status: 401, .. }
        ));
        let msg = err.to_string();
        assert!(msg.contains("discovery `acme`"), "{msg}");
        assert!(msg.contains("refused the token"), "{msg}");
        assert!(msg.contains("Bad credentials"), "{msg}");
        assert!(msg.contains(&server.base), "{msg}");
        assert!(!msg.contains(secret), "{msg}");
        assert!(!format!("{err:?}").contains(secret));
        assert_eq!(
            server.requests.lock().unwrap()[0].header("authorization"),
            Some(format!("Bearer {secret}").as_str())
        );
    }

    #[test]
    fn github_without_token_sends_no_authorization() {
        let server = github_server();
        let cfg = config(&format!(
            "name: anon\ntype: github\norg: acme\napi_url: {}/\n",
            server.base
        ));
        let msg = discover(&cfg).unwrap_err().to_string();
        assert!(
            msg.contains("HTTP 401: Bad credentials (no token is configured)"),
            "{msg}"
        );
        assert_eq!(
            server.requests.lock().unwrap()[0].header("authorization"),
            None
        );
    }

    #[test]
    fn github_rate_limit_is_not_a_refused_token() {
        let server = serve(|_, _| {
            reply(
                403,
                br#"{"message":"API rate limit exceeded for installation ID 1."}"#,
            )
            .with("x-ratelimit-remaining", "0")
        });
        let msg = discover(&github_config(&server.base, "acme", ""))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("HTTP 403: API rate limit exceeded"), "{msg}");
        assert!(msg.contains("rate limited"), "{msg}");
        assert!(!msg.contains("refused the token"), "{msg}");
    }

    #[test]
    fn bad_json_unreachable_and_foreign_next_links_are_errors() {
        let server = serve(|req, _| {
            if req.target.starts_with("/orgs/object/") {
                reply(200, br#"{"message":"hello"}"#)
            } else {
                reply(200, b"[]").with(
                    "Link",
                    "<https://evil.example/orgs/acme/repos?page=2>; rel=\"next\"",
                )
            }
        });
        let msg = discover(&github_config(&server.base, "object", ""))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("expected a JSON array of repositories"),
            "{msg}"
        );
        assert!(msg.contains("/orgs/object/repos"), "{msg}");

        let msg = discover(&github_config(&server.base, "acme", ""))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not following it"), "{msg}");
        assert_eq!(server.targets().len(), 2);

        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let cfg = github_config(&format!("http://127.0.0.1:{port}"), "acme", "");
        let err = discover(&cfg).unwrap_err();
        assert!(matches!(err, DiscoveryError::Unreachable { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("could not reach"), "{msg}");
        assert!(!msg.contains(GITHUB_TOKEN), "{msg}");
    }

    // ---- GitLab ----

    const GITLAB_TOKEN: &str = "glpat-GoodToken456";

    /// GitLab: group `platform` in two pages, by `X-Next-Page` or, with `by_link`, by `Link`.
    fn gitlab_server(by_link: bool) -> Server {
        serve(move |req, base| {
            if req.header("private-token") != Some(GITLAB_TOKEN) {
                return reply(401, br#"{"message":"401 Unauthorized"}"#);
            }
            let page = |n: &str| {
                format!("/groups/platform/projects?include_subgroups=true&per_page=100&page={n}")
            };
            let paging = |r: Reply, n: &str, next: &str| {
                let r = r
                    .with("X-Page", n)
                    .with("X-Per-Page", "100")
                    .with("X-Total", "6")
                    .with("X-Total-Pages", "2");
                if by_link {
                    if next.is_empty() {
                        r
                    } else {
                        r.with("Link", &format!("<{base}{}>; rel=\"next\"", page(next)))
                    }
                } else {
                    r.with("X-Next-Page", next)
                }
            };
            if req.target == page("1") {
                paging(reply(200, GITLAB_PAGE1), "1", "2")
            } else if req.target == page("2") {
                paging(reply(200, GITLAB_PAGE2), "2", "")
            } else {
                reply(404, br#"{"message":"404 Group Not Found"}"#)
            }
        })
    }

    fn gitlab_config(base: &str, extra: &str) -> DiscoveryConfig {
        config(&format!(
            "name: platform\ntype: gitlab\ngroup: platform\napi_url: {base}\ntoken: {GITLAB_TOKEN}\n{extra}"
        ))
    }

    #[test]
    fn gitlab_reads_both_pages_with_subgroups() {
        for by_link in [false, true] {
            let server = gitlab_server(by_link);
            let repos = discover(&gitlab_config(&server.base, "")).unwrap();
            assert_eq!(
                names(&repos),
                [
                    "platform/api",
                    "platform/backend/orders",
                    "platform/frontend/web"
                ],
                "by_link: {by_link}"
            );
            let orders = &repos[1];
            assert_eq!(
                orders.url,
                "https://gitlab.example.com/platform/backend/orders.git"
            );
            assert_eq!(orders.default_branch.as_deref(), Some("develop"));
            assert_eq!(
                orders.web_url.as_deref(),
                Some("https://gitlab.example.com/platform/backend/orders")
            );
            let requests = server.requests.lock().unwrap().clone();
            assert_eq!(requests.len(), 2);
            for r in &requests {
                assert_eq!(r.header("private-token"), Some(GITLAB_TOKEN));
                assert_eq!(r.header("authorization"), None);
                assert_eq!(r.header("user-agent"), Some("backlot"));
            }
        }
    }

    #[test]
    fn gitlab_filters() {
        let server = gitlab_server(false);
        let all = gitlab_config(
            &server.base,
            "include_archived: true\ninclude_forks: true\n",
        );
        assert_eq!(
            names(&discover(&all).unwrap()),
            [
                "platform/api",
                "platform/backend/forked-tool",
                "platform/backend/orders",
                "platform/frontend/web",
                "platform/old-portal"
            ]
        );
        let backend = gitlab_config(&server.base, "include: ['platform/backend/*']\n");
        assert_eq!(
            names(&discover(&backend).unwrap()),
            ["platform/backend/orders"]
        );
        let not_frontend = gitlab_config(&server.base, "exclude: ['*/frontend/*']\n");
        assert_eq!(
            names(&discover(&not_frontend).unwrap()),
            ["platform/api", "platform/backend/orders"]
        );
    }

    #[test]
    fn gitlab_token_from_env_and_refused_token() {
        let server = gitlab_server(false);
        let var = "BACKLOT_TEST_DISCOVERY_GITLAB_TOKEN";
        std::env::set_var(var, GITLAB_TOKEN);
        let cfg = config(&format!(
            "name: platform\ntype: gitlab\ngroup: platform\napi_url: {}\ntoken_env: {var}\n",
            server.base
        ));
        assert_eq!(discover(&cfg).unwrap().len(), 3);

        let missing = config(&format!(
            "name: platform\ntype: gitlab\ngroup: platform\napi_url: {}\ntoken_env: BACKLOT_TEST_UNSET_VARIABLE\n",
            server.base
        ));
        let msg = discover(&missing).unwrap_err().to_string();
        assert!(msg.contains("BACKLOT_TEST_UNSET_VARIABLE"), "{msg}");

        let secret = "glpat-WrongToken000";
        let wrong = config(&format!(
            "name: platform\ntype: gitlab\ngroup: platform\napi_url: {}\ntoken: {secret}\n",
            server.base
        ));
        let err = discover(&wrong).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("refused the token"), "{msg}");
        assert!(msg.contains("401 Unauthorized"), "{msg}");
        assert!(!msg.contains(secret), "{msg}");
        assert!(!format!("{err:?}").contains(secret));
    }

    #[test]
    fn gitlab_unknown_group() {
        let server = gitlab_server(false);
        let cfg = config(&format!(
            "name: platform\ntype: gitlab\ngroup: acme/nothing\napi_url: {}\ntoken: {GITLAB_TOKEN}\n",
            server.base
        ));
        let msg = discover(&cfg).unwrap_err().to_string();
        assert!(msg.contains("HTTP 404: 404 Group Not Found"), "{msg}");
        assert!(msg.contains("/groups/acme%2Fnothing/projects"), "{msg}");
    }

    // ---- pages ----

    #[test]
    fn parses_recorded_pages() {
        let page = parse_github_page(GITHUB_PAGE1).unwrap();
        assert_eq!(page.len(), 4);
        assert_eq!(
            page[2],
            GithubRepo {
                name: "legacy-billing".into(),
                clone_url: "https://github.com/acme/legacy-billing.git".into(),
                html_url: Some("https://github.com/acme/legacy-billing".into()),
                default_branch: Some("master".into()),
                archived: true,
                fork: false,
                disabled: false,
            }
        );
        assert!(page[3].fork);
        assert!(parse_github_page(GITHUB_PAGE2).unwrap()[2].disabled);

        let page = parse_gitlab_page(GITLAB_PAGE2).unwrap();
        assert_eq!(page.len(), 3);
        assert!(page[0].fork);
        assert!(!page[1].fork && page[1].empty_repo);
        assert_eq!(page[1].default_branch, None);
        let page = parse_gitlab_page(GITLAB_PAGE1).unwrap();
        assert!(page.iter().all(|p| !p.fork));
        assert!(page[2].archived);

        let with_null = br#"[{"path_with_namespace":"a/b","http_url_to_repo":"https://h/a/b.git","forked_from_project":null}]"#;
        assert!(!parse_gitlab_page(with_null).unwrap()[0].fork);

        let err = parse_github_page(br#"{"message":"Not Found"}"#).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("expected a JSON array of repositories"));
        assert!(parse_gitlab_page(b"<html>").is_err());
    }

    #[test]
    fn next_links() {
        let github = "<https://api.github.com/organizations/1/repos?page=2>; rel=\"next\", \
                      <https://api.github.com/organizations/1/repos?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(github).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        let last = "<https://x/r?page=1>; rel=\"prev\", <https://x/r?page=1>; rel=\"first\"";
        assert_eq!(next_link(last), None);
        assert_eq!(
            next_link("<https://x/r?a=1,2&page=3>; rel=\"last\", <https://x/r?a=1,2&page=2>; rel=\"prefetch next\"")
                .as_deref(),
            Some("https://x/r?a=1,2&page=2")
        );
        assert_eq!(
            next_link("<https://x/r?id_after=42>; rel=next").as_deref(),
            Some("https://x/r?id_after=42")
        );
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("<broken; rel=\"next\""), None);
    }

    #[test]
    fn helpers() {
        assert_eq!(encode_segment("acme/platform"), "acme%2Fplatform");
        assert_eq!(encode_segment("a b.c_d~e-f"), "a%20b.c_d~e-f");
        assert_eq!(
            origin("HTTPS://Api.GitHub.com/orgs"),
            "https://api.github.com"
        );
        assert_eq!(origin("http://127.0.0.1:8080?x"), "http://127.0.0.1:8080");
        let r = listed("https://user:pw@git.example.com/team/app.git");
        assert_eq!(r.name, "team/app");
        assert_eq!(r.url, "https://user:pw@git.example.com/team/app.git");
        assert_eq!(listed("git@github.com:acme/web.git").name, "acme/web");
        assert_eq!(listed("file:///srv/git/x.git").name, "srv/git/x");
    }

    // ---- bare-dir and list ----

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

    #[test]
    fn list_keeps_given_urls_filtered_and_deduplicated() {
        let cfg = config(
            "name: extras\ntype: list\nurls:\n  - https://git.example.com/b/app.git\n  - git@git.example.com:a/tool.git\n  - https://git.example.com/b/app.git\n  - https://git.example.com/c/skip.git\nexclude: ['*/skip']\n",
        );
        let repos = discover(&cfg).unwrap();
        assert_eq!(names(&repos), ["a/tool", "b/app"]);
        assert_eq!(repos[1].url, "https://git.example.com/b/app.git");
        assert_eq!(cfg.spec_for(&repos[1]).unwrap().branch, None);
    }

    // ---- config ----

    #[test]
    fn yaml_shape() {
        let configs: Vec<DiscoveryConfig> = yaml_serde::from_str(
            r#"
- name: acme
  type: github
  org: acme
  token_env: GITHUB_TOKEN
  include: ["*-service"]
  exclude: ["sandbox-*"]
  include_forks: true
  branch: main
  path: catalog-info.yaml
- name: platform
  type: gitlab
  group: acme/platform
  api_url: https://gitlab.example.com/api/v4/
  token: glpat-SuperSecret
- name: local
  type: bare-dir
  dir: /srv/git
- name: extras
  type: list
  urls: [https://git.example.com/a.git, "git@git.example.com:b.git"]
"#,
        )
        .unwrap();
        assert_eq!(
            configs[0],
            DiscoveryConfig {
                name: "acme".into(),
                source: DiscoverySource::Github {
                    org: "acme".into(),
                    api_url: GITHUB_API.into(),
                    token: Token::Env("GITHUB_TOKEN".into()),
                },
                include: vec!["*-service".into()],
                exclude: vec!["sandbox-*".into()],
                include_archived: false,
                include_forks: true,
                branch: Some("main".into()),
                path: Some("catalog-info.yaml".into()),
            }
        );
        assert_eq!(
            configs[1].source,
            DiscoverySource::Gitlab {
                group: "acme/platform".into(),
                api_url: "https://gitlab.example.com/api/v4".into(),
                token: Token::Value(Secret::new("glpat-SuperSecret")),
            }
        );
        let debug = format!("{configs:?}");
        assert!(!debug.contains("SuperSecret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert_eq!(
            configs[2].source,
            DiscoverySource::BareDir {
                dir: "/srv/git".into()
            }
        );
        assert_eq!(configs[2].branch, None);
        assert_eq!(
            configs[3].source,
            DiscoverySource::List {
                urls: vec![
                    "https://git.example.com/a.git".into(),
                    "git@git.example.com:b.git".into()
                ]
            }
        );
        let gitlab_default: DiscoveryConfig =
            yaml_serde::from_str("name: g\ntype: gitlab\ngroup: g\n").unwrap();
        assert!(matches!(
            gitlab_default.source,
            DiscoverySource::Gitlab { ref api_url, token: Token::None, .. } if api_url == GITLAB_API
        ));
    }

    #[test]
    fn yaml_rejects_what_does_not_fit() {
        let err = |yaml: &str| {
            yaml_serde::from_str::<DiscoveryConfig>(yaml)
                .unwrap_err()
                .to_string()
        };
        let e = err("name: a\ntype: github\norg: a\norganisation: a\n");
        assert!(e.contains("unknown field `organisation`"), "{e}");
        let e = err("name: a\ntype: github\norg: a\ngroup: b\n");
        assert!(e.contains("`group` does not apply to this type"), "{e}");
        let e = err("name: a\ntype: bare-dir\ndir: /x\ninclude_forks: true\n");
        assert!(e.contains("`include_forks` does not apply"), "{e}");
        let e = err("name: a\ntype: gitea\norg: a\n");
        assert!(e.contains("unknown variant `gitea`"), "{e}");
        let e = err("name: a\ntype: github\n");
        assert!(e.contains("`org` is required"), "{e}");
        let e = err("name: a\ntype: list\n");
        assert!(e.contains("`urls` is required"), "{e}");
        let e = err("name: a\ntype: list\nurls: [not-a-url]\n");
        assert!(e.contains("not a repository URL"), "{e}");
        let e = err("name: ' '\ntype: bare-dir\ndir: /x\n");
        assert!(e.contains("non-empty `name`"), "{e}");
        let e = err("name: a\ntype: github\norg: a\ntoken: t0ken-value\ntoken_env: X\n");
        assert!(e.contains("not both"), "{e}");
        assert!(!e.contains("t0ken-value"), "{e}");
        let e = err("name: a\ntype: github\norg: a\ninclude: ['[']\n");
        assert!(e.contains("not a valid glob"), "{e}");
        let e = err("name: a\ntype: github\norg: a\napi_url: ftp://x\n");
        assert!(e.contains("not an http(s) URL"), "{e}");
        let e = err("name: a\ntype: github\norg: a\napi_url: https://u:pw@x\n");
        assert!(e.contains("not an http(s) URL") && !e.contains("pw"), "{e}");
        let e = err("name: a\ntype: github\norg: a\npath: ../x\n");
        assert!(e.contains("leaves the repository"), "{e}");
        let e = err("name: a\ntype: github\norg: a\nbranch: 'a..b'\n");
        assert!(e.contains("not a valid branch name"), "{e}");
    }
}
