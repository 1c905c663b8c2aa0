//! What the docs service keeps between requests: each entity's site as last loaded (with the
//! stamp it was loaded from, and its search index), and rendered pages by site generation, the
//! oldest evicted first.

use super::search::SearchIndex;
use super::{DocSite, RenderedPage};
use crate::catalog::reference::RefKey;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// Rendered pages kept in memory (oldest evicted first).
pub(super) const MAX_CACHED_PAGES: usize = 256;

#[derive(Default)]
pub(super) struct Cache {
    pub(super) next_generation: u64,
    /// Per entity: its site as last loaded.
    pub(super) sites: HashMap<RefKey, SiteEntry>,
    pub(super) pages: HashMap<(u64, String), Arc<CachedPage>>,
    /// Keys of `pages`, oldest first.
    pub(super) page_order: VecDeque<(u64, String)>,
}

pub(super) struct SiteEntry {
    pub(super) stamp: String,
    pub(super) generation: u64,
    /// Only for sites read from disk.
    pub(super) expires: Option<Instant>,
    /// The site, or why it cannot be loaded.
    pub(super) site: Result<Arc<DocSite>, String>,
    pub(super) search: Option<Arc<SearchIndex>>,
}

impl SiteEntry {
    pub(super) fn fresh(&self, stamp: &str, now: Instant) -> bool {
        self.stamp == stamp && self.expires.is_none_or(|t| now < t)
    }
}

/// A rendered page and the repository path of its Markdown.
pub(super) struct CachedPage {
    pub(super) rendered: RenderedPage,
    pub(super) path: String,
}
