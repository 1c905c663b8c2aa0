//! `/settings/tokens`: the signed-in user's API tokens (name, scopes, created, expires, last
//! used) with a revoke button each, and a form to make one.
//!
//! Plain HTML forms, the same with and without JavaScript: "Create token" posts to
//! [`CREATE_TOKEN_PATH`] and "Revoke" to [`REVOKE_TOKEN_PATH`]; the server answers with a
//! redirect back here (`created=1`, `revoked=1` or `error=<message>`). A new token is never put
//! in the URL: the server keeps it in the session until this page shows it, once.

use crate::api::get_api_tokens;
use crate::components::common::{ErrorNotice, Loading};
use crate::format::short_time;
use crate::model::{ApiTokenView, NewApiToken, TokenSettings};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where the form that makes a token posts.
pub const CREATE_TOKEN_PATH: &str = "/settings/tokens/create";
/// Where a token's "Revoke" button posts.
pub const REVOKE_TOKEN_PATH: &str = "/settings/tokens/revoke";
/// This page.
pub const TOKENS_PATH: &str = "/settings/tokens";

/// The scopes a token may have, with what each allows.
pub const SCOPES: [(&str, &str); 4] = [
    (
        "read",
        "read the catalog, locations, Kubernetes views and templates",
    ),
    ("locations", "register and remove locations"),
    ("refresh", "refresh entities and locations"),
    ("templates", "run templates"),
];

#[component]
pub fn TokensPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |k: &str| query.with(|q| q.get(k)).filter(|v| !v.trim().is_empty());
    let settings = Resource::new(|| (), |_| get_api_tokens());
    let revoked = field("revoked").is_some();
    let failed = field("error");
    view! {
        <Title text="Backlot — API tokens"/>
        <div class="page-header">
            <h1>"API tokens"</h1>
            <p class="muted">
                "Tokens let CI jobs and scripts call Backlot's API as you, limited to the scopes you give them: send "
                <code>"Authorization: Bearer <token>"</code> "."
            </p>
        </div>
        {failed.map(|e| view! { <ErrorNotice message=e/> })}
        {revoked.then(|| view! { <p class="alert" role="status">"The token was revoked."</p> })}
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(e) => view! { <ErrorNotice message=e.to_string()/> }.into_any(),
                    Ok(s) => view! { <TokenSettingsView settings=s/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TokenSettingsView(settings: TokenSettings) -> impl IntoView {
    if !settings.enabled {
        return view! {
            <p class="muted">"Sign-in is not configured on this Backlot: API tokens need it."</p>
        }
        .into_any();
    }
    if !settings.signed_in {
        return view! {
            <p>
                <a href="/signin?redirect=%2Fsettings%2Ftokens">"Sign in"</a>
                " to make and revoke API tokens."
            </p>
        }
        .into_any();
    }
    view! {
        {settings.created.map(|created| view! { <CreatedToken created/> })}
        <section class="card" aria-labelledby="new-token-heading">
            <h2 id="new-token-heading" class="card-title">"New token"</h2>
            <NewTokenForm/>
        </section>
        <TokenTable tokens=settings.tokens/>
    }
    .into_any()
}

/// The token just made, shown this once.
#[component]
fn CreatedToken(created: NewApiToken) -> impl IntoView {
    view! {
        <div class="alert new-token" role="status" data-testid="new-token">
            <div>
                <p class="alert-title">{format!("Token \"{}\" created", created.name)}</p>
                <p>"Copy it now: it is not shown again."</p>
                <p>
                    <code class="break token-value">{created.token}</code>
                </p>
            </div>
        </div>
    }
}

#[component]
fn NewTokenForm() -> impl IntoView {
    view! {
        <form method="post" action=CREATE_TOKEN_PATH class="token-form">
            <label>
                <span>"Name"</span>
                <input type="text" name="name" required maxlength="100" placeholder="ci-deploy" autocomplete="off"/>
            </label>
            <fieldset>
                <legend>"Scopes"</legend>
                {SCOPES
                    .into_iter()
                    .map(|(scope, what)| {
                        view! {
                            <label class="checkbox">
                                <input type="checkbox" name="scope" value=scope checked=scope == "read"/>
                                <code>{scope}</code>
                                <span class="muted small">{what}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <label>
                <span>"Expires in"</span>
                <select name="expires_in_days">
                    <option value="7">"7 days"</option>
                    <option value="30" selected>"30 days"</option>
                    <option value="90">"90 days"</option>
                    <option value="180">"180 days"</option>
                    <option value="365">"365 days"</option>
                </select>
            </label>
            <div>
                <button type="submit" class="button button-primary">"Create token"</button>
            </div>
        </form>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiTokenView>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"You have no API tokens."</p> }.into_any();
    }
    view! {
        <section aria-labelledby="tokens-heading" class="section">
            <h2 id="tokens-heading">"Your tokens " <span class="count">{tokens.len()}</span></h2>
            <div class="table-scroll">
                <table class="catalog-table tokens-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Scopes"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {tokens.into_iter().map(|t| view! { <TokenRow t/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn TokenRow(t: ApiTokenView) -> impl IntoView {
    let expires = if t.expired {
        format!("expired {}", short_time(&t.expires_at))
    } else {
        short_time(&t.expires_at)
    };
    let label = format!("Revoke {}", t.name);
    let row_id = t.id.clone();
    view! {
        <tr data-token=row_id>
            <td>{t.name.clone()}</td>
            <td>
                {t.scopes.into_iter().map(|s| view! { <span class="chip">{s}</span> " " }).collect_view()}
            </td>
            <td class="small">{short_time(&t.created_at)}</td>
            <td class="small">{expires}</td>
            <td class="small">{t.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
            <td>
                <form method="post" action=REVOKE_TOKEN_PATH>
                    <input type="hidden" name="id" value=t.id/>
                    <button type="submit" class="button button-small" aria-label=label>"Revoke"</button>
                </form>
            </td>
        </tr>
    }
}
