//! The `observability.prometheus` section: servers, signal queries, alert matchers.
//!
//! ```yaml
//! observability:
//!   prometheus:
//!     servers:
//!       - name: prod                     # shown on pages; default: the URL's host
//!         url: https://prometheus.prod.example.com
//!         environments: [production]     # places (clusters' environments) it answers for
//!         clusters: [prod-eu]            # or by cluster name
//!         bearer_token_env: PROM_TOKEN   # optional: the token's environment variable
//!         basic_auth: {username: backlot, password_env: PROM_PASSWORD}   # optional
//!         timeout_seconds: 5             # the longest a page waits for it (default 5)
//!         alertmanager:                  # optional: this server's alerts from this Alertmanager
//!           url: https://alertmanager.prod.example.com
//!       - url: http://prometheus:9090    # no environments/clusters: the default server
//!     alertmanager:                      # optional: every other server's alerts from Alertmanager
//!       name: alertmanager               # shown on pages; default: the URL's host
//!       url: http://alertmanager:9093
//!       bearer_token_env: AM_TOKEN       # or basic_auth, as for a server
//!       timeout_seconds: 5
//!     signals:                           # replace the default queries; "" turns one off
//!       request-rate: sum(rate(http_requests_total{service="{{ entity.name }}"}[5m]))
//!     overrides:                         # per kind/type/annotation, the first that applies wins
//!       - if: {kind: component, type: website}
//!         signals: {latency-p99: '…'}
//!     alert_labels:                      # firing alerts whose labels equal all of these
//!       job: "{{ entity.name }}"
//!     min_step_seconds: 15               # the finest step of a sparkline (default 15)
//!     kinds: [component, resource]       # who gets the queries above (default: component)
//! ```
//!
//! Signals: `request-rate`, `error-ratio`, `latency-p50`, `latency-p99`, `cpu`, `memory` (see
//! [`SignalId`]). An entity overrides a query with the annotation `prometheus.io/<signal>`
//! (e.g. `prometheus.io/request-rate`) and the alert matchers with `prometheus.io/labels`
//! (`job=web,env=prod`), as Backstage's Prometheus plugin reads `prometheus.io/rule` and
//! `prometheus.io/labels`. The `BACKLOT_PROMETHEUS_URL` environment variable configures one
//! default server when the section has none, and `BACKLOT_ALERTMANAGER_URL` the section's
//! `alertmanager.url`.
//!
//! Alerts come from a server's `/api/v1/alerts` (firing ones), or, where an Alertmanager is
//! configured (the server's own, else the section's), from its `/api/v2/alerts` with their
//! silenced and inhibited state.

use super::super::config::Condition;
use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusSettings {
    pub servers: Vec<ServerConfig>,
    /// Queries replacing the defaults, by signal.
    pub signals: BTreeMap<String, String>,
    pub overrides: Vec<OverrideConfig>,
    /// Label name → value template (plain text).
    pub alert_labels: Option<BTreeMap<String, String>>,
    pub min_step_seconds: Option<u64>,
    /// Kinds whose entities get the configured and default queries (default: component); an
    /// entity of any kind gets those of its own `prometheus.io/<signal>` annotations.
    pub kinds: Option<Vec<String>>,
    /// Where every server's alerts come from, unless a server names its own.
    pub alertmanager: Option<AlertmanagerConfig>,
}

/// An Alertmanager read for alerts (`GET /api/v2/alerts`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    #[serde(default)]
    pub name: Option<String>,
    pub url: String,
    #[serde(default)]
    pub bearer_token_env: Option<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuthConfig>,
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub name: Option<String>,
    pub url: String,
    #[serde(default)]
    pub environments: Vec<String>,
    #[serde(default)]
    pub clusters: Vec<String>,
    #[serde(default)]
    pub bearer_token_env: Option<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuthConfig>,
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
    /// This server's alerts come from this Alertmanager instead.
    #[serde(default)]
    pub alertmanager: Option<AlertmanagerConfig>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthConfig {
    pub username: String,
    pub password_env: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OverrideConfig {
    #[serde(default, rename = "if")]
    pub condition: Condition,
    pub signals: BTreeMap<String, String>,
}

/// The golden signals, in the order pages show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalId {
    RequestRate,
    ErrorRatio,
    LatencyP50,
    LatencyP99,
    Cpu,
    Memory,
}

impl SignalId {
    pub const ALL: [SignalId; 6] = [
        SignalId::RequestRate,
        SignalId::ErrorRatio,
        SignalId::LatencyP50,
        SignalId::LatencyP99,
        SignalId::Cpu,
        SignalId::Memory,
    ];

    /// As written in the config and annotations.
    pub fn key(self) -> &'static str {
        match self {
            SignalId::RequestRate => "request-rate",
            SignalId::ErrorRatio => "error-ratio",
            SignalId::LatencyP50 => "latency-p50",
            SignalId::LatencyP99 => "latency-p99",
            SignalId::Cpu => "cpu",
            SignalId::Memory => "memory",
        }
    }

    pub fn parse(key: &str) -> Option<SignalId> {
        SignalId::ALL.into_iter().find(|s| s.key() == key)
    }

    /// How pages name it.
    pub fn title(self) -> &'static str {
        match self {
            SignalId::RequestRate => "Request rate",
            SignalId::ErrorRatio => "Errors",
            SignalId::LatencyP50 => "Latency p50",
            SignalId::LatencyP99 => "Latency p99",
            SignalId::Cpu => "CPU of limit",
            SignalId::Memory => "Memory of limit",
        }
    }

    /// The unit of its values.
    pub fn unit(self) -> app::observability::SignalUnit {
        use app::observability::SignalUnit as U;
        match self {
            SignalId::RequestRate => U::PerSecond,
            SignalId::ErrorRatio | SignalId::Cpu | SignalId::Memory => U::Ratio,
            SignalId::LatencyP50 | SignalId::LatencyP99 => U::Seconds,
        }
    }

    /// The query for the common conventions: `http_requests_total` with a `code` label and
    /// `http_request_duration_seconds` histograms, scraped as job `<entity name>`; cAdvisor's
    /// and kube-state-metrics' container series for CPU and memory against limits, in the
    /// namespace the workloads run (only where they run on a cluster).
    pub fn default_query(self) -> &'static str {
        match self {
            SignalId::RequestRate => {
                r#"sum(rate(http_requests_total{job="{{ entity.name }}"}[5m]))"#
            }
            SignalId::ErrorRatio => {
                r#"(sum(rate(http_requests_total{job="{{ entity.name }}",code=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{job="{{ entity.name }}"}[5m]))"#
            }
            SignalId::LatencyP50 => {
                r#"histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="{{ entity.name }}"}[5m])))"#
            }
            SignalId::LatencyP99 => {
                r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="{{ entity.name }}"}[5m])))"#
            }
            SignalId::Cpu => {
                r#"sum(rate(container_cpu_usage_seconds_total{namespace="{{ cluster.namespace }}",pod=~"{{ entity.name | regex }}-.*",container!=""}[5m])) / sum(kube_pod_container_resource_limits{namespace="{{ cluster.namespace }}",pod=~"{{ entity.name | regex }}-.*",resource="cpu"})"#
            }
            SignalId::Memory => {
                r#"sum(container_memory_working_set_bytes{namespace="{{ cluster.namespace }}",pod=~"{{ entity.name | regex }}-.*",container!=""}) / sum(kube_pod_container_resource_limits{namespace="{{ cluster.namespace }}",pod=~"{{ entity.name | regex }}-.*",resource="memory"})"#
            }
        }
    }
}

/// The default alert matcher: alerts whose `job` is the entity's name.
pub const DEFAULT_ALERT_LABELS: [(&str, &str); 1] = [("job", "{{ entity.name }}")];

/// The default timeout of one server.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 5.0;

/// The default finest step.
pub const DEFAULT_MIN_STEP_SECONDS: u64 = 15;

/// A server's credentials, read from the environment at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

impl ServerConfig {
    /// Its credentials from `get` (the environment outside tests); an unset variable is an
    /// error naming it (never its value).
    pub fn credentials(
        &self,
        at: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Credentials, String> {
        credentials(at, &self.bearer_token_env, &self.basic_auth, get)
    }
}

impl AlertmanagerConfig {
    /// Its credentials, as a server's.
    pub fn credentials(
        &self,
        at: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Credentials, String> {
        credentials(at, &self.bearer_token_env, &self.basic_auth, get)
    }
}

fn credentials(
    at: &str,
    bearer_token_env: &Option<String>,
    basic_auth: &Option<BasicAuthConfig>,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, String> {
    let read = |field: &str, var: &str| -> Result<Secret, String> {
        if var.trim().is_empty() {
            return Err(format!("{at}.{field}: must name an environment variable"));
        }
        get(var)
            .filter(|v| !v.is_empty())
            .map(Secret::new)
            .ok_or_else(|| format!("{at}.{field}: the environment variable {var} is not set"))
    };
    match (bearer_token_env, basic_auth) {
        (Some(_), Some(_)) => Err(format!(
            "{at}: bearer_token_env and basic_auth cannot both be given"
        )),
        (Some(var), None) => Ok(Credentials::Bearer(read("bearer_token_env", var)?)),
        (None, Some(b)) => Ok(Credentials::Basic {
            username: b.username.clone(),
            password: read("basic_auth.password_env", &b.password_env)?,
        }),
        (None, None) => Ok(Credentials::None),
    }
}
