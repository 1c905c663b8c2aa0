//! The signals and alerts through the full router, on SQLite and PostgreSQL, against a real
//! Prometheus sending to a real Alertmanager (`.ci/start-prom.sh`, `.ci/start-am.sh`):
//! `GET /api/observability/entities/{namespace}/{kind}/{name}/signals` (its numbers, series,
//! alerts, stale reasons and errors), the entity page's alerts, and the catalog table's count,
//! before and after a silence made through Alertmanager's API.

use super::config::PrometheusSettings;
use super::real_tests::{eventually, exporter, Alertmanager, Prometheus, RULES};
use super::PromService;
use crate::both_databases;
use crate::storage::testing::TestDb;
use crate::test_support::Harness;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

const CATALOG: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  title: Web Shop\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: quiet\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n";

async fn seeded(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("catalog-info.yaml", CATALOG);
    h.register_file(&path).await;
    h
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get_json(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let (status, text) = get(router, uri).await;
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{uri}: not JSON: {text}"));
    (status, json)
}

/// The `<tr>` of `name` in the catalog table.
fn row<'a>(page: &'a str, name: &str) -> &'a str {
    let at = page
        .find(&format!("href=\"/catalog/default/component/{name}\""))
        .unwrap_or_else(|| panic!("no row for {name}: {page}"));
    let start = page[..at].rfind("<tr").expect("row start");
    let end = at + page[at..].find("</tr>").expect("row end");
    &page[start..end]
}

const SIGNALS: &str = "/api/observability/entities/default/component/web/signals";

both_databases!(
    the_api_the_entity_page_and_the_catalog_show_alertmanager_s_alerts,
    setup = seeded,
    |h| {
        // Not configured: the answer says so, and the catalog has no alerts column.
        let router = crate::http::router(h.state());
        let (s, b) = get_json(&router, SIGNALS).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            b,
            serde_json::json!({
                "entity": {"kind": "Component", "namespace": "default", "name": "web"},
                "configured": false, "range": "1h", "places": [], "alerts": []
            })
        );
        let (_, page) = get(&router, "/catalog?kind=component").await;
        assert!(page.contains("catalog-table"), "{page}");
        assert!(!page.contains(">Alerts</th>"), "{page}");

        let target = exporter().await;
        let am = Alertmanager::start();
        let prom = Prometheus::start_sending(&[format!("web={target}")], RULES, Some(&am));
        let settings: PrometheusSettings = yaml_serde::from_str(&format!(
            "servers: [{{name: test, url: '{}', timeout_seconds: 2}}]\nmin_step_seconds: 1\nalertmanager: {{name: am, url: '{}', timeout_seconds: 2}}\nsignals: {{request-rate: 'sum(rate(http_requests_total{{job=\"{{{{ entity.name }}}}\"}}[5s]))'}}\n",
            prom.url(),
            am.url()
        ))
        .expect("settings");
        let mut state = h.state();
        state.prometheus = Arc::new(PromService::new(&settings, &|_| None).expect("service"));
        let prometheus = state.prometheus.clone();
        let (facade, kube) = (state.facade(), state.kube.clone());
        let router = crate::http::router(state);

        // The signals with their series, and the alert the rule fires, read from Alertmanager.
        let b = eventually(90, "the signals and the alert", || async {
            let (s, b) = get_json(&router, SIGNALS).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let rate = b["places"][0]["signals"][0]["value"].as_f64();
            let alerts = b["alerts"].as_array().map_or(0, Vec::len);
            (rate.is_some_and(|r| (r - 11.0).abs() < 2.0) && alerts == 1).then_some(b)
        })
        .await;
        assert_eq!(b["configured"], true);
        assert_eq!(b["range"], "1h");
        let place = &b["places"][0];
        assert_eq!(place["place"], "");
        assert_eq!(place["server"], "test");
        assert!(place.get("cluster").is_none(), "{place}");
        for signal in place["signals"].as_array().expect("signals") {
            // The series is what the value, lowest and highest are of; no sparkline path.
            let points = signal["points"].as_array().expect("points");
            assert!(!points.is_empty(), "{signal}");
            let values: Vec<f64> = points.iter().map(|p| p[1].as_f64().expect("v")).collect();
            assert_eq!(signal["value"].as_f64(), values.last().copied(), "{signal}");
            let low = values.iter().copied().fold(f64::INFINITY, f64::min);
            assert_eq!(signal["low"].as_f64(), Some(low), "{signal}");
            assert!(points
                .windows(2)
                .all(|w| w[0][0].as_f64() < w[1][0].as_f64()));
            assert!(signal.get("spark").is_none() && signal.get("stale").is_none());
        }
        let alert = &b["alerts"][0];
        assert_eq!(alert["name"], "WebErrors");
        assert_eq!(alert["state"], "firing");
        assert_eq!(alert["server"], "am");
        assert_eq!(alert["severity"], "page");
        assert_eq!(alert["summary"], "web answers 5xx");
        assert!(b.get("alerts_stale").is_none(), "{b}");
        // Matched by labels: not another entity's.
        let (_, quiet) = get_json(
            &router,
            "/api/observability/entities/default/component/quiet/signals?range=6h",
        )
        .await;
        assert_eq!(quiet["range"], "6h");
        assert_eq!(quiet["alerts"], serde_json::json!([]));

        // The entity page lists it firing; the catalog counts it on web's row, linking there.
        let (_, page) = get(&router, "/catalog/default/component/web").await;
        assert!(page.contains("id=\"alerts\""), "{page}");
        assert!(
            page.contains("data-alert=\"WebErrors\"") && page.contains("data-state=\"firing\""),
            "{page}"
        );
        prometheus
            .alert_counts
            .refresh(&prometheus, &facade, &kube)
            .await;
        let (_, page) = get(&router, "/catalog?kind=component").await;
        assert!(page.contains(">Alerts</th>"), "{page}");
        let web = row(&page, "web");
        assert!(web.contains("data-alerts=\"1\""), "{web}");
        assert!(
            web.contains("href=\"/catalog/default/component/web#alerts\""),
            "{web}"
        );
        assert!(row(&page, "quiet").contains("data-alerts=\"0\""), "{page}");

        // Silenced in Alertmanager: listed as silenced, counted nowhere.
        am.silence("WebErrors");
        eventually(30, "the silence", || async {
            let (_, b) = get_json(&router, SIGNALS).await;
            (b["alerts"][0]["state"] == "silenced").then_some(())
        })
        .await;
        let (_, page) = get(&router, "/catalog/default/component/web").await;
        assert!(page.contains("data-state=\"silenced\""), "{page}");
        assert!(page.contains("0 firing, 1 silenced or inhibited"), "{page}");
        prometheus
            .alert_counts
            .refresh(&prometheus, &facade, &kube)
            .await;
        let (_, page) = get(&router, "/catalog?kind=component").await;
        assert!(row(&page, "web").contains("data-alerts=\"0\""), "{page}");

        // Errors in the API's envelope.
        let (s, b) = get_json(&router, &format!("{SIGNALS}?range=2h")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["error"]["name"], "InputError");
        assert_eq!(
            b["error"]["message"],
            "range: expected one of 1h, 6h, 24h, 7d, got \"2h\""
        );
        let (s, _) = get_json(&router, &format!("{SIGNALS}?range=1h&range=6h")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, b) = get_json(
            &router,
            "/api/observability/entities/default/component/nope/signals",
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        assert_eq!(b["error"]["name"], "NotFoundError");

        // Alertmanager stopped: the last alerts, with since when and why.
        am.stop();
        let b = eventually(30, "the stale alerts", || async {
            let (_, b) = get_json(&router, SIGNALS).await;
            b.get("alerts_stale").is_some().then_some(b)
        })
        .await;
        let reason = b["alerts_stale"]["reason"].as_str().expect("reason");
        assert!(reason.starts_with("unreachable: "), "{reason}");
        let since = b["alerts_stale"]["since"].as_str().expect("since");
        assert!(since.len() == 8 && since.as_bytes()[2] == b':', "{since}");
        assert_eq!(b["alerts"][0]["state"], "silenced");
        drop(prom);
    }
);
