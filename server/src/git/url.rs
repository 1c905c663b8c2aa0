//! Repository URL identity and redaction.
//!
//! [`normalize_repo_url`] gives one identity to the same repository however its URL is written
//! (`https://…/Org/Repo.git`, `git@host:org/repo`, `ssh://git@host:22/org/repo`), which is how a
//! push webhook finds the locations it concerns. [`redact_url`] strips credentials from a URL
//! before it is shown or logged.

/// Normalised identity of a repository URL so that the same repository written in different
/// ways compares equal: `https://github.com/Org/Repo.git`, `http://github.com/org/repo`,
/// `git@github.com:org/repo.git`, `ssh://git@github.com/org/repo`,
/// `ssh://git@github.com:22/org/repo.git`, `git://github.com/org/repo` → `github.com/org/repo`.
///
/// Host and path are lowercased; scheme, user information, default ports (22 for ssh, 443/80 for
/// https/http, 9418 for git), query, fragment, empty path segments, a trailing `.git` and a GitLab
/// `/-/…` suffix are dropped; other ports are kept (`127.0.0.1:8088/x`). `file:///srv/git/x.git`
/// and `/srv/git/x.git` → `/srv/git/x`. Anything else: the input trimmed and lowercased.
pub fn normalize_repo_url(url: &str) -> String {
    let url = url.trim();
    normalize_inner(url).unwrap_or_else(|| url.to_lowercase())
}

fn normalize_inner(url: &str) -> Option<String> {
    if url.is_empty() {
        return None;
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return None;
        }
        if scheme == "file" {
            let path = if rest.starts_with('/') {
                rest
            } else {
                rest.strip_prefix("localhost")?
            };
            return path.starts_with('/').then(|| local_path(path));
        }
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(host_port)?;
        let mut path = path.to_string();
        let port = match port {
            // `ssh://git@host:org/repo`: an scp-style path written as a URL.
            Some(p) if !p.is_empty() && !p.bytes().all(|b| b.is_ascii_digit()) => {
                path = format!("{p}/{path}");
                None
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|n| !is_default_port(&scheme, *n)),
            None => None,
        };
        Some(identity(host, port, &path))
    } else if url.starts_with(['/', '~', '.']) {
        Some(local_path(url))
    } else if let Some((user_host, path)) = split_scp(url) {
        let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
        let (host, _) = split_host_port(host)?;
        Some(identity(host, None, path))
    } else {
        None
    }
}

/// `[user@]host:path` (no `/` before the colon; not a Windows drive letter).
fn split_scp(url: &str) -> Option<(&str, &str)> {
    let at = url.find('@').map_or(0, |i| i + 1);
    let colon = if url[at..].starts_with('[') {
        // `user@[::1]:path`
        at + url[at..].find("]:")? + 1
    } else {
        url.find(':')?
    };
    let (before, path) = (&url[..colon], &url[colon + 1..]);
    if before.is_empty()
        || before.contains('/')
        || (before.len() == 1 && path.starts_with(['\\', '/']))
    {
        return None;
    }
    Some((before, path))
}

/// `host[:port]` or `[v6]:port` → (host, port).
fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']')? + 1;
        let (host, rest) = s.split_at(end);
        (host, rest.strip_prefix(':'))
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    (!host.is_empty()).then_some((host, port))
}

fn is_default_port(scheme: &str, port: u16) -> bool {
    matches!(
        (scheme, port),
        ("ssh" | "git+ssh" | "ssh+git", 22) | ("https", 443) | ("http", 80) | ("git", 9418)
    )
}

/// The path segments of a repository URL, without empty segments, GitLab's `/-/…` and `.git`.
fn repo_path(path: &str) -> Vec<&str> {
    let mut segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take_while(|s| *s != "-")
        .collect();
    strip_git_suffix(&mut segments);
    segments
}

fn strip_git_suffix(segments: &mut Vec<&str>) {
    if let Some(last) = segments.last_mut() {
        if let Some(stem) = last
            .strip_suffix(".git")
            .or_else(|| last.strip_suffix(".GIT"))
        {
            if stem.is_empty() {
                segments.pop();
            } else {
                *last = stem;
            }
        }
    }
}

fn identity(host: &str, port: Option<u16>, path: &str) -> String {
    let mut out = host.to_lowercase();
    if let Some(port) = port {
        out.push_str(&format!(":{port}"));
    }
    for segment in repo_path(path) {
        out.push('/');
        out.push_str(&segment.to_lowercase());
    }
    out
}

fn local_path(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    strip_git_suffix(&mut segments);
    let joined = segments.join("/").to_lowercase();
    if path.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Removes credentials from a URL for display/logging: `https://user:tok@host/x` →
/// `https://host/x`; `https://tok@host/x` → `https://host/x`; `ssh://user:pw@host/x` →
/// `ssh://user@host/x` (an ssh user name is not a secret, and `ssh://git@host/x` is unchanged);
/// scp-style `git@host:x` and text without `://` unchanged.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let ssh =
        scheme.to_ascii_lowercase().ends_with("ssh") || scheme.eq_ignore_ascii_case("ssh+git");
    match userinfo.split_once(':') {
        None if ssh => url.to_string(),
        Some((user, _)) if ssh && !user.is_empty() => format!("{scheme}://{user}@{host}{tail}"),
        _ => format!("{scheme}://{host}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        let cases = [
            ("https://github.com/Org/Repo.git", "github.com/org/repo"),
            ("http://github.com/org/repo", "github.com/org/repo"),
            ("git@github.com:org/repo.git", "github.com/org/repo"),
            ("ssh://git@github.com/org/repo", "github.com/org/repo"),
            (
                "ssh://git@github.com:22/org/repo.git",
                "github.com/org/repo",
            ),
            ("git://github.com/org/repo", "github.com/org/repo"),
            ("git://github.com:9418/org/repo.git", "github.com/org/repo"),
            ("HTTPS://GitHub.com/Org/Repo/", "github.com/org/repo"),
            ("https://github.com/org/repo.git/", "github.com/org/repo"),
            ("  https://github.com//org/repo  ", "github.com/org/repo"),
            ("https://github.com:443/org/repo", "github.com/org/repo"),
            ("http://github.com:80/org/repo", "github.com/org/repo"),
            (
                "https://x-access-token:ghs_abc123@github.com/org/repo.git",
                "github.com/org/repo",
            ),
            (
                "https://user:p@ss@github.com/org/repo",
                "github.com/org/repo",
            ),
            (
                "https://oauth2:glpat-xyz@gitlab.com/group/sub/repo.git",
                "gitlab.com/group/sub/repo",
            ),
            (
                "https://gitlab.com/group/sub/repo/-/tree/main",
                "gitlab.com/group/sub/repo",
            ),
            (
                "https://gitlab.com/group/sub/repo/-/blob/main/catalog-info.yaml",
                "gitlab.com/group/sub/repo",
            ),
            (
                "https://github.com/org/repo?tab=readme#top",
                "github.com/org/repo",
            ),
            ("http://127.0.0.1:8088/x", "127.0.0.1:8088/x"),
            ("http://127.0.0.1:8088/x.git", "127.0.0.1:8088/x"),
            (
                "https://git.example.com:8443/org/repo",
                "git.example.com:8443/org/repo",
            ),
            (
                "ssh://git@gitea.example.com:2222/org/repo.git",
                "gitea.example.com:2222/org/repo",
            ),
            ("ssh://git@github.com:org/repo.git", "github.com/org/repo"),
            (
                "git+ssh://git@github.com:22/org/repo",
                "github.com/org/repo",
            ),
            ("http://[::1]:3000/org/repo.git", "[::1]:3000/org/repo"),
            ("git@[::1]:org/repo.git", "[::1]/org/repo"),
            ("github.com:org/repo", "github.com/org/repo"),
            ("file:///srv/git/x.git", "/srv/git/x"),
            ("file://localhost/srv/git/x.git", "/srv/git/x"),
            ("/srv/git/x.git/", "/srv/git/x"),
            ("github.com/Org/Repo", "github.com/org/repo"),
            ("  Not A URL  ", "not a url"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_repo_url(input),
                want,
                "normalize_repo_url({input:?})"
            );
        }
    }

    #[test]
    fn redact() {
        let cases = [
            ("https://user:tok@host/x", "https://host/x"),
            ("https://tok@host/x", "https://host/x"),
            ("https://user:p@ss@host/x?y=1", "https://host/x?y=1"),
            (
                "https://x-access-token:ghs_abc@github.com",
                "https://github.com",
            ),
            ("http://host:8080/x", "http://host:8080/x"),
            ("git@host:x", "git@host:x"),
            ("ssh://git@host/x", "ssh://git@host/x"),
            (
                "ssh://deploy:hunter2@host:2222/x",
                "ssh://deploy@host:2222/x",
            ),
            ("https://host/@scope/pkg", "https://host/@scope/pkg"),
            ("file:///srv/git/x", "file:///srv/git/x"),
            ("not a url", "not a url"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "redact_url({input:?})");
        }
    }
}
