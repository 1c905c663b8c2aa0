//! TechDocs for the catalog: the [`DocsService`] the UI reads docs pages, the docs index and
//! docs search from (`app::services::DocsReader`), the [`DocSource`]s it reads them with, and
//! the HTTP handlers for docs assets and the highlighting stylesheet ([`router`]).
//!
//! # Where docs come from
//!
//! An entity has docs when it carries `backstage.io/techdocs-ref: dir:<folder>`, the folder
//! being relative to its descriptor file. Entities read from Git are read at the commit their
//! location was last read at, straight from the mirror's object store; entities read from files
//! are read from the descriptor's folder on disk, which is then the "repository" root: paths
//! never leave it. Which is which is the entity source's business
//! ([`crate::catalog::source::EntityFiles`]): docs only see a tree at a revision, or not.
//!
//! # Caching
//!
//! Site structures (`mkdocs.yml`, the file listing, the navigation) are cached per entity
//! together with a *stamp*: the commit (and techdocs folder) for Git, so a new commit simply
//! misses; for files the descriptor's hash plus a short time-to-live, since nothing tells us
//! when files on disk change. Every loaded site gets a new *generation*; rendered pages are
//! cached by (generation, page id) in a small FIFO cache, and the full-text search index of a
//! site lives with its cache entry, so both go away with the site they were built from.
//!
//! The lock is only held for lookups and inserts, never while reading or rendering: two
//! requests may occasionally do the same work twice, but never wait on each other's I/O.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use app::model::{DocsEntry, DocsHit, DocsNav, DocsPage, DocsToc, EntitySummary};
use app::services::DocsReader;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::paths::{join, parent};
use super::{
    load_site, page_url, plain_text, read_page, render_markdown, DocSite, DocSource, LinkContext,
    NavItem, RenderedPage, TECHDOCS_REF,
};
use crate::catalog::reference::RefKey;
use crate::catalog::snapshot::Record;
use crate::catalog::source::EntityFiles;
use crate::catalog::views::summary;
use crate::catalog::CatalogService;
use crate::AppState;

/// Rendered pages kept in memory (oldest evicted first).
const MAX_CACHED_PAGES: usize = 256;
/// How long a site read from files on disk is trusted before it is read again.
const FILE_SITE_TTL: Duration = Duration::from_secs(10);
/// Pages with more Markdown than this are left out of the search index.
const MAX_INDEXED_PAGE_BYTES: usize = 512 * 1024;
/// Text indexed per site at most (bytes of plain text, original and lower case).
const MAX_INDEX_BYTES_PER_SITE: usize = 8 * 1024 * 1024;
/// Text indexed over all sites at most; sites beyond it are not searched.
const MAX_INDEX_BYTES_TOTAL: usize = 128 * 1024 * 1024;
/// Length of a search snippet, in characters.
const SNIPPET_CHARS: usize = 160;
/// Characters shown before the first match in a snippet.
const SNIPPET_BEFORE: usize = 50;
/// Where the highlighting stylesheet is served.
pub const HIGHLIGHT_CSS_PATH: &str = "/docs-assets/_highlight.css";
/// Where docs assets are served: `/docs-assets/{namespace}/{kind}/{name}/{*path}`.
pub const ASSET_ROUTE: &str = "/docs-assets/{namespace}/{kind}/{name}/{*path}";
/// Content security policy of docs assets (SVG may carry scripts).
const ASSET_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox";

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/// Docs of the catalog's entities: pages, index and search, with caches (see the module docs).
pub struct DocsService {
    catalog: Arc<CatalogService>,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    next_generation: u64,
    /// Per entity: its site as last loaded.
    sites: HashMap<RefKey, SiteEntry>,
    pages: HashMap<(u64, String), Arc<CachedPage>>,
    /// Keys of `pages`, oldest first.
    page_order: VecDeque<(u64, String)>,
}

struct SiteEntry {
    stamp: String,
    generation: u64,
    /// Only for sites read from disk.
    expires: Option<Instant>,
    /// The site, or why it cannot be loaded.
    site: Result<Arc<DocSite>, String>,
    search: Option<Arc<SearchIndex>>,
}

impl SiteEntry {
    fn fresh(&self, stamp: &str, now: Instant) -> bool {
        self.stamp == stamp && self.expires.is_none_or(|t| now < t)
    }
}

/// A rendered page and the repository path of its Markdown.
struct CachedPage {
    rendered: RenderedPage,
    path: String,
}

/// The searchable text of one site.
struct SearchIndex {
    pages: Vec<IndexedPage>,
    bytes: usize,
}

struct IndexedPage {
    page_id: String,
    title: String,
    title_lc: String,
    text: String,
    text_lc: String,
}

/// An entity with docs, resolved against the current catalog.
struct Target {
    key: RefKey,
    /// `/catalog/{ns}/{kind}/{name}/docs`
    page_base: String,
    /// `/docs-assets/{ns}/{kind}/{name}`
    asset_base: String,
    source: Arc<dyn EntityFiles>,
    /// The techdocs folder relative to the source's root.
    dir: String,
    /// What the cached site must have been loaded from.
    stamp: String,
    /// Site name when mkdocs.yml has none: the entity's title or name.
    fallback_title: String,
}

impl Target {
    fn commit(&self) -> Option<String> {
        self.source.revision().map(str::to_string)
    }

    /// Files at a revision never change; files on disk are trusted for a short while.
    fn expires(&self) -> Option<Instant> {
        match self.source.revision() {
            Some(_) => None,
            None => Some(Instant::now() + FILE_SITE_TTL),
        }
    }
}

/// Opens the source of a target on first use (a page served from the cache opens nothing).
struct Opener<'a> {
    source: &'a dyn EntityFiles,
    opened: Option<Box<dyn DocSource>>,
}

impl<'a> Opener<'a> {
    fn new(target: &'a Target) -> Opener<'a> {
        Opener {
            source: &*target.source,
            opened: None,
        }
    }

    fn get(&mut self) -> Result<&dyn DocSource, String> {
        let src = match self.opened.take() {
            Some(src) => src,
            None => self.open()?,
        };
        Ok(&**self.opened.insert(src))
    }

    fn open(&self) -> Result<Box<dyn DocSource>, String> {
        self.source.open()
    }
}

/// The `backstage.io/techdocs-ref` annotation of a record, if any.
fn techdocs_ref(r: &Record) -> Option<String> {
    // Cheap test first: most entities have no docs, and parsing the body costs.
    if !r.stored.body.contains(TECHDOCS_REF) {
        return None;
    }
    r.stored.value()["metadata"]["annotations"][TECHDOCS_REF]
        .as_str()
        .map(str::to_string)
}

/// The folder of a `dir:<folder>` reference.
fn ref_folder(value: &str) -> Result<String, String> {
    let value = value.trim();
    match value.split_once(':') {
        Some((scheme, folder)) if scheme.trim().eq_ignore_ascii_case("dir") => {
            Ok(folder.trim().to_string())
        }
        _ => Err(format!(
            "the annotation {TECHDOCS_REF}: {value} is not supported: only dir:<folder> (relative \
             to the catalog-info.yaml, e.g. dir:.) is; docs are built from the entity's own \
             repository"
        )),
    }
}

fn fallback_title(r: &Record) -> String {
    r.title()
        .map(str::to_string)
        .unwrap_or_else(|| r.entity_ref().name.clone())
}

/// The navigation tree for the UI; sections are active when they contain the current page.
fn nav_items(items: &[NavItem], page_base: &str, current: &str) -> Vec<DocsNav> {
    items
        .iter()
        .map(|item| {
            let children = nav_items(&item.children, page_base, current);
            let (url, own) = match item.page.as_deref() {
                Some(url) if item.is_external() => (Some(url.to_string()), false),
                Some(id) => (Some(page_url(page_base, id)), id == current),
                None => (None, false),
            };
            DocsNav {
                title: item.title.clone(),
                url,
                active: own || children.iter().any(|c| c.active),
                children,
            }
        })
        .collect()
}

/// Page id → title from the navigation (first occurrence wins).
fn nav_titles(items: &[NavItem], out: &mut HashMap<String, String>) {
    for item in items {
        if let Some(id) = item.page.as_deref().filter(|_| !item.is_external()) {
            out.entry(id.to_string())
                .or_insert_with(|| item.title.clone());
        }
        nav_titles(&item.children, out);
    }
}

impl DocsService {
    pub fn new(catalog: Arc<CatalogService>) -> Arc<DocsService> {
        Arc::new(DocsService {
            catalog,
            cache: Mutex::new(Cache::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        match self.cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Where the docs of `r` are, or why they cannot be shown.
    fn target(&self, r: &Record) -> Result<Target, String> {
        let entity = r.entity_ref();
        let Some(reference) = techdocs_ref(r) else {
            return Err(format!(
                "{} has no docs: add the annotation {TECHDOCS_REF}: dir:. to its \
                 catalog-info.yaml, next to a mkdocs.yml, a docs/ folder of Markdown files or a \
                 README.md",
                entity.display()
            ));
        };
        let folder = ref_folder(&reference)?;
        let key = RefKey::from_ref(entity);
        let source = self.catalog.entity_files(&key).ok_or_else(|| {
            format!(
                "the files of {} cannot be read: its location has not been read successfully \
                 yet, or its folder is outside the allowed file roots",
                entity.display()
            )
        })?;
        let dir = join(parent(source.descriptor()), &folder);
        let stamp = match source.revision() {
            Some(revision) => format!("rev:{revision}:{dir}"),
            // Files on disk: the descriptor's hash (plus the time-to-live of the cache entry).
            None => format!("files:{}:{dir}", r.stored.hash),
        };
        let entity_url = entity.href();
        Ok(Target {
            page_base: format!("{entity_url}/docs"),
            asset_base: format!(
                "/docs-assets/{}/{}/{}",
                entity.namespace,
                entity.kind.to_ascii_lowercase(),
                entity.name
            ),
            key,
            source,
            dir,
            stamp,
            fallback_title: fallback_title(r),
        })
    }

    /// The site of a target, from the cache or loaded; with its generation.
    fn site(&self, t: &Target, opener: &mut Opener) -> Result<(u64, Arc<DocSite>), String> {
        {
            let cache = self.lock();
            if let Some(entry) = cache.sites.get(&t.key) {
                if entry.fresh(&t.stamp, Instant::now()) {
                    return entry.site.clone().map(|site| (entry.generation, site));
                }
            }
        }
        // Failing to open the source is not cached: the mirror may be back next time.
        let src = opener.get()?;
        let started = Instant::now();
        let loaded = load_site(src, &t.dir, &t.fallback_title)
            .map(Arc::new)
            .map_err(|err| err.to_string());
        match &loaded {
            Ok(site) => tracing::debug!(
                entity = %t.key,
                pages = site.pages.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "docs: site loaded"
            ),
            Err(err) => {
                tracing::info!(entity = %t.key, error = %err, "docs: site cannot be loaded")
            }
        }
        let mut cache = self.lock();
        cache.next_generation += 1;
        let generation = cache.next_generation;
        cache.sites.insert(
            t.key.clone(),
            SiteEntry {
                stamp: t.stamp.clone(),
                generation,
                expires: t.expires(),
                site: loaded.clone(),
                search: None,
            },
        );
        loaded.map(|site| (generation, site))
    }

    /// A rendered page, from the cache or rendered now.
    fn rendered(
        &self,
        t: &Target,
        generation: u64,
        site: &DocSite,
        page_id: &str,
        opener: &mut Opener,
    ) -> Result<Arc<CachedPage>, String> {
        let key = (generation, page_id.to_string());
        if let Some(page) = self.lock().pages.get(&key) {
            return Ok(page.clone());
        }
        let src = opener.get()?;
        let (path, markdown) = read_page(src, site, page_id).map_err(|err| err.to_string())?;
        let links = LinkContext {
            page_base: &t.page_base,
            asset_base: &t.asset_base,
        };
        let started = Instant::now();
        let rendered = render_markdown(&markdown, &path, site, &links);
        tracing::debug!(
            entity = %t.key,
            page = page_id,
            bytes = markdown.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "docs: page rendered"
        );
        let page = Arc::new(CachedPage { rendered, path });
        let mut cache = self.lock();
        if !cache.pages.contains_key(&key) {
            while cache.page_order.len() >= MAX_CACHED_PAGES {
                if let Some(old) = cache.page_order.pop_front() {
                    cache.pages.remove(&old);
                }
            }
            cache.page_order.push_back(key.clone());
        }
        cache.pages.insert(key, page.clone());
        Ok(page)
    }

    /// The search index of a target's site, from the cache or built now; `None` when the site
    /// cannot be loaded or the memory budget is spent.
    fn search_index(&self, t: &Target) -> Option<Arc<SearchIndex>> {
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

    /// The bytes and repository path of an asset of an entity's docs; `None` when there is no
    /// such entity, docs or file.
    fn asset_bytes(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        path: &str,
    ) -> Option<(String, Vec<u8>)> {
        let snap = self.catalog.snapshot();
        let r = snap.get(kind, namespace, name)?;
        let t = self.target(r).ok()?;
        let mut opener = Opener::new(&t);
        let (_, site) = self.site(&t, &mut opener).ok()?;
        let repo_path = super::asset_path(&site, path)?;
        let bytes = opener.get().ok()?.read(&repo_path)?;
        Some((repo_path, bytes))
    }

    /// Drops cached sites of entities that no longer have docs.
    fn prune(&self, documented: &HashSet<RefKey>) {
        let mut cache = self.lock();
        cache.sites.retain(|key, _| documented.contains(key));
    }
}

/// Reads and indexes every page of a site, within the size limits.
fn build_index(src: &dyn DocSource, site: &DocSite, key: &RefKey) -> SearchIndex {
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
fn snippet(text: &str, lower: &str, word: &str) -> String {
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

impl DocsService {
    pub fn page(&self, kind: &str, namespace: &str, name: &str, page: &str) -> Option<DocsPage> {
        let snap = self.catalog.snapshot();
        let r = snap.get(kind, namespace, name)?;
        let page_id = page.trim_matches('/').to_string();
        let mut out = DocsPage {
            entity: Some(summary(r)),
            site_name: fallback_title(r),
            page_id: page_id.clone(),
            ..Default::default()
        };
        let t = match self.target(r) {
            Ok(t) => t,
            Err(err) => {
                out.error = Some(err);
                return Some(out);
            }
        };
        out.commit = t.commit();
        let mut opener = Opener::new(&t);
        let (generation, site) = match self.site(&t, &mut opener) {
            Ok(loaded) => loaded,
            Err(err) => {
                out.error = Some(err);
                return Some(out);
            }
        };
        out.site_name = site.site_name.clone();
        out.nav = nav_items(&site.nav, &t.page_base, &page_id);
        let cached = match self.rendered(&t, generation, &site, &page_id, &mut opener) {
            Ok(page) => page,
            Err(err) => {
                out.error = Some(err);
                return Some(out);
            }
        };
        let rendered = &cached.rendered;
        out.title = rendered.title.clone();
        out.html = rendered.html.clone();
        out.toc = rendered
            .toc
            .iter()
            .map(|e| DocsToc {
                level: e.level,
                id: e.id.clone(),
                title: e.title.clone(),
            })
            .collect();
        out.view_url = t.source.file_url(&cached.path, false);
        out.edit_url = t.source.file_url(&cached.path, true);
        Some(out)
    }

    pub fn index(&self) -> Vec<DocsEntry> {
        let snap = self.catalog.snapshot();
        let mut documented = HashSet::new();
        let mut out: Vec<DocsEntry> = Vec::new();
        for r in snap.records.iter() {
            if techdocs_ref(r).is_none() {
                continue;
            }
            let entity: EntitySummary = summary(r);
            documented.insert(RefKey::from_ref(&entity.entity_ref));
            let site_name = self
                .target(r)
                .and_then(|t| {
                    let mut opener = Opener::new(&t);
                    self.site(&t, &mut opener)
                })
                .map(|(_, site)| site.site_name.clone())
                .unwrap_or_else(|_| fallback_title(r));
            out.push(DocsEntry {
                url: format!("{}/docs", entity.entity_ref.href()),
                entity,
                site_name,
            });
        }
        self.prune(&documented);
        out.sort_by(|a, b| {
            let name = |e: &DocsEntry| e.entity.entity_ref.name.to_lowercase();
            name(a)
                .cmp(&name(b))
                .then_with(|| a.entity.entity_ref.cmp(&b.entity.entity_ref))
        });
        out
    }

    pub fn search(&self, text: &str, limit: usize) -> Vec<DocsHit> {
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

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// The docs routes: [`HIGHLIGHT_CSS_PATH`] and [`ASSET_ROUTE`]. The handlers need an
/// `Extension<Arc<DocsService>>` layer.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(HIGHLIGHT_CSS_PATH, get(highlight_css))
        .route(ASSET_ROUTE, get(asset))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found",
    )
        .into_response()
}

/// `GET /docs-assets/{namespace}/{kind}/{name}/{*path}`: a file of an entity's docs source
/// (images and other files the docs link to), with headers that keep it inert.
pub async fn asset(
    Extension(docs): Extension<Arc<DocsService>>,
    Path((namespace, kind, name, path)): Path<(String, String, String, String)>,
) -> Response {
    let read = {
        let (namespace, kind, name, path) =
            (namespace.clone(), kind.clone(), name.clone(), path.clone());
        tokio::task::spawn_blocking(move || docs.asset_bytes(&kind, &namespace, &name, &path))
    };
    match read.await {
        Ok(Some((repo_path, bytes))) => (
            [
                (header::CONTENT_TYPE, super::content_type(&repo_path)),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, ASSET_CSP),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => {
            tracing::debug!(namespace, kind, name, path, "docs: asset not found");
            not_found()
        }
        Err(err) => {
            tracing::warn!(namespace, kind, name, path, error = %err, "docs: asset read failed");
            not_found()
        }
    }
}

static HIGHLIGHT_CSS: LazyLock<String> = LazyLock::new(super::highlight_css);

/// `GET /docs-assets/_highlight.css`: the stylesheet of highlighted code blocks.
pub async fn highlight_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        HIGHLIGHT_CSS.as_str(),
    )
}

/// The caller is not consulted yet: which docs a caller may read follows which entities they
/// see, for sign-in to decide.
impl DocsReader for DocsService {
    fn page(
        &self,
        _: &app::model::Caller,
        kind: &str,
        namespace: &str,
        name: &str,
        page: &str,
    ) -> Option<DocsPage> {
        DocsService::page(self, kind, namespace, name, page)
    }

    fn index(&self, _: &app::model::Caller) -> Vec<DocsEntry> {
        DocsService::index(self)
    }

    fn search(&self, _: &app::model::Caller, text: &str, limit: usize) -> Vec<DocsHit> {
        DocsService::search(self, text, limit)
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
