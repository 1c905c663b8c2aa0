//! An entity's and a team's golden signals and firing alerts, as pages (and
//! `GET /api/observability/entities/{namespace}/{kind}/{name}/signals`) show them: queries
//! filled per place the entity runs, answered through the shared cache, sparklines drawn here
//! as SVG paths. Alerts come from each place's alert source (its server, or the Alertmanager
//! configured for it), silenced and inhibited ones marked so. What a caller sees follows the
//! catalog's read permission; places (clusters and namespaces) only when they may read the
//! entity's Kubernetes resources.

use super::client::Alert;
use super::config::SignalId;
use super::{PromError, PromService};
use crate::catalog::facade::Facade;
use crate::http::guarded::may_read_kubernetes;
use crate::k8s::service::Placement;
use crate::k8s::KubeService;
use crate::observability::links::{EntityValues, InPlace};
use crate::observability::template::{NotShown, Values};
use app::model::{Caller, EntityRef};
use app::observability::{
    firing_count, AlertState, EntitySignals, FiringAlert, PlaceSignals, SignalView, Stale,
    TeamSignals, TeamSignalsRow, SIGNAL_RANGES,
};
use app::services::{BoxFuture, SignalsReader};
use futures_util::future::join_all;
use std::sync::Arc;

/// The sparkline's box.
pub const SPARK_WIDTH: f64 = 120.0;
pub const SPARK_HEIGHT: f64 = 28.0;

/// Most services a team's table asks about.
const TEAM_ROWS: usize = 50;

/// `HH:MM:SS` (UTC) of unix seconds.
fn clock(unix: i64) -> String {
    let s = unix.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn stale(failed: &Option<(Option<i64>, PromError)>) -> Option<Stale> {
    failed.as_ref().map(|(since, e)| Stale {
        since: since.map(clock),
        reason: e.to_string(),
    })
}

/// An SVG path through `points` over `[start, end]`, scaled to the box (lowest value at the
/// bottom); a gap of more than two steps starts a new segment. `None` without points.
pub fn sparkline(points: &[(f64, f64)], start: f64, end: f64, step: f64) -> Option<String> {
    let (first, _) = points.first()?;
    let low = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let high = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span = (end - start).max(1.0);
    let pad = 2.0;
    let h = SPARK_HEIGHT - 2.0 * pad;
    let y = |v: f64| {
        if high > low {
            pad + h - (v - low) / (high - low) * h
        } else {
            pad + h / 2.0
        }
    };
    let x = |t: f64| ((t - start) / span * SPARK_WIDTH).clamp(0.0, SPARK_WIDTH);
    let mut d = String::new();
    let mut last = *first - 3.0 * step;
    for &(t, v) in points {
        let cmd = if t - last > 2.0 * step { 'M' } else { 'L' };
        if !d.is_empty() {
            d.push(' ');
        }
        d.push_str(&format!("{cmd}{:.1} {:.1}", x(t), y(v)));
        last = t;
    }
    Some(d)
}

pub struct SignalsViews {
    pub prom: Arc<PromService>,
    pub kube: Arc<KubeService>,
    pub facade: Facade,
}

/// What is needed of an entity, read before any await.
struct Subject {
    entity: EntityRef,
    title: Option<String>,
    values: EntityValues,
    placements: Vec<Placement>,
}

/// `production · prod-eu, namespace shop`.
fn place_label(p: &Placement) -> String {
    if p.environment == p.cluster {
        format!("{}, namespace {}", p.cluster, p.namespace)
    } else {
        format!(
            "{} · {}, namespace {}",
            p.environment, p.cluster, p.namespace
        )
    }
}

/// The seconds of a range as written (`1h`…); unknown: the first.
pub fn range_seconds(range: &str) -> (&'static str, u64) {
    SIGNAL_RANGES
        .iter()
        .find(|(r, _)| *r == range)
        .copied()
        .unwrap_or(SIGNAL_RANGES[0])
}

impl PromService {
    /// The signals of one place (`None`: the entity as a whole).
    pub(super) async fn place_signals(
        &self,
        e: &EntityValues,
        place: Option<&Placement>,
        range: u64,
        sparklines: bool,
        with_points: bool,
    ) -> Option<PlaceSignals> {
        let server_index =
            self.server_for(place.map(|p| (p.cluster.as_str(), p.environment.as_str())))?;
        let server = self.servers[server_index].clone();
        let step = self.step(range);
        let in_place;
        let values: &dyn Values = match place {
            Some(p) => {
                in_place = InPlace {
                    entity: e,
                    place: p,
                };
                &in_place
            }
            None => e,
        };
        let mut asks = Vec::new();
        for id in SignalId::ALL {
            match self.query_for(id, e) {
                Ok(Some(q)) => match q.template.render(values) {
                    Ok(text) => asks.push((id, Ok((q.source, text)))),
                    // A value the query needs is missing here (no namespace outside a
                    // cluster): the signal does not apply.
                    Err(NotShown::Missing(_) | NotShown::NotHttp) => {}
                },
                Ok(None) => {}
                Err(message) => asks.push((id, Err(message))),
            }
        }
        if asks.is_empty() {
            return None;
        }
        let answers = join_all(asks.into_iter().map(|(id, ask)| {
            let server = server.clone();
            async move {
                match ask {
                    Ok((source, query)) => {
                        let answer = self
                            .cache
                            .range(server_index, &server, &query, range, step)
                            .await;
                        if let Some((_, PromError::BadQuery(m))) = &answer.failed {
                            self.report_bad_query(&source, &server.name, m);
                        }
                        (id, answer.value, stale(&answer.failed))
                    }
                    Err(message) => (
                        id,
                        None,
                        Some(Stale {
                            since: None,
                            reason: message,
                        }),
                    ),
                }
            }
        }))
        .await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let end = now - now.rem_euclid(step as f64);
        let signals = answers
            .into_iter()
            .map(|(id, points, stale)| {
                let points: &[(f64, f64)] = points.as_deref().map_or(&[][..], Vec::as_slice);
                view(
                    id,
                    points,
                    end - range as f64,
                    end,
                    step as f64,
                    stale,
                    sparklines,
                    with_points,
                )
            })
            .collect();
        Some(PlaceSignals {
            place: place.map(place_label).unwrap_or_default(),
            cluster: place.map(|p| p.cluster.clone()),
            server: server.name.clone(),
            signals,
        })
    }

    /// The alert sources (indices in `alert_sources`) of an entity's places: each place's
    /// server's, or the default server's when it runs nowhere known.
    pub(super) fn alert_sources_for(&self, placements: &[Placement]) -> Vec<usize> {
        let mut sources: Vec<usize> = if placements.is_empty() {
            self.server_for(None).into_iter().collect()
        } else {
            placements
                .iter()
                .filter_map(|p| self.server_for(Some((p.cluster.as_str(), p.environment.as_str()))))
                .collect()
        };
        for s in &mut sources {
            *s = self.alert_source_of[*s];
        }
        sources.sort_unstable();
        sources.dedup();
        sources
    }

    /// One alert source's alerts, through the shared cache (asked at most once per
    /// `min_step_seconds`).
    pub(super) async fn source_alerts(&self, source: usize) -> super::cache::Answer<Vec<Alert>> {
        let server = self.alert_sources[source].clone();
        self.cache.alerts(source, &server, self.min_step).await
    }

    /// The active alerts of an entity from the alert source of every place it runs, firing
    /// ones first.
    pub(super) async fn entity_alerts(
        &self,
        e: &EntityValues,
        placements: &[Placement],
    ) -> (Vec<FiringAlert>, Option<Stale>) {
        let Some(matchers) = self.alert_matchers(e) else {
            return (Vec::new(), None);
        };
        let sources = self.alert_sources_for(placements);
        let answers = join_all(sources.iter().map(|&i| async move {
            (
                self.alert_sources[i].name.clone(),
                self.source_alerts(i).await,
            )
        }))
        .await;
        let mut alerts = Vec::new();
        let mut failed = None;
        for (server, answer) in answers {
            if failed.is_none() {
                failed = stale(&answer.failed);
            }
            for a in answer.value.iter().flat_map(|a| a.iter()) {
                if matches(a, &matchers) {
                    alerts.push(firing(a, &server));
                }
            }
        }
        // Firing first (a stable sort: each source's order within).
        alerts.sort_by_key(|a| a.state != AlertState::Firing);
        (alerts, failed)
    }
}

/// Whether `alert` is active (firing, or muted in Alertmanager; not pending) with every
/// matcher's label equal.
pub(super) fn matches(alert: &Alert, matchers: &[(String, String)]) -> bool {
    matches!(alert.state.as_str(), "firing" | "silenced" | "inhibited")
        && matchers
            .iter()
            .all(|(k, v)| alert.labels.get(k).is_some_and(|l| l == v))
}

fn firing(a: &Alert, server: &str) -> FiringAlert {
    FiringAlert {
        name: a
            .labels
            .get("alertname")
            .cloned()
            .unwrap_or_else(|| "(unnamed)".into()),
        severity: a.labels.get("severity").cloned(),
        summary: a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("description"))
            .cloned(),
        active_at: a.active_at.clone(),
        server: server.to_string(),
        state: match a.state.as_str() {
            "silenced" => AlertState::Silenced,
            "inhibited" => AlertState::Inhibited,
            _ => AlertState::Firing,
        },
    }
}

/// One signal's view: its sparkline drawn (pages) and/or its points given (the REST API).
#[allow(clippy::too_many_arguments)]
fn view(
    id: SignalId,
    points: &[(f64, f64)],
    start: f64,
    end: f64,
    step: f64,
    stale: Option<Stale>,
    sparklines: bool,
    with_points: bool,
) -> SignalView {
    let low = points.iter().map(|p| p.1).reduce(f64::min);
    let high = points.iter().map(|p| p.1).reduce(f64::max);
    SignalView {
        key: id.key().to_string(),
        title: id.title().to_string(),
        unit: id.unit(),
        value: points.last().map(|p| p.1),
        spark: if sparklines {
            sparkline(points, start, end, step)
        } else {
            None
        },
        low,
        high,
        stale,
        points: with_points.then(|| points.iter().map(|&(t, v)| [t, v]).collect()),
    }
}

impl SignalsViews {
    fn subject(&self, caller: &Caller, kind: &str, namespace: &str, name: &str) -> Option<Subject> {
        let visible = self.facade.read(caller);
        let record = visible.get(kind, namespace, name)?;
        let placements = if may_read_kubernetes(&self.facade, caller, kind, namespace, name) {
            self.kube.placements(kind, namespace, name)
        } else {
            Vec::new()
        };
        Some(Subject {
            entity: record.entity_ref().clone(),
            title: record.title().map(str::to_string),
            values: EntityValues::of(&record.stored.value()),
            placements,
        })
    }

    async fn signals_of(
        &self,
        s: &Subject,
        range: u64,
        sparklines: bool,
        points: bool,
        first_only: bool,
    ) -> Vec<PlaceSignals> {
        let prom = &self.prom;
        if s.placements.is_empty() {
            return prom
                .place_signals(&s.values, None, range, sparklines, points)
                .await
                .into_iter()
                .collect();
        }
        let places = if first_only {
            &s.placements[..1]
        } else {
            &s.placements[..]
        };
        join_all(
            places
                .iter()
                .map(|p| prom.place_signals(&s.values, Some(p), range, sparklines, points)),
        )
        .await
        .into_iter()
        .flatten()
        .collect()
    }

    /// An entity's signals over `range` as its page shows them (sparklines); `None`: no such
    /// entity for this caller.
    pub async fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
        range: &str,
    ) -> Option<EntitySignals> {
        self.entity_with(caller, kind, namespace, name, range, false)
            .await
    }

    /// The same numbers and alerts with each signal's series (`points`) instead of its
    /// sparkline, for the REST API.
    pub async fn entity_series(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
        range: &str,
    ) -> Option<EntitySignals> {
        self.entity_with(caller, kind, namespace, name, range, true)
            .await
    }

    async fn entity_with(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
        range: &str,
        series: bool,
    ) -> Option<EntitySignals> {
        let (range, seconds) = range_seconds(range);
        let subject = self.subject(caller, kind, namespace, name)?;
        if !self.prom.is_configured() {
            return Some(EntitySignals {
                entity: subject.entity,
                configured: false,
                range: range.to_string(),
                places: Vec::new(),
                alerts: Vec::new(),
                alerts_stale: None,
            });
        }
        let (places, (alerts, alerts_stale)) = futures_util::future::join(
            self.signals_of(&subject, seconds, !series, series, false),
            self.prom
                .entity_alerts(&subject.values, &subject.placements),
        )
        .await;
        Some(EntitySignals {
            entity: subject.entity,
            configured: true,
            range: range.to_string(),
            places,
            alerts,
            alerts_stale,
        })
    }

    /// A team's services' signals (the first place of each, the last hour), worst first (most
    /// firing alerts first; silenced ones do not count).
    pub async fn team(&self, caller: &Caller, namespace: &str, name: &str) -> Option<TeamSignals> {
        let subjects: Vec<Subject> = {
            let visible = self.facade.read(caller);
            let group = visible.get("group", namespace, name)?;
            let mut owned: Vec<(String, String, String)> = group
                .related("ownerOf")
                .filter_map(|relation| visible.target(relation))
                .map(|(_, e)| e.entity_ref().clone())
                .filter(|r| r.kind.eq_ignore_ascii_case("component"))
                .map(|r| (r.kind, r.namespace, r.name))
                .collect();
            owned.sort();
            owned.dedup();
            owned.truncate(TEAM_ROWS);
            drop(visible);
            owned
                .iter()
                .filter_map(|(k, ns, n)| self.subject(caller, k, ns, n))
                .collect()
        };
        if !self.prom.is_configured() {
            return Some(TeamSignals {
                configured: false,
                rows: Vec::new(),
            });
        }
        let range = SIGNAL_RANGES[0].1;
        let mut rows: Vec<TeamSignalsRow> = join_all(subjects.iter().map(|s| async move {
            let (places, (alerts, _)) = futures_util::future::join(
                self.signals_of(s, range, false, false, true),
                self.prom.entity_alerts(&s.values, &s.placements),
            )
            .await;
            let signals = places
                .into_iter()
                .next()
                .map(|p| p.signals)
                .unwrap_or_default();
            TeamSignalsRow {
                entity: s.entity.clone(),
                title: s.title.clone(),
                signals,
                alerts,
            }
        }))
        .await
        .into_iter()
        // Services with nothing to show (no series matched, nothing firing) are left out.
        .filter(|r| {
            !r.alerts.is_empty()
                || r.signals
                    .iter()
                    .any(|s| s.value.is_some() || s.stale.is_some())
        })
        .collect();
        let value = |r: &TeamSignalsRow, key: &str| {
            r.signals
                .iter()
                .find(|s| s.key == key)
                .and_then(|s| s.value)
                .unwrap_or(f64::NEG_INFINITY)
        };
        rows.sort_by(|a, b| {
            firing_count(&b.alerts)
                .cmp(&firing_count(&a.alerts))
                .then(value(b, "error-ratio").total_cmp(&value(a, "error-ratio")))
                .then(value(b, "latency-p99").total_cmp(&value(a, "latency-p99")))
                .then(a.entity.name.cmp(&b.entity.name))
        });
        Some(TeamSignals {
            configured: true,
            rows,
        })
    }
}

impl SignalsReader for SignalsViews {
    fn entity(
        self: Arc<Self>,
        caller: Caller,
        kind: String,
        namespace: String,
        name: String,
        range: String,
    ) -> BoxFuture<Option<EntitySignals>> {
        Box::pin(async move {
            SignalsViews::entity(&self, &caller, &kind, &namespace, &name, &range).await
        })
    }

    fn team(
        self: Arc<Self>,
        caller: Caller,
        namespace: String,
        name: String,
    ) -> BoxFuture<Option<TeamSignals>> {
        Box::pin(async move { SignalsViews::team(&self, &caller, &namespace, &name).await })
    }
}
