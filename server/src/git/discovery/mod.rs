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
//!
//! Files: `config` (the YAML shape, checked; tokens), one per source (`bare_dir`, `list`,
//! `github`, `gitlab`), and `http` (the paging HTTP client the API sources share).

mod bare_dir;
mod config;
mod github;
mod gitlab;
pub(crate) mod http;
mod list;
#[cfg(test)]
mod testing;

pub use config::{DiscoveryConfig, DiscoverySource, Token};
pub use github::{parse_github_page, GithubRepo};
pub use gitlab::{parse_gitlab_page, GitlabProject};
pub use http::next_link;

use bare_dir::scan_dir;
use github::github;
use gitlab::gitlab;
use list::listed;

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

#[cfg(test)]
mod tests {
    use super::testing::{GITHUB_PAGE1, GITHUB_PAGE2, GITLAB_PAGE1, GITLAB_PAGE2};
    use super::*;

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
}
