//! Push webhooks from GitHub, GitLab and Gitea (Forgejo and Gogs speak Gitea's dialect).
//!
//! `POST /api/webhooks/git` hands its headers and raw body to [`parse`], which
//!
//! 1. refuses everything when no secret is configured ([`WebhookError::NotConfigured`]);
//! 2. tells the sender from its event header: `X-Gitea-Event` / `X-Forgejo-Event` /
//!    `X-Gogs-Event` first (Gitea also sends GitHub-style headers), then `X-Gitlab-Event`,
//!    then `X-GitHub-Event`;
//! 3. checks authenticity *before* looking at the body: GitHub and Gitea sign the body with
//!    HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>`, `X-Gitea-Signature: <hex>`), GitLab
//!    sends the secret itself in `X-Gitlab-Token`; every comparison is constant-time;
//! 4. reads the push payload (JSON, or GitHub's form encoding `payload=<json>`) into a
//!    [`PushEvent`]: every URL the payload gives for the repository, the branch, the new head
//!    commit and whether the branch was deleted. Other events (GitHub's `ping`, issues, …) are
//!    acknowledged as [`Webhook::Ignored`].
//!
//! Gitea does not send a push event when a branch is deleted, only a `delete` event: a `delete`
//! of a branch is reported as a [`PushEvent`] with `deleted: true`, like GitHub's deletion push.
//!
//! To find the locations a push concerns, compare [`normalize_repo_url`] of each of
//! [`PushEvent::repo_urls`] with that of the location's URL ([`PushEvent::matches_repo`]): the
//! same repository written as `https://…/Org/Repo.git`, `git@host:org/repo` or
//! `ssh://git@host:22/org/repo` has one identity (see [`super::url`]).
//!
//! Nothing here logs or returns the secret, a received signature or a received token.

use std::fmt;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::url::normalize_repo_url;
use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The forge that sent a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
    /// Gitea, Forgejo and Gogs.
    Gitea,
}

impl Provider {
    /// Product name for messages: `GitHub`, `GitLab`, `Gitea`.
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Github => "GitHub",
            Provider::Gitlab => "GitLab",
            Provider::Gitea => "Gitea",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A verified push to a repository.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PushEvent {
    pub provider: Provider,
    /// Every URL the payload gives for the repository (clone/https, ssh, git://, web/html URLs), raw.
    pub repo_urls: Vec<String>,
    /// Branch name from `ref` (`refs/heads/main` -> `main`); None for tag pushes or missing.
    pub branch: Option<String>,
    /// The new head commit (`after` / `checkout_sha`), when given; None for branch deletion (all zeros) too.
    pub after: Option<String>,
    /// True when the push deleted the branch (`deleted: true` or after = 40 zeros).
    pub deleted: bool,
}

impl PushEvent {
    /// The distinct [`normalize_repo_url`] identities of [`PushEvent::repo_urls`].
    pub fn repo_identities(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::with_capacity(self.repo_urls.len());
        for id in self.repo_urls.iter().map(|u| normalize_repo_url(u)) {
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Whether `url` (a location's repository URL, in any form) names the pushed repository.
    pub fn matches_repo(&self, url: &str) -> bool {
        let wanted = normalize_repo_url(url);
        !wanted.is_empty() && self.repo_identities().contains(&wanted)
    }
}

/// Why a webhook request was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WebhookError {
    /// No or wrong signature/token: HTTP 401. Message must never include the secret or the received signature/token.
    #[error("{0}")]
    Unauthorized(String),
    /// Unrecognised sender or malformed body: HTTP 400, message says what was expected.
    #[error("{0}")]
    BadRequest(String),
    /// No secret configured: webhooks refused (HTTP 409 `NotConfiguredError`).
    #[error("{0}")]
    NotConfigured(String),
}

/// What the request was: a push to act on, or an event to acknowledge and ignore (ping, other event types: return the event name).
#[derive(Debug, PartialEq)]
pub enum Webhook {
    Push(PushEvent),
    Ignored { provider: Provider, event: String },
}

/// Event headers of Gitea and its forks, in the order they are looked at.
const GITEA_EVENT_HEADERS: [(&str, &str); 3] = [
    ("x-gitea-event", "Gitea"),
    ("x-forgejo-event", "Forgejo"),
    ("x-gogs-event", "Gogs"),
];
/// Signature headers Gitea and its forks may send (hex HMAC-SHA256 of the body), in order of
/// preference; recent versions add GitHub's header too.
const GITEA_SIGNATURE_HEADERS: [&str; 4] = [
    "X-Gitea-Signature",
    "X-Forgejo-Signature",
    "X-Gogs-Signature",
    "X-Hub-Signature-256",
];
const GITHUB_EVENT_HEADER: &str = "x-github-event";
const GITHUB_SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
const GITLAB_EVENT_HEADER: &str = "x-gitlab-event";
const GITLAB_TOKEN_HEADER: &str = "X-Gitlab-Token";

/// Longest event name kept in [`Webhook::Ignored`] (it comes from a request header).
const MAX_EVENT_LEN: usize = 100;

/// Who sent the request, from its event header.
struct Sender {
    provider: Provider,
    /// Product name for messages (`Forgejo` for a Forgejo sender).
    name: &'static str,
    /// The event header's value, trimmed.
    event: String,
}

/// Identifies the provider from headers, verifies authenticity, parses the body.
///
/// GitHub: header `X-Hub-Signature-256: sha256=<hex hmac-sha256(secret, body)>` (event in
/// `X-GitHub-Event`: `push`, `ping`…). Gitea/Forgejo: `X-Gitea-Signature: <hex hmac-sha256>`
/// (also `X-Forgejo-Signature`, `X-Gogs-Signature`, `X-Hub-Signature-256`), event in
/// `X-Gitea-Event` / `X-Forgejo-Event` / `X-Gogs-Event`; Gitea is detected first since it also
/// sends GitHub's headers. GitLab: `X-Gitlab-Token: <secret>` compared in constant time; event
/// in `X-Gitlab-Event` (`Push Hook`, `Tag Push Hook`; `System Hook` with `object_kind` push or
/// tag_push). Signatures are verified before the body is parsed.
pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    secret: Option<&Secret>,
) -> Result<Webhook, WebhookError> {
    let secret = match secret.map(Secret::expose) {
        Some(s) if !s.trim().is_empty() => s,
        _ => {
            return Err(WebhookError::NotConfigured(
                "Git webhooks are disabled: no webhook secret is configured; set `git.webhook_secret` in the config file or the BACKLOT_WEBHOOK_SECRET environment variable, and the same secret in the webhook's settings at the Git host".to_string(),
            ))
        }
    };
    let sender = detect(headers)?;
    let result = match sender.provider {
        Provider::Gitea => {
            verify_signature(headers, body, secret, &sender, &GITEA_SIGNATURE_HEADERS)?;
            gitea_event(&sender, body)
        }
        Provider::Github => {
            verify_signature(headers, body, secret, &sender, &[GITHUB_SIGNATURE_HEADER])?;
            github_event(&sender, body)
        }
        Provider::Gitlab => {
            verify_gitlab_token(headers, secret)?;
            gitlab_event(&sender, body)
        }
    };
    match &result {
        Ok(Webhook::Push(push)) => tracing::debug!(
            provider = %push.provider,
            branch = push.branch.as_deref().unwrap_or("-"),
            deleted = push.deleted,
            "git webhook: verified push"
        ),
        Ok(Webhook::Ignored { provider, event }) => {
            tracing::debug!(%provider, event = %event, "git webhook: verified, event ignored")
        }
        Err(e) => {
            tracing::debug!(provider = %sender.provider, error = %e, "git webhook: bad payload")
        }
    }
    result
}

/// A header's value, trimmed; `None` when absent, empty or not visible ASCII.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn detect(headers: &HeaderMap) -> Result<Sender, WebhookError> {
    let event_name = |v: &str| v.chars().take(MAX_EVENT_LEN).collect::<String>();
    for (name, product) in GITEA_EVENT_HEADERS {
        if let Some(event) = header(headers, name) {
            return Ok(Sender {
                provider: Provider::Gitea,
                name: product,
                event: event_name(event),
            });
        }
    }
    if let Some(event) = header(headers, GITLAB_EVENT_HEADER) {
        return Ok(Sender {
            provider: Provider::Gitlab,
            name: "GitLab",
            event: event_name(event),
        });
    }
    if let Some(event) = header(headers, GITHUB_EVENT_HEADER) {
        return Ok(Sender {
            provider: Provider::Github,
            name: "GitHub",
            event: event_name(event),
        });
    }
    Err(WebhookError::BadRequest(
        "expected a push event from GitHub (X-GitHub-Event), GitLab (X-Gitlab-Event) or Gitea (X-Gitea-Event)".to_string(),
    ))
}

/// Checks the first present of `names` as a hex HMAC-SHA256 of `body` (optionally prefixed
/// with `sha256=`).
fn verify_signature(
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
    sender: &Sender,
    names: &[&str],
) -> Result<(), WebhookError> {
    let Some((name, value)) = names.iter().find_map(|n| headers.get(*n).map(|v| (*n, v))) else {
        return Err(unauthorized(format!(
            "missing {} header: give the webhook a secret at {} equal to git.webhook_secret",
            names.first().copied().unwrap_or(GITHUB_SIGNATURE_HEADER),
            sender.name
        )));
    };
    let value = value.to_str().map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(unauthorized(format!(
            "empty {name} header: give the webhook a secret at {} equal to git.webhook_secret",
            sender.name
        )));
    }
    let hex = value
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256="))
        .map_or(value, |_| &value[7..]);
    let Some(signature) = hex_decode(hex) else {
        return Err(unauthorized(format!(
            "{name} header is not a hex HMAC-SHA256 signature (expected {})",
            if name == GITHUB_SIGNATURE_HEADER {
                "sha256=<64 hex digits>"
            } else {
                "64 hex digits"
            }
        )));
    };
    let mut mac = new_mac(secret)?;
    mac.update(body);
    mac.verify_slice(&signature).map_err(|_| {
        unauthorized(format!(
            "{name} does not match the request body: the webhook secret at {} differs from git.webhook_secret, or the body was altered",
            sender.name
        ))
    })
}

/// Compares `X-Gitlab-Token` with the secret in constant time: both are run through
/// HMAC-SHA256 keyed with the secret and the tags compared with `verify_slice`, so neither the
/// position of the first difference nor the token's length shows in the timing.
fn verify_gitlab_token(headers: &HeaderMap, secret: &str) -> Result<(), WebhookError> {
    let Some(token) = header(headers, GITLAB_TOKEN_HEADER) else {
        return Err(unauthorized(format!(
            "missing {GITLAB_TOKEN_HEADER} header: set the webhook's secret token at GitLab to git.webhook_secret"
        )));
    };
    let mut expected = new_mac(secret)?;
    expected.update(secret.as_bytes());
    let expected = expected.finalize().into_bytes();
    let mut received = new_mac(secret)?;
    received.update(token.as_bytes());
    received.verify_slice(&expected).map_err(|_| {
        unauthorized(format!(
            "{GITLAB_TOKEN_HEADER} does not match git.webhook_secret: set the webhook's secret token at GitLab to the same value"
        ))
    })
}

fn new_mac(secret: &str) -> Result<HmacSha256, WebhookError> {
    // HMAC takes keys of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|_| unauthorized("the webhook secret cannot be used as an HMAC key".to_string()))
}

fn unauthorized(message: String) -> WebhookError {
    tracing::debug!(reason = %message, "git webhook refused");
    WebhookError::Unauthorized(message)
}

/// Lowercase hex HMAC-SHA256 of `body` keyed with `secret`: the value of `X-Gitea-Signature`,
/// and of `X-Hub-Signature-256` after `sha256=` (useful to sign requests in tests).
pub fn hmac_sha256_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = match <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    hex_encode(&mac.finalize().into_bytes())
}

fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

/// The body as a JSON object: `application/json`, or `application/x-www-form-urlencoded`
/// with the JSON in its `payload` field (GitHub's and Gitea's other content type).
fn json_body(body: &[u8]) -> Result<Value, WebhookError> {
    let value: Value = if body.trim_ascii_start().starts_with(b"payload=") {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body.trim_ascii())
            .map_err(|e| {
                WebhookError::BadRequest(format!("form-encoded body is malformed: {e}"))
            })?;
        let payload = fields
            .into_iter()
            .find_map(|(k, v)| (k == "payload").then_some(v))
            .unwrap_or_default();
        serde_json::from_str(&payload).map_err(|e| {
            WebhookError::BadRequest(format!("body's payload field is not JSON: {e}"))
        })?
    } else {
        serde_json::from_slice(body).map_err(|e| {
            WebhookError::BadRequest(format!(
                "body is not JSON: {e} (set the webhook's content type to application/json)"
            ))
        })?
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(WebhookError::BadRequest(
            "body is not a JSON object".to_string(),
        ))
    }
}

fn ignored(sender: &Sender) -> Webhook {
    Webhook::Ignored {
        provider: sender.provider,
        event: sender.event.clone(),
    }
}

fn github_event(sender: &Sender, body: &[u8]) -> Result<Webhook, WebhookError> {
    if !sender.event.eq_ignore_ascii_case("push") {
        return Ok(ignored(sender));
    }
    let payload = json_body(body)?;
    push_event(Provider::Github, &payload).map(Webhook::Push)
}

fn gitea_event(sender: &Sender, body: &[u8]) -> Result<Webhook, WebhookError> {
    if sender.event.eq_ignore_ascii_case("push") {
        let payload = json_body(body)?;
        return push_event(Provider::Gitea, &payload).map(Webhook::Push);
    }
    if sender.event.eq_ignore_ascii_case("delete") {
        // Gitea reports a deleted branch only as `delete` (`ref` is the short name).
        let payload = json_body(body)?;
        if str_at(&payload, &["ref_type"]) == Some("branch") {
            let branch = str_at(&payload, &["ref"])
                .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r).to_string())
                .filter(|b| !b.is_empty());
            return Ok(Webhook::Push(PushEvent {
                provider: Provider::Gitea,
                repo_urls: repo_urls(Provider::Gitea, &payload)?,
                branch,
                after: None,
                deleted: true,
            }));
        }
    }
    Ok(ignored(sender))
}

fn gitlab_event(sender: &Sender, body: &[u8]) -> Result<Webhook, WebhookError> {
    let event = sender.event.as_str();
    if event.eq_ignore_ascii_case("Push Hook") || event.eq_ignore_ascii_case("Tag Push Hook") {
        let payload = json_body(body)?;
        return push_event(Provider::Gitlab, &payload).map(Webhook::Push);
    }
    if event.eq_ignore_ascii_case("System Hook") {
        let payload = json_body(body)?;
        let kind = str_at(&payload, &["object_kind"])
            .or_else(|| str_at(&payload, &["event_name"]))
            .unwrap_or("unknown");
        if kind == "push" || kind == "tag_push" {
            return push_event(Provider::Gitlab, &payload).map(Webhook::Push);
        }
        let kind: String = kind.chars().take(MAX_EVENT_LEN).collect();
        return Ok(Webhook::Ignored {
            provider: Provider::Gitlab,
            event: format!("System Hook ({kind})"),
        });
    }
    Ok(ignored(sender))
}

/// A non-empty string at `path` in `value`.
fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An all-zero object id: the "after" of a deletion (SHA-1 or SHA-256 repositories).
fn is_zero_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b == b'0')
}

fn push_event(provider: Provider, payload: &Value) -> Result<PushEvent, WebhookError> {
    let repo_urls = repo_urls(provider, payload)?;
    let branch = str_at(payload, &["ref"])
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .filter(|b| !b.is_empty())
        .map(str::to_string);
    let after_field = str_at(payload, &["after"]);
    let deleted = payload
        .get("deleted")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || after_field.is_some_and(is_zero_id);
    let after = if deleted {
        None
    } else {
        after_field
            .or_else(|| str_at(payload, &["checkout_sha"]))
            .filter(|a| !is_zero_id(a))
            .map(str::to_string)
    };
    Ok(PushEvent {
        provider,
        repo_urls,
        branch,
        after,
        deleted,
    })
}

/// The repository URLs of a payload, in the order given, without duplicates. API URLs
/// (`api.github.com/repos/…`, Gitea's `/api/v1/repos/…`) are not repository URLs and are left out
/// by only reading the fields below.
fn repo_urls(provider: Provider, payload: &Value) -> Result<Vec<String>, WebhookError> {
    let (objects, fields, required): (&[&str], &[&str], &str) = match provider {
        // `repository.url` is the web URL in push payloads.
        Provider::Github => (
            &["repository"],
            &[
                "clone_url",
                "ssh_url",
                "git_url",
                "html_url",
                "url",
                "svn_url",
            ],
            "repository.clone_url",
        ),
        Provider::Gitlab => (
            &["project", "repository"],
            &[
                "git_http_url",
                "git_ssh_url",
                "http_url",
                "ssh_url",
                "web_url",
                "url",
                "homepage",
            ],
            "project.git_http_url",
        ),
        // `repository.url` is an API URL, `original_url` a mirror's upstream: not this repository.
        Provider::Gitea => (
            &["repository"],
            &["clone_url", "ssh_url", "html_url"],
            "repository.clone_url",
        ),
    };
    if !objects
        .iter()
        .any(|o| payload.get(o).is_some_and(Value::is_object))
    {
        let expected = objects.join(" or ");
        return Err(WebhookError::BadRequest(format!(
            "field {expected} missing: not a {} push payload",
            provider.display_name()
        )));
    }
    let mut urls: Vec<String> = Vec::new();
    for object in objects {
        for field in fields {
            if let Some(url) = str_at(payload, &[object, field]) {
                if !urls.iter().any(|u| u == url) {
                    urls.push(url.to_string());
                }
            }
        }
    }
    if urls.is_empty() {
        return Err(WebhookError::BadRequest(format!(
            "field {required} missing"
        )));
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    const SECRET: &str = "s3cr3t-Webhook-Key_42";

    /// [`SECRET`] as the config holds it.
    fn configured() -> Option<&'static Secret> {
        static CONFIGURED: std::sync::LazyLock<Secret> =
            std::sync::LazyLock::new(|| Secret::from(SECRET));
        Some(&CONFIGURED)
    }

    const GITHUB_PUSH: &[u8] = include_bytes!("testdata/github-push.json");
    const GITHUB_PING: &[u8] = include_bytes!("testdata/github-ping.json");
    const GITHUB_TAG: &[u8] = include_bytes!("testdata/github-tag-push.json");
    const GITHUB_DELETE: &[u8] = include_bytes!("testdata/github-delete.json");
    const GITLAB_PUSH: &[u8] = include_bytes!("testdata/gitlab-push.json");
    const GITLAB_TAG: &[u8] = include_bytes!("testdata/gitlab-tag-push.json");
    const GITEA_PUSH: &[u8] = include_bytes!("testdata/gitea-push.json");
    const GITEA_DELETE: &[u8] = include_bytes!("testdata/gitea-delete.json");

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn github_headers(event: &str, body: &[u8], secret: &str) -> HeaderMap {
        let sig = format!("sha256={}", hmac_sha256_hex(secret, body));
        headers(&[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("X-Hub-Signature-256", &sig),
            ("Content-Type", "application/json"),
            ("User-Agent", "GitHub-Hookshot/044aadd"),
        ])
    }

    fn gitea_headers(event: &str, body: &[u8], secret: &str) -> HeaderMap {
        let sig = hmac_sha256_hex(secret, body);
        headers(&[
            ("X-Gitea-Event", event),
            ("X-Gitea-Event-Type", event),
            ("X-Gitea-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"),
            ("X-Gitea-Signature", &sig),
            ("Content-Type", "application/json"),
        ])
    }

    fn gitlab_headers(event: &str, token: &str) -> HeaderMap {
        headers(&[
            ("X-Gitlab-Event", event),
            ("X-Gitlab-Token", token),
            ("X-Gitlab-Instance", "https://gitlab.com"),
            ("Content-Type", "application/json"),
        ])
    }

    fn push(result: Result<Webhook, WebhookError>) -> PushEvent {
        match result {
            Ok(Webhook::Push(p)) => p,
            other => panic!("expected a push, got {other:?}"),
        }
    }

    fn error_message(e: &WebhookError) -> String {
        e.to_string()
    }

    fn assert_unauthorized(result: Result<Webhook, WebhookError>, leaked: &[&str]) -> String {
        let Err(e @ WebhookError::Unauthorized(_)) = result else {
            panic!("expected Unauthorized, got {result:?}");
        };
        let msg = error_message(&e);
        assert!(!msg.contains(SECRET), "message leaks the secret: {msg}");
        for l in leaked {
            assert!(
                !l.is_empty() && !msg.contains(l),
                "message leaks {l}: {msg}"
            );
        }
        msg
    }

    #[test]
    fn github_push_with_correct_signature() {
        let p = push(parse(
            &github_headers("push", GITHUB_PUSH, SECRET),
            GITHUB_PUSH,
            configured(),
        ));
        assert_eq!(p.provider, Provider::Github);
        assert_eq!(p.branch.as_deref(), Some("main"));
        assert_eq!(
            p.after.as_deref(),
            Some("8c2d4b6a1e3f5079b8a6c4d2e0f1a3b5c7d9e1f3")
        );
        assert!(!p.deleted);
        assert_eq!(
            p.repo_urls,
            vec![
                "https://github.com/Acme-Corp/Payments-Service.git",
                "git@github.com:Acme-Corp/Payments-Service.git",
                "git://github.com/Acme-Corp/Payments-Service.git",
                "https://github.com/Acme-Corp/Payments-Service",
            ]
        );
        assert!(p.matches_repo("https://github.com/acme-corp/payments-service"));
        assert!(p.matches_repo("ssh://git@github.com:22/Acme-Corp/Payments-Service.git"));
        assert!(!p.matches_repo("https://github.com/acme-corp/payments"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["provider"], "github");
    }

    #[test]
    fn github_form_encoded_payload() {
        let json = r#"{"ref":"refs/heads/dev","after":"1111111111111111111111111111111111111111","repository":{"clone_url":"https://github.com/o/r.git"}}"#;
        let body = format!(
            "payload={}",
            json.replace('"', "%22")
                .replace('/', "%2F")
                .replace(':', "%3A")
        );
        let p = push(parse(
            &github_headers("push", body.as_bytes(), SECRET),
            body.as_bytes(),
            configured(),
        ));
        assert_eq!(p.branch.as_deref(), Some("dev"));
        assert_eq!(p.repo_urls, vec!["https://github.com/o/r.git"]);
    }

    #[test]
    fn gitlab_push_with_correct_token() {
        let p = push(parse(
            &gitlab_headers("Push Hook", SECRET),
            GITLAB_PUSH,
            configured(),
        ));
        assert_eq!(p.provider, Provider::Gitlab);
        assert_eq!(p.branch.as_deref(), Some("main"));
        assert_eq!(
            p.after.as_deref(),
            Some("5d2f8a1c7e4b9036d1a8f5c2e9b6d3a0f7c4e1b8")
        );
        assert!(!p.deleted);
        assert_eq!(
            p.repo_urls,
            vec![
                "https://gitlab.com/acme-platform/payments/ledger.git",
                "git@gitlab.com:acme-platform/payments/ledger.git",
                "https://gitlab.com/acme-platform/payments/ledger",
            ]
        );
        assert!(p.matches_repo("https://gitlab.com/acme-platform/payments/ledger/-/tree/main"));
    }

    #[test]
    fn gitlab_system_hook() {
        let p = push(parse(
            &gitlab_headers("System Hook", SECRET),
            GITLAB_PUSH,
            configured(),
        ));
        assert_eq!(p.branch.as_deref(), Some("main"));
        let body = br#"{"object_kind":"merge_request","event_type":"merge_request"}"#;
        assert_eq!(
            parse(&gitlab_headers("System Hook", SECRET), body, configured()),
            Ok(Webhook::Ignored {
                provider: Provider::Gitlab,
                event: "System Hook (merge_request)".into()
            })
        );
        assert_eq!(
            parse(
                &gitlab_headers("Merge Request Hook", SECRET),
                body,
                configured()
            ),
            Ok(Webhook::Ignored {
                provider: Provider::Gitlab,
                event: "Merge Request Hook".into()
            })
        );
    }

    #[test]
    fn gitea_push_with_correct_signature() {
        let p = push(parse(
            &gitea_headers("push", GITEA_PUSH, SECRET),
            GITEA_PUSH,
            configured(),
        ));
        assert_eq!(p.provider, Provider::Gitea);
        assert_eq!(p.branch.as_deref(), Some("main"));
        assert_eq!(
            p.after.as_deref(),
            Some("a7c3e9f1b5d2a8c4e0f6b2d8a4c0e6f2b8d4a0c6")
        );
        assert_eq!(
            p.repo_urls,
            vec![
                "https://git.acme.example/platform/Catalog.git",
                "git@git.acme.example:platform/Catalog.git",
                "https://git.acme.example/platform/Catalog",
            ]
        );
    }

    #[test]
    fn forgejo_and_gogs_headers() {
        let sig = hmac_sha256_hex(SECRET, GITEA_PUSH);
        let forgejo = headers(&[("X-Forgejo-Event", "push"), ("X-Forgejo-Signature", &sig)]);
        assert_eq!(
            push(parse(&forgejo, GITEA_PUSH, configured())).provider,
            Provider::Gitea
        );
        let gogs = headers(&[("X-Gogs-Event", "push"), ("X-Gogs-Signature", &sig)]);
        assert_eq!(
            push(parse(&gogs, GITEA_PUSH, configured())).provider,
            Provider::Gitea
        );
        // Only GitHub's signature header, with Gitea's event header.
        let hub = format!("sha256={sig}");
        let only_hub = headers(&[("X-Forgejo-Event", "push"), ("X-Hub-Signature-256", &hub)]);
        assert_eq!(
            push(parse(&only_hub, GITEA_PUSH, configured())).provider,
            Provider::Gitea
        );
        let bad = headers(&[
            ("X-Forgejo-Event", "push"),
            ("X-Forgejo-Signature", &"0".repeat(64)),
        ]);
        let msg = assert_unauthorized(parse(&bad, GITEA_PUSH, configured()), &[]);
        assert!(msg.contains("Forgejo"), "{msg}");
    }

    #[test]
    fn gitea_sending_github_headers_too_is_gitea() {
        let sig = hmac_sha256_hex(SECRET, GITEA_PUSH);
        let hub = format!("sha256={sig}");
        let h = headers(&[
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"),
            ("X-Gogs-Event", "push"),
            ("X-Gitea-Event", "push"),
            ("X-Gitea-Signature", &sig),
            ("X-Gogs-Signature", &sig),
            ("X-Hub-Signature-256", &hub),
        ]);
        let p = push(parse(&h, GITEA_PUSH, configured()));
        assert_eq!(p.provider, Provider::Gitea);
    }

    #[test]
    fn uppercase_hex_signature_accepted() {
        let sig = format!(
            "sha256={}",
            hmac_sha256_hex(SECRET, GITHUB_PUSH).to_uppercase()
        );
        let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)]);
        assert!(parse(&h, GITHUB_PUSH, configured()).is_ok());
    }

    #[test]
    fn wrong_signature_is_unauthorized() {
        let wrong = hmac_sha256_hex("another-secret", GITHUB_PUSH);
        let h = github_headers("push", GITHUB_PUSH, "another-secret");
        assert_unauthorized(parse(&h, GITHUB_PUSH, configured()), &[&wrong]);

        let h = gitea_headers("push", GITEA_PUSH, "another-secret");
        let wrong = hmac_sha256_hex("another-secret", GITEA_PUSH);
        assert_unauthorized(parse(&h, GITEA_PUSH, configured()), &[&wrong]);

        // Not hex, wrong length, wrong prefix.
        for sig in [
            "sha256=zz",
            "sha256=abcd",
            "sha1=0123456789abcdef0123456789abcdef01234567",
            "sha256=",
        ] {
            let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", sig)]);
            assert_unauthorized(parse(&h, GITHUB_PUSH, configured()), &[]);
        }
    }

    #[test]
    fn missing_signature_is_unauthorized() {
        let h = headers(&[("X-GitHub-Event", "push")]);
        let msg = assert_unauthorized(parse(&h, GITHUB_PUSH, configured()), &[]);
        assert!(msg.contains("X-Hub-Signature-256"), "{msg}");
        let h = headers(&[("X-Gitea-Event", "push")]);
        let msg = assert_unauthorized(parse(&h, GITEA_PUSH, configured()), &[]);
        assert!(msg.contains("X-Gitea-Signature"), "{msg}");
        let h = headers(&[("X-Gitlab-Event", "Push Hook")]);
        let msg = assert_unauthorized(parse(&h, GITLAB_PUSH, configured()), &[]);
        assert!(msg.contains("X-Gitlab-Token"), "{msg}");
    }

    #[test]
    fn ping_is_checked_then_ignored() {
        let h = github_headers("ping", GITHUB_PING, SECRET);
        assert_eq!(
            parse(&h, GITHUB_PING, configured()),
            Ok(Webhook::Ignored {
                provider: Provider::Github,
                event: "ping".into()
            })
        );
        let h = github_headers("ping", GITHUB_PING, "other");
        assert_unauthorized(parse(&h, GITHUB_PING, configured()), &[]);
        let h = github_headers("issues", b"{}", SECRET);
        assert_eq!(
            parse(&h, b"{}", configured()),
            Ok(Webhook::Ignored {
                provider: Provider::Github,
                event: "issues".into()
            })
        );
    }

    #[test]
    fn missing_secret_is_not_configured() {
        for secret in [None, Some(""), Some("  ")] {
            let secret = secret.map(Secret::from);
            let h = github_headers("push", GITHUB_PUSH, "");
            let Err(WebhookError::NotConfigured(msg)) = parse(&h, GITHUB_PUSH, secret.as_ref())
            else {
                panic!("expected NotConfigured");
            };
            assert!(
                msg.contains("git.webhook_secret") && msg.contains("BACKLOT_WEBHOOK_SECRET"),
                "{msg}"
            );
        }
    }

    #[test]
    fn tampered_body_is_unauthorized() {
        let h = github_headers("push", GITHUB_PUSH, SECRET);
        let tampered = String::from_utf8(GITHUB_PUSH.to_vec())
            .unwrap()
            .replace("refs/heads/main", "refs/heads/evil");
        assert_ne!(tampered.as_bytes(), GITHUB_PUSH);
        let msg = assert_unauthorized(parse(&h, tampered.as_bytes(), configured()), &[]);
        assert!(msg.contains("does not match"), "{msg}");

        let h = gitea_headers("push", GITEA_PUSH, SECRET);
        let mut tampered = GITEA_PUSH.to_vec();
        tampered.push(b' ');
        assert_unauthorized(parse(&h, &tampered, configured()), &[]);
    }

    #[test]
    fn gitlab_wrong_token_is_unauthorized() {
        let token = "guessed-token-123";
        assert_unauthorized(
            parse(
                &gitlab_headers("Push Hook", token),
                GITLAB_PUSH,
                configured(),
            ),
            &[token],
        );
        // A prefix or an extension of the secret is not the secret.
        let prefix = &SECRET[..SECRET.len() - 1];
        assert_unauthorized(
            parse(
                &gitlab_headers("Push Hook", prefix),
                GITLAB_PUSH,
                configured(),
            ),
            &[prefix],
        );
        let longer = format!("{SECRET}x");
        assert_unauthorized(
            parse(
                &gitlab_headers("Push Hook", &longer),
                GITLAB_PUSH,
                configured(),
            ),
            &[&longer],
        );
    }

    #[test]
    fn unknown_provider_is_bad_request() {
        let h = headers(&[
            ("X-Event-Key", "repo:push"),
            ("Content-Type", "application/json"),
        ]);
        let Err(WebhookError::BadRequest(msg)) = parse(&h, GITHUB_PUSH, configured()) else {
            panic!("expected BadRequest");
        };
        assert!(
            msg.contains("X-GitHub-Event")
                && msg.contains("X-Gitlab-Event")
                && msg.contains("X-Gitea-Event")
        );
        // A signature alone does not say who sent it.
        let sig = format!("sha256={}", hmac_sha256_hex(SECRET, GITHUB_PUSH));
        let h = headers(&[("X-Hub-Signature-256", &sig)]);
        assert!(matches!(
            parse(&h, GITHUB_PUSH, configured()),
            Err(WebhookError::BadRequest(_))
        ));
    }

    #[test]
    fn non_json_with_valid_signature_is_bad_request() {
        let body = b"this is not json";
        let Err(WebhookError::BadRequest(msg)) =
            parse(&github_headers("push", body, SECRET), body, configured())
        else {
            panic!("expected BadRequest");
        };
        assert!(msg.starts_with("body is not JSON"), "{msg}");
        let Err(WebhookError::BadRequest(_)) =
            parse(&gitlab_headers("Push Hook", SECRET), body, configured())
        else {
            panic!("expected BadRequest");
        };
        let Err(WebhookError::BadRequest(_)) =
            parse(&gitea_headers("push", b"[1]", SECRET), b"[1]", configured())
        else {
            panic!("expected BadRequest");
        };
    }

    #[test]
    fn missing_repository_fields_are_bad_request() {
        let body = br#"{"ref":"refs/heads/main","repository":{"name":"x"}}"#;
        assert_eq!(
            parse(&github_headers("push", body, SECRET), body, configured()),
            Err(WebhookError::BadRequest(
                "field repository.clone_url missing".into()
            ))
        );
        let body = br#"{"ref":"refs/heads/main"}"#;
        let Err(WebhookError::BadRequest(msg)) =
            parse(&gitlab_headers("Push Hook", SECRET), body, configured())
        else {
            panic!("expected BadRequest");
        };
        assert!(msg.contains("project"), "{msg}");
    }

    #[test]
    fn tag_push_has_no_branch() {
        let p = push(parse(
            &github_headers("push", GITHUB_TAG, SECRET),
            GITHUB_TAG,
            configured(),
        ));
        assert_eq!(p.branch, None);
        assert!(!p.deleted);
        assert_eq!(
            p.after.as_deref(),
            Some("8c2d4b6a1e3f5079b8a6c4d2e0f1a3b5c7d9e1f3")
        );
        let p = push(parse(
            &gitlab_headers("Tag Push Hook", SECRET),
            GITLAB_TAG,
            configured(),
        ));
        assert_eq!(p.branch, None);
        assert!(!p.deleted);
    }

    #[test]
    fn branch_deletion() {
        let p = push(parse(
            &github_headers("push", GITHUB_DELETE, SECRET),
            GITHUB_DELETE,
            configured(),
        ));
        assert!(p.deleted);
        assert_eq!(p.after, None);
        assert_eq!(p.branch.as_deref(), Some("feature/ledger-v2"));

        // GitLab says it with after = zeros only.
        let body = String::from_utf8(GITLAB_PUSH.to_vec())
            .unwrap()
            .replace(
                "\"after\": \"5d2f8a1c7e4b9036d1a8f5c2e9b6d3a0f7c4e1b8\"",
                &format!("\"after\": \"{}\"", "0".repeat(40)),
            )
            .replace(
                "\"checkout_sha\": \"5d2f8a1c7e4b9036d1a8f5c2e9b6d3a0f7c4e1b8\"",
                "\"checkout_sha\": null",
            );
        let p = push(parse(
            &gitlab_headers("Push Hook", SECRET),
            body.as_bytes(),
            configured(),
        ));
        assert!(p.deleted);
        assert_eq!(p.after, None);

        let p = push(parse(
            &gitea_headers("delete", GITEA_DELETE, SECRET),
            GITEA_DELETE,
            configured(),
        ));
        assert!(p.deleted);
        assert_eq!(p.branch.as_deref(), Some("docs/old-layout"));
        assert!(p.matches_repo("https://git.acme.example/platform/catalog"));
        // A deleted tag is not a push.
        let body = br#"{"ref":"v1","ref_type":"tag","repository":{"clone_url":"https://g/x.git"}}"#;
        assert_eq!(
            parse(&gitea_headers("delete", body, SECRET), body, configured()),
            Ok(Webhook::Ignored {
                provider: Provider::Gitea,
                event: "delete".into()
            })
        );
    }

    #[test]
    fn payload_urls_share_the_clone_urls_identity() {
        let fixtures: [(&str, Result<Webhook, WebhookError>); 5] = [
            (
                "github-push",
                parse(
                    &github_headers("push", GITHUB_PUSH, SECRET),
                    GITHUB_PUSH,
                    configured(),
                ),
            ),
            (
                "github-delete",
                parse(
                    &github_headers("push", GITHUB_DELETE, SECRET),
                    GITHUB_DELETE,
                    configured(),
                ),
            ),
            (
                "gitlab-push",
                parse(
                    &gitlab_headers("Push Hook", SECRET),
                    GITLAB_PUSH,
                    configured(),
                ),
            ),
            (
                "gitlab-tag-push",
                parse(
                    &gitlab_headers("Tag Push Hook", SECRET),
                    GITLAB_TAG,
                    configured(),
                ),
            ),
            (
                "gitea-push",
                parse(
                    &gitea_headers("push", GITEA_PUSH, SECRET),
                    GITEA_PUSH,
                    configured(),
                ),
            ),
        ];
        let want = [
            "github.com/acme-corp/payments-service",
            "github.com/acme-corp/payments-service",
            "gitlab.com/acme-platform/payments/ledger",
            "gitlab.com/acme-platform/payments/ledger",
            "git.acme.example/platform/catalog",
        ];
        for ((name, result), want) in fixtures.into_iter().zip(want) {
            let p = push(result);
            assert!(p.repo_urls.len() >= 3, "{name}: {:?}", p.repo_urls);
            for url in &p.repo_urls {
                assert_eq!(normalize_repo_url(url), want, "{name}: {url}");
            }
            assert_eq!(p.repo_identities(), vec![want.to_string()], "{name}");
        }
    }

    #[test]
    fn gitea_on_a_non_default_ssh_port_matches_either_url() {
        let body = br#"{"ref":"refs/heads/main","after":"abc","repository":{"clone_url":"http://localhost:3000/org/repo.git","ssh_url":"ssh://git@localhost:2222/org/repo.git","html_url":"http://localhost:3000/org/repo"}}"#;
        let p = push(parse(
            &gitea_headers("push", body, SECRET),
            body,
            configured(),
        ));
        assert!(p.matches_repo("http://localhost:3000/org/repo"));
        assert!(p.matches_repo("ssh://git@localhost:2222/org/repo"));
        assert!(!p.matches_repo("http://localhost:3001/org/repo"));
        assert_eq!(p.repo_identities().len(), 2);
    }

    #[test]
    fn no_error_message_contains_the_secret() {
        let sig = format!("sha256={}", hmac_sha256_hex(SECRET, b"other body"));
        let requests: Vec<(HeaderMap, &[u8])> = vec![
            (
                headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)]),
                GITHUB_PUSH,
            ),
            (headers(&[("X-GitHub-Event", "push")]), GITHUB_PUSH),
            (gitlab_headers("Push Hook", "nope"), GITLAB_PUSH),
            (gitlab_headers("Push Hook", SECRET), b"not json"),
            (github_headers("push", b"{\"x\":1}", SECRET), b"{\"x\":1}"),
            (gitea_headers("push", b"nope", SECRET), b"nope"),
            (headers(&[]), GITHUB_PUSH),
        ];
        for (h, body) in requests {
            for secret in [configured(), None] {
                if let Err(e) = parse(&h, body, secret) {
                    let msg = e.to_string();
                    assert!(!msg.contains(SECRET), "{msg}");
                    assert!(!msg.contains(&sig), "{msg}");
                    assert!(!msg.contains(&sig["sha256=".len()..]), "{msg}");
                }
            }
        }
    }

    #[test]
    fn hex_round_trip() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xab, 0xff];
        assert_eq!(hex_encode(&bytes), "00017f80abff");
        assert_eq!(hex_decode("00017F80ABff"), Some(bytes.to_vec()));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("0g"), None);
        assert_eq!(hex_decode(""), None);
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
