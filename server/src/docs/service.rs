//! TechDocs for the catalog: the [`DocsService`] the UI reads docs pages, the docs index and
//! docs search from (`app::services::DocsReader`, on blocking threads). Its cache is in
//! [`super::cache`], search in [`super::search`], the asset routes in [`super::handlers`].
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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use app::model::{DocsEntry, DocsHit, DocsNav, DocsPage, DocsToc, EntitySummary};
use app::services::{BoxFuture, DocsReader};

use super::cache::{Cache, CachedPage, SiteEntry, MAX_CACHED_PAGES};
use super::paths::{join, parent};
use super::{
    load_site, page_url, read_page, render_markdown, DocSite, DocSource, LinkContext, NavItem,
    TECHDOCS_REF,
};
use crate::catalog::reference::RefKey;
use crate::catalog::snapshot::Record;
use crate::catalog::source::EntityFiles;
use crate::catalog::views::summary;
use crate::catalog::CatalogService;

/// How long a site read from files on disk is trusted before it is read again.
const FILE_SITE_TTL: Duration = Duration::from_secs(10);
/// Docs of the catalog's entities: pages, index and search, with caches (see the module docs).
pub struct DocsService {
    pub(super) catalog: Arc<CatalogService>,
    cache: Mutex<Cache>,
}

/// An entity with docs, resolved against the current catalog.
pub(super) struct Target {
    pub(super) key: RefKey,
    /// `/catalog/{ns}/{kind}/{name}/docs`
    pub(super) page_base: String,
    /// `/docs-assets/{ns}/{kind}/{name}`
    pub(super) asset_base: String,
    pub(super) source: Arc<dyn EntityFiles>,
    /// The techdocs folder relative to the source's root.
    pub(super) dir: String,
    /// What the cached site must have been loaded from.
    pub(super) stamp: String,
    /// Site name when mkdocs.yml has none: the entity's title or name.
    pub(super) fallback_title: String,
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
pub(super) struct Opener<'a> {
    source: &'a dyn EntityFiles,
    opened: Option<Box<dyn DocSource>>,
}

impl<'a> Opener<'a> {
    pub(super) fn new(target: &'a Target) -> Opener<'a> {
        Opener {
            source: &*target.source,
            opened: None,
        }
    }

    pub(super) fn get(&mut self) -> Result<&dyn DocSource, String> {
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
pub fn techdocs_ref(r: &Record) -> Option<String> {
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

/// The docs folder a `backstage.io/techdocs-ref` value names, relative to the root of the
/// entity's files (`descriptor`: the descriptor's path there), or why it names none.
pub fn docs_folder(descriptor: &str, reference: &str) -> Result<String, String> {
    Ok(join(parent(descriptor), &ref_folder(reference)?))
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
pub(super) fn nav_titles(items: &[NavItem], out: &mut HashMap<String, String>) {
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

    pub(super) fn lock(&self) -> MutexGuard<'_, Cache> {
        match self.cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Where the docs of `r` are, or why they cannot be shown.
    pub(super) fn target(&self, r: &Record) -> Result<Target, String> {
        let entity = r.entity_ref();
        let Some(reference) = techdocs_ref(r) else {
            return Err(format!(
                "{} has no docs: add the annotation {TECHDOCS_REF}: dir:. to its \
                 catalog-info.yaml, next to a mkdocs.yml, a docs/ folder of Markdown files or a \
                 README.md",
                entity.display()
            ));
        };
        let key = RefKey::from_ref(entity);
        let source = self.catalog.entity_files(&key).ok_or_else(|| {
            format!(
                "the files of {} cannot be read: its location has not been read successfully \
                 yet, or its folder is outside the allowed file roots",
                entity.display()
            )
        })?;
        let dir = docs_folder(source.descriptor(), &reference)?;
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
    pub(super) fn site(
        &self,
        t: &Target,
        opener: &mut Opener,
    ) -> Result<(u64, Arc<DocSite>), String> {
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
    pub(super) fn rendered(
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

    /// The bytes and repository path of an asset of an entity's docs; `None` when there is no
    /// such entity, docs or file.
    pub(super) fn asset_bytes(
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
    pub(super) fn prune(&self, documented: &HashSet<RefKey>) {
        let mut cache = self.lock();
        cache.sites.retain(|key, _| documented.contains(key));
    }
}

impl DocsService {
    pub fn render_page(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        page: &str,
    ) -> Option<DocsPage> {
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

    pub fn documented(&self) -> Vec<DocsEntry> {
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
}

/// Runs blocking docs work off the async workers; a panic in it answers `fallback`.
fn blocking<T: Send + 'static>(
    fallback: T,
    work: impl FnOnce() -> T + Send + 'static,
) -> BoxFuture<T> {
    Box::pin(async move {
        tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "docs work failed");
            fallback
        })
    })
}

/// The caller is not consulted yet: docs of an entity are shown to whoever sees the entity,
/// which sign-in will decide through the catalog's facade.
impl DocsReader for DocsService {
    fn page(
        self: Arc<Self>,
        _: app::model::Caller,
        entity: app::model::EntityRef,
        page: String,
    ) -> BoxFuture<Option<DocsPage>> {
        blocking(None, move || {
            self.render_page(&entity.kind, &entity.namespace, &entity.name, &page)
        })
    }

    fn index(self: Arc<Self>, _: app::model::Caller) -> BoxFuture<Vec<DocsEntry>> {
        blocking(Vec::new(), move || self.documented())
    }

    fn search(
        self: Arc<Self>,
        _: app::model::Caller,
        text: String,
        limit: usize,
    ) -> BoxFuture<Vec<DocsHit>> {
        blocking(Vec::new(), move || self.search_pages(&text, limit))
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
