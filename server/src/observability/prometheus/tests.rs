//! Tests of the Prometheus signals: the section checked, which query an entity gets and how its
//! values are escaped, alert matchers, the sparkline, credentials never shown.

use super::config::{PrometheusSettings, SignalId};
use super::signals::sparkline;
use super::*;
use crate::k8s::service::Placement;
use crate::observability::links::InPlace;
use serde_json::json;

fn settings(yaml: &str) -> PrometheusSettings {
    yaml_serde::from_str(yaml).expect("yaml")
}

fn service(yaml: &str) -> PromService {
    PromService::new(&settings(yaml), &|k| {
        (k == "PROM_TOKEN").then(|| "s3cret-token".to_string())
    })
    .expect("valid")
}

fn web(annotations: serde_json::Value) -> EntityValues {
    EntityValues::of(&json!({
        "kind": "Component",
        "metadata": {"name": "web", "namespace": "default", "annotations": annotations},
        "spec": {"type": "service", "owner": "team-a"}
    }))
}

fn rendered(p: &PromService, id: SignalId, e: &EntityValues) -> Option<String> {
    p.query_for(id, e)
        .expect("parses")
        .and_then(|q| q.template.render(e).ok())
}

#[test]
fn the_defaults_follow_the_http_requests_total_conventions() {
    let p = service("servers: [{url: 'http://127.0.0.1:9090'}]");
    let e = web(json!({}));
    assert_eq!(
        rendered(&p, SignalId::RequestRate, &e).as_deref(),
        Some(r#"sum(rate(http_requests_total{job="web"}[5m]))"#)
    );
    assert_eq!(
        rendered(&p, SignalId::LatencyP99, &e).as_deref(),
        Some(
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="web"}[5m])))"#
        )
    );
    // CPU and memory need the namespace the workloads run in: not for the entity as a whole.
    assert_eq!(rendered(&p, SignalId::Cpu, &e), None);
    let place = Placement {
        cluster: "prod".into(),
        environment: "production".into(),
        namespace: "shop".into(),
        selector: "app=web".into(),
    };
    let q = p.query_for(SignalId::Memory, &e).unwrap().unwrap();
    let text = q
        .template
        .render(&InPlace {
            entity: &e,
            place: &place,
        })
        .unwrap();
    assert!(text.contains(r#"namespace="shop",pod=~"web-.*""#), "{text}");
}

#[test]
fn values_are_escaped_for_promql_strings_and_regexes() {
    let p = service("servers: [{url: 'http://p'}]");
    let mut e = web(json!({}));
    e.name = r#"we"b\x"#.into();
    assert_eq!(
        rendered(&p, SignalId::RequestRate, &e).as_deref(),
        Some(r#"sum(rate(http_requests_total{job="we\"b\\x"}[5m]))"#)
    );
    let t = Template::parse_in(
        r#"up{pod=~"{{ entity.name | regex }}-.*"}"#,
        Dialect::PromQl,
    )
    .unwrap();
    e.name = "a.b+c".into();
    assert_eq!(t.render(&e).unwrap(), r#"up{pod=~"a\\.b\\+c-.*"}"#);
    let raw =
        Template::parse_in(r#"{{ entity.annotations["q"] | raw }}"#, Dialect::PromQl).unwrap();
    e.annotations.insert("q".into(), r#"up{a="b"}"#.into());
    assert_eq!(raw.render(&e).unwrap(), r#"up{a="b"}"#);
    // Newlines and control characters cannot end the string either.
    let mut out = String::new();
    crate::observability::template::promql_string("a\nb\u{1}", &mut out);
    assert_eq!(out, "a\\nb\\u0001");
    // URL filters are not PromQL's, and the reverse.
    assert!(Template::parse_in("{{ entity.name | path }}", Dialect::PromQl).is_err());
    assert!(Template::parse("https://x/{{ entity.name | regex }}").is_err());
    assert!(Template::parse_in("{{ entity.name | regex }}", Dialect::Text).is_err());
}

#[test]
fn an_annotation_beats_an_override_beats_the_config_beats_the_default() {
    let p = service(
        r#"
servers: [{url: 'http://p'}]
signals:
  request-rate: 'sum(rate(requests_total{service="{{ entity.name }}"}[1m]))'
  cpu: ''
overrides:
  - if: {type: website}
    signals: {request-rate: 'sum(rate(nginx_requests_total{app="{{ entity.name }}"}[1m]))'}
"#,
    );
    let service = web(json!({}));
    assert_eq!(
        rendered(&p, SignalId::RequestRate, &service).as_deref(),
        Some(r#"sum(rate(requests_total{service="web"}[1m]))"#)
    );
    // Turned off.
    assert!(p.query_for(SignalId::Cpu, &service).unwrap().is_none());
    let mut site = service.clone();
    site.spec_type = Some("Website".into());
    assert_eq!(
        rendered(&p, SignalId::RequestRate, &site).as_deref(),
        Some(r#"sum(rate(nginx_requests_total{app="web"}[1m]))"#)
    );
    // The other signals keep the defaults.
    assert!(rendered(&p, SignalId::ErrorRatio, &site)
        .unwrap()
        .contains(r#"code=~"5..""#));
    let own = web(
        json!({"prometheus.io/request-rate": "sum(rate(my_total{x=\"{{ entity.name }}\"}[5m]))"}),
    );
    assert_eq!(
        rendered(&p, SignalId::RequestRate, &own).as_deref(),
        Some(r#"sum(rate(my_total{x="web"}[5m]))"#)
    );
    let q = p.query_for(SignalId::RequestRate, &own).unwrap().unwrap();
    assert_eq!(
        q.source,
        "the annotation prometheus.io/request-rate of component:default/web"
    );
    // Other kinds get only what their own annotations ask.
    let mut api = web(json!({}));
    api.kind = "API".into();
    assert!(p.query_for(SignalId::RequestRate, &api).unwrap().is_none());
    api.annotations
        .insert("prometheus.io/request-rate".into(), "sum(up)".into());
    assert!(p.query_for(SignalId::RequestRate, &api).unwrap().is_some());
    assert!(p.query_for(SignalId::ErrorRatio, &api).unwrap().is_none());
    let resources = self::service("servers: [{url: 'http://p'}]\nkinds: [Resource]\n");
    let mut db = web(json!({}));
    db.kind = "Resource".into();
    assert!(resources.query_for(SignalId::Cpu, &db).unwrap().is_some());
    assert!(resources
        .query_for(SignalId::Cpu, &service)
        .unwrap()
        .is_none());
    let broken = web(json!({"prometheus.io/request-rate": "sum({{ entity.nope }})"}));
    let err = p.query_for(SignalId::RequestRate, &broken).unwrap_err();
    assert!(
        err.starts_with("the annotation prometheus.io/request-rate: unknown variable entity.nope"),
        "{err}"
    );
}

#[test]
fn bad_settings_are_errors_naming_the_template() {
    let check = |yaml: &str| settings(yaml).check().map_err(|e| e.to_string());
    let err = check("signals:\n  error-ratio: 'sum({{ entity.nmae }})'\n").unwrap_err();
    assert!(
        err.starts_with(
            "observability.prometheus.signals.error-ratio: unknown variable entity.nmae"
        ),
        "{err}"
    );
    let err = check("overrides:\n  - signals: {latency: 'x'}\n").unwrap_err();
    assert!(
        err.starts_with("observability.prometheus.overrides[0].signals.latency: unknown signal"),
        "{err}"
    );
    let err = check("alert_labels: {job: '{{ entity.name | regex }}'}\n").unwrap_err();
    assert!(
        err.starts_with("observability.prometheus.alert_labels.job: unknown filter regex"),
        "{err}"
    );
    let err = check("servers: [{url: 'ftp://x'}]").unwrap_err();
    assert_eq!(
        err,
        "observability.prometheus.servers[0].url: must start with http:// or https://"
    );
    assert!(check("servers: [{url: 'http://x', timeout_seconds: 0}]").is_err());
    assert!(yaml_serde::from_str::<PrometheusSettings>(
        "servers: [{url: 'http://x', surprise: 1}]"
    )
    .is_err());
    // The whole config refuses them at load.
    let err = crate::config::Config::from_yaml(
        "observability:\n  prometheus:\n    signals:\n      cpu: 'x{{ '\n",
    )
    .unwrap_err();
    assert!(
        err.contains("observability.prometheus.signals.cpu"),
        "{err}"
    );
}

#[test]
fn credentials_come_from_the_environment_and_are_never_shown() {
    let p = service("servers: [{url: 'http://p', bearer_token_env: PROM_TOKEN}]");
    let shown = format!("{:?}", p.servers[0]);
    assert!(
        !shown.contains("s3cret-token") && shown.contains("redacted"),
        "{shown}"
    );
    let err = PromService::new(
        &settings("servers: [{url: 'http://p', basic_auth: {username: u, password_env: NOPE}}]"),
        &|_| None,
    )
    .err()
    .expect("missing variable")
    .to_string();
    assert_eq!(
        err,
        "observability.prometheus.servers[0]: observability.prometheus.servers[0].basic_auth.password_env: the environment variable NOPE is not set"
    );
}

#[test]
fn places_pick_their_server() {
    let p = service(
        "servers:\n  - {name: eu, url: 'http://eu', clusters: [prod-eu]}\n  - {name: prod, url: 'http://prod', environments: [production]}\n  - {name: rest, url: 'http://rest'}\n",
    );
    assert_eq!(p.server_for(Some(("prod-eu", "production"))), Some(0));
    assert_eq!(p.server_for(Some(("prod-us", "production"))), Some(1));
    assert_eq!(p.server_for(Some(("dev", "dev"))), Some(2));
    assert_eq!(p.server_for(None), Some(2));
    assert_eq!(p.servers[0].name, "eu");
    let unnamed = service("servers: [{url: 'http://prom.example.com:9090/'}]");
    assert_eq!(unnamed.servers[0].name, "prom.example.com:9090");
    assert_eq!(unnamed.servers[0].url, "http://prom.example.com:9090");
    assert!(!PromService::default().is_configured());
}

#[test]
fn alerts_are_matched_by_labels() {
    let p = service("servers: [{url: 'http://p'}]");
    assert_eq!(
        p.alert_matchers(&web(json!({}))),
        Some(vec![("job".into(), "web".into())])
    );
    let labelled = web(json!({"prometheus.io/labels": "service=web, env=\"prod\""}));
    assert_eq!(
        p.alert_matchers(&labelled),
        Some(vec![
            ("service".into(), "web".into()),
            ("env".into(), "prod".into())
        ])
    );
    let configured = service(
        "servers: [{url: 'http://p'}]\nalert_labels: {team: '{{ entity.owner }}', app: '{{ entity.annotations[\"app\"] }}'}\n",
    );
    // A missing value matches nothing rather than everything.
    assert_eq!(configured.alert_matchers(&web(json!({}))), None);
    assert_eq!(
        configured.alert_matchers(&web(json!({"app": "w"}))),
        Some(vec![
            ("app".into(), "w".into()),
            ("team".into(), "team-a".into())
        ])
    );
}

#[test]
fn alerts_come_from_the_server_s_alertmanager_else_the_section_s_else_the_server() {
    use super::client::Api;
    let p = service(
        r#"
servers:
  - {name: eu, url: 'http://eu', clusters: [eu], alertmanager: {url: 'http://am-eu:9093/'}}
  - {name: us, url: 'http://us', clusters: [us]}
  - {name: rest, url: 'http://rest', alertmanager: {name: shared, url: 'http://am:9093', bearer_token_env: PROM_TOKEN}}
alertmanager: {name: shared, url: 'http://am:9093', bearer_token_env: PROM_TOKEN}
"#,
    );
    // One Alertmanager named twice is read once.
    assert_eq!(p.alert_source_of, [0, 1, 1]);
    assert_eq!(p.alert_sources.len(), 2);
    assert_eq!(p.alert_sources[0].api, Api::Alertmanager);
    assert_eq!(p.alert_sources[0].name, "am-eu:9093");
    assert_eq!(p.alert_sources[0].url, "http://am-eu:9093");
    assert_eq!(p.alert_sources[1].name, "shared");
    let shown = format!("{:?}", p.alert_sources[1]);
    assert!(!shown.contains("s3cret-token"), "{shown}");
    let place = |cluster: &str| Placement {
        cluster: cluster.into(),
        environment: cluster.into(),
        namespace: "shop".into(),
        selector: "app=web".into(),
    };
    assert_eq!(p.alert_sources_for(&[]), [1]);
    assert_eq!(p.alert_sources_for(&[place("eu"), place("us")]), [0, 1]);
    // Without any: each server is its own alerts' source.
    let plain = service("servers: [{url: 'http://a'}, {url: 'http://b', clusters: [b]}]");
    assert!(!plain.uses_alertmanager());
    assert_eq!(plain.alert_source_of, [0, 1]);
    assert_eq!(plain.alert_sources[1].api, Api::Prometheus);
    // Checked like a server's; its credentials from the environment.
    let check = |yaml: &str| settings(yaml).check().map_err(|e| e.to_string());
    assert_eq!(
        check("alertmanager: {url: 'am:9093'}").unwrap_err(),
        "observability.prometheus.alertmanager.url: must start with http:// or https://"
    );
    assert_eq!(
        check("servers: [{url: 'http://p', alertmanager: {url: 'http://am', timeout_seconds: 500}}]")
            .unwrap_err(),
        "observability.prometheus.servers[0].alertmanager.timeout_seconds: must be above 0 and at most 120"
    );
    assert!(yaml_serde::from_str::<PrometheusSettings>(
        "alertmanager: {url: 'http://am', surprise: 1}"
    )
    .is_err());
    let err = PromService::new(
        &settings("servers: [{url: 'http://p'}]\nalertmanager: {url: 'http://am', bearer_token_env: AM_TOKEN}"),
        &|_| None,
    )
    .err()
    .expect("missing variable")
    .to_string();
    assert!(
        err.ends_with("observability.prometheus.alertmanager.bearer_token_env: the environment variable AM_TOKEN is not set"),
        "{err}"
    );
    // BACKLOT_ALERTMANAGER_URL sets the section's.
    let mut config = crate::config::Config::from_yaml("{}").expect("config");
    config
        .apply_env(|k: &str| match k {
            "BACKLOT_PROMETHEUS_URL" => Some("http://127.0.0.1:9090".into()),
            "BACKLOT_ALERTMANAGER_URL" => Some("http://127.0.0.1:9093".into()),
            _ => None,
        })
        .expect("env");
    let am = config
        .observability
        .prometheus
        .alertmanager
        .expect("alertmanager");
    assert_eq!(am.url, "http://127.0.0.1:9093");
}

#[test]
fn steps_are_about_240_points_and_no_finer_than_the_minimum() {
    let p = service("servers: [{url: 'http://p'}]");
    assert_eq!(p.step(3600), 15);
    assert_eq!(p.step(6 * 3600), 90);
    assert_eq!(p.step(7 * 24 * 3600), 2520);
    let fine = service("servers: [{url: 'http://p'}]\nmin_step_seconds: 5\n");
    assert_eq!(fine.step(600), 5);
}

#[test]
fn sparklines_scale_to_the_box_and_break_at_gaps() {
    assert_eq!(sparkline(&[], 0.0, 100.0, 10.0), None);
    // Lowest at the bottom (y 26), highest at the top (y 2); x over the range.
    let d = sparkline(&[(0.0, 1.0), (10.0, 3.0), (20.0, 2.0)], 0.0, 40.0, 10.0).unwrap();
    assert_eq!(d, "M0.0 26.0 L30.0 2.0 L60.0 14.0");
    // A flat series is drawn in the middle; a gap of more than two steps starts anew.
    let d = sparkline(&[(0.0, 5.0), (10.0, 5.0), (40.0, 5.0)], 0.0, 40.0, 10.0).unwrap();
    assert_eq!(d, "M0.0 14.0 L30.0 14.0 M120.0 14.0");
}

/// The README's example is a section the server takes, and the demo's portal entity points its
/// queries at Backlot's own metrics (which /metrics exports).
#[test]
fn the_readme_example_and_the_demo_s_portal_entity_are_valid() {
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("### Golden signals (Prometheus)")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("the README's golden signals section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a yaml block");
    let config = crate::config::Config::from_yaml(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    let p = PromService::new(&config.observability.prometheus, &|k| {
        (k == "PROM_TOKEN").then(|| "t".to_string())
    })
    .expect("the example's servers");
    assert_eq!(p.servers(), 2);
    assert_eq!(p.server_for(None), Some(1));
    // prod's alerts from its own Alertmanager, the default server's from the section's.
    assert!(p.uses_alertmanager());
    assert_eq!(p.alert_source_of, [0, 1]);
    assert_eq!(p.alert_sources[0].name, "alertmanager.prod.example.com");
    assert_eq!(p.alert_sources[1].name, "alertmanager");

    let (_, text) = crate::demo::FILES
        .iter()
        .find(|(path, _)| *path == "components/platform.yaml")
        .expect("demo file");
    let doc = text
        .split("\n---\n")
        .find(|d| d.contains("name: backlot\n"))
        .expect("the demo's backlot component");
    let entity: serde_json::Value = yaml_serde::from_str(doc).expect("yaml");
    let e = EntityValues::of(&entity);
    let demo = service("servers: [{url: 'http://p'}]");
    let metrics = crate::metrics::Metrics::default();
    metrics.record_request("GET", "/metrics", 200, Duration::from_millis(1));
    let exported = metrics.render();
    for id in [
        SignalId::RequestRate,
        SignalId::ErrorRatio,
        SignalId::LatencyP50,
        SignalId::LatencyP99,
    ] {
        let q = rendered(&demo, id, &e).expect("a query");
        assert!(q.contains(r#"{job="backlot""#), "{q}");
        let metric = q
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .find(|w| w.starts_with("backlot_"))
            .expect("one of Backlot's metrics");
        assert!(
            exported.contains(&format!("\n{metric}{{")),
            "{metric} is not exported"
        );
    }
}
