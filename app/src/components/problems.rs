//! Processing problems: the prominent alert on entity pages and the lists on the errors page.

use crate::components::common::IconAlert;
use crate::format::{plural, problem_location};
use crate::model::{ProblemView, Severity};
use leptos::prelude::*;

/// One problem: severity, message and where it was found (file, document, line, field).
#[component]
pub fn ProblemItem(problem: ProblemView) -> impl IntoView {
    let (class, label) = match problem.severity {
        Severity::Error => ("problem problem-error", "Error"),
        Severity::Warning => ("problem problem-warning", "Warning"),
    };
    let location = problem_location(&problem);
    view! {
        <li class=class>
            <span class="problem-severity">{label}</span>
            <div class="problem-body">
                <p class="problem-message">{problem.message}</p>
                {(!location.is_empty())
                    .then(|| {
                        view! {
                            <dl class="problem-where">
                                {location
                                    .into_iter()
                                    .map(|(k, v)| {
                                        view! {
                                            <div>
                                                <dt>{k}</dt>
                                                <dd>
                                                    <code>{v}</code>
                                                </dd>
                                            </div>
                                        }
                                    })
                                    .collect_view()}
                            </dl>
                        }
                    })}
            </div>
        </li>
    }
}

#[component]
pub fn ProblemList(problems: Vec<ProblemView>) -> impl IntoView {
    view! {
        <ul class="problem-list">
            {problems.into_iter().map(|problem| view! { <ProblemItem problem/> }).collect_view()}
        </ul>
    }
}

/// The alert at the top of an entity page; nothing when there are no problems.
#[component]
pub fn ProblemsAlert(problems: Vec<ProblemView>) -> impl IntoView {
    if problems.is_empty() {
        return None;
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    let (class, title) = if errors > 0 {
        (
            "alert alert-error",
            format!(
                "This entity has {}{}",
                plural(errors, "processing error", "processing errors"),
                if warnings > 0 {
                    format!(" and {}", plural(warnings, "warning", "warnings"))
                } else {
                    String::new()
                }
            ),
        )
    } else {
        (
            "alert alert-warning",
            format!(
                "This entity has {}",
                plural(warnings, "warning", "warnings")
            ),
        )
    };
    Some(view! {
        <section class=class role="alert" aria-label="Processing problems">
            <IconAlert/>
            <div class="alert-content">
                <h2 class="alert-title">{title}</h2>
                <ProblemList problems/>
            </div>
        </section>
    })
}

/// Shown on an entity whose repository could not be read on the last attempt: what the page
/// shows is the last good version.
#[component]
pub fn StaleAlert(repository: Option<crate::model::RepositoryView>) -> impl IntoView {
    let repo = repository?;
    let error = repo.stale_error?;
    let since = repo
        .last_success_at
        .as_deref()
        .map(|s| {
            format!(
                " It was last read successfully at {}.",
                crate::format::short_time(s)
            )
        })
        .unwrap_or_default();
    Some(view! {
        <div class="alert alert-warning" role="status" data-testid="stale-alert">
            <IconAlert/>
            <div>
                <p>
                    <strong>"Stale: "</strong>
                    {format!(
                        "Backlot could not read {} on its last attempt, so this is the last good version.{since}",
                        repo.url,
                    )}
                </p>
                <p class="muted small">{error}</p>
            </div>
        </div>
    })
}
