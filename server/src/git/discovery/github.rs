//! The `github` source: an organisation's repositories (a user's when there is no such
//! organisation) through GitHub's REST API, `GET /orgs/{org}/repos`, following `Link: rel="next"`.

use super::config::Token;
use super::http::{encode_segment, next_link, Http, PER_PAGE};
use super::{DiscoveredRepo, DiscoveryConfig, DiscoveryError};
use serde::Deserialize;

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

pub(super) fn github(
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

/// Parses a page of GitHub's repository list.
pub fn parse_github_page(body: &[u8]) -> Result<Vec<GithubRepo>, DiscoveryError> {
    serde_json::from_slice(body).map_err(|e| DiscoveryError::Parse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::discover;
    use super::super::testing::{config, names, reply, serve, Server, GITHUB_PAGE1, GITHUB_PAGE2};
    use super::*;
    use std::net::TcpListener;

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
}
