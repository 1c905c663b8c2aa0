//! The router's answers as a browser sees them: content-addressed files, compression,
//! revalidated pages, the forms' redirects and the search box's fragments.

use crate::both_databases;
use crate::storage::testing::TestDb;
use crate::test_support::{component, group, Harness};
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use tower::ServiceExt;

/// A site root with the three browser files (the wasm large enough to be worth compressing),
/// and `.br`/`.gz` beside the script as the build writes them.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("backlot.js"),
        "export default async function init() {}\n",
    )
    .unwrap();
    std::fs::write(pkg.join("backlot.js.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("backlot.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("backlot_bg.wasm"), vec![0u8; 64 * 1024]).unwrap();
    std::fs::write(pkg.join("backlot.css"), "body { margin: 0 }\n").unwrap();
    dir
}

async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

fn router_with_site(h: &Harness, site: &std::path::Path) -> axum::Router {
    let mut state = h.state();
    std::sync::Arc::make_mut(&mut state.leptos).site_root =
        site.to_string_lossy().into_owned().into();
    crate::http::router(state)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// The versioned URL of `file` as the page links it.
fn linked(page: &str, file: &str) -> String {
    let end = page
        .find(&format!("/{file}\""))
        .expect("page links the file")
        + file.len()
        + 1;
    let start = page[..end].rfind("\"/pkg/").expect("a /pkg/ URL") + 1;
    page[start..end].to_string()
}

#[tokio::test]
async fn files_are_content_addressed_and_pages_revalidate() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let site = site();
    let router = router_with_site(&h, site.path());

    let (status, headers, page) = send(&router, "GET", "/catalog", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).unwrap();
    for file in ["backlot.js", "backlot_bg.wasm", "backlot.css"] {
        let url = linked(&page, file);
        assert!(
            url.len() > "/pkg//".len() + file.len(),
            "{url} carries a version"
        );
        let (s, hd, body) = send(&router, "GET", &url, &[], "").await;
        assert_eq!(s, StatusCode::OK, "{url}");
        assert_eq!(
            header(&hd, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(!body.is_empty());
    }
    // The browser gets the precompressed file it accepts.
    let script = linked(&page, "backlot.js");
    let (_, hd, body) = send(
        &router,
        "GET",
        &script,
        &[("accept-encoding", "gzip, br")],
        "",
    )
    .await;
    assert_eq!(header(&hd, "content-encoding"), "br");
    assert_eq!(body, b"brotli bytes");
    let (_, hd, body) = send(&router, "GET", &script, &[("accept-encoding", "gzip")], "").await;
    assert_eq!(header(&hd, "content-encoding"), "gzip");
    assert_eq!(body, b"gzip bytes");
    // Another build's version is not this build's file.
    let (s, hd, _) = send(&router, "GET", "/pkg/0123456789ab/backlot.js", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(header(&hd, "cache-control"), "no-store");
    // The plain name answers, to be revalidated.
    let (s, hd, _) = send(&router, "GET", "/pkg/backlot.css", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&hd, "cache-control"), "no-cache");

    // A page: ETag and no-cache; asked again with it, 304 and nothing else.
    assert_eq!(header(&headers, "cache-control"), "private, no-cache");
    let etag = header(&headers, "etag").to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let (s, again, body) = send(&router, "GET", "/catalog", &[("if-none-match", &etag)], "").await;
    assert_eq!(
        s,
        StatusCode::NOT_MODIFIED,
        "the same page renders the same bytes"
    );
    assert!(body.is_empty());
    assert_eq!(header(&again, "etag"), etag);

    // A change to the catalog changes the page, and so its tag.
    let path = h.write("catalog-info.yaml", &group("team-new"));
    h.register_file(&path).await;
    let (s, changed, _) = send(&router, "GET", "/catalog", &[("if-none-match", &etag)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(header(&changed, "etag"), etag);

    // A new build changes the URL of what changed, and nothing else.
    std::fs::write(
        site.path().join("pkg/backlot.css"),
        "body { margin: 1px }\n",
    )
    .unwrap();
    let rebuilt = router_with_site(&h, site.path());
    let (_, _, next) = send(&rebuilt, "GET", "/catalog", &[], "").await;
    let next = String::from_utf8(next).unwrap();
    assert_ne!(linked(&next, "backlot.css"), linked(&page, "backlot.css"));
    assert_eq!(linked(&next, "backlot.js"), linked(&page, "backlot.js"));
    assert_eq!(
        linked(&next, "backlot_bg.wasm"),
        linked(&page, "backlot_bg.wasm")
    );
    h.cleanup().await;
}

#[tokio::test]
async fn large_answers_are_compressed_small_ones_and_streams_are_not() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let docs: Vec<String> = (0..60)
        .map(|i| component(&format!("svc-{i:02}"), "team-a"))
        .chain([group("team-a")])
        .collect();
    let path = h.write("catalog-info.yaml", &docs.join("---\n"));
    h.register_file(&path).await;
    let site = site();
    let router = router_with_site(&h, site.path());
    let accept = [("accept-encoding", "br, gzip")];

    for uri in ["/catalog", "/api/catalog/entities"] {
        let (s, hd, body) = send(&router, "GET", uri, &accept, "").await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert_eq!(header(&hd, "content-encoding"), "br", "{uri}");
        let plain = send(&router, "GET", uri, &[], "").await.2;
        assert!(
            plain.len() > 8 * 1024 && body.len() * 3 < plain.len(),
            "{uri}: {} of {}",
            body.len(),
            plain.len()
        );
    }
    // One entity is a small answer: not worth it.
    let (_, hd, _) = send(
        &router,
        "GET",
        "/api/catalog/entities/by-name/group/default/team-a",
        &accept,
        "",
    )
    .await;
    assert_eq!(header(&hd, "content-encoding"), "");
    // Event streams go out as they are.
    let mut req = Request::builder()
        .uri("/api/kubernetes/clusters/stream")
        .header("accept-encoding", "br, gzip")
        .body(Body::empty())
        .unwrap();
    req.headers_mut()
        .insert(header::ACCEPT, "text/event-stream".parse().unwrap());
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(res.headers(), "content-type"), "text/event-stream");
    assert_eq!(header(res.headers(), "content-encoding"), "");
    drop(res);
    h.cleanup().await;
}

async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let docs = [
        group("team-a"),
        component("checkout", "team-a"),
        component("payments", "team-a"),
    ];
    let path = h.write("catalog-info.yaml", &docs.join("---\n"));
    h.register_file(&path).await;
    h
}

both_databases!(
    the_locations_forms_post_and_come_back,
    setup = seeded,
    |h| {
        let router = crate::http::router(h.state());
        let form = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "portal"),
        ];
        let path = h.write("more/catalog-info.yaml", &component("ledger", "team-a"));
        let body = format!(
            "location_type=file&target={}&branch=&path=",
            app::query::encode_component(&path)
        );

        // Register: 303 back to the page, which shows what it imported.
        let (s, hd, _) = send(&router, "POST", "/locations/register", &form, &body).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let back = header(&hd, "location").to_string();
        assert!(
            back.starts_with("/locations?location_type=file&target=")
                && back.ends_with("&registered=1"),
            "{back}"
        );
        let (_, _, page) = send(&router, "GET", &back, &[], "").await;
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("Registered: 1 entity imported."), "{page}");
        assert!(page.contains("/catalog/default/component/ledger"));
        let (s, _) = h
            .call(
                "GET",
                "/api/catalog/entities/by-name/component/default/ledger",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        // A bad target: back with the fields filled in and the reason.
        let (s, hd, _) = send(
            &router,
            "POST",
            "/locations/register",
            &form,
            "location_type=git&target=not-a-url",
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let back = header(&hd, "location").to_string();
        assert!(
            back.contains("target=not-a-url") && back.contains("&error="),
            "{back}"
        );
        let (_, _, page) = send(&router, "GET", &back, &[], "").await;
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.contains("value=\"not-a-url\""),
            "the form keeps what was typed"
        );
        assert!(
            page.contains("role=\"alert\"") || page.contains("class=\"error"),
            "the reason shows"
        );

        // Refresh now: back to the page, which says how it went.
        let v = h.state().facade();
        let id = v
            .read(&app::model::Caller::guest())
            .locations()
            .find(|l| l.target == path)
            .map(|l| l.id.clone())
            .expect("registered location");
        let (s, hd, _) = send(
            &router,
            "POST",
            "/locations/refresh",
            &form,
            &format!("id={id}"),
        )
        .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let back = header(&hd, "location").to_string();
        let (_, _, page) = send(&router, "GET", &back, &[], "").await;
        assert!(String::from_utf8(page)
            .unwrap()
            .contains("it provides 1 entity"));

        // From another site: refused, nothing registered.
        let other = h.write("other/catalog-info.yaml", &component("intruder", "team-a"));
        let evil = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "portal"),
            ("origin", "https://evil.example"),
        ];
        let body = format!(
            "location_type=file&target={}",
            app::query::encode_component(&other)
        );
        let (s, _, _) = send(&router, "POST", "/locations/register", &evil, &body).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = h
            .call(
                "GET",
                "/api/catalog/entities/by-name/component/default/intruder",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
);

both_databases!(
    the_search_box_gets_its_suggestions_as_html,
    setup = seeded,
    |h| {
        let router = crate::http::router(h.state());
        let (s, hd, body) = send(&router, "GET", "/search/suggest?q=check", &[], "").await;
        assert_eq!(s, StatusCode::OK);
        assert!(header(&hd, "content-type").starts_with("text/html"));
        let html = String::from_utf8(body).unwrap();
        assert_eq!(html.matches("role=\"option\"").count(), 1, "{html}");
        assert!(
            html.contains("id=\"search-option-0\"")
                && html.contains("href=\"/catalog/default/component/checkout\""),
            "{html}"
        );
        let (_, _, body) = send(&router, "GET", "/search/suggest?q=zzzz-nothing", &[], "").await;
        assert!(!String::from_utf8(body).unwrap().contains("role=\"option\""));
        let (s, _, _) = send(&router, "GET", "/search/suggest", &[], "").await;
        assert_eq!(s, StatusCode::OK);
    }
);
