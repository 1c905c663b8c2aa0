//! Observability links: the links the configuration's templates (`observability.links`) make
//! for an entity and for each cluster and environment its workloads run in. Plain data built by
//! the server (`server/src/observability/`), shown on the entity page beside `metadata.links`, on
//! the Kubernetes tab per cluster and on team pages, and served as JSON by
//! `GET /api/observability/entities/{namespace}/{kind}/{name}`.

use crate::model::EntityRef;
use serde::{Deserialize, Serialize};

/// What a link leads to. It groups the links on pages; `oncall` links of a team's services are
/// listed on the team's page.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LinkType {
    Dashboard,
    Metrics,
    Logs,
    Traces,
    #[serde(alias = "on-call")]
    Oncall,
    Ci,
    Deploy,
    #[default]
    Other,
}

impl LinkType {
    /// How pages name it.
    pub fn label(self) -> &'static str {
        match self {
            LinkType::Dashboard => "dashboard",
            LinkType::Metrics => "metrics",
            LinkType::Logs => "logs",
            LinkType::Traces => "traces",
            LinkType::Oncall => "on-call",
            LinkType::Ci => "CI",
            LinkType::Deploy => "deploy",
            LinkType::Other => "link",
        }
    }
}

/// One link made from a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservabilityLink {
    pub title: String,
    /// Always `http://` or `https://`.
    pub url: String,
    #[serde(rename = "type")]
    pub link_type: LinkType,
    /// The template's `icon`, else the type's name.
    pub icon: String,
}

/// The links of one place the entity's workloads run: a cluster (its environment) and a
/// namespace there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentLinks {
    pub cluster: String,
    pub environment: String,
    pub namespace: String,
    /// How the workloads were matched, as a label selector (`backstage.io/kubernetes-id=web`).
    pub selector: String,
    pub links: Vec<ObservabilityLink>,
}

/// An entity's links: its own (`scope: entity`) and per environment (`scope: environment`;
/// only places with at least one link are listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityLinks {
    pub entity: EntityRef,
    pub links: Vec<ObservabilityLink>,
    pub environments: Vec<EnvironmentLinks>,
}

impl EntityLinks {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty() && self.environments.is_empty()
    }
}

/// One entity a team owns, with its on-call links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCallLinks {
    pub entity: EntityRef,
    pub title: Option<String>,
    pub links: Vec<ObservabilityLink>,
}

/// A team page's links: the group's own, and the on-call links of what it owns (by name; only
/// entities with at least one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLinks {
    pub links: Vec<ObservabilityLink>,
    pub on_call: Vec<OnCallLinks>,
}

impl TeamLinks {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty() && self.on_call.is_empty()
    }
}

/// What a signal's values measure, for showing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalUnit {
    /// Per second (requests).
    PerSecond,
    /// A share of a whole (errors of requests, CPU of its limit), shown as a percentage.
    Ratio,
    /// A duration in seconds (latency).
    Seconds,
}

impl SignalUnit {
    /// `12.3 req/s`, `0.52 %`, `120 ms`.
    pub fn format(self, v: f64) -> String {
        fn short(v: f64) -> String {
            let a = v.abs();
            if a == 0.0 {
                "0".into()
            } else if a >= 100.0 {
                format!("{v:.0}")
            } else if a >= 10.0 {
                format!("{v:.1}")
            } else if a >= 0.01 {
                format!("{v:.2}")
            } else {
                format!("{v:.3}")
            }
        }
        match self {
            SignalUnit::PerSecond => format!("{} req/s", short(v)),
            SignalUnit::Ratio => format!("{} %", short(v * 100.0)),
            SignalUnit::Seconds if v.abs() < 1.0 => format!("{} ms", short(v * 1000.0)),
            SignalUnit::Seconds => format!("{} s", short(v)),
        }
    }
}

/// The ranges a signal's sparkline can cover: (as written in `?range=`, seconds).
pub const SIGNAL_RANGES: [(&str, u64); 4] = [
    ("1h", 3600),
    ("6h", 6 * 3600),
    ("24h", 24 * 3600),
    ("7d", 7 * 24 * 3600),
];

/// Why a signal (or the alerts) has nothing new: Prometheus down, slow or answering an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stale {
    /// When it last answered (`HH:MM:SS` UTC), `None`: never since start-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub reason: String,
}

/// One golden signal of one place: its latest value and a sparkline drawn by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalView {
    /// `request-rate`, `error-ratio`, `latency-p50`, `latency-p99`, `cpu`, `memory`.
    pub key: String,
    pub title: String,
    pub unit: SignalUnit,
    /// The latest value; `None` when the query found no series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The sparkline as an SVG path (`M x y L …`) in a 120 × 28 box; `None` with no points
    /// (and in the REST API, which gives `points` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark: Option<String>,
    /// Lowest and highest value over the range (the sparkline's scale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// Set when the last query failed: what is shown is from `since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<Stale>,
    /// The series, `[unix seconds, value]` in time order: only in the REST API's answer (pages
    /// draw the sparkline instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<[f64; 2]>>,
}

impl SignalView {
    /// The value as pages show it (`—` without one).
    pub fn shown(&self) -> String {
        self.value
            .map(|v| self.unit.format(v))
            .unwrap_or_else(|| "—".into())
    }
}

/// The signals of one place the entity runs (or of the entity, where it runs nowhere known).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceSignals {
    /// `production · prod-eu, namespace shop`, or empty for the entity as a whole.
    pub place: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The Prometheus asked.
    pub server: String,
    pub signals: Vec<SignalView>,
}

/// Whether an alert fires, or is muted in Alertmanager (a silence, an inhibition). Alerts read
/// from Prometheus always fire; only firing ones are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    #[default]
    Firing,
    Silenced,
    Inhibited,
}

impl AlertState {
    pub fn label(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Silenced => "silenced",
            AlertState::Inhibited => "inhibited",
        }
    }
}

/// An active alert matched to an entity by its labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiringAlert {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When it became active, as Prometheus or Alertmanager wrote it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_at: Option<String>,
    /// The Prometheus or Alertmanager it was read from.
    pub server: String,
    #[serde(default)]
    pub state: AlertState,
}

impl FiringAlert {
    pub fn is_firing(&self) -> bool {
        self.state == AlertState::Firing
    }
}

/// How many of `alerts` fire (silenced and inhibited ones do not count).
pub fn firing_count(alerts: &[FiringAlert]) -> usize {
    alerts.iter().filter(|a| a.is_firing()).count()
}

/// An entity's golden signals and firing alerts (`observability.prometheus`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntitySignals {
    pub entity: EntityRef,
    /// Whether any Prometheus is configured (else pages show nothing).
    pub configured: bool,
    /// The range shown (`1h`…, one of [`SIGNAL_RANGES`]).
    pub range: String,
    pub places: Vec<PlaceSignals>,
    pub alerts: Vec<FiringAlert>,
    /// Set when a server's alerts could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts_stale: Option<Stale>,
}

impl EntitySignals {
    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.places.iter().all(|p| p.signals.is_empty())
            && self.alerts.is_empty()
            && self.alerts_stale.is_none()
    }
}

/// One service of a team, in its signals table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamSignalsRow {
    pub entity: EntityRef,
    pub title: Option<String>,
    /// The signals of its first place, without sparklines.
    pub signals: Vec<SignalView>,
    pub alerts: Vec<FiringAlert>,
}

/// A team's services' signals, worst first (most firing alerts, then highest error ratio, then
/// slowest p99).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamSignals {
    pub configured: bool,
    pub rows: Vec<TeamSignalsRow>,
}
