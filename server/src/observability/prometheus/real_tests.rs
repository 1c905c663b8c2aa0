//! Against a real Prometheus (Debian's package, started by `.ci/start-prom.sh`; install it with
//! `.ci/setup.sh --with-prometheus`) scraping a tiny exporter this test serves, with a rule that
//! fires an alert: the signals and the alert as pages get them, Prometheus stopped (the stale
//! state with its reason, the last good values kept), recovery, and a bad query reported.

use super::config::PrometheusSettings;
use super::PromService;
use crate::observability::links::EntityValues;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.ci")
        .join(name)
}

/// A Prometheus in a temporary directory; stopped on drop.
struct Prometheus {
    dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(targets: &[String], rules: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules_file = dir.path().join("rules.in.yml");
        std::fs::write(&rules_file, rules).expect("rules");
        let out = Command::new("bash")
            .arg(script("start-prom.sh"))
            .arg(dir.path().join("state"))
            .args(targets)
            .env("PROM_RULES", &rules_file)
            .output()
            .expect("run .ci/start-prom.sh");
        assert!(
            out.status.success(),
            "Prometheus did not start (run .ci/setup.sh --with-prometheus first):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Prometheus { dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn url(&self) -> String {
        let port = std::fs::read_to_string(self.state().join("port")).expect("port");
        format!("http://127.0.0.1:{}", port.trim())
    }

    fn stop(&self) {
        let status = Command::new("bash")
            .arg(script("stop-prom.sh"))
            .arg(self.state())
            .status()
            .expect("run .ci/stop-prom.sh");
        assert!(status.success());
    }

    fn start_again(&self) {
        let out = Command::new("bash")
            .arg(script("start-prom.sh"))
            .arg("--again")
            .arg(self.state())
            .output()
            .expect("run .ci/start-prom.sh --again");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("stop-prom.sh"))
            .arg(self.state())
            .status();
    }
}

/// An exporter whose counters grow at each scrape: 10 requests answered 200 and 1 answered 500,
/// every one within 50 ms.
async fn exporter() -> String {
    let scrapes = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let n = scrapes.fetch_add(1, Ordering::Relaxed) + 1;
            async move {
                format!(
                    "# TYPE http_requests_total counter\nhttp_requests_total{{code=\"200\"}} {}\nhttp_requests_total{{code=\"500\"}} {}\n# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{{le=\"0.05\"}} {}\nhttp_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\nhttp_request_duration_seconds_sum {}\nhttp_request_duration_seconds_count {}\n",
                    10 * n,
                    n,
                    11 * n,
                    11 * n,
                    0.3 * n as f64,
                    11 * n
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr.to_string()
}

const RULES: &str = r#"groups:
  - name: web
    rules:
      - alert: WebErrors
        expr: sum by (job) (rate(http_requests_total{code="500"}[5s])) > 0
        labels: {severity: page}
        annotations: {summary: "web answers 5xx"}
"#;

fn web() -> EntityValues {
    EntityValues::of(&json!({
        "kind": "Component",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"type": "service"}
    }))
}

/// Polls `f` every 500 ms until it gives `Some`, for at most `secs`.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_and_alerts_from_a_real_prometheus_go_stale_and_recover() {
    let target = exporter().await;
    let prom = Prometheus::start(&[format!("web={target}")], RULES);
    let settings: PrometheusSettings = yaml_serde::from_str(&format!(
        // The request rate over 5 s rather than the default 5 m: exact within seconds.
        "servers: [{{name: test, url: '{}', timeout_seconds: 2}}]\nmin_step_seconds: 1\nsignals: {{request-rate: 'sum(rate(http_requests_total{{job=\"{{{{ entity.name }}}}\"}}[5s]))'}}\n",
        prom.url()
    ))
    .expect("settings");
    let service = PromService::new(&settings, &|_| None).expect("service");
    let entity = web();
    // A minute at a 1 s step: new answers every second.
    let range = 60;

    let place = eventually(60, "the signals", || async {
        let p = service.place_signals(&entity, None, range, true).await?;
        let all = p.signals.iter().filter(|s| s.value.is_some()).count();
        let rate = p.signals[0].value.unwrap_or(0.0);
        (all == 4 && (rate - 11.0).abs() < 2.0).then_some(p)
    })
    .await;
    assert_eq!(place.server, "test");
    let keys: Vec<&str> = place.signals.iter().map(|s| s.key.as_str()).collect();
    // CPU and memory need a namespace: not for an entity running on no known cluster.
    assert_eq!(
        keys,
        ["request-rate", "error-ratio", "latency-p50", "latency-p99"]
    );
    let value = |key: &str| {
        place
            .signals
            .iter()
            .find(|s| s.key == key)
            .and_then(|s| s.value)
            .expect(key)
    };
    // 11 requests a second, one of them an error, each below 50 ms.
    assert!((value("request-rate") - 11.0).abs() < 2.0, "{place:?}");
    assert!(
        (value("error-ratio") - 1.0 / 11.0).abs() < 0.01,
        "{place:?}"
    );
    assert!(value("latency-p99") <= 0.05, "{place:?}");
    assert!(place
        .signals
        .iter()
        .all(|s| s.stale.is_none() && s.spark.is_some()));

    let (alerts, stale) = eventually(60, "the alert", || async {
        let (alerts, stale) = service.entity_alerts(&entity, &[]).await;
        (!alerts.is_empty()).then_some((alerts, stale))
    })
    .await;
    assert_eq!(stale, None);
    assert_eq!(alerts[0].name, "WebErrors");
    assert_eq!(alerts[0].severity.as_deref(), Some("page"));
    assert_eq!(alerts[0].summary.as_deref(), Some("web answers 5xx"));
    // Another entity's alerts are not these.
    let mut other = web();
    other.name = "api".into();
    assert!(service.entity_alerts(&other, &[]).await.0.is_empty());

    // Prometheus stopped: every signal says since when and why, the last values stay.
    prom.stop();
    let stale_place = eventually(30, "the stale state", || async {
        let p = service.place_signals(&entity, None, range, true).await?;
        p.signals.iter().all(|s| s.stale.is_some()).then_some(p)
    })
    .await;
    for s in &stale_place.signals {
        let st = s.stale.as_ref().expect("stale");
        assert!(st.since.is_some(), "{s:?}");
        assert!(st.reason.starts_with("unreachable: "), "{}", st.reason);
        assert!(s.value.is_some(), "the last good value is kept: {s:?}");
    }
    let (_, alerts_stale) = service.entity_alerts(&entity, &[]).await;
    assert!(alerts_stale.is_some());

    // Back again: fresh answers, no stale marks.
    prom.start_again();
    eventually(60, "recovery", || async {
        let p = service.place_signals(&entity, None, range, true).await?;
        p.signals.iter().all(|s| s.stale.is_none()).then_some(())
    })
    .await;

    // A query Prometheus refuses is shown on its signal and logged once, naming the template.
    let bad: PrometheusSettings = yaml_serde::from_str(&format!(
        "servers: [{{url: '{}'}}]\nmin_step_seconds: 1\nsignals: {{request-rate: 'sum(rate(http_requests_total{{job=\"{{{{ entity.name }}}}\"}}[5m])'}}\n",
        prom.url()
    ))
    .expect("settings");
    let bad = PromService::new(&bad, &|_| None).expect("service");
    let p = bad
        .place_signals(&entity, None, range, true)
        .await
        .expect("signals");
    let rate = p.signals.iter().find(|s| s.key == "request-rate").unwrap();
    let reason = &rate.stale.as_ref().expect("refused").reason;
    assert!(reason.starts_with("bad query: "), "{reason}");
    assert!(bad
        .reported
        .lock()
        .unwrap()
        .contains("observability.prometheus.signals.request-rate"));
}
