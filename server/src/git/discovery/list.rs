//! The `list` source: exactly the repository URLs the config gives.

use super::DiscoveredRepo;
use crate::git::url::redact_url;

pub(super) fn listed(url: &str) -> DiscoveredRepo {
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

#[cfg(test)]
mod tests {
    use super::super::discover;
    use super::super::testing::{config, names};
    use super::*;

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

    #[test]
    fn listed_names() {
        let r = listed("https://user:pw@git.example.com/team/app.git");
        assert_eq!(r.name, "team/app");
        assert_eq!(r.url, "https://user:pw@git.example.com/team/app.git");
        assert_eq!(listed("git@github.com:acme/web.git").name, "acme/web");
        assert_eq!(listed("file:///srv/git/x.git").name, "srv/git/x");
    }
}
