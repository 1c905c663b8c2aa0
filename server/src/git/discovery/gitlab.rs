//! The `gitlab` source: a group's projects, subgroups included, through GitLab's REST API,
//! `GET /groups/{path}/projects`, following `X-Next-Page` (or `Link: rel="next"`).

use super::config::Token;
use super::http::{encode_segment, next_link, Http, PER_PAGE};
use super::{DiscoveredRepo, DiscoveryConfig, DiscoveryError};
use serde::Deserialize;

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

pub(super) fn gitlab(
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

/// Parses a page of GitLab's project list.
pub fn parse_gitlab_page(body: &[u8]) -> Result<Vec<GitlabProject>, DiscoveryError> {
    serde_json::from_slice(body).map_err(|e| DiscoveryError::Parse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::discover;
    use super::super::testing::{
        config, names, reply, serve, Reply, Server, GITLAB_PAGE1, GITLAB_PAGE2,
    };
    use super::*;

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
}
