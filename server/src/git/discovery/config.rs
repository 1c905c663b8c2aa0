//! A discovery's settings: the YAML shape (a flat map with a `type` key), checked and turned into
//! a [`DiscoveryConfig`]; where its API token comes from ([`Token`]).

use super::http::authority;
use super::{DiscoveredRepo, GITHUB_API, GITLAB_API};
use crate::git::spec::GitSpec;
use crate::git::url::redact_url;
use crate::git::GitError;
use crate::secret::Secret;
use serde::Deserialize;
use std::path::PathBuf;

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
    pub(super) fn resolve(&self) -> Result<Option<Secret>, String> {
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
    pub(super) fn kind(&self) -> &'static str {
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
    /// (default [`DEFAULT_PATH`](crate::git::spec::DEFAULT_PATH)).
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

#[cfg(test)]
mod tests {
    use super::*;

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
