use std::collections::HashMap;

use super::*;

/// A repository in memory.
struct MemSource(HashMap<String, Vec<u8>>);

impl MemSource {
    fn new(files: &[(&str, &str)]) -> Self {
        MemSource(
            files
                .iter()
                .map(|(path, content)| (path.to_string(), content.as_bytes().to_vec()))
                .collect(),
        )
    }
}

impl DocSource for MemSource {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path).cloned()
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut out: Vec<String> = self
            .0
            .keys()
            .filter(|path| path.starts_with(&prefix))
            .cloned()
            .collect();
        out.sort();
        out
    }
}

const LINKS: LinkContext<'static> = LinkContext {
    page_base: "/catalog/default/component/web/docs",
    asset_base: "/docs-assets/default/component/web",
};

fn page(title: &str, id: &str) -> NavItem {
    NavItem {
        title: title.to_string(),
        page: Some(id.to_string()),
        children: Vec::new(),
    }
}

fn section(title: &str, children: Vec<NavItem>) -> NavItem {
    NavItem {
        title: title.to_string(),
        page: None,
        children,
    }
}

/// A site with `docs/` as docs_dir and the given pages (for rendering tests).
fn site(pages: &[&str]) -> DocSite {
    DocSite {
        site_name: "Web".to_string(),
        docs_dir: "docs".to_string(),
        nav: Vec::new(),
        pages: pages.iter().map(|p| p.to_string()).collect(),
    }
}

fn render(markdown: &str) -> RenderedPage {
    render_markdown(
        markdown,
        "docs/index.md",
        &site(&["", "guide", "guide/setup"]),
        &LINKS,
    )
}

#[test]
fn mkdocs_nested_nav_site_name_and_docs_dir() {
    let src = MemSource::new(&[
        (
            "svc/mkdocs.yml",
            "site_name: Web Service\ndocs_dir: documentation\nnav:\n  - Home: index.md\n  - guide/setup.md\n  - Guides:\n      - Overview: guide/index.md\n      - More:\n          - Deep: guide/deep/dive.md\n  - Source: https://github.com/acme/web\n  - Missing: nope.md\n",
        ),
        ("svc/documentation/index.md", "# Welcome\n"),
        ("svc/documentation/guide/index.md", "# Guide\n"),
        ("svc/documentation/guide/setup.md", "Intro\n\n# Setting up\n"),
        ("svc/documentation/guide/deep/dive.md", "# Dive\n"),
        ("svc/documentation/.hidden/x.md", "# Hidden\n"),
        ("svc/README.md", "# Not docs\n"),
    ]);
    let site = load_site(&src, "svc", "web").unwrap();
    assert_eq!(site.site_name, "Web Service");
    assert_eq!(site.docs_dir, "svc/documentation");
    assert_eq!(
        site.pages,
        vec!["", "guide/deep/dive", "guide", "guide/setup"]
    );
    assert_eq!(
        site.nav,
        vec![
            page("Home", ""),
            page("Setting up", "guide/setup"),
            section(
                "Guides",
                vec![
                    page("Overview", "guide"),
                    section("More", vec![page("Deep", "guide/deep/dive")]),
                ]
            ),
            page("Source", "https://github.com/acme/web"),
        ]
    );
    assert!(site.nav[3].is_external());
    assert!(!site.nav[0].is_external());

    // `./svc/` is the same directory.
    assert_eq!(load_site(&src, "./svc/", "web").unwrap(), site);
}

#[test]
fn mkdocs_custom_tags_and_unknown_keys_are_tolerated() {
    let mkdocs = r#"
site_name: Tagged
theme:
  name: material
  features: [navigation.tabs]
plugins:
  - search
  - techdocs-core
markdown_extensions:
  - admonition
  - pymdownx.emoji:
      emoji_index: !!python/name:materialx.emoji.twemoji
      emoji_generator: !!python/name:materialx.emoji.to_svg
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
  - toc:
      slugify: !!python/object/apply:pymdownx.slugs.slugify {kwds: {case: lower}}
extra:
  home: !ENV [HOME, "/root"]
  base: !relative $config_dir
"#;
    let src = MemSource::new(&[("mkdocs.yml", mkdocs), ("docs/index.md", "# Start\n")]);
    let site = load_site(&src, "", "fallback").unwrap();
    assert_eq!(site.site_name, "Tagged");
    assert_eq!(site.docs_dir, "docs");
    assert_eq!(site.nav, vec![page("Start", "")]);
}

#[test]
fn strip_custom_tags_removes_tags_outside_quotes() {
    let text = "a: !!python/name:x.y\nb: [!ENV X, '!keep']\nc: \"!keep\" # !comment\n";
    assert_eq!(
        site::strip_custom_tags(text),
        "a: \nb: [ X, '!keep']\nc: \"!keep\" # !comment\n"
    );
}

#[test]
fn invalid_mkdocs_names_the_file_and_problem() {
    let src = MemSource::new(&[
        ("mkdocs.yml", "site_name: [unclosed\nnav: x\n"),
        ("docs/index.md", "# Hi\n"),
    ]);
    match load_site(&src, "", "x") {
        Err(DocsError::InvalidMkdocs { path, message }) => {
            assert_eq!(path, "mkdocs.yml");
            assert!(!message.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }

    let src = MemSource::new(&[
        ("mkdocs.yml", "nav: index.md\n"),
        ("docs/index.md", "# Hi\n"),
    ]);
    let err = load_site(&src, "", "x").unwrap_err();
    assert!(err.to_string().contains("nav must be a list"), "{err}");

    let src = MemSource::new(&[("a/mkdocs.yml", "docs_dir: ../../x\n")]);
    let err = load_site(&src, "a", "x").unwrap_err();
    assert!(
        matches!(&err, DocsError::InvalidMkdocs { path, .. } if path == "a/mkdocs.yml"),
        "{err}"
    );

    // An mkdocs.yml without Markdown files.
    let src = MemSource::new(&[("mkdocs.yaml", "site_name: Empty\n")]);
    assert!(matches!(
        load_site(&src, "", "x"),
        Err(DocsError::NoDocs(_))
    ));
}

#[test]
fn fallback_to_docs_directory_with_auto_nav() {
    let src = MemSource::new(&[
        ("services/api/docs/index.md", "# API docs\n"),
        ("services/api/docs/zeta.md", "no heading here\n"),
        ("services/api/docs/alpha.md", "# Alpha\n"),
        ("services/api/docs/how-to/README.md", "# How-tos\n"),
        ("services/api/docs/how-to/deploy_it.md", "text\n"),
        ("services/api/docs/ref/index.md", "# Reference\n"),
        ("services/api/docs/ref/README.md", "# Readme page\n"),
        ("services/api/docs/logo.png", "png"),
        ("services/api/README.md", "# Readme\n"),
    ]);
    let site = load_site(&src, "services/api", "api").unwrap();
    assert_eq!(site.site_name, "api");
    assert_eq!(site.docs_dir, "services/api/docs");
    assert_eq!(
        site.pages,
        vec![
            "",
            "alpha",
            "how-to",
            "how-to/deploy_it",
            "ref/README",
            "ref",
            "zeta"
        ]
    );
    assert_eq!(
        site.nav,
        vec![
            page("API docs", ""),
            page("Alpha", "alpha"),
            page("Zeta", "zeta"),
            section(
                "How to",
                vec![
                    page("How-tos", "how-to"),
                    page("Deploy it", "how-to/deploy_it")
                ]
            ),
            section(
                "Ref",
                vec![page("Reference", "ref"), page("Readme page", "ref/README")]
            ),
        ]
    );

    let rendered = render_page(&src, &site, "ref/README", &LINKS).unwrap();
    assert_eq!(rendered.title, "Readme page");
    let rendered = render_page(&src, &site, "how-to", &LINKS).unwrap();
    assert_eq!(rendered.title, "How-tos");
    let rendered = render_page(&src, &site, "zeta", &LINKS).unwrap();
    assert_eq!(rendered.title, "zeta");
}

#[test]
fn fallback_to_readme_and_no_docs() {
    let src = MemSource::new(&[
        (
            "lib/README.md",
            "# The library\n\nSee [changes](CHANGELOG.md).\n",
        ),
        ("lib/CHANGELOG.md", "# Changes\n"),
    ]);
    let site = load_site(&src, "lib", "lib").unwrap();
    assert_eq!(site.docs_dir, "lib");
    assert_eq!(site.pages, vec![""]);
    assert_eq!(site.nav, vec![page("The library", "")]);
    let rendered = render_page(&src, &site, "", &LINKS).unwrap();
    assert_eq!(rendered.title, "The library");
    // Markdown outside the site is linked as a raw file.
    assert!(
        rendered
            .html
            .contains("href=\"/docs-assets/default/component/web/lib/CHANGELOG.md\""),
        "{}",
        rendered.html
    );
    assert!(matches!(
        render_page(&src, &site, "CHANGELOG", &LINKS),
        Err(DocsError::PageNotFound(_))
    ));

    let src = MemSource::new(&[("other/file.txt", "x")]);
    match load_site(&src, "", "x") {
        Err(DocsError::NoDocs(message)) => {
            assert!(message.contains("mkdocs.yml"), "{message}");
            assert!(message.contains("README.md"), "{message}");
            assert!(message.contains("docs/"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        load_site(&src, "../..", "x"),
        Err(DocsError::InvalidRef { .. })
    ));
}

#[test]
fn relative_links_resolve_to_pages_and_assets() {
    let site = site(&["", "guide", "guide/setup", "ref/api"]);
    let markdown = "\
[setup](setup.md#install) [home](../index.md) [api](../ref/api.md)
[self](#local) [guide dir](./) [ext](https://example.com/x) [mail](mailto:a@b.c)
[portal](/catalog/default/api/pets) [file](../../src/main.rs) [spaced](my%20file.pdf)
![diagram](img/arch.png \"Arch\") <img src=\"../logo.svg\" alt=\"logo\">
<a href=\"setup.md\">raw</a>
";
    let html = render_markdown(markdown, "docs/guide/index.md", &site, &LINKS).html;
    for expected in [
        "href=\"/catalog/default/component/web/docs/guide/setup#install\"",
        "href=\"/catalog/default/component/web/docs\"",
        "href=\"/catalog/default/component/web/docs/ref/api\"",
        "href=\"#local\"",
        "href=\"/catalog/default/component/web/docs/guide\"",
        "href=\"https://example.com/x\"",
        "href=\"mailto:a@b.c\"",
        "href=\"/catalog/default/api/pets\"",
        "href=\"/docs-assets/default/component/web/src/main.rs\"",
        "href=\"/docs-assets/default/component/web/docs/guide/my%20file.pdf\"",
        "src=\"/docs-assets/default/component/web/docs/guide/img/arch.png\"",
        "title=\"Arch\"",
        "src=\"/docs-assets/default/component/web/docs/logo.svg\"",
        "<a href=\"/catalog/default/component/web/docs/guide/setup\" rel=\"noopener noreferrer\">raw</a>",
    ] {
        assert!(html.contains(expected), "missing {expected} in {html}");
    }
}

#[test]
fn links_escaping_the_repository_are_neutralised() {
    let html = render_markdown(
        "[escape](../../../etc/passwd) ![img](../../../../x.png) [q](?x=1)",
        "docs/guide/index.md",
        &site(&["", "guide"]),
        &LINKS,
    )
    .html;
    assert!(!html.contains("passwd"), "{html}");
    assert!(!html.contains("x.png"), "{html}");
    assert!(!html.contains("href"), "{html}");
    assert!(html.contains(">escape</a>"), "{html}");
}

#[test]
fn dangerous_html_is_neutralised() {
    let html = render(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n\
         <a href=\"javascript:alert(2)\" onclick=\"alert(3)\">y</a>\n\n<iframe src=\"https://evil\"></iframe>\n\n\
         <style>body{}</style>\n\n<p style=\"color:red\" onmouseover=\"alert(4)\">styled</p>\n\n\
         <input type=\"text\" name=\"q\" value=\"v\">\n\n[z](JaVaScRiPt:alert(5)) [d](data:text/html;base64,AAAA)\n",
    )
    .html;
    let lower = html.to_lowercase();
    for forbidden in [
        "<script",
        "alert",
        "onerror",
        "onclick",
        "onmouseover",
        "javascript:",
        "<iframe",
        "<style",
        "style=",
        "data:",
        "type=\"text\"",
        "name=",
    ] {
        assert!(!lower.contains(forbidden), "found {forbidden} in {html}");
    }
    assert!(
        html.contains("<img src=\"/docs-assets/default/component/web/docs/x\">"),
        "{html}"
    );
    assert!(html.contains("styled"), "{html}");
    assert!(html.contains("<input type=\"checkbox\">"), "{html}");
}

#[test]
fn tables_footnotes_and_task_lists_render() {
    let markdown = "\
| Left | Center | Right |
|:-----|:------:|------:|
| a    | **b**  | c     |

Text with a note[^note] and another[^2] and again[^note].

- [x] done
- [ ] todo

~~gone~~

> [!NOTE]
> Alert

[^note]: The note.
[^2]: Second.
";
    let html = render(markdown).html;
    for expected in [
        "<table>",
        "<th align=\"left\">Left</th>",
        "<th align=\"center\">Center</th>",
        "<td align=\"right\">c</td>",
        "<td align=\"center\"><strong>b</strong></td>",
        "<sup class=\"footnote-reference\" id=\"fnref-1\"><a href=\"#fn-1\" rel=\"noopener noreferrer\">1</a></sup>",
        "<sup class=\"footnote-reference\" id=\"fnref-2\"><a href=\"#fn-2\"",
        "id=\"fnref-1-2\"",
        "<section class=\"footnotes\">",
        "<li id=\"fn-1\">",
        "<li id=\"fn-2\">",
        "The note.",
        "<p>The note. <a class=\"footnote-backref\" href=\"#fnref-1\"",
        "<input type=\"checkbox\" disabled=\"\" checked=\"\">",
        "<input type=\"checkbox\" disabled=\"\">",
        "<del>gone</del>",
        "class=\"markdown-alert-note\"",
    ] {
        assert!(html.contains(expected), "missing {expected} in {html}");
    }
    assert!(!html.contains("style"), "{html}");
    // Footnotes come last, in order.
    let notes = html.find("<section class=\"footnotes\">").unwrap();
    assert!(html.find("done").unwrap() < notes);
    assert!(html.find("fn-1\"").unwrap() < html.find("fn-2\"").unwrap());
}

#[test]
fn code_blocks_are_highlighted() {
    let markdown = "```rust\nfn main() { let x = \"<hi>\"; }\n```\n\n```nosuchlang\n<b>x</b> & y\n```\n\n    indented <code>\n\n```python title=\"x.py\"\nimport os\n```\n";
    let html = render(markdown).html;
    assert!(
        html.contains(
            "<pre class=\"code\"><code class=\"language-rust\"><span class=\"hl-source hl-rust\">"
        ),
        "{html}"
    );
    assert!(html.contains("hl-keyword"), "{html}");
    assert!(html.contains("&lt;hi&gt;"), "{html}");
    assert!(
        html.contains(
            "<pre class=\"code\"><code class=\"language-nosuchlang\">&lt;b&gt;x&lt;/b&gt; &amp; y\n</code></pre>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<pre class=\"code\"><code>indented &lt;code&gt;\n</code></pre>"),
        "{html}"
    );
    assert!(
        html.contains("<code class=\"language-python\"><span class=\"hl-source hl-python\">"),
        "{html}"
    );

    let css = highlight_css();
    assert!(css.contains(".hl-"), "{css}");
    assert!(css.contains("pre.code"), "{css}");
}

#[test]
fn headings_get_unique_ids_anchors_toc_and_title() {
    let markdown = "\
# Page Title

## Intro

## Intro

### Intro!

## Custom {#my-id}

#### Deep `code` heading

# Second top

##### Five
";
    let page = render(markdown);
    assert_eq!(page.title, "Page Title");
    let html = &page.html;
    for expected in [
        "<h1 id=\"page-title\">Page Title <a class=\"anchor\" href=\"#page-title\" aria-hidden=\"true\" rel=\"noopener noreferrer\">#</a></h1>",
        "<h2 id=\"intro\">",
        "<h2 id=\"intro-1\">",
        "<h3 id=\"intro-2\">",
        "href=\"#intro-2\"",
        "<h2 id=\"my-id\">Custom",
        "<h4 id=\"deep-code-heading\">Deep <code>code</code> heading",
        "<h1 id=\"second-top\">",
        "<h5 id=\"five\">",
    ] {
        assert!(html.contains(expected), "missing {expected} in {html}");
    }
    let toc: Vec<(u8, &str, &str)> = page
        .toc
        .iter()
        .map(|e| (e.level, e.id.as_str(), e.title.as_str()))
        .collect();
    assert_eq!(
        toc,
        vec![
            (2, "intro", "Intro"),
            (2, "intro-1", "Intro"),
            (3, "intro-2", "Intro!"),
            (2, "my-id", "Custom"),
            (1, "second-top", "Second top"),
        ]
    );
}

#[test]
fn title_falls_back_to_front_matter_and_page_id() {
    let site = site(&["", "guide/setup"]);
    let page = render_markdown(
        "---\ntitle: From Meta\n---\n\ntext\n",
        "docs/x.md",
        &site,
        &LINKS,
    );
    assert_eq!(page.title, "From Meta");
    assert!(!page.html.contains("title:"), "{}", page.html);
    let page = render_markdown("## Only h2\n", "docs/guide/setup.md", &site, &LINKS);
    assert_eq!(page.title, "guide/setup");
    let page = render_markdown("text\n", "docs/index.md", &site, &LINKS);
    assert_eq!(page.title, "Web");
}

#[test]
fn plain_text_has_no_markup() {
    let markdown = "\
---
title: Meta
---
# Heading *one*

Some **bold** text with `code` and a [link](x.md).

```rust
let x = 1;
```

| a | b |
|---|---|
| c | d |

<div class=\"x\">raw <b>html</b></div>
";
    assert_eq!(
        plain_text(markdown),
        "Heading one\nSome bold text with code and a link.\nlet x = 1;\na b\nc d\nraw  html"
    );
}

#[test]
fn asset_paths_stay_inside_the_repository() {
    let site = site(&[""]);
    assert_eq!(
        asset_path(&site, "docs/img/a.png").as_deref(),
        Some("docs/img/a.png")
    );
    assert_eq!(
        asset_path(&site, "/docs//./a.png").as_deref(),
        Some("docs/a.png")
    );
    assert_eq!(asset_path(&site, "../secret"), None);
    assert_eq!(asset_path(&site, "docs/../../secret"), None);
    assert_eq!(asset_path(&site, "docs/../a.png"), None);
    assert_eq!(asset_path(&site, "docs\\..\\a.png"), None);
    assert_eq!(asset_path(&site, ".git/config"), None);
    assert_eq!(asset_path(&site, ""), None);

    assert_eq!(content_type("a/b.PNG"), "image/png");
    assert_eq!(content_type("x.jpeg"), "image/jpeg");
    assert_eq!(content_type("x.svg"), "image/svg+xml");
    assert_eq!(content_type("x.pdf"), "application/pdf");
    assert_eq!(content_type("x.txt"), "text/plain; charset=utf-8");
    assert_eq!(content_type("x.html"), "application/octet-stream");
    assert_eq!(content_type("x.css"), "application/octet-stream");
    assert_eq!(content_type("Makefile"), "application/octet-stream");
}

#[test]
fn page_limits_and_missing_pages() {
    let big = "a".repeat(MAX_PAGE_BYTES + 1);
    let src = MemSource::new(&[("docs/index.md", "# Hi\n"), ("docs/big.md", big.as_str())]);
    let site = load_site(&src, "", "x").unwrap();
    assert_eq!(site.nav, vec![page("Hi", ""), page("Big", "big")]);
    let err = render_page(&src, &site, "big", &LINKS).unwrap_err();
    assert!(matches!(err, DocsError::PageTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("docs/big.md"), "{err}");
    assert!(matches!(
        render_page(&src, &site, "../mkdocs", &LINKS),
        Err(DocsError::PageNotFound(_))
    ));
    let (path, text) = read_page(&src, &site, "").unwrap();
    assert_eq!((path.as_str(), text.as_str()), ("docs/index.md", "# Hi\n"));
    assert_eq!(page_url(LINKS.page_base, ""), LINKS.page_base);
    assert_eq!(
        page_url(LINKS.page_base, "a b"),
        format!("{}/a%20b", LINKS.page_base)
    );
}
