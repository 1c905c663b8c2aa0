//! Revalidation for pages: every HTML answer gets an ETag (a hash of its bytes) and
//! `Cache-Control: private, no-cache`, and a request whose `If-None-Match` names it gets `304 Not
//! Modified` with no body, so a repeat visit of an unchanged page moves only headers.
//!
//! Pages render the same bytes for the same content, except the per-request `nonce="…"` that
//! leptos_axum writes on its scripts: the hash leaves those values out. Backlot sends no
//! Content-Security-Policy, so a page kept from an earlier answer loses nothing; one that
//! starts using nonces must hash them in again.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Largest page buffered to be hashed; bigger ones go out as they are.
const MAX_PAGE: usize = 8 * 1024 * 1024;

pub async fn revalidate_pages(req: Request, next: Next) -> Response {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let asked = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !get || !html || res.status() != StatusCode::OK || res.headers().contains_key(header::ETAG) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "page could not be buffered for its ETag");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let digest = content_hash(&bytes);
    let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("W/\"{tag}\"");
    let Ok(etag_value) = HeaderValue::from_str(&etag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-cache"));
    parts.headers.insert(header::ETAG, etag_value.clone());
    let matches = asked
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag.trim_start_matches("W/"))
        });
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// SHA-256 of a page with the values of its `nonce` attributes left out.
fn content_hash(page: &[u8]) -> [u8; 32] {
    const MARK: &[u8] = b" nonce=\"";
    let mut hash = Sha256::new();
    let mut rest = page;
    while let Some(at) = rest.windows(MARK.len()).position(|w| w == MARK) {
        let value = at + MARK.len();
        hash.update(&rest[..value]);
        match rest[value..].iter().position(|&b| b == b'"') {
            Some(end) => rest = &rest[value + end..],
            None => {
                rest = &rest[value..];
                break;
            }
        }
    }
    hash.update(rest);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::content_hash;

    #[test]
    fn the_hash_leaves_out_nonces_and_nothing_else() {
        let a = content_hash(b"<script nonce=\"abc\">x</script><p>1</p>");
        assert_eq!(
            a,
            content_hash(b"<script nonce=\"zyxw\">x</script><p>1</p>")
        );
        assert_ne!(a, content_hash(b"<script nonce=\"abc\">y</script><p>1</p>"));
        assert_ne!(a, content_hash(b"<script nonce=\"abc\">x</script><p>2</p>"));
        // An unterminated attribute is hashed as it is.
        assert_ne!(content_hash(b"<p nonce=\"a"), content_hash(b"<p nonce=\"b"));
    }
}
