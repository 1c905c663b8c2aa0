//! Golden signals and firing alerts from Prometheus (`observability.prometheus`), the alerts
//! from Alertmanager where one is configured.
//!
//! - [`config`]: the section as written; the signals and their default queries
//! - [`client`]: one server (Prometheus or Alertmanager) over its HTTP API (ureq on a blocking
//!   thread), answers parsed
//! - [`cache`]: the shared query layer (each query asked at most once per step)
//! - [`signals`]: an entity's and a team's signals and alerts as pages show them; sparklines
//!   drawn as SVG paths here, on the server
//! - [`counts`]: firing alerts per entity in one shared map, for the catalog table
//! - [`stream`]: `/observability/{namespace}/{kind}/{name}/stream`, the entity page's updates
//!
//! Queries are templates of [`super::template`] in its PromQL dialect (values escaped as PromQL
//! string contents), checked when the config is read. A query Prometheus refuses as bad is
//! logged once per template, naming it, and shown on the signal.

pub mod cache;
pub mod client;
pub mod config;
pub mod counts;
pub mod signals;
pub mod stream;

use super::config::Condition;
use super::links::EntityValues;
use super::template::{Dialect, Template};
use super::ObservabilityError;
use cache::QueryCache;
use client::Server;
use config::{PrometheusSettings, SignalId};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use config::Credentials;

/// Why Prometheus gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromError {
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("no answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("answered {0}: {1}")]
    Status(u16, String),
    #[error("bad query: {0}")]
    BadQuery(String),
    #[error("unexpected answer: {0}")]
    Answer(String),
}

/// A query template and where it was written (for the one report of a bad query).
#[derive(Debug, Clone)]
pub struct Query {
    pub template: Template,
    /// `observability.prometheus.signals.error-ratio`, `the default request-rate query`…
    pub source: String,
}

/// A query per signal; `None`: the signal is turned off.
type SignalSet = BTreeMap<SignalId, Option<Query>>;

#[derive(Debug, Clone)]
struct Override {
    kinds: Vec<String>,
    types: Vec<String>,
    annotations: Vec<String>,
    signals: SignalSet,
}

/// Everything `observability.prometheus` configures, checked, with the shared cache.
#[derive(Default)]
pub struct PromService {
    servers: Vec<Arc<Server>>,
    /// Where alerts are read: Prometheus servers and Alertmanagers, each once.
    alert_sources: Vec<Arc<Server>>,
    /// Per server, the index of its alerts' source in `alert_sources`.
    alert_source_of: Vec<usize>,
    /// The server for places no other claims.
    default: Option<usize>,
    signals: SignalSet,
    overrides: Vec<Override>,
    alert_labels: Vec<(String, Template)>,
    min_step: u64,
    /// Kinds (lower case) the configured and default queries apply to.
    kinds: Vec<String>,
    pub cache: QueryCache,
    /// Firing alerts per entity, for the catalog table.
    pub alert_counts: counts::AlertCounts,
    /// Templates whose bad query has been logged.
    reported: Mutex<HashSet<String>>,
}

fn err(at: impl Into<String>, message: impl Into<String>) -> ObservabilityError {
    ObservabilityError::Prometheus {
        at: at.into(),
        message: message.into(),
    }
}

fn compile_signals(
    at: &str,
    written: &BTreeMap<String, String>,
) -> Result<SignalSet, ObservabilityError> {
    let mut out = SignalSet::new();
    for (key, text) in written {
        let id = SignalId::parse(key).ok_or_else(|| {
            err(
                format!("{at}.{key}"),
                format!(
                    "unknown signal (known: {})",
                    SignalId::ALL.map(SignalId::key).join(", ")
                ),
            )
        })?;
        let query = if text.trim().is_empty() {
            None
        } else {
            let template = Template::parse_in(text, Dialect::PromQl)
                .map_err(|e| err(format!("{at}.{key}"), e.to_string()))?;
            Some(Query {
                template,
                source: format!("{at}.{key}"),
            })
        };
        out.insert(id, query);
    }
    Ok(out)
}

impl PrometheusSettings {
    /// Checks every template (queries, alert matchers) and setting that needs no environment.
    pub fn check(&self) -> Result<(), ObservabilityError> {
        self.compile_templates().map(|_| ())
    }

    #[allow(clippy::type_complexity)]
    fn compile_templates(
        &self,
    ) -> Result<(SignalSet, Vec<Override>, Vec<(String, Template)>), ObservabilityError> {
        const AT: &str = "observability.prometheus";
        let mut signals = SignalSet::new();
        for id in SignalId::ALL {
            let template = Template::parse_in(id.default_query(), Dialect::PromQl)
                .map_err(|e| ObservabilityError::Demo(format!("{}: {e}", id.key())))?;
            signals.insert(
                id,
                Some(Query {
                    template,
                    source: format!("the default {} query", id.key()),
                }),
            );
        }
        signals.extend(compile_signals(&format!("{AT}.signals"), &self.signals)?);
        let mut overrides = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            let at = format!("{AT}.overrides[{i}]");
            let Condition {
                kind,
                spec_type,
                annotation,
            } = &o.condition;
            let lower = |v: &[String]| v.iter().map(|s| s.to_ascii_lowercase()).collect();
            overrides.push(Override {
                kinds: lower(&kind.0),
                types: lower(&spec_type.0),
                annotations: annotation.0.clone(),
                signals: compile_signals(&format!("{at}.signals"), &o.signals)?,
            });
        }
        let written: Vec<(String, String)> = match &self.alert_labels {
            Some(labels) => labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => config::DEFAULT_ALERT_LABELS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let mut alert_labels = Vec::new();
        for (label, text) in written {
            let t = Template::parse_in(&text, Dialect::Text)
                .map_err(|e| err(format!("{AT}.alert_labels.{label}"), e.to_string()))?;
            alert_labels.push((label, t));
        }
        for (i, s) in self.servers.iter().enumerate() {
            if !super::template::is_http(&s.url) {
                return Err(err(
                    format!("{AT}.servers[{i}].url"),
                    "must start with http:// or https://",
                ));
            }
            check_timeout(&format!("{AT}.servers[{i}]"), s.timeout_seconds)?;
            if let Some(am) = &s.alertmanager {
                check_alertmanager(&format!("{AT}.servers[{i}].alertmanager"), am)?;
            }
        }
        if let Some(am) = &self.alertmanager {
            check_alertmanager(&format!("{AT}.alertmanager"), am)?;
        }
        if self.min_step_seconds == Some(0) {
            return Err(err(format!("{AT}.min_step_seconds"), "must be at least 1"));
        }
        Ok((signals, overrides, alert_labels))
    }
}

fn check_timeout(at: &str, timeout: Option<f64>) -> Result<(), ObservabilityError> {
    match timeout {
        Some(t) if !(t > 0.0 && t <= 120.0) => Err(err(
            format!("{at}.timeout_seconds"),
            "must be above 0 and at most 120",
        )),
        _ => Ok(()),
    }
}

fn check_alertmanager(at: &str, am: &config::AlertmanagerConfig) -> Result<(), ObservabilityError> {
    if !super::template::is_http(&am.url) {
        return Err(err(
            format!("{at}.url"),
            "must start with http:// or https://",
        ));
    }
    check_timeout(at, am.timeout_seconds)
}

/// A name for a server: the one written, else its URL's host (and port).
fn name_or_host(name: &Option<String>, url: &str) -> String {
    name.clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            url.split("://")
                .nth(1)
                .unwrap_or(url)
                .split('/')
                .next()
                .unwrap_or("")
                .to_string()
        })
}

impl PromService {
    /// The service for `settings`, credentials read with `env`.
    pub fn new(
        settings: &PrometheusSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PromService, ObservabilityError> {
        let (signals, overrides, alert_labels) = settings.compile_templates()?;
        let mut servers = Vec::new();
        for (i, s) in settings.servers.iter().enumerate() {
            let at = format!("observability.prometheus.servers[{i}]");
            let credentials = s.credentials(&at, env).map_err(|m| err(at.clone(), m))?;
            let name = name_or_host(&s.name, &s.url);
            servers.push(Arc::new(Server::new(
                name,
                &s.url,
                s.environments.clone(),
                s.clusters.clone(),
                Duration::from_secs_f64(
                    s.timeout_seconds.unwrap_or(config::DEFAULT_TIMEOUT_SECONDS),
                ),
                credentials,
            )));
        }
        // Alert sources: a server's own Alertmanager, else the section's, else the server;
        // one Alertmanager named by several servers is read once.
        let mut alert_sources: Vec<Arc<Server>> = Vec::new();
        let mut written: Vec<(&config::AlertmanagerConfig, usize)> = Vec::new();
        let mut alert_source_of = Vec::new();
        for (i, s) in settings.servers.iter().enumerate() {
            let (am, at) = match (&s.alertmanager, &settings.alertmanager) {
                (Some(am), _) => (
                    am,
                    format!("observability.prometheus.servers[{i}].alertmanager"),
                ),
                (None, Some(am)) => (am, "observability.prometheus.alertmanager".to_string()),
                (None, None) => {
                    alert_source_of.push(alert_sources.len());
                    alert_sources.push(servers[i].clone());
                    continue;
                }
            };
            if let Some((_, index)) = written.iter().find(|(w, _)| *w == am) {
                alert_source_of.push(*index);
                continue;
            }
            let credentials = am.credentials(&at, env).map_err(|m| err(at.clone(), m))?;
            let index = alert_sources.len();
            alert_sources.push(Arc::new(Server::alertmanager(
                name_or_host(&am.name, &am.url),
                &am.url,
                Duration::from_secs_f64(
                    am.timeout_seconds
                        .unwrap_or(config::DEFAULT_TIMEOUT_SECONDS),
                ),
                credentials,
            )));
            written.push((am, index));
            alert_source_of.push(index);
        }
        let default = servers
            .iter()
            .position(|s| s.environments.is_empty() && s.clusters.is_empty())
            .or((!servers.is_empty()).then_some(0));
        Ok(PromService {
            servers,
            alert_sources,
            alert_source_of,
            default,
            signals,
            overrides,
            alert_labels,
            min_step: settings
                .min_step_seconds
                .unwrap_or(config::DEFAULT_MIN_STEP_SECONDS),
            kinds: settings
                .kinds
                .clone()
                .unwrap_or_else(|| vec!["component".into()])
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            cache: QueryCache::default(),
            alert_counts: Default::default(),
            reported: Mutex::default(),
        })
    }

    /// Whether any server is configured.
    pub fn is_configured(&self) -> bool {
        !self.servers.is_empty()
    }

    pub fn servers(&self) -> usize {
        self.servers.len()
    }

    /// Whether alerts come from an Alertmanager (for at least one server).
    pub fn uses_alertmanager(&self) -> bool {
        self.alert_sources
            .iter()
            .any(|s| s.api == client::Api::Alertmanager)
    }

    /// The step of a sparkline over `range` seconds: about 240 points, no finer than
    /// `min_step_seconds`.
    pub fn step(&self, range: u64) -> u64 {
        (range / 240).max(self.min_step).max(1)
    }

    /// The server for a place (`None`: the entity as a whole): the first whose clusters name
    /// the cluster, else whose environments name its environment, else the default.
    fn server_for(&self, cluster: Option<(&str, &str)>) -> Option<usize> {
        if let Some((cluster, environment)) = cluster {
            if let Some(i) = self
                .servers
                .iter()
                .position(|s| s.clusters.iter().any(|c| c == cluster))
            {
                return Some(i);
            }
            if let Some(i) = self
                .servers
                .iter()
                .position(|s| s.environments.iter().any(|e| e == environment))
            {
                return Some(i);
            }
        }
        self.default
    }

    /// The query of `id` for an entity: its annotation `prometheus.io/<signal>`, else (for the
    /// configured kinds only) the first override that applies, else the configuration's, else
    /// the default. `Err`: the
    /// annotation does not parse (the message names it).
    fn query_for(&self, id: SignalId, e: &EntityValues) -> Result<Option<Query>, String> {
        let annotation = format!("prometheus.io/{}", id.key());
        if let Some(text) = e
            .annotations
            .get(&annotation)
            .filter(|t| !t.trim().is_empty())
        {
            return Template::parse_in(text, Dialect::PromQl)
                .map(|template| {
                    Some(Query {
                        template,
                        source: format!("the annotation {annotation} of {}", e.reference),
                    })
                })
                .map_err(|err| format!("the annotation {annotation}: {err}"));
        }
        if !self.kinds.iter().any(|k| k.eq_ignore_ascii_case(&e.kind)) {
            return Ok(None);
        }
        for o in &self.overrides {
            let any_of = |wanted: &[String], value: Option<&str>| {
                wanted.is_empty()
                    || value.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
            };
            let applies = any_of(&o.kinds, Some(&e.kind))
                && any_of(&o.types, e.spec_type.as_deref())
                && o.annotations
                    .iter()
                    .all(|a| e.annotations.get(a).is_some_and(|v| !v.is_empty()));
            if applies {
                if let Some(q) = o.signals.get(&id) {
                    return Ok(q.clone());
                }
            }
        }
        Ok(self.signals.get(&id).cloned().flatten())
    }

    /// Logs a bad query once per template.
    fn report_bad_query(&self, source: &str, server: &str, message: &str) {
        let first = self
            .reported
            .lock()
            .map(|mut r| r.insert(source.to_string()))
            .unwrap_or(false);
        if first {
            tracing::warn!(
                prometheus.template = %source,
                prometheus.server = %server,
                error = %message,
                "Prometheus refused a query as bad; fix the template"
            );
        }
    }

    /// The alert matchers for an entity: `prometheus.io/labels` (`a=b,c=d`), else the
    /// configured ones filled from the entity; `None` when a value is missing.
    fn alert_matchers(&self, e: &EntityValues) -> Option<Vec<(String, String)>> {
        if let Some(text) = e.annotations.get("prometheus.io/labels") {
            let pairs: Vec<(String, String)> = text
                .split(',')
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((
                        k.trim().to_string(),
                        v.trim().trim_matches(['"', '\'']).to_string(),
                    ))
                })
                .filter(|(k, _)| !k.is_empty())
                .collect();
            return (!pairs.is_empty()).then_some(pairs);
        }
        self.alert_labels
            .iter()
            .map(|(label, t)| Some((label.clone(), t.render(e).ok()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod real_tests;

#[cfg(test)]
mod api_tests;
