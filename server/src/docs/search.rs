//! Full-text search over docs sites: each site's pages are read once into plain text (original
//! and lower case, within size budgets per site and overall), kept with the site's cache entry,
//! and searched for pages holding every word, best first, with a snippet around the first match.

use super::service::{nav_titles, techdocs_ref, DocsService, Opener, Target};
use super::{page_url, plain_text, read_page, DocSite, DocSource};
use crate::catalog::reference::RefKey;
use crate::catalog::views::summary;
use app::model::{DocsHit, EntitySummary};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Pages with more Markdown than this are left out of the search index.
const MAX_INDEXED_PAGE_BYTES: usize = 512 * 1024;
/// Text indexed per site at most (bytes of plain text, original and lower case).
const MAX_INDEX_BYTES_PER_SITE: usize = 8 * 1024 * 1024;
/// Text indexed over all sites at most; sites beyond it are not searched.
const MAX_INDEX_BYTES_TOTAL: usize = 128 * 1024 * 1024;
/// Length of a search snippet, in characters.
pub(super) const SNIPPET_CHARS: usize = 160;
/// Characters shown before the first match in a snippet.
const SNIPPET_BEFORE: usize = 50;

/// The searchable text of one site.
pub(super) struct SearchIndex {
    pub(super) pages: Vec<IndexedPage>,
    pub(super) bytes: usize,
}

pub(super) struct IndexedPage {
    pub(super) page_id: String,
    pub(super) title: String,
    pub(super) title_lc: String,
    pub(super) text: String,
    pub(super) text_lc: String,
}

impl DocsService {
    /// The search index of a target's site, from the cache or built now; `None` when the site
    /// cannot be loaded or the memory budget is spent.
    pub(super) fn search_index(&self, t: &Target) -> Option<Arc<SearchIndex>> {
        let mut opener = Opener::new(t);
        let (generation, site) = self.site(t, &mut opener).ok()?;
        let total = {
            let cache = self.lock();
            if let Some(index) = cache
                .sites
                .get(&t.key)
                .filter(|e| e.generation == generation)
                .and_then(|e| e.search.clone())
            {
                return Some(index);
            }
            cache
                .sites
                .values()
                .filter_map(|e| e.search.as_ref())
                .map(|index| index.bytes)
                .sum::<usize>()
        };
        if total >= MAX_INDEX_BYTES_TOTAL {
            tracing::warn!(entity = %t.key, indexed_bytes = total, limit = MAX_INDEX_BYTES_TOTAL, "docs: search index full, site not indexed");
            return None;
        }
        let src = opener.get().ok()?;
        let index = Arc::new(build_index(src, &site, &t.key));
        let mut cache = self.lock();
        if let Some(entry) = cache
            .sites
            .get_mut(&t.key)
            .filter(|e| e.generation == generation)
        {
            entry.search = Some(index.clone());
        }
        Some(index)
    }

    pub fn search_pages(&self, text: &str, limit: usize) -> Vec<DocsHit> {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Vec::new();
        }
        let snap = self.catalog.snapshot();
        // (rank, entity order, page order, hit)
        let mut hits: Vec<(u8, usize, usize, DocsHit)> = Vec::new();
        for (order, r) in snap.records.iter().enumerate() {
            if techdocs_ref(r).is_none() {
                continue;
            }
            let Ok(t) = self.target(r) else {
                continue;
            };
            let Some(index) = self.search_index(&t) else {
                continue;
            };
            let mut entity: Option<EntitySummary> = None;
            for (page_order, page) in index.pages.iter().enumerate() {
                let in_title = |w: &String| page.title_lc.contains(w.as_str());
                if !words
                    .iter()
                    .all(|w| in_title(w) || page.text_lc.contains(w.as_str()))
                {
                    continue;
                }
                let rank = if words.iter().all(in_title) {
                    0
                } else if words.iter().any(in_title) {
                    1
                } else {
                    2
                };
                let first = words
                    .iter()
                    .find(|w| page.text_lc.contains(w.as_str()))
                    .unwrap_or(&words[0]);
                let entity = entity.get_or_insert_with(|| summary(r)).clone();
                hits.push((
                    rank,
                    order,
                    page_order,
                    DocsHit {
                        entity,
                        title: page.title.clone(),
                        url: page_url(&t.page_base, &page.page_id),
                        snippet: snippet(&page.text, &page.text_lc, first),
                    },
                ));
            }
        }
        hits.sort_by_key(|a| (a.0, a.1, a.2));
        hits.into_iter()
            .take(limit.clamp(1, 100))
            .map(|(_, _, _, hit)| hit)
            .collect()
    }
}

/// Reads and indexes every page of a site, within the size limits.
pub(super) fn build_index(src: &dyn DocSource, site: &DocSite, key: &RefKey) -> SearchIndex {
    let started = Instant::now();
    let mut titles = HashMap::new();
    nav_titles(&site.nav, &mut titles);
    let mut pages = Vec::new();
    let mut bytes = 0usize;
    for page_id in &site.pages {
        let markdown = match read_page(src, site, page_id) {
            Ok((_, markdown)) => markdown,
            Err(err) => {
                tracing::debug!(entity = %key, page = %page_id, error = %err, "docs: page not indexed");
                continue;
            }
        };
        if markdown.len() > MAX_INDEXED_PAGE_BYTES {
            tracing::info!(entity = %key, page = %page_id, bytes = markdown.len(), "docs: page too large to index");
            continue;
        }
        let title = super::render::first_heading(&markdown)
            .or_else(|| titles.get(page_id).cloned())
            .unwrap_or_else(|| {
                if page_id.is_empty() {
                    site.site_name.clone()
                } else {
                    page_id.clone()
                }
            });
        let text = plain_text(&markdown);
        let size = text.len() * 2 + title.len() * 2;
        if bytes + size > MAX_INDEX_BYTES_PER_SITE {
            tracing::info!(entity = %key, limit = MAX_INDEX_BYTES_PER_SITE, "docs: site index truncated");
            break;
        }
        bytes += size;
        pages.push(IndexedPage {
            page_id: page_id.clone(),
            title_lc: title.to_lowercase(),
            title,
            text_lc: text.to_lowercase(),
            text,
        });
    }
    tracing::debug!(
        entity = %key,
        pages = pages.len(),
        bytes,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "docs: search index built"
    );
    SearchIndex { pages, bytes }
}

/// About [`SNIPPET_CHARS`] characters of `text` around the first occurrence of `word`
/// (searched in `lower`, the lower-case `text`), on one line, cut at word boundaries.
pub(super) fn snippet(text: &str, lower: &str, word: &str) -> String {
    let (src, at) = match lower.find(word) {
        // Lower-casing rarely changes lengths; when it does, show the lower-case text.
        Some(at) if lower.len() == text.len() && text.is_char_boundary(at) => (text, at),
        Some(at) => (lower, at),
        None => (text, 0),
    };
    let mut start = src[..at]
        .char_indices()
        .rev()
        .nth(SNIPPET_BEFORE.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    if start > 0 {
        // Start after a space rather than inside a word.
        if let Some((i, c)) = src[start..at]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
        {
            start += i + c.len_utf8();
        }
    }
    let mut end = src[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(src.len(), |(i, _)| start + i);
    if end < src.len() {
        let from = at.max(start) + word.len();
        if from < end {
            if let Some(i) = src[from..end].rfind(char::is_whitespace) {
                end = from + i;
            }
        }
    }
    let mut out = String::with_capacity(end - start + 8);
    if start > 0 {
        out.push('…');
    }
    out.push_str(
        &src[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    );
    if end < src.len() {
        out.push('…');
    }
    out
}
