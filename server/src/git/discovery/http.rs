//! The paging HTTP client the API sources share: blocking requests with timeouts, a body limit,
//! no redirects, `next` links followed only on the API's own origin, and the token scrubbed
//! from every message. The scaffolder's `publish:github` and `publish:gitlab` send their JSON
//! requests through it too ([`Http::send_json`]).

use super::{DiscoveryError, CONNECT_TIMEOUT, MAX_BODY_BYTES, MAX_PAGES, REQUEST_TIMEOUT};
use crate::git::url::redact_url;
use crate::secret::Secret;

pub(super) const PER_PAGE: u32 = 100;
const USER_AGENT: &str = "backlot";

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
pub(crate) fn encode_segment(s: &str) -> String {
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
pub(super) fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..end].to_ascii_lowercase()
}

/// `scheme://host[:port]` of an URL, lowercased.
fn origin(url: &str) -> String {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    format!("{}://{}", scheme.to_ascii_lowercase(), authority(url))
}

/// A response, read whole.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) link: Option<String>,
    pub(crate) next_page: Option<String>,
    pub(crate) rate_limited: bool,
    pub(crate) location: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Requests to one API with one set of headers.
pub(crate) struct Http<'a> {
    agent: ureq::Agent,
    discovery: &'a str,
    origin: String,
    headers: Vec<(&'static str, String)>,
    token: Option<Secret>,
}

impl<'a> Http<'a> {
    pub(crate) fn new(
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

    pub(crate) fn get(&self, url: &str) -> Result<Page, DiscoveryError> {
        self.request("GET", url, None)
    }

    /// `method` (`POST`, `PUT`…) with a JSON body.
    pub(crate) fn send_json(
        &self,
        method: &str,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Page, DiscoveryError> {
        self.request(method, url, Some(body))
    }

    fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Page, DiscoveryError> {
        tracing::debug!(discovery = %self.discovery, method, url, "API request");
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
        let sent = match body {
            None => {
                let mut request = self.agent.get(url);
                for (name, value) in &self.headers {
                    request = request.header(*name, value.as_str());
                }
                request.call()
            }
            Some(body) => {
                let mut request = match method {
                    "PUT" => self.agent.put(url),
                    "PATCH" => self.agent.patch(url),
                    _ => self.agent.post(url),
                };
                for (name, value) in &self.headers {
                    request = request.header(*name, value.as_str());
                }
                request
                    .header("Content-Type", "application/json")
                    .send(body.to_string().as_bytes())
            }
        };
        let mut response = sent.map_err(unreachable)?;
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
    pub(super) fn check(&self, url: &str, page: &Page) -> Result<(), DiscoveryError> {
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
    pub(super) fn follow(
        &self,
        url: &str,
        next: String,
        pages: usize,
    ) -> Result<String, DiscoveryError> {
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

    pub(crate) fn bad_page(&self, url: &str, reason: impl std::fmt::Display) -> DiscoveryError {
        DiscoveryError::BadResponse {
            discovery: self.discovery.to_string(),
            url: url.to_string(),
            reason: self.scrub(&reason.to_string()),
        }
    }

    /// The API's own explanation: `message` (GitHub, GitLab), `error_description` or `error`
    /// (OAuth errors), else the start of the body.
    pub(crate) fn message(&self, body: &[u8]) -> String {
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
    pub(crate) fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(t) if !t.expose().is_empty() => text.replace(t.expose(), "<redacted>"),
            _ => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
