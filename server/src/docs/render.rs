//! Markdown → sanitized HTML, table of contents, plain text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{
    Alignment, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};
use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

use super::paths::{self, join, normalize, parent};
use super::{DocSite, DocSource, DocsError, LinkContext, RenderedPage, TocEntry, MAX_PAGE_BYTES};

/// Class prefix of highlighted tokens.
const HL_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };
/// Code blocks larger than this are not highlighted (regex-based highlighting
/// is slow on huge inputs).
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;
/// Light theme the highlighting CSS is generated from.
const HL_THEME: &str = "InspiredGitHub";

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

static HL_CSS: LazyLock<String> = LazyLock::new(|| {
    let themes = ThemeSet::load_defaults();
    let Some(theme) = themes.themes.get(HL_THEME) else {
        tracing::warn!(theme = HL_THEME, "syntax highlighting theme missing");
        return String::new();
    };
    match css_for_theme_with_class_style(theme, HL_STYLE) {
        // The theme's base colours are emitted for `.hl-code`; code blocks are
        // `<pre class="code">`, so apply them there too.
        Ok(css) => css.replacen(".hl-code {", "pre.code, .hl-code {", 1),
        Err(err) => {
            tracing::warn!(error = %err, "cannot generate syntax highlighting CSS");
            String::new()
        }
    }
});

/// CSS for the highlighting classes (generated from a light syntect theme,
/// class prefix "hl-").
pub fn highlight_css() -> String {
    HL_CSS.clone()
}

fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_GFM
}

pub(super) fn read_page(
    src: &dyn DocSource,
    site: &DocSite,
    page_id: &str,
) -> Result<(String, String), DocsError> {
    let page_id = page_id.trim_matches('/');
    if !site.has_page(page_id) {
        return Err(DocsError::PageNotFound(page_id.to_string()));
    }
    for candidate in paths::page_candidates(page_id) {
        let path = join(&site.docs_dir, &candidate);
        if let Some(bytes) = src.read(&path) {
            if bytes.len() > MAX_PAGE_BYTES {
                return Err(DocsError::PageTooLarge {
                    path,
                    size: bytes.len(),
                    limit: MAX_PAGE_BYTES,
                });
            }
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
            };
            let text = match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => text,
            };
            return Ok((path, text));
        }
    }
    Err(DocsError::PageNotFound(page_id.to_string()))
}

/// Renders page `page_id` of the site (reads its markdown via `src`).
pub fn render_page(
    src: &dyn DocSource,
    site: &DocSite,
    page_id: &str,
    links: &LinkContext,
) -> Result<RenderedPage, DocsError> {
    let (path, markdown) = read_page(src, site, page_id)?;
    Ok(render_markdown(&markdown, &path, site, links))
}

/// Renders the Markdown text of the page at repository path `page_path`
/// (relative links are resolved against its directory).
pub fn render_markdown(
    markdown: &str,
    page_path: &str,
    site: &DocSite,
    links: &LinkContext,
) -> RenderedPage {
    let mut renderer = Renderer::default();
    for event in Parser::new_ext(markdown, markdown_options()) {
        renderer.event(event);
    }
    let title = renderer
        .title
        .clone()
        .or_else(|| renderer.metadata_title())
        .unwrap_or_else(|| match paths::page_id_for_path(site, page_path) {
            Some(id) if !id.is_empty() => id,
            Some(_) => site.site_name.clone(),
            None => paths::file_name(page_path)
                .trim_end_matches(".md")
                .to_string(),
        });
    let toc = std::mem::take(&mut renderer.toc);
    let events = renderer.finish();
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    RenderedPage {
        title,
        html: sanitize(&html, parent(page_path), site, links),
        toc,
    }
}

/// A heading being collected.
struct HeadingBuf<'a> {
    level: HeadingLevel,
    id: Option<String>,
    text: String,
    events: Vec<Event<'a>>,
}

/// Rewrites the parser's events before HTML generation.
#[derive(Default)]
struct Renderer<'a> {
    out: Vec<Event<'a>>,
    heading: Option<HeadingBuf<'a>>,
    /// Footnote definition being collected: number and content.
    footnote: Option<(usize, Vec<Event<'a>>)>,
    footnote_numbers: HashMap<String, usize>,
    footnote_ref_counts: HashMap<usize, usize>,
    footnote_defs: Vec<(usize, Vec<Event<'a>>)>,
    /// Fenced/indented code being collected: info string and text.
    code: Option<(String, String)>,
    table_alignments: Vec<Alignment>,
    table_in_head: bool,
    table_cell: usize,
    metadata: Option<String>,
    in_metadata: bool,
    used_ids: HashSet<String>,
    toc: Vec<TocEntry>,
    title: Option<String>,
}

impl<'a> Renderer<'a> {
    fn emit(&mut self, event: Event<'a>) {
        if let Some(heading) = &mut self.heading {
            heading.events.push(event);
        } else if let Some((_, events)) = &mut self.footnote {
            events.push(event);
        } else {
            self.out.push(event);
        }
    }

    fn html(&mut self, html: String) {
        self.emit(Event::Html(CowStr::from(html)));
    }

    fn inline_html(&mut self, html: String) {
        self.emit(Event::InlineHtml(CowStr::from(html)));
    }

    fn event(&mut self, event: Event<'a>) {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => {
                self.in_metadata = true;
                self.metadata = Some(String::new());
            }
            Event::End(TagEnd::MetadataBlock(_)) => self.in_metadata = false,
            Event::Text(text) if self.in_metadata => {
                if let Some(metadata) = &mut self.metadata {
                    metadata.push_str(&text);
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((info, String::new()));
            }
            Event::Text(text) if self.code.is_some() => {
                if let Some((_, code)) = &mut self.code {
                    code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((info, code)) = self.code.take() {
                    self.html(code_block_html(&info, &code));
                }
            }
            Event::Start(Tag::Heading { level, id, .. }) => {
                self.heading = Some(HeadingBuf {
                    level,
                    id: id
                        .map(|id| id.to_string())
                        .filter(|id| !id.trim().is_empty()),
                    text: String::new(),
                    events: Vec::new(),
                });
            }
            Event::End(TagEnd::Heading(_)) => self.finish_heading(),
            Event::Text(ref text) | Event::Code(ref text) if self.heading.is_some() => {
                if let Some(heading) = &mut self.heading {
                    heading.text.push_str(text);
                }
                self.emit(event);
            }
            Event::Start(Tag::Table(alignments)) => {
                self.table_alignments = alignments;
                self.html("<table>\n".to_string());
            }
            Event::End(TagEnd::Table) => self.html("</tbody>\n</table>\n".to_string()),
            Event::Start(Tag::TableHead) => {
                self.table_in_head = true;
                self.table_cell = 0;
                self.html("<thead>\n<tr>".to_string());
            }
            Event::End(TagEnd::TableHead) => {
                self.table_in_head = false;
                self.html("</tr>\n</thead>\n<tbody>\n".to_string());
            }
            Event::Start(Tag::TableRow) => {
                self.table_cell = 0;
                self.html("<tr>".to_string());
            }
            Event::End(TagEnd::TableRow) => self.html("</tr>\n".to_string()),
            Event::Start(Tag::TableCell) => {
                let tag = if self.table_in_head { "th" } else { "td" };
                let align = match self.table_alignments.get(self.table_cell) {
                    Some(Alignment::Left) => " align=\"left\"",
                    Some(Alignment::Center) => " align=\"center\"",
                    Some(Alignment::Right) => " align=\"right\"",
                    _ => "",
                };
                self.inline_html(format!("<{tag}{align}>"));
            }
            Event::End(TagEnd::TableCell) => {
                let tag = if self.table_in_head { "th" } else { "td" };
                self.table_cell += 1;
                self.inline_html(format!("</{tag}>"));
            }
            Event::FootnoteReference(label) => {
                let number = self.footnote_number(&label);
                let count = self.footnote_ref_counts.entry(number).or_insert(0);
                *count += 1;
                let ref_id = if *count == 1 {
                    format!("fnref-{number}")
                } else {
                    format!("fnref-{number}-{count}")
                };
                self.inline_html(format!(
                    "<sup class=\"footnote-reference\" id=\"{ref_id}\"><a href=\"#fn-{number}\">{number}</a></sup>"
                ));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let number = self.footnote_number(&label);
                self.footnote = Some((number, Vec::new()));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                if let Some(definition) = self.footnote.take() {
                    self.footnote_defs.push(definition);
                }
            }
            Event::TaskListMarker(checked) => {
                let checked = if checked { " checked" } else { "" };
                self.inline_html(format!("<input type=\"checkbox\" disabled{checked}> "));
            }
            other => self.emit(other),
        }
    }

    fn footnote_number(&mut self, label: &str) -> usize {
        let next = self.footnote_numbers.len() + 1;
        *self
            .footnote_numbers
            .entry(label.to_string())
            .or_insert(next)
    }

    fn finish_heading(&mut self) {
        let Some(heading) = self.heading.take() else {
            return;
        };
        let text = heading
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let id = self.unique_id(heading.id.unwrap_or_else(|| slugify(&text)));
        let level = heading_level(heading.level);
        if level == 1 && self.title.is_none() {
            self.title = Some(text.clone());
        } else if level <= 3 {
            self.toc.push(TocEntry {
                level,
                id: id.clone(),
                title: text,
            });
        }
        let escaped_id = escape_html(&id);
        self.html(format!("<h{level} id=\"{escaped_id}\">"));
        for event in heading.events {
            self.emit(event);
        }
        self.html(format!(
            " <a class=\"anchor\" href=\"#{escaped_id}\" aria-hidden=\"true\">#</a></h{level}>\n"
        ));
    }

    /// `id`, or `id-1`, `id-2`, ... when taken.
    fn unique_id(&mut self, id: String) -> String {
        let id = if id.is_empty() {
            "section".to_string()
        } else {
            id
        };
        let mut candidate = id.clone();
        let mut n = 0;
        while self.used_ids.contains(&candidate) {
            n += 1;
            candidate = format!("{id}-{n}");
        }
        self.used_ids.insert(candidate.clone());
        candidate
    }

    fn metadata_title(&self) -> Option<String> {
        metadata_title(self.metadata.as_deref()?)
    }

    /// The events with the footnotes appended.
    fn finish(mut self) -> Vec<Event<'a>> {
        // Unterminated constructs cannot happen with pulldown-cmark, but do
        // not lose content if they did.
        self.finish_heading();
        if let Some(definition) = self.footnote.take() {
            self.footnote_defs.push(definition);
        }
        if !self.footnote_defs.is_empty() {
            let mut defs = std::mem::take(&mut self.footnote_defs);
            defs.sort_by_key(|(number, _)| *number);
            self.out.push(Event::Html(CowStr::from(
                "<section class=\"footnotes\">\n<ol>\n",
            )));
            for (number, mut events) in defs {
                self.out.push(Event::Html(CowStr::from(format!(
                    "<li id=\"fn-{number}\">\n"
                ))));
                if self.footnote_ref_counts.contains_key(&number) {
                    let backref = Event::InlineHtml(CowStr::from(format!(
                        " <a class=\"footnote-backref\" href=\"#fnref-{number}\">↩</a>"
                    )));
                    // Inside the closing paragraph when there is one.
                    if matches!(events.last(), Some(Event::End(TagEnd::Paragraph))) {
                        let end = events.len() - 1;
                        events.insert(end, backref);
                    } else {
                        events.push(backref);
                    }
                }
                self.out.extend(events);
                self.out.push(Event::Html(CowStr::from("</li>\n")));
            }
            self.out
                .push(Event::Html(CowStr::from("</ol>\n</section>\n")));
        }
        self.out
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// `title` of YAML front matter.
fn metadata_title(metadata: &str) -> Option<String> {
    let value: yaml_serde::Value = yaml_serde::from_str(metadata).ok()?;
    match value.get("title")? {
        yaml_serde::Value::String(title) if !title.trim().is_empty() => {
            Some(title.trim().to_string())
        }
        _ => None,
    }
}

/// Title of a Markdown document: front-matter `title`, else the first
/// level-1 heading.
pub(super) fn first_heading(markdown: &str) -> Option<String> {
    let mut metadata: Option<String> = None;
    let mut in_metadata = false;
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => {
                in_metadata = false;
                if let Some(title) = metadata.as_deref().and_then(metadata_title) {
                    return Some(title);
                }
            }
            Event::Text(text) if in_metadata => {
                metadata.get_or_insert_with(String::new).push_str(&text);
            }
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) => heading = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = &mut heading {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) => {
                let text = heading
                    .take()
                    .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default();
                if !text.is_empty() {
                    return Some(text);
                }
            }
            _ => {}
        }
    }
    None
}

/// GitHub-style heading slug: lowercase, punctuation dropped, spaces → '-'.
pub(super) fn slugify(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The language of a fence info string (`rust,ignore`, `python title="x"`,
/// `{.js}`), restricted to characters safe in a class name.
fn fence_language(info: &str) -> Option<String> {
    let first = info
        .split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
        .find(|s| !s.is_empty())?;
    let lang: String = first
        .trim_start_matches('.')
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'))
        .collect();
    (!lang.is_empty()).then_some(lang)
}

fn code_block_html(info: &str, code: &str) -> String {
    let lang = fence_language(info);
    let body = lang
        .as_deref()
        .and_then(|lang| highlight(lang, code))
        .unwrap_or_else(|| escape_html(code));
    match lang {
        Some(lang) => format!(
            "<pre class=\"code\"><code class=\"language-{}\">{body}</code></pre>\n",
            escape_html(&lang)
        ),
        None => format!("<pre class=\"code\"><code>{body}</code></pre>\n"),
    }
}

/// Highlighted HTML (`<span class="hl-...">`) or `None` when the language is
/// unknown or the code too large.
fn highlight(lang: &str, code: &str) -> Option<String> {
    if code.len() > MAX_HIGHLIGHT_BYTES {
        return None;
    }
    let syntax = SYNTAXES
        .find_syntax_by_token(lang)
        .or_else(|| SYNTAXES.find_syntax_by_token(&lang.to_ascii_lowercase()))?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, &SYNTAXES, HL_STYLE);
    for line in LinesWithEndings::from(code) {
        if let Err(err) = generator.parse_html_for_line_which_includes_newline(line) {
            tracing::debug!(error = %err, lang, "syntax highlighting failed");
            return None;
        }
    }
    Some(generator.finalize())
}

pub(super) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Resolves relative URLs while sanitizing (see [`resolve_url`]).
struct LinkResolver<'r> {
    page_dir: &'r str,
    site: &'r DocSite,
    page_base: &'r str,
    asset_base: &'r str,
}

impl<'r> ammonia::UrlRelativeEvaluate<'r> for LinkResolver<'r> {
    fn evaluate<'url>(&self, url: &'url str) -> Option<Cow<'url, str>> {
        resolve_url(url, self)
    }
}

/// Resolves a relative URL of the page:
/// - `#fragment` and site-absolute `/path` (and `//host/path`) are kept;
/// - Markdown files that are pages of the site (and directories that are
///   pages) become `{page_base}/{page id}`, keeping the fragment;
/// - everything else inside the repository becomes `{asset_base}/{path}`;
/// - paths escaping the repository and query-only URLs are dropped (`None`).
fn resolve_url<'url>(url: &'url str, ctx: &LinkResolver<'_>) -> Option<Cow<'url, str>> {
    let url = url.trim();
    if url.starts_with('#') || url.starts_with('/') {
        return Some(Cow::Borrowed(url));
    }
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let path = before_fragment.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return None;
    }
    let decoded = paths::percent_decode(path)?;
    let repo_path = normalize(&join(ctx.page_dir, &decoded))?;
    let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();

    // A Markdown page, or a directory (`guide/`) that is a page.
    let page_id = paths::page_id_for_path(ctx.site, &repo_path).or_else(|| {
        let rel = if repo_path == ctx.site.docs_dir {
            Some("")
        } else {
            paths::strip_dir(&repo_path, &ctx.site.docs_dir)
        };
        rel.filter(|id| !paths::is_markdown(id) && ctx.site.has_page(id))
            .map(str::to_string)
    });
    if let Some(id) = page_id {
        return Some(Cow::Owned(format!(
            "{}{fragment}",
            paths::page_url(ctx.page_base, &id)
        )));
    }
    if repo_path.is_empty() {
        return None;
    }
    Some(Cow::Owned(format!(
        "{}{fragment}",
        paths::asset_url(ctx.asset_base, &repo_path)
    )))
}

/// Sanitizes rendered HTML with ammonia, resolving relative links.
fn sanitize(html: &str, page_dir: &str, site: &DocSite, links: &LinkContext) -> String {
    let resolver = LinkResolver {
        page_dir,
        site,
        page_base: links.page_base,
        asset_base: links.asset_base,
    };
    sanitizer(ammonia::UrlRelative::Custom(Box::new(resolver)))
        .clean(html)
        .to_string()
}

/// Markdown from outside any docs site (a scaffolder task's `output.text`) as sanitized HTML,
/// the same Markdown and allow-list as docs pages: fragments and site-absolute links (`/catalog/…`)
/// are kept, other relative links dropped.
pub fn render_snippet(markdown: &str) -> String {
    let mut renderer = Renderer::default();
    for event in Parser::new_ext(markdown, markdown_options()) {
        renderer.event(event);
    }
    let events = renderer.finish();
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitizer(ammonia::UrlRelative::Custom(Box::new(keep_site_links)))
        .clean(&html)
        .to_string()
}

/// Keeps fragments and site-absolute links; drops other relative ones.
fn keep_site_links(url: &str) -> Option<Cow<'_, str>> {
    let url = url.trim();
    (url.starts_with('#') || url.starts_with('/')).then_some(Cow::Borrowed(url))
}

/// The allow-list every rendered page goes through.
fn sanitizer(url_relative: ammonia::UrlRelative<'_>) -> ammonia::Builder<'_> {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input", "section"])
        .add_tag_attributes("a", ["class", "aria-hidden"])
        .add_tag_attributes("span", ["class"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("pre", ["class"])
        .add_tag_attributes("div", ["class", "id"])
        .add_tag_attributes("blockquote", ["class"])
        .add_tag_attributes("section", ["class"])
        .add_tag_attributes("sup", ["class", "id"])
        .add_tag_attributes("li", ["id"])
        .add_tag_attributes("img", ["title"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .url_relative(url_relative)
        .attribute_filter(filter_attribute);
    for level in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        builder.add_tag_attributes(level, ["id"]);
    }
    builder
}

/// Attribute rewriting on top of ammonia's allow-list.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        // Only read-only checkboxes (task lists) are meant to be here.
        ("input", "type") => Some(Cow::Borrowed("checkbox")),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Plain text of a markdown document (for full-text search): headings, text,
/// code and table cells, without markup. Raw HTML contributes its text.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut in_metadata = false;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            _ if in_metadata => {}
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::Html(html) | Event::InlineHtml(html) => push_html_text(&mut out, &html),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_)
                | TagEnd::FootnoteDefinition
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition,
            )
            | Event::Rule => out.push('\n'),
            _ => {}
        }
    }
    // Trim lines and collapse blank ones.
    let mut text = String::with_capacity(out.len());
    for line in out.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
    }
    text
}

/// Appends the text of an HTML fragment (tags removed).
fn push_html_text(out: &mut String, html: &str) {
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
}
