//! TechDocs without Python: documentation sites built from `mkdocs.yml` and
//! Markdown rendered to safe HTML on the server.
//!
//! # Design
//!
//! Everything here works on a [`DocSource`]: read-only access to the files of
//! one repository at one commit (the git module implements it on top of the
//! object store; the tests use a `HashMap`). Nothing touches the file system
//! or runs external tools.
//!
//! 1. **Site structure** ([`load_site`], in `site.rs`). Starting at the
//!    directory of the `backstage.io/techdocs-ref: dir:<path>` annotation we
//!    look for `mkdocs.yml`/`mkdocs.yaml`. Only `site_name`, `docs_dir` and
//!    `nav` are read; the YAML is parsed into a generic value so unknown keys
//!    (`theme`, `plugins`, `markdown_extensions`, ...) and custom tags
//!    (`!!python/name:...`, `!ENV`, `!relative`) are accepted. Should the
//!    parser still refuse the file, custom tags are stripped and parsing is
//!    retried once before reporting [`DocsError::InvalidMkdocs`]. Without a
//!    `nav`, one is built like mkdocs does: per directory, the index page
//!    first, then the pages sorted by file name, then sub-directories as
//!    sections. Without `mkdocs.yml` we fall back to `<dir>/docs/*.md` and
//!    then to `<dir>/README.md` as a one-page site.
//!
//!    A page is identified by its *page id*: the Markdown path relative to
//!    `docs_dir` without `.md`, with `index.md` (or `README.md` when there is
//!    no `index.md` in that directory) standing for its directory, so
//!    `index.md` is `""` and `guide/index.md` is `"guide"`.
//!
//! 2. **Rendering** ([`render_page`] / [`render_markdown`], in `render.rs`).
//!    pulldown-cmark parses the page with tables, footnotes, task lists,
//!    strikethrough, heading attributes, GitHub alerts and YAML front matter.
//!    The event stream is rewritten before HTML generation: headings get
//!    unique GitHub-style ids and an anchor link (and feed the table of
//!    contents), fenced code is highlighted with syntect into `hl-` classes,
//!    tables use `align` attributes instead of `style`, footnotes get
//!    collision-free `fn-N`/`fnref-N` ids and are collected at the end.
//!
//! 3. **Sanitizing** (in `render.rs`). The generated HTML, including any raw
//!    HTML of the author, goes through ammonia with a small allow-list on top
//!    of its defaults (classes for highlighting, heading/footnote ids,
//!    disabled task-list checkboxes). Scripts, styles, iframes, event
//!    handlers, `style` attributes and `javascript:` URLs never survive.
//!    Link resolution happens *inside* the sanitizer (ammonia's relative-URL
//!    hook), so Markdown links and raw-HTML links are treated the same way:
//!    relative links to pages become `{page_base}/{page id}`, other relative
//!    links and images become `{asset_base}/{repo path}`, site-absolute and
//!    fragment links are kept, and anything escaping the repository loses its
//!    URL (the text stays).
//!
//! 4. **Assets** ([`asset_path`], [`content_type`], in `paths.rs`): the asset
//!    URL carries the repository path, which is normalised and refused when
//!    it tries to leave the repository.
//!
//! 5. **Serving** (`service.rs`): the `DocsService` behind the UI's
//!    `DocsReader` (sources over Git mirrors and folders on disk, caches keyed
//!    by commit, the docs index and full-text search) and the HTTP routes for
//!    assets and the highlighting stylesheet.

/// The annotation that points at an entity's docs: `dir:<path relative to the descriptor>`.
pub use crate::catalog::annotations::TECHDOCS_REF;

mod cache;
pub mod handlers;
mod paths;
mod render;
mod search;
pub mod service;
mod site;

#[cfg(test)]
mod tests;

pub use paths::{asset_path, content_type};
pub use render::{highlight_css, plain_text, render_markdown, render_page, render_snippet};
pub use site::load_site;

/// Largest Markdown page we render (bytes).
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Read-only access to files of one repository at one commit. Paths are
/// repository-relative, '/'-separated, no leading '/'.
pub use crate::catalog::source::SourceTree as DocSource;

/// Why a documentation site or page could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// Nothing that looks like documentation was found.
    #[error("no documentation found: {0}")]
    NoDocs(String),
    /// The techdocs-ref directory cannot be used (e.g. it leaves the repository).
    #[error("invalid techdocs-ref directory `{dir}`: {message}")]
    InvalidRef { dir: String, message: String },
    /// `mkdocs.yml` exists but cannot be used.
    #[error("invalid {path}: {message}")]
    InvalidMkdocs { path: String, message: String },
    /// The page id is not part of the site (or its file disappeared).
    #[error("documentation page `{0}` not found")]
    PageNotFound(String),
    /// The page's Markdown exceeds [`MAX_PAGE_BYTES`].
    #[error("documentation page {path} is too large ({size} bytes, the limit is {limit} bytes)")]
    PageTooLarge {
        path: String,
        size: usize,
        limit: usize,
    },
}

/// The structure of one documentation site.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DocSite {
    pub site_name: String,
    /// Repository-relative directory of the Markdown files ("" = repository root).
    pub docs_dir: String,
    pub nav: Vec<NavItem>,
    /// All page ids of the site, sorted by file path with the root page first.
    pub pages: Vec<String>,
}

impl DocSite {
    /// Whether `page_id` is a page of this site.
    pub fn has_page(&self, page_id: &str) -> bool {
        self.pages.iter().any(|p| p == page_id)
    }
}

/// One entry of the navigation tree.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NavItem {
    pub title: String,
    /// A page id, or an external URL (see [`NavItem::is_external`]); `None`
    /// for sections without a page of their own.
    pub page: Option<String>,
    pub children: Vec<NavItem>,
}

impl NavItem {
    /// Whether `page` is a URL (`https://...`, `mailto:...` or a site-absolute
    /// `/path`) rather than a page id.
    pub fn is_external(&self) -> bool {
        self.page.as_deref().is_some_and(paths::is_external_url)
    }
}

/// Where rendered links point to.
pub struct LinkContext<'a> {
    /// URL prefix of pages, e.g. "/catalog/default/component/web/docs".
    pub page_base: &'a str,
    /// URL prefix of assets, e.g. "/docs-assets/default/component/web".
    pub asset_base: &'a str,
}

/// One heading of a page's table of contents.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// A page rendered to sanitized HTML.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RenderedPage {
    pub title: String,
    pub html: String,
    pub toc: Vec<TocEntry>,
}

/// The URL of page `page_id` under `page_base` (the root page is `page_base` itself).
pub fn page_url(page_base: &str, page_id: &str) -> String {
    paths::page_url(page_base, page_id)
}

/// Reads the Markdown of page `page_id`: its repository-relative path and
/// text. Useful for indexing ([`plain_text`]) as well as rendering.
pub fn read_page(
    src: &dyn DocSource,
    site: &DocSite,
    page_id: &str,
) -> Result<(String, String), DocsError> {
    render::read_page(src, site, page_id)
}
