//! Scorecards on the entity page: each scorecard that applies, the level reached, and every
//! check passed (✓) or failed (✗) with why and how to fix it. Server-rendered HTML only:
//! nothing here is an island.

use crate::api::get_entity_scorecards;
use crate::model::EntityRef;
use crate::scorecards::ScorecardResult;
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
