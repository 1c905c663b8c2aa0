//! Site structure: `mkdocs.yml`, the fallbacks and the navigation tree.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use yaml_serde::Value;

use super::paths::{self, file_name, is_markdown, join, normalize, parent, strip_dir};
use super::{render, DocSite, DocSource, DocsError, NavItem, MAX_PAGE_BYTES};

/// Names of the mkdocs configuration, in order of preference.
const MKDOCS_NAMES: [&str; 2] = ["mkdocs.yml", "mkdocs.yaml"];
/// Largest `mkdocs.yml` we parse (bytes).
const MAX_MKDOCS_BYTES: usize = 1024 * 1024;

/// Builds the site structure of the documentation in `techdocs_ref_dir`
/// (repository-relative, "" = repository root): from `mkdocs.yml` or
/// `mkdocs.yaml` there, else from `<dir>/docs/*.md`, else `<dir>/README.md`
/// as the only page. `fallback_title` names the site when `site_name` is
/// missing.
pub fn load_site(
    src: &dyn DocSource,
    techdocs_ref_dir: &str,
    fallback_title: &str,
) -> Result<DocSite, DocsError> {
    let dir = normalize(techdocs_ref_dir.trim()).ok_or_else(|| DocsError::InvalidRef {
        dir: techdocs_ref_dir.to_string(),
        message: "the directory is outside the repository".to_string(),
    })?;
    for name in MKDOCS_NAMES {
        let path = join(&dir, name);
        if let Some(bytes) = src.read(&path) {
            return from_mkdocs(src, &dir, &path, &bytes, fallback_title);
        }
    }

    let docs_dir = join(&dir, "docs");
    let files = markdown_files(src, &docs_dir);
    if !files.is_empty() {
        let mut builder = SiteBuilder::new(src, docs_dir, files);
        let nav = builder.auto_nav();
        return Ok(builder.finish(fallback_title.to_string(), nav));
    }

    let readme = join(&dir, "README.md");
    if let Some(bytes) = src.read(&readme) {
        let title = page_title_from_bytes(&bytes).unwrap_or_else(|| fallback_title.to_string());
        return Ok(DocSite {
            site_name: fallback_title.to_string(),
            docs_dir: dir,
            nav: vec![NavItem {
                title,
                page: Some(String::new()),
                children: Vec::new(),
            }],
            pages: vec![String::new()],
        });
    }

    let shown = if dir.is_empty() {
        "the repository root"
    } else {
        dir.as_str()
    };
    Err(DocsError::NoDocs(format!(
        "looked for mkdocs.yml, mkdocs.yaml, Markdown files in docs/ and README.md in {shown}"
    )))
}

/// Markdown files under `docs_dir`, relative to it, sorted. Hidden files and
/// directories (starting with '.') are skipped, like mkdocs does.
fn markdown_files(src: &dyn DocSource, docs_dir: &str) -> Vec<String> {
    let mut files: Vec<String> = src
        .list(docs_dir)
        .iter()
        .filter_map(|path| strip_dir(path, docs_dir))
        .filter(|rel| {
            is_markdown(rel)
                && rel
                    .split('/')
                    .all(|segment| !segment.is_empty() && !segment.starts_with('.'))
        })
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    files
}

fn from_mkdocs(
    src: &dyn DocSource,
    dir: &str,
    path: &str,
    bytes: &[u8],
    fallback_title: &str,
) -> Result<DocSite, DocsError> {
    let invalid = |message: String| DocsError::InvalidMkdocs {
        path: path.to_string(),
        message,
    };
    if bytes.len() > MAX_MKDOCS_BYTES {
        return Err(invalid(format!(
            "the file is too large ({} bytes, the limit is {MAX_MKDOCS_BYTES})",
            bytes.len()
        )));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| invalid(format!("the file is not UTF-8: {e}")))?;
    let config = parse_mkdocs_yaml(text).map_err(invalid)?;
    let config = untag(&config);
    if !matches!(config, Value::Mapping(_) | Value::Null) {
        return Err(invalid(
            "expected a mapping of settings at the top level".to_string(),
        ));
    }

    let site_name = match config.get("site_name").map(untag) {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            scalar_string(value)
                .ok_or_else(|| invalid("site_name must be a string".to_string()))?,
        ),
    }
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
    .unwrap_or_else(|| fallback_title.to_string());

    let docs_dir_setting = match config.get("docs_dir").map(untag) {
        None | Some(Value::Null) => "docs".to_string(),
        Some(value) => {
            scalar_string(value).ok_or_else(|| invalid("docs_dir must be a string".to_string()))?
        }
    };
    if docs_dir_setting.starts_with('/') {
        return Err(invalid(format!(
            "docs_dir `{docs_dir_setting}` must be relative to the mkdocs file"
        )));
    }
    let docs_dir = normalize(&join(dir, docs_dir_setting.trim())).ok_or_else(|| {
        invalid(format!(
            "docs_dir `{docs_dir_setting}` points outside the repository"
        ))
    })?;

    let files = markdown_files(src, &docs_dir);
    if files.is_empty() {
        let shown = if docs_dir.is_empty() {
            "the repository root"
        } else {
            docs_dir.as_str()
        };
        return Err(DocsError::NoDocs(format!(
            "{path} found, but its docs_dir ({shown}) contains no Markdown (.md) files"
        )));
    }

    let mut builder = SiteBuilder::new(src, docs_dir, files);
    let nav = match config.get("nav").map(untag) {
        None | Some(Value::Null) => builder.auto_nav(),
        Some(Value::Sequence(items)) => builder.nav_items(items).map_err(invalid)?,
        Some(_) => return Err(invalid("nav must be a list".to_string())),
    };
    Ok(builder.finish(site_name, nav))
}

/// Parses mkdocs YAML into a generic value. Custom tags are normally fine
/// (they become tagged values or are resolved by the parser); should the
/// parser refuse the text anyway, the tags are stripped and parsing is
/// retried. The first error is the one reported.
fn parse_mkdocs_yaml(text: &str) -> Result<Value, String> {
    match yaml_serde::from_str::<Value>(text) {
        Ok(value) => Ok(value),
        Err(first) => {
            let stripped = strip_custom_tags(text);
            if stripped != text {
                if let Ok(value) = yaml_serde::from_str::<Value>(&stripped) {
                    return Ok(value);
                }
            }
            Err(first.to_string())
        }
    }
}

/// Removes YAML tags (`!!python/name:x.y`, `!ENV`, `!relative`) that start a
/// value, outside quotes and comments.
pub(super) fn strip_custom_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                    out.push(c);
                }
                None if c == '#' && prev.is_whitespace() => {
                    out.push(c);
                    out.extend(chars.by_ref());
                }
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                None if c == '!' && (prev.is_whitespace() || matches!(prev, '[' | '{' | ',')) => {
                    // Skip the tag up to whitespace or a flow delimiter.
                    while let Some(&next) = chars.peek() {
                        if next.is_whitespace() || matches!(next, ',' | ']' | '}') {
                            break;
                        }
                        chars.next();
                    }
                    continue;
                }
                None => out.push(c),
            }
            prev = c;
        }
    }
    out
}

/// The value inside any number of tags.
fn untag(mut value: &Value) -> &Value {
    while let Value::Tagged(tagged) = value {
        value = &tagged.value;
    }
    value
}

/// Strings, numbers and booleans as text.
fn scalar_string(value: &Value) -> Option<String> {
    match untag(value) {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Title of a page: front-matter `title`, else its first `# heading`.
fn page_title_from_bytes(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_PAGE_BYTES {
        return None;
    }
    render::first_heading(&String::from_utf8_lossy(bytes))
}

/// A readable title from a file or directory name: `getting-started` →
/// `Getting started`.
fn humanize(name: &str) -> String {
    let spaced = name.replace(['-', '_'], " ");
    let spaced = spaced.trim();
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_string(),
    }
}

/// Title used when a page has no heading.
fn default_title(page_id: &str) -> String {
    if page_id.is_empty() {
        "Home".to_string()
    } else {
        humanize(file_name(page_id))
    }
}

/// Collects pages, titles and the navigation of one site.
struct SiteBuilder<'s> {
    src: &'s dyn DocSource,
    docs_dir: String,
    /// Page id → file relative to `docs_dir` (the preferred candidate).
    pages: BTreeMap<String, String>,
    /// Every Markdown file relative to `docs_dir` → its page id.
    file_ids: HashMap<String, String>,
    titles: HashMap<String, String>,
}

impl<'s> SiteBuilder<'s> {
    fn new(src: &'s dyn DocSource, docs_dir: String, files: Vec<String>) -> Self {
        let file_set: BTreeSet<&str> = files.iter().map(String::as_str).collect();
        let has_index = |dir: &str| file_set.contains(join(dir, "index.md").as_str());
        let mut file_ids = HashMap::new();
        let mut ids = BTreeSet::new();
        for rel in &files {
            let id = paths::page_id_of(rel, has_index);
            ids.insert(id.clone());
            file_ids.insert(rel.clone(), id);
        }
        // Two files may claim one id (`guide.md` and `guide/index.md`): the
        // page is the first candidate that exists, exactly as `render_page`
        // will look it up.
        let mut pages = BTreeMap::new();
        for id in ids {
            if let Some(file) = paths::page_candidates(&id)
                .into_iter()
                .find(|candidate| file_set.contains(candidate.as_str()))
            {
                pages.insert(id, file);
            }
        }
        for (rel, id) in &file_ids {
            if pages.get(id) != Some(rel) {
                tracing::warn!(
                    docs_dir = %docs_dir,
                    file = %rel,
                    page = %id,
                    "two Markdown files map to the same documentation page; ignoring this one"
                );
            }
        }
        SiteBuilder {
            src,
            docs_dir,
            pages,
            file_ids,
            titles: HashMap::new(),
        }
    }

    /// Title of a page from its content, cached.
    fn title(&mut self, page_id: &str) -> String {
        if let Some(title) = self.titles.get(page_id) {
            return title.clone();
        }
        let title = self
            .pages
            .get(page_id)
            .and_then(|rel| self.src.read(&join(&self.docs_dir, rel)))
            .and_then(|bytes| page_title_from_bytes(&bytes))
            .unwrap_or_else(|| default_title(page_id));
        self.titles.insert(page_id.to_string(), title.clone());
        title
    }

    /// The navigation mkdocs builds without `nav`: per directory the index
    /// page, the other pages by file name, then the sub-directories as
    /// sections.
    fn auto_nav(&mut self) -> Vec<NavItem> {
        #[derive(Default)]
        struct Node {
            index: Option<String>,
            pages: Vec<String>,
            dirs: BTreeMap<String, Node>,
        }
        let mut root = Node::default();
        let mut entries: Vec<(String, String)> = self
            .pages
            .iter()
            .map(|(id, rel)| (rel.clone(), id.clone()))
            .collect();
        entries.sort();
        for (rel, id) in entries {
            let dir = parent(&rel);
            let mut node = &mut root;
            if !dir.is_empty() {
                for segment in dir.split('/') {
                    node = node.dirs.entry(segment.to_string()).or_default();
                }
            }
            if id == dir {
                node.index = Some(id);
            } else {
                node.pages.push(id);
            }
        }

        fn items(builder: &mut SiteBuilder<'_>, node: Node) -> Vec<NavItem> {
            let mut out = Vec::new();
            for id in node.index.into_iter().chain(node.pages) {
                out.push(NavItem {
                    title: builder.title(&id),
                    page: Some(id),
                    children: Vec::new(),
                });
            }
            for (name, child) in node.dirs {
                out.push(NavItem {
                    title: humanize(&name),
                    page: None,
                    children: items(builder, child),
                });
            }
            out
        }
        items(self, root)
    }

    /// Navigation entries from mkdocs' `nav` list.
    fn nav_items(&mut self, items: &[Value]) -> Result<Vec<NavItem>, String> {
        let mut out = Vec::new();
        for item in items {
            match untag(item) {
                Value::Mapping(map) => {
                    for (key, value) in map {
                        let title = scalar_string(key)
                            .ok_or_else(|| "nav titles must be strings".to_string())?;
                        if let Some(entry) = self.nav_entry(Some(title), value)? {
                            out.push(entry);
                        }
                    }
                }
                Value::Null => {}
                other => {
                    if let Some(entry) = self.nav_entry(None, other)? {
                        out.push(entry);
                    }
                }
            }
        }
        Ok(out)
    }

    /// One entry: `Title: target`, `Title: [children]` or a bare `target`.
    fn nav_entry(
        &mut self,
        title: Option<String>,
        value: &Value,
    ) -> Result<Option<NavItem>, String> {
        match untag(value) {
            Value::Sequence(children) => Ok(Some(NavItem {
                title: title.unwrap_or_default(),
                page: None,
                children: self.nav_items(children)?,
            })),
            Value::Null => Ok(title.map(|title| NavItem {
                title,
                page: None,
                children: Vec::new(),
            })),
            Value::String(target) => {
                let target = target.trim();
                if paths::is_external_url(target) {
                    return Ok(Some(NavItem {
                        title: title.unwrap_or_else(|| target.to_string()),
                        page: Some(target.to_string()),
                        children: Vec::new(),
                    }));
                }
                match self.nav_page(target) {
                    Some(id) => {
                        let title = title.unwrap_or_else(|| self.title(&id));
                        Ok(Some(NavItem {
                            title,
                            page: Some(id),
                            children: Vec::new(),
                        }))
                    }
                    None => {
                        tracing::warn!(
                            docs_dir = %self.docs_dir,
                            target,
                            "mkdocs nav refers to a page that does not exist; skipping it"
                        );
                        Ok(None)
                    }
                }
            }
            _ => Err(match title {
                Some(title) => {
                    format!("nav entry `{title}` must be a file name, a URL or a list")
                }
                None => {
                    "nav entries must be file names, URLs or `Title: target` mappings".to_string()
                }
            }),
        }
    }

    /// Page id of a nav target (a path relative to `docs_dir`).
    fn nav_page(&self, target: &str) -> Option<String> {
        let rel = normalize(target)?;
        if is_markdown(&rel) {
            return self.file_ids.get(&rel).cloned();
        }
        // A directory (`guide/`) or a page id without `.md`.
        self.pages.contains_key(&rel).then_some(rel)
    }

    fn finish(self, site_name: String, nav: Vec<NavItem>) -> DocSite {
        let mut pages: Vec<(String, String)> =
            self.pages.into_iter().map(|(id, rel)| (rel, id)).collect();
        // Root page first, then by file path.
        pages.sort_by(|a, b| (!a.1.is_empty(), &a.0).cmp(&(!b.1.is_empty(), &b.0)));
        DocSite {
            site_name,
            docs_dir: self.docs_dir,
            nav,
            pages: pages.into_iter().map(|(_, id)| id).collect(),
        }
    }
}
