//! Repository paths, page ids and URLs.

use super::DocSite;

/// Normalises a '/'-separated relative path: empty and `.` segments are
/// dropped, `..` removes the previous segment. `None` when `..` would leave
/// the root or the path contains a backslash or control character.
pub(super) fn normalize(path: &str) -> Option<String> {
    if path.chars().any(|c| c == '\\' || c.is_control()) {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// `dir/name`, or `name` when `dir` is the root.
pub(super) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if name.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The directory part of a path ("" for top-level files).
pub(super) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The last segment of a path.
pub(super) fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// `path` relative to `dir`, if it is inside it.
pub(super) fn strip_dir<'p>(path: &'p str, dir: &str) -> Option<&'p str> {
    if dir.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(dir)?.strip_prefix('/')
    }
}

/// Whether a file name is a Markdown page.
pub(super) fn is_markdown(path: &str) -> bool {
    path.ends_with(".md")
}

/// Page id of a Markdown file given relative to `docs_dir`, before
/// de-duplication. `has_index(dir)` tells whether `dir` contains `index.md`.
pub(super) fn page_id_of(rel: &str, has_index: impl Fn(&str) -> bool) -> String {
    let stem = rel.strip_suffix(".md").unwrap_or(rel);
    let dir = parent(stem);
    match file_name(stem) {
        "index" => dir.to_string(),
        "README" if !has_index(dir) => dir.to_string(),
        _ => stem.to_string(),
    }
}

/// Files that may hold page `page_id`, relative to `docs_dir`, in order of
/// preference.
pub(super) fn page_candidates(page_id: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    if !page_id.is_empty() {
        out.push(format!("{page_id}.md"));
    }
    out.push(join(page_id, "index.md"));
    out.push(join(page_id, "README.md"));
    out
}

/// Page id of the repository path `path` if it is a Markdown page of `site`.
pub(super) fn page_id_for_path(site: &DocSite, path: &str) -> Option<String> {
    let rel = strip_dir(path, &site.docs_dir)?;
    if !is_markdown(rel) {
        return None;
    }
    let stem = rel.strip_suffix(".md").unwrap_or(rel);
    let dir = parent(stem);
    let candidates: &[&str] = match file_name(stem) {
        "index" => &[dir],
        // `README.md` is a page of its own when an `index.md` is next to it,
        // otherwise it is the directory's page.
        "README" => &[stem, dir],
        _ => &[stem],
    };
    candidates
        .iter()
        .find(|id| site.has_page(id))
        .map(|id| id.to_string())
}

/// Whether a nav target or link is a URL rather than a path.
pub(super) fn is_external_url(s: &str) -> bool {
    s.contains("://") || s.starts_with("mailto:") || s.starts_with('/')
}

/// The URL of a page.
pub(super) fn page_url(page_base: &str, page_id: &str) -> String {
    let base = page_base.trim_end_matches('/');
    if page_id.is_empty() {
        if base.is_empty() {
            "/".to_string()
        } else {
            base.to_string()
        }
    } else {
        format!("{base}/{}", percent_encode_path(page_id))
    }
}

/// The URL of an asset (a repository path).
pub(super) fn asset_url(asset_base: &str, repo_path: &str) -> String {
    format!(
        "{}/{}",
        asset_base.trim_end_matches('/'),
        percent_encode_path(repo_path)
    )
}

/// Percent-encodes everything but unreserved characters and '/'.
pub(super) fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8 or an escape is
/// malformed.
pub(super) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Resolves an asset request: the repository-relative path for `asset` (the
/// part of the URL after the asset base, already percent-decoded) requested
/// under a site. Any file of the repository may be linked from the docs, so
/// the whole repository is reachable; `None` for paths with `..` segments,
/// backslashes, control characters or nothing left.
pub fn asset_path(site: &DocSite, asset: &str) -> Option<String> {
    // Rendered asset URLs carry plain repository paths (see `asset_url`), so
    // the site does not restrict them further.
    let _ = site;
    let asset = asset.trim_start_matches('/');
    if asset.split('/').any(|segment| segment == "..") {
        return None;
    }
    let path = normalize(asset)?;
    // `.git` is never part of a tree, but a file-system source might have it.
    if path.is_empty() || path.split('/').any(|segment| segment == ".git") {
        return None;
    }
    Some(path)
}

/// Content type of an asset by its extension. SVG is returned as
/// `image/svg+xml`: it may contain scripts, so serve it with a restrictive
/// `Content-Security-Policy` (e.g. `default-src 'none'; style-src 'unsafe-inline'`).
/// Anything unknown (including HTML and CSS) is `application/octet-stream`.
pub fn content_type(path: &str) -> &'static str {
    let name = file_name(path);
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
