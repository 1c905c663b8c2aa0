//! Against a real Prometheus (Debian's package, started by `.ci/start-prom.sh`; install it with
//! `.ci/setup.sh --with-prometheus`) scraping a tiny exporter this test serves, with a rule that
//! fires an alert: the signals and the alert as pages get them, Prometheus stopped (the stale
//! state with its reason, the last good values kept), recovery, and a bad query reported. And
//! with a real Alertmanager (Debian's `prometheus-alertmanager`, `.ci/start-am.sh`) the rule's
//! Prometheus sends to: the alert read from it, silenced through its API, the count, and the
//! Alertmanager stopped or slow.

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
pub(crate) struct Prometheus {
    dir: tempfile::TempDir,
}

impl Prometheus {
    pub(crate) fn start(targets: &[String], rules: &str) -> Prometheus {
        Prometheus::start_sending(targets, rules, None)
    }

    /// A Prometheus sending its rules' alerts to `alertmanager`.
    pub(crate) fn start_sending(
        targets: &[String],
        rules: &str,
        alertmanager: Option<&Alertmanager>,
    ) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules_file = dir.path().join("rules.in.yml");
        std::fs::write(&rules_file, rules).expect("rules");
        let out = Command::new("bash")
            .arg(script("start-prom.sh"))
            .arg(dir.path().join("state"))
            .args(targets)
            .env("PROM_RULES", &rules_file)
            .env(
                "PROM_ALERTMANAGER",
                alertmanager.map(|a| a.address()).unwrap_or_default(),
            )
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

    pub(crate) fn url(&self) -> String {
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

/// An Alertmanager in a temporary directory (`.ci/start-am.sh`); stopped on drop.
pub(crate) struct Alertmanager {
    dir: tempfile::TempDir,
}

impl Alertmanager {
    pub(crate) fn start() -> Alertmanager {
        let dir = tempfile::tempdir().expect("tempdir");
        let am = Alertmanager { dir };
        am.run(&[]);
        am
    }

    fn run(&self, again: &[&str]) {
        let out = Command::new("bash")
            .arg(script("start-am.sh"))
            .args(again)
            .arg(self.dir.path())
            .output()
            .expect("run .ci/start-am.sh");
        assert!(
            out.status.success(),
            "Alertmanager did not start (run .ci/setup.sh --with-prometheus first):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn address(&self) -> String {
        let port = std::fs::read_to_string(self.dir.path().join("port")).expect("port");
        format!("127.0.0.1:{}", port.trim())
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.address())
    }

    pub(crate) fn stop(&self) {
        let status = Command::new("bash")
            .arg(script("stop-am.sh"))
            .arg(self.dir.path())
            .status()
            .expect("run .ci/stop-am.sh");
        assert!(status.success());
    }

    pub(crate) fn start_again(&self) {
        self.run(&["--again"]);
    }

    /// Silences the alerts named `alertname` for an hour through the API v2, as `amtool` or the
    /// Alertmanager UI would; gives the silence's id.
    pub(crate) fn silence(&self, alertname: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let body = json!({
            "matchers": [{"name": "alertname", "value": alertname, "isRegex": false, "isEqual": true}],
            "startsAt": rfc3339(now - 1),
            "endsAt": rfc3339(now + 3600),
            "createdBy": "backlot tests",
            "comment": "silenced by a test",
        });
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
        let mut answer = agent
            .post(format!("{}/api/v2/silences", self.url()))
            .header("content-type", "application/json")
            .send(body.to_string())
            .expect("POST /api/v2/silences");
        let text = answer.body_mut().read_to_string().expect("body");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        v["silenceID"].as_str().expect("silenceID").to_string()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("stop-am.sh"))
            .arg(self.dir.path())
            .status();
    }
}

/// `2026-12-07T18:00:00Z` of unix seconds (days to a civil date, Howard Hinnant's method).
pub(crate) fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[test]
fn rfc3339_of_unix_seconds() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_796_668_830), "2026-12-07T18:40:30Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}

/// An exporter whose counters grow at each scrape: 10 requests answered 200 and 1 answered 500,
/// every one within 50 ms.
pub(crate) async fn exporter() -> String {
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

pub(crate) const RULES: &str = r#"groups:
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
pub(crate) async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
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
        let p = service
            .place_signals(&entity, None, range, true, false)
            .await?;
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
        let p = service
            .place_signals(&entity, None, range, true, false)
            .await?;
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
        let p = service
            .place_signals(&entity, None, range, true, false)
            .await?;
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
        .place_signals(&entity, None, range, true, false)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_from_a_real_alertmanager_are_silenced_counted_once_and_go_stale() {
    let target = exporter().await;
    let am = Alertmanager::start();
    let prom = Prometheus::start_sending(&[format!("web={target}")], RULES, Some(&am));
    let yaml = |min_step: u64, am_url: &str| {
        format!(
            "servers: [{{name: test, url: '{}', timeout_seconds: 2}}]\nmin_step_seconds: {min_step}\nalertmanager: {{name: am, url: '{am_url}', timeout_seconds: 1}}\n",
            prom.url()
        )
    };
    let settings: PrometheusSettings = yaml_serde::from_str(&yaml(1, &am.url())).expect("settings");
    let service = PromService::new(&settings, &|_| None).expect("service");
    assert!(service.uses_alertmanager());
    let entity = web();

    // The rule fires in Prometheus, which sends it to the Alertmanager Backlot reads.
    let (alerts, stale) = eventually(90, "the alert in Alertmanager", || async {
        let (alerts, stale) = service.entity_alerts(&entity, &[]).await;
        (!alerts.is_empty()).then_some((alerts, stale))
    })
    .await;
    assert_eq!(stale, None);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].name, "WebErrors");
    assert_eq!(alerts[0].state, app::observability::AlertState::Firing);
    assert_eq!(alerts[0].server, "am");
    assert_eq!(alerts[0].severity.as_deref(), Some("page"));
    assert_eq!(alerts[0].summary.as_deref(), Some("web answers 5xx"));
    assert!(alerts[0]
        .active_at
        .as_deref()
        .is_some_and(|t| t.ends_with('Z')));
    let mut other = web();
    other.name = "api".into();
    assert!(service.entity_alerts(&other, &[]).await.0.is_empty());

    // Fifty readers within one step ask the Alertmanager once.
    let hourly: PrometheusSettings =
        yaml_serde::from_str(&yaml(3600, &am.url())).expect("settings");
    let hourly = PromService::new(&hourly, &|_| None).expect("service");
    let answers =
        futures_util::future::join_all((0..50).map(|_| hourly.entity_alerts(&entity, &[]))).await;
    assert!(answers.iter().all(|(a, s)| a.len() == 1 && s.is_none()));
    assert_eq!(hourly.cache.asked(), 1);

    // Silenced through Alertmanager's API: still listed, as silenced, and not firing.
    am.silence("WebErrors");
    let alerts = eventually(30, "the silence", || async {
        let (alerts, _) = service.entity_alerts(&entity, &[]).await;
        alerts
            .iter()
            .any(|a| a.state == app::observability::AlertState::Silenced)
            .then_some(alerts)
    })
    .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(app::observability::firing_count(&alerts), 0);

    // Stopped: the alerts say since when and why, the last ones are kept.
    am.stop();
    let (alerts, stale) = eventually(30, "the stale alerts", || async {
        let (alerts, stale) = service.entity_alerts(&entity, &[]).await;
        stale.is_some().then_some((alerts, stale))
    })
    .await;
    let stale = stale.expect("stale");
    assert!(
        stale.reason.starts_with("unreachable: "),
        "{}",
        stale.reason
    );
    assert!(stale.since.is_some());
    assert_eq!(alerts.len(), 1, "the last answer is kept");
    am.start_again();
    eventually(60, "recovery", || async {
        let (alerts, stale) = service.entity_alerts(&entity, &[]).await;
        // The silence is kept in the Alertmanager's data.
        (stale.is_none()
            && alerts.len() == 1
            && alerts[0].state != app::observability::AlertState::Firing)
            .then_some(())
    })
    .await;

    // An Alertmanager that never answers: the page waits its timeout (1 s), not more.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let slow: PrometheusSettings = yaml_serde::from_str(&yaml(
        1,
        &format!("http://{}", silent.local_addr().expect("addr")),
    ))
    .expect("settings");
    let slow = PromService::new(&slow, &|_| None).expect("service");
    let started = Instant::now();
    let (alerts, stale) = slow.entity_alerts(&entity, &[]).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(alerts.is_empty());
    let stale = stale.expect("stale");
    assert_eq!(stale.since, None);
    assert!(
        stale.reason.starts_with("no answer within 1 s"),
        "{}",
        stale.reason
    );
}
