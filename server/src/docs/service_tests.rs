use super::*;
use crate::docs::handlers::{router, ASSET_CSP, HIGHLIGHT_CSS_PATH};
use crate::docs::search::{snippet, SNIPPET_CHARS};
use crate::git::testing::GitServer;
use crate::storage::testing::TestDb;
use crate::test_support::{component, Harness};
use axum::body::Body;
use axum::http::Request;
use axum::http::StatusCode;
use axum::Extension;
use serde_json::json;
use tower::ServiceExt;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake";

fn documented(name: &str, title: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  title: {title}\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

async fn get(
    h: &Harness,
    docs: &Arc<DocsService>,
    uri: &str,
) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let app = router()
        .layer(Extension(docs.clone()))
        .with_state(h.state());
    let res = app
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = axum::body::to_bytes(res.into_body(), 1024 * 1024)
        .await
        .expect("body")
        .to_vec();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn docs_from_files_render_index_search_and_serve_assets() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let web = h.write("web/catalog-info.yaml", &documented("web", "Web App"));
    h.write(
        "web/docs/index.md",
        "# Welcome\n\nRead the [guide](guide.md) first.\n\n![logo](img/a.png)\n\n<script>alert(1)</script>\n\n## Details\n\nMore.\n",
    );
    h.write(
        "web/docs/guide.md",
        "# Guide\n\nDeploy with zeppelin rockets on Tuesdays.\n",
    );
    std::fs::create_dir_all(h.root.join("web/docs/img")).expect("mkdir");
    std::fs::write(h.root.join("web/docs/img/a.png"), PNG).expect("png");
    let plain = h.write("plain/catalog-info.yaml", &component("plain", "team-a"));
    h.catalog
        .add_location("file", &web, false)
        .await
        .expect("add web");
    h.catalog
        .add_location("file", &plain, false)
        .await
        .expect("add plain");
    let docs = DocsService::new(h.catalog.clone());

    // The home page.
    let page = docs
        .render_page("Component", "default", "web", "")
        .expect("entity");
    assert_eq!(page.error, None);
    assert_eq!(page.site_name, "Web App");
    assert_eq!(page.title, "Welcome");
    assert_eq!(page.commit, None);
    assert_eq!(page.view_url, None);
    assert!(
        page.html
            .contains("href=\"/catalog/default/component/web/docs/guide\""),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("src=\"/docs-assets/default/component/web/docs/img/a.png\""),
        "{}",
        page.html
    );
    assert!(!page.html.contains("<script"), "{}", page.html);
    assert!(!page.html.contains("alert(1)"), "{}", page.html);
    assert!(
        page.toc.iter().any(|e| e.title == "Details"),
        "{:?}",
        page.toc
    );
    let urls: Vec<(Option<&str>, bool)> = page
        .nav
        .iter()
        .map(|n| (n.url.as_deref(), n.active))
        .collect();
    assert_eq!(
        urls,
        vec![
            (Some("/catalog/default/component/web/docs"), true),
            (Some("/catalog/default/component/web/docs/guide"), false),
        ]
    );

    // Another page, served twice (the second from the cache).
    for _ in 0..2 {
        let guide = docs
            .render_page("component", "default", "web", "guide")
            .expect("entity");
        assert_eq!(guide.error, None);
        assert_eq!(guide.title, "Guide");
        assert!(guide.html.contains("zeppelin rockets"));
        assert!(!guide.nav[0].active && guide.nav[1].active);
    }

    // A missing page, an entity without docs, no entity.
    let missing = docs
        .render_page("component", "default", "web", "nope")
        .expect("entity");
    assert!(
        missing.error.as_deref().unwrap_or("").contains("not found"),
        "{missing:?}"
    );
    assert_eq!(missing.site_name, "Web App");
    let none = docs
        .render_page("component", "default", "plain", "")
        .expect("entity");
    let err = none.error.unwrap_or_default();
    assert!(err.contains("has no docs"), "{err}");
    assert!(err.contains("backstage.io/techdocs-ref: dir:."), "{err}");
    assert_eq!(
        none.entity.map(|e| e.entity_ref.name),
        Some("plain".to_string())
    );
    assert!(docs
        .render_page("component", "default", "ghost", "")
        .is_none());

    // The index lists only entities with docs.
    let index = docs.documented();
    assert_eq!(index.len(), 1, "{index:?}");
    assert_eq!(index[0].entity.entity_ref.name, "web");
    assert_eq!(index[0].site_name, "Web App");
    assert_eq!(index[0].url, "/catalog/default/component/web/docs");

    // Search.
    let hits = docs.search_pages("Zeppelin", 10);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].title, "Guide");
    assert_eq!(hits[0].url, "/catalog/default/component/web/docs/guide");
    assert!(hits[0].snippet.contains("zeppelin"), "{}", hits[0].snippet);
    assert_eq!(hits[0].entity.entity_ref.name, "web");
    assert!(docs.search_pages("zeppelin submarines", 10).is_empty());
    assert!(docs.search_pages("   ", 10).is_empty());
    // Title matches first: "guide" is in the home page's text and the guide's title.
    let hits = docs.search_pages("guide", 10);
    let titles: Vec<&str> = hits.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, vec!["Guide", "Welcome"]);

    // Assets.
    let (status, headers, body) = get(
        &h,
        &docs,
        "/docs-assets/default/component/web/docs/img/a.png",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
    assert_eq!(header(&headers, "content-type"), Some("image/png"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&headers, "content-security-policy"), Some(ASSET_CSP));
    assert_eq!(
        header(&headers, "cache-control"),
        Some("private, max-age=300")
    );
    for uri in [
        "/docs-assets/default/component/web/../plain/catalog-info.yaml",
        "/docs-assets/default/component/web/docs/%2e%2e/%2e%2e/plain/catalog-info.yaml",
        "/docs-assets/default/component/web/docs/img/missing.png",
        "/docs-assets/default/component/plain/catalog-info.yaml",
        "/docs-assets/default/component/ghost/docs/img/a.png",
    ] {
        let (status, _, _) = get(&h, &docs, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
    let (status, headers, body) = get(&h, &docs, HIGHLIGHT_CSS_PATH).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&body).contains(".hl-"));

    h.cleanup().await;
}

#[tokio::test]
async fn docs_reference_other_than_dir_is_an_error() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let descriptor = documented("web", "Web").replace("dir:.", "url:https://example.com/docs");
    let path = h.write("web/catalog-info.yaml", &descriptor);
    h.catalog
        .add_location("file", &path, false)
        .await
        .expect("add");
    let docs = DocsService::new(h.catalog.clone());
    let page = docs
        .render_page("component", "default", "web", "")
        .expect("entity");
    let err = page.error.unwrap_or_default();
    assert!(err.contains("only dir:"), "{err}");
    // Still listed, named after the entity.
    let index = docs.documented();
    assert_eq!(index.len(), 1);
    assert_eq!(index[0].site_name, "Web");

    // No docs at all: the site error, not a panic.
    let path = h.write("empty/catalog-info.yaml", &documented("empty", "Empty"));
    h.catalog
        .add_location("file", &path, false)
        .await
        .expect("add");
    let page = docs
        .render_page("component", "default", "empty", "")
        .expect("entity");
    let err = page.error.unwrap_or_default();
    assert!(err.contains("no documentation found"), "{err}");
    h.cleanup().await;
}

#[test]
fn fs_source_stays_inside_its_root() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret.md"), "secret").expect("write");
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("docs/sub")).expect("mkdir");
    std::fs::write(root.join("docs/index.md"), "# Home").expect("write");
    std::fs::write(root.join("docs/sub/page.md"), "# Page").expect("write");
    std::fs::write(root.join("big.md"), "x".repeat(100)).expect("write");
    std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("docs/leak.md"))
        .expect("symlink");
    std::os::unix::fs::symlink(outside.path(), root.join("docs/out")).expect("symlink");
    std::os::unix::fs::symlink(root.join("docs/index.md"), root.join("docs/alias.md"))
        .expect("symlink");
    let src = crate::files::Folder {
        root: root.clone(),
        max_bytes: 50,
    };
    assert_eq!(src.read("docs/index.md").as_deref(), Some(&b"# Home"[..]));
    assert_eq!(src.read("docs/alias.md").as_deref(), Some(&b"# Home"[..]));
    assert_eq!(src.read("docs/leak.md"), None);
    assert_eq!(src.read("docs/out/secret.md"), None);
    assert_eq!(src.read("docs/../docs/index.md"), None);
    assert_eq!(src.read("/etc/passwd"), None);
    assert_eq!(src.read("big.md"), None);
    assert_eq!(src.read("docs"), None);
    assert_eq!(
        src.list("docs"),
        vec!["docs/alias.md", "docs/index.md", "docs/sub/page.md"]
    );
    assert_eq!(
        src.list(""),
        vec![
            "big.md",
            "docs/alias.md",
            "docs/index.md",
            "docs/sub/page.md"
        ]
    );
    assert!(src.list("..").is_empty());
    assert!(src.list("docs/out").is_empty());
}

#[test]
fn snippets_are_cut_around_the_match() {
    let text = format!("{} needle {}", "word ".repeat(40), "tail ".repeat(40));
    let s = snippet(&text, &text.to_lowercase(), "needle");
    assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
    assert!(s.contains("needle"));
    assert!(s.chars().count() <= SNIPPET_CHARS + 2, "{s}");
    assert!(!s.contains("  "));
    assert_eq!(snippet("Short text", "short text", "text"), "Short text");
    // Lower-casing that changes lengths does not break slicing.
    let text = "İstanbul has a needle";
    assert!(snippet(text, &text.to_lowercase(), "needle").contains("needle"));
}

async fn refresh(h: &Harness, id: &str) {
    let (status, body) = h
        .call(
            "POST",
            &format!("/api/catalog/locations/{id}/refresh"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn docs_from_git_follow_the_commit() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let server = GitServer::start();
    let repo = server.create("web");
    let first = repo.commit(
        &[
            (
                "services/web/catalog-info.yaml",
                Some(&documented("web", "Web App")),
            ),
            (
                "services/web/mkdocs.yml",
                Some(
                    "site_name: Web Docs\ntheme:\n  name: material\nnav:\n  - Home: index.md\n  - Setup:\n      - Install: setup/install.md\n  - Backstage: https://backstage.io\n",
                ),
            ),
            (
                "services/web/docs/index.md",
                Some("# Home\n\nFirst version.\n"),
            ),
            (
                "services/web/docs/setup/install.md",
                Some("# Install\n\nRun the installer.\n"),
            ),
        ],
        "first",
    );
    let (status, out) = h
        .call(
            "POST",
            "/api/catalog/locations",
            Some(json!({"type": "git", "target": server.url("web")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let id = out["location"]["id"].as_str().expect("id").to_string();
    let docs = DocsService::new(h.catalog.clone());

    let page = docs
        .render_page("component", "default", "web", "")
        .expect("entity");
    assert_eq!(page.error, None, "{page:?}");
    assert_eq!(page.site_name, "Web Docs");
    assert!(page.html.contains("First version"), "{}", page.html);
    assert_eq!(page.commit.as_deref(), Some(first.as_str()));
    // git:// has no web pages.
    assert_eq!(page.view_url, None);
    assert_eq!(page.edit_url, None);
    let titles: Vec<&str> = page.nav.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, vec!["Home", "Setup", "Backstage"]);
    assert_eq!(page.nav[1].url, None);
    assert_eq!(
        page.nav[1].children[0].url.as_deref(),
        Some("/catalog/default/component/web/docs/setup/install")
    );
    assert_eq!(page.nav[2].url.as_deref(), Some("https://backstage.io"));

    let install = docs
        .render_page("component", "default", "web", "setup/install")
        .expect("entity");
    assert_eq!(install.error, None);
    assert!(install.html.contains("Run the installer"));
    assert!(install.nav[1].active && install.nav[1].children[0].active);
    assert!(!install.nav[0].active);

    let hits = docs.search_pages("installer", 5);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].title, "Install");

    // A new commit shows once the location has read it.
    let second = repo.commit(
        &[(
            "services/web/docs/index.md",
            Some("# Home\n\nSecond version.\n"),
        )],
        "second",
    );
    let page = docs
        .render_page("component", "default", "web", "")
        .expect("entity");
    assert!(page.html.contains("First version"));
    refresh(&h, &id).await;
    let page = docs
        .render_page("component", "default", "web", "")
        .expect("entity");
    assert_eq!(page.error, None, "{page:?}");
    assert!(page.html.contains("Second version"), "{}", page.html);
    assert_eq!(page.commit.as_deref(), Some(second.as_str()));
    let hits = docs.search_pages("second version", 5);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(docs.search_pages("first version", 5).is_empty());

    // A broken mkdocs.yml is an error on the page.
    repo.commit(
        &[("services/web/mkdocs.yml", Some("nav: [oops\n"))],
        "broken",
    );
    refresh(&h, &id).await;
    let page = docs
        .render_page("component", "default", "web", "")
        .expect("entity");
    let err = page.error.unwrap_or_default();
    assert!(err.contains("mkdocs.yml"), "{err}");

    h.cleanup().await;
}

#[tokio::test]
async fn the_demo_organisation_has_docs() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let root = crate::demo::install(&h.root).expect("demo");
    h.catalog
        .add_location("file", &root.to_string_lossy(), false)
        .await
        .expect("demo location");
    let docs = DocsService::new(h.catalog.clone());
    let page = docs
        .render_page("component", "default", "catalog-service", "")
        .expect("entity");
    assert_eq!(page.error, None);
    assert_eq!(page.site_name, "Catalog Service");
    let titles: Vec<&str> = page.nav.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["Overview", "Architecture", "Operations", "Source"]);
    assert!(page.html.contains("<table"), "{}", page.html);
    let page = docs
        .render_page("component", "default", "catalog-service", "architecture")
        .expect("entity");
    assert!(
        page.html
            .contains("/docs-assets/default/component/catalog-service/docs/catalog-service/docs/img/architecture.svg"),
        "{}",
        page.html
    );
    let readme = docs
        .render_page("component", "default", "checkout-service", "")
        .expect("entity");
    assert_eq!(readme.error, None);
    assert_eq!(readme.title, "Checkout Service");
    let index: Vec<String> = docs.documented().into_iter().map(|e| e.site_name).collect();
    assert_eq!(index, ["Catalog Service", "Checkout Service"]);
    h.cleanup().await;
}
