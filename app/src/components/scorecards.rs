//! Scorecards on the entity page: each scorecard that applies, the level reached, and every
//! check passed (✓) or failed (✗) with why and how to fix it. Server-rendered HTML only:
//! nothing here is an island.

use crate::api::{get_entity_scorecards, get_team_scorecards};
use crate::model::EntityRef;
use crate::scorecards::{ScorecardResult, ScorecardTrend};
use leptos::prelude::*;

/// The level badge: the level reached, or "no level".
#[component]
pub fn LevelBadge(level: Option<String>) -> impl IntoView {
    match level {
        Some(l) => {
            let shown = l.clone();
            view! { <span class="badge level-badge" data-level=l>{shown}</span> }.into_any()
        }
        None => {
            view! { <span class="badge badge-error level-badge" data-level="">"no level"</span> }
                .into_any()
        }
    }
}

/// One scorecard's result: title, badge, what the next level needs, the checks.
#[component]
fn ScorecardBlock(result: ScorecardResult) -> impl IntoView {
    let next = result.next_level.clone().map(|next| {
        format!(
            "{} of {} checks pass. Next level: {next}.",
            result.passed, result.total
        )
    });
    let summary = next.unwrap_or_else(|| format!("All {} checks pass.", result.total));
    view! {
        <div class="scorecard" data-scorecard=result.name.clone()>
            <h3 class="subheading">
                {result.title.clone()} " " <LevelBadge level=result.level.clone()/>
            </h3>
            <p class="muted">{summary}</p>
            <ul class="scorecard-checks">
                {result
                    .checks
                    .into_iter()
                    .map(|c| {
                        let (mark, label, class) = if c.passed {
                            ("✓", "passed", "check-passed")
                        } else {
                            ("✗", "failed", "check-failed")
                        };
                        let fix = (!c.passed && !c.fix.is_empty())
                            .then(|| view! { <div class="check-fix">"How to fix: " {c.fix.clone()}</div> });
                        view! {
                            <li class=class data-check=c.id.clone()>
                                <span class="check-mark" aria-label=label>{mark}</span>
                                " "
                                <strong>{c.title}</strong>
                                <span class="muted">" · " {c.level}</span>
                                <div class="check-reason">{c.reason}</div>
                                {fix}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

/// The entity's scorecards on its overview; nothing when none applies.
#[component]
pub fn ScorecardsCard(entity: EntityRef) -> impl IntoView {
    let data = Resource::new(
        move || {
            (
                entity.kind.clone(),
                entity.namespace.clone(),
                entity.name.clone(),
            )
        },
        |(k, ns, n)| get_entity_scorecards(k, ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let results = data.await.ok().filter(|r| !r.scorecards.is_empty())?;
                Some(view! {
                    <section class="card" id="scorecards" aria-labelledby="scorecards-heading">
                        <h2 id="scorecards-heading" class="card-title">
                            "Scorecards"
                        </h2>
                        {results
                            .scorecards
                            .into_iter()
                            .map(|result| view! { <ScorecardBlock result/> })
                            .collect_view()}
                    </section>
                })
            })}
        </Suspense>
    }
}

/// One scorecard's 30-day trend for a team, as an SVG line chart drawn on the server: per
/// level, how many of the team's entities reached it (or a higher one) each day.
#[component]
fn TrendChart(trend: ScorecardTrend) -> impl IntoView {
    const W: f64 = 300.0;
    const H: f64 = 80.0;
    let paths = trend.paths(W, H);
    let reaching = trend.reaching();
    let first = trend.days.first().cloned().unwrap_or_default();
    let last = trend.days.last().cloned().unwrap_or_default();
    let top = trend.top();
    let today: Vec<String> = trend
        .levels
        .iter()
        .zip(&reaching)
        .map(|(l, line)| format!("{l} {}", line.last().copied().unwrap_or(0)))
        .collect();
    let label = format!(
        "{}: entities reaching each level from {first} to {last}; today {}",
        trend.title,
        today.join(", ")
    );
    let lines = paths
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let class = format!("trend-level-{}", i % 4);
            view! { <path class=class d=d data-level=trend.levels.get(i).cloned()></path> }
        })
        .collect_view();
    let legend = trend
        .levels
        .iter()
        .zip(&reaching)
        .enumerate()
        .map(|(i, (l, line))| {
            let class = format!("trend-level-{}", i % 4);
            let n = line.last().copied().unwrap_or(0);
            view! { <li class=class>"━ " {l.clone()} " or above: " {n}</li> }
        })
        .collect_view();
    view! {
        <figure class="scorecard-trend" data-trend=trend.name.clone()>
            <figcaption class="muted">
                {trend.title.clone()} ": last 30 days (" {first} " to " {last} "; top: " {top} ")"
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=label preserveAspectRatio="none">
                {lines}
            </svg>
            <ul class="trend-legend">{legend}</ul>
        </figure>
    }
}

/// A team's rollup on its group page: what it owns, each entity's level, worst first, with the
/// checks that fail; nothing when no scorecard applies to what it owns.
#[component]
pub fn TeamScorecardsCard(namespace: String, name: String) -> impl IntoView {
    let data = Resource::new(
        move || (namespace.clone(), name.clone()),
        |(ns, n)| get_team_scorecards(ns, n),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let team = data.await.ok().filter(|t| !t.entities.is_empty() || !t.trend.is_empty())?;
                let trend = team
                    .trend
                    .into_iter()
                    .map(|trend| view! { <TrendChart trend/> })
                    .collect_view();
                Some(view! {
                    <section class="card" id="team-scorecards" aria-labelledby="team-scorecards-heading">
                        <h2 id="team-scorecards-heading" class="card-title">
                            "Scorecards"
                        </h2>
                        <p class="muted">"What the team owns, worst first."</p>
                        <ul class="scorecard-checks team-scorecards">
                            {team
                                .entities
                                .into_iter()
                                .map(|e| {
                                    let href = format!("{}#scorecards", e.entity.href());
                                    let shown = e.title.clone().unwrap_or_else(|| e.entity.name.clone());
                                    let failing = (!e.failing.is_empty())
                                        .then(|| view! { <div class="check-reason">"Failing: " {e.failing.join(", ")}</div> });
                                    view! {
                                        <li data-entity=e.entity.name.clone()>
                                            <a href=href>{shown}</a>
                                            " "
                                            <LevelBadge level=e.level/>
                                            <span class="muted">" · " {e.scorecard}</span>
                                            {failing}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        {trend}
                    </section>
                })
            })}
        </Suspense>
    }
}
