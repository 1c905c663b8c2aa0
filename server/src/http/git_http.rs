//! The managed Git host's repositories served read-only over Git's smart HTTP protocol, so
//! `git clone http://127.0.0.1:3000/git/team/svc.git` works and `publish:git`'s `remoteUrl`
//! can be that address:
//!
//! - `GET /git/{owner}/{repo}.git/info/refs?service=git-upload-pack`: the refs, from
//!   `git upload-pack --stateless-rpc --advertise-refs` (with the `# service=` line for protocol
//!   v0/v1; none for v2, as `git http-backend` does);
//! - `POST /git/{owner}/{repo}.git/git-upload-pack`: a negotiation round, the request (gzip
//!   decoded when the client compressed it) to `git upload-pack --stateless-rpc`, its answer
//!   streamed back.
//!
//! The client's `Git-Protocol` header reaches git as `GIT_PROTOCOL` (protocol v2) when it is
//! well-formed. Pushing (`git-receive-pack`) and the dumb protocol are refused: repositories
//! are made by `publish:git` only. Reading needs `catalog.entity.read` (about no entity in
//! particular), as the catalog's pages do; a guest refused by sign-in gets a 401, not the
//! sign-in page (`http/guest.rs`). Outside `/api`: Git's protocol, not the REST API. Errors
//! are plain text, which git prints.

use crate::http::caller::RequestCaller;
use crate::policy::{Permission, Resource};
use crate::scaffolder::managed_git::RepoName;
use crate::AppState;
use app::model::Caller;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The largest negotiation request read (decoded).
const MAX_REQUEST: usize = 32 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/git/{owner}/{repo}/info/refs", get(info_refs))
        .route("/git/{owner}/{repo}/git-upload-pack", post(upload_pack))
        .route("/git/{owner}/{repo}/git-receive-pack", post(receive_pack))
}

/// Why a request is refused: its status and words for git to print.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        plain(self.0, self.1)
    }
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", message.into()),
    )
        .into_response()
}

/// The bare repository `owner`/`repo` (`repo` ends in `.git`) names, when the caller may read it
/// and it exists.
fn repository(
    state: &AppState,
    caller: &Caller,
    owner: &str,
    repo: &str,
) -> Result<PathBuf, Refused> {
    let not_found = || {
        Refused(
            StatusCode::NOT_FOUND,
            format!("no repository {owner}/{repo}"),
        )
    };
    let name = repo
        .strip_suffix(".git")
        .and_then(|r| RepoName::new(owner, r).ok())
        .ok_or_else(not_found)?;
    if let Err(e) = state
        .facade()
        .authorize(caller, Permission::CatalogEntityRead, &Resource::None)
    {
        let status = if caller.is_guest() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        return Err(Refused(status, e.to_string()));
    }
    let path = state.managed_git.repo_path(&name);
    if !path.join("HEAD").is_file() {
        return Err(not_found());
    }
    Ok(path)
}

/// `GIT_PROTOCOL` from the client's `Git-Protocol` header, when it holds only what protocol
/// parameters hold (`version=2`, `:`-separated).
fn protocol(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("git-protocol")?.to_str().ok()?;
    let fine = !value.is_empty()
        && value.len() <= 256
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "=:,._-".contains(c));
    fine.then(|| value.to_string())
}

/// `git upload-pack --stateless-rpc [extra] <repo>` as the server runs git: no system or global
/// config, no prompt, killed with the answer it feeds.
fn upload_pack_command(
    repo: &std::path::Path,
    extra: &[&str],
    protocol: Option<&str>,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("git");
    cmd.args(["upload-pack", "--strict", "--stateless-rpc"])
        .args(extra)
        .arg(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_PROTOCOL")
        .kill_on_drop(true);
    if let Some(p) = protocol {
        cmd.env("GIT_PROTOCOL", p);
    }
    cmd
}

/// One pkt-line.
fn pkt_line(text: &str) -> String {
    format!("{:04x}{text}", text.len() + 4)
}

async fn info_refs(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match query.get("service").map(String::as_str) {
        Some("git-upload-pack") => {}
        Some("git-receive-pack") => {
            return plain(
                StatusCode::FORBIDDEN,
                "this repository is read-only: Backlot's Git host takes no pushes",
            )
        }
        _ => {
            return plain(
                StatusCode::FORBIDDEN,
                "only Git's smart HTTP protocol is served (info/refs?service=git-upload-pack)",
            )
        }
    }
    let path = match repository(&state, &caller, &owner, &repo) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let protocol = protocol(&headers);
    let mut cmd = upload_pack_command(&path, &["--advertise-refs"], protocol.as_deref());
    cmd.stdin(std::process::Stdio::null());
    let output = match tokio::time::timeout(state.managed_git.timeout, cmd.output()).await {
        Ok(Ok(o)) if o.status.success() => o,
        Ok(Ok(o)) => {
            tracing::warn!(repository = %path.display(), error = %String::from_utf8_lossy(&o.stderr).trim(), "git upload-pack --advertise-refs failed");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the repository cannot be read",
            );
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not run git upload-pack");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "git cannot be run");
        }
        Err(_) => return plain(StatusCode::GATEWAY_TIMEOUT, "git took too long"),
    };
    let mut body = Vec::new();
    if !protocol.as_deref().is_some_and(|p| p.contains("version=2")) {
        body.extend_from_slice(pkt_line("# service=git-upload-pack\n").as_bytes());
        body.extend_from_slice(b"0000");
    }
    body.extend_from_slice(&output.stdout);
    (
        [
            (
                header::CONTENT_TYPE,
                "application/x-git-upload-pack-advertisement",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn receive_pack(Path((owner, repo)): Path<(String, String)>) -> Response {
    plain(
        StatusCode::FORBIDDEN,
        format!("{owner}/{repo} is read-only: Backlot's Git host takes no pushes"),
    )
}

/// The request body, gzip-decoded when the client says so, at most [`MAX_REQUEST`] bytes.
async fn request_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Refused> {
    let too_large = || {
        Refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is too large".into(),
        )
    };
    let raw = axum::body::to_bytes(body, MAX_REQUEST)
        .await
        .map_err(|_| too_large())?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match encoding {
        "" | "identity" => Ok(raw.to_vec()),
        "gzip" | "x-gzip" => tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .take(MAX_REQUEST as u64 + 1)
                .read_to_end(&mut out)
                .map(|_| out)
        })
        .await
        .ok()
        .and_then(Result::ok)
        .filter(|out| out.len() <= MAX_REQUEST)
        .ok_or_else(|| {
            Refused(
                StatusCode::BAD_REQUEST,
                "the request is not valid gzip, or too large".into(),
            )
        }),
        other => Err(Refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding {other} is not supported"),
        )),
    }
}

async fn upload_pack(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((owner, repo)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = match repository(&state, &caller, &owner, &repo) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type != "application/x-git-upload-pack-request" {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected application/x-git-upload-pack-request",
        );
    }
    let input = match request_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let protocol = protocol(&parts.headers);
    let mut cmd = upload_pack_command(&path, &[], protocol.as_deref());
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "could not run git upload-pack");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "git cannot be run");
        }
    };
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "git cannot be run");
    };
    // git reads the whole request before it answers a stateless round.
    tokio::spawn(async move {
        if let Err(e) = stdin.write_all(&input).await {
            tracing::debug!(error = %e, "git upload-pack stopped reading its request");
        }
    });
    // The answer streams as git writes it; the child lives (and is killed) with the stream.
    let stream = futures_util::stream::unfold(Some((child, stdout)), |state| async move {
        let (child, mut stdout) = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match stdout.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some((child, stdout))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-git-upload-pack-result"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::io::Write;

    fn headers(encoding: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(e) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        h
    }

    #[tokio::test]
    async fn requests_are_read_plain_or_gzip_within_the_limit() {
        let request = b"0032want 0123456789012345678901234567890123456789\n00000009done\n";
        let plain_body = request_body(&headers(None), Body::from(request.to_vec()))
            .await
            .ok()
            .expect("plain");
        assert_eq!(plain_body, request);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(request).unwrap();
        let zipped = gz.finish().unwrap();
        let decoded = request_body(&headers(Some("gzip")), Body::from(zipped))
            .await
            .ok()
            .expect("gzip");
        assert_eq!(decoded, request);
        let bad = request_body(&headers(Some("gzip")), Body::from(b"not gzip".to_vec())).await;
        assert!(matches!(bad, Err(Refused(StatusCode::BAD_REQUEST, _))));
        let other = request_body(&headers(Some("br")), Body::from(vec![1])).await;
        assert!(matches!(
            other,
            Err(Refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, _))
        ));
        // A bomb stops at the limit.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; MAX_REQUEST + 1]).unwrap();
        let bomb = request_body(&headers(Some("gzip")), Body::from(gz.finish().unwrap())).await;
        assert!(matches!(bomb, Err(Refused(StatusCode::BAD_REQUEST, _))));
    }

    #[test]
    fn only_protocol_parameters_reach_git() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("git-protocol", HeaderValue::from_static(v));
            protocol(&h)
        };
        assert_eq!(with("version=2").as_deref(), Some("version=2"));
        assert_eq!(
            with("version=2:object-format=sha1").as_deref(),
            Some("version=2:object-format=sha1")
        );
        assert_eq!(with("version=2 --upload-pack=x"), None);
        assert_eq!(with("a;b"), None);
        assert_eq!(protocol(&HeaderMap::new()), None);
    }
}
