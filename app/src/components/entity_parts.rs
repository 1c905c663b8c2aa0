//! Parts of the entity pages shared by every kind (and by the group and user pages): header,
//! About card, links, labels, annotations, source, and the relations, API definition and raw
//! JSON tabs. Which tabs there are is the pages' table (`pages::entity::TABS`).

use crate::api::visit_entity;
use crate::components::common::{EntityLink, ErrorBadge, IconExternal, KindBadge, Tags};
use crate::components::observability::ObservabilityCard;
use crate::format::{
    is_safe_image_url, is_safe_url, kind_label, kind_plural, pretty_json, relation_label,
};
use crate::home::{StarState, STAR_PATH};
use crate::model::EntityRef;
use crate::model::{
    AccessView, EntityDetail, LinkView, ProfileView, RelationView, RepositoryView, SignInState,
    SourceView,
};
use crate::query::{catalog_href, with_kind};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// Breadcrumb, title, reference, badges, description and tags.
#[component]
pub fn EntityHeader(detail: EntityDetail) -> impl IntoView {
    let s = detail.summary;
    let r = s.entity_ref.clone();
    let kind_lower = r.kind.to_ascii_lowercase();
    let kind_list = catalog_href(&with_kind(&Default::default(), Some(&kind_lower)));
    let heading = s
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| r.name.clone());
    let reference = r.to_ref_string();
    view! {
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <ol>
                <li>
                    <a href="/catalog">"Catalog"</a>
                </li>
                <li>
                    <a href=kind_list>{kind_plural(&r.kind)}</a>
                </li>
                <li aria-current="page">{r.display()}</li>
            </ol>
        </nav>
        <div class="entity-header">
            <div class="entity-title-row">
                <h1>{heading}</h1>
                <KindBadge kind=r.kind.clone()/>
                {s.spec_type.map(|t| view! { <span class="chip">{t}</span> })}
                {s.lifecycle.map(|l| view! { <span class="chip chip-lifecycle">{l}</span> })}
                <ErrorBadge count=s.error_count/>
                <StarButton entity=r.clone()/>
            </div>
            <p class="entity-ref">
                <code>{reference}</code>
            </p>
            {s.description.map(|d| view! { <p class="entity-description">{d}</p> })}
            <Tags tags=s.tags/>
        </div>
    }
}

/// "☆ Star" / "★ Starred" for a signed-in user: a plain form post to [`STAR_PATH`] that comes
/// back to this page. Asking for the star also records the visit (the home page's "Recently
/// visited"). Nothing for the guest.
#[component]
pub fn StarButton(entity: EntityRef) -> impl IntoView {
    let location = use_location();
    let back = {
        let path = location.pathname.get_untracked();
        let search = location.search.get_untracked();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    let reference = entity.to_ref_string();
    let state = Resource::new(
        || (),
        move |_| {
            visit_entity(
                entity.kind.clone(),
                entity.namespace.clone(),
                entity.name.clone(),
            )
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (back, reference) = (back.clone(), reference.clone());
                Suspend::new(async move {
                    match state.await {
                        Ok(StarState { signed_in: true, starred }) => {
                            let (value, label, title) = if starred {
                                ("0", "★ Starred", "Remove from your stars on the home page")
                            } else {
                                ("1", "☆ Star", "Keep it among your stars on the home page")
                            };
                            view! {
                                <form method="post" action=STAR_PATH class="star-form">
                                    <input type="hidden" name="entity" value=reference/>
                                    <input type="hidden" name="star" value=value/>
                                    <input type="hidden" name="back" value=back/>
                                    <button
                                        type="submit"
                                        class="button button-small star-button"
                                        aria-pressed=if starred { "true" } else { "false" }
                                        title=title
                                    >
                                        {label}
                                    </button>
                                </form>
                            }
                            .into_any()
                        }
                        _ => ().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A relation's target: a link, or plain text marked "missing" when it is dangling.
#[component]
pub fn RelationTarget(relation: RelationView) -> impl IntoView {
    if relation.target_exists {
        let label = relation
            .target_title
            .clone()
            .filter(|t| !t.trim().is_empty());
        match label {
            Some(label) => view! { <EntityLink entity=relation.target label/> }.into_any(),
            None => view! { <EntityLink entity=relation.target/> }.into_any(),
        }
    } else {
        let reference = relation.target.to_ref_string();
        view! {
            <span class="dangling" title=format!("{reference} is not in the catalog")>
                {relation.target.display()}
            </span>
            " "
            <span class="badge badge-missing">"missing"</span>
        }
        .into_any()
    }
}

/// Targets of one relation type, as an inline list.
fn relation_targets(relations: Vec<RelationView>) -> impl IntoView {
    const SHOWN: usize = 12;
    let more = relations.len().saturating_sub(SHOWN);
    view! {
        <ul class="inline-list">
            {relations
                .into_iter()
                .take(SHOWN)
                .map(|relation| view! { <li><RelationTarget relation/></li> })
                .collect_view()}
            {(more > 0).then(|| view! { <li class="muted">{format!("and {more} more")}</li> })}
        </ul>
    }
}

/// Relation types shown in the About card, in order, with their wording there.
const ABOUT_RELATIONS: [(&str, &str); 12] = [
    ("providesApi", "Provides APIs"),
    ("consumesApi", "Consumes APIs"),
    ("apiProvidedBy", "Providers"),
    ("apiConsumedBy", "Consumers"),
    ("dependsOn", "Depends on"),
    ("dependencyOf", "Dependency of"),
    ("hasPart", "Has parts"),
    ("partOf", "Part of"),
    ("childOf", "Parent"),
    ("parentOf", "Children"),
    ("memberOf", "Member of"),
    ("hasMember", "Members"),
];

fn relations_of(detail: &EntityDetail, relation_type: &str) -> Vec<RelationView> {
    detail
        .relations
        .iter()
        .filter(|r| r.relation_type == relation_type)
        .cloned()
        .collect()
}

/// Owner, system, domain, lifecycle, type and the kind's key relations.
#[component]
pub fn AboutCard(detail: EntityDetail) -> impl IntoView {
    let s = detail.summary.clone();
    let is_kind = |r: &RelationView, k: &str| r.target.kind.eq_ignore_ascii_case(k);
    let part_of = relations_of(&detail, "partOf");
    let domains: Vec<RelationView> = part_of
        .iter()
        .filter(|r| is_kind(r, "domain"))
        .cloned()
        .collect();
    // The system comes from the summary; `partOf` to systems and domains has its own rows.
    let owners = relations_of(&detail, "ownedBy");
    let owner_row = if owners.is_empty() {
        s.owner
            .clone()
            .map(|o| view! { <EntityLink entity=o/> }.into_any())
    } else {
        Some(relation_targets(owners).into_any())
    };
    let system_row = s
        .system
        .clone()
        .map(|sys| view! { <EntityLink entity=sys/> });
    let rows = ABOUT_RELATIONS
        .iter()
        .filter_map(|(rel, label)| {
            let mut list = relations_of(&detail, rel);
            if *rel == "partOf" {
                list.retain(|r| !is_kind(r, "domain") && !is_kind(r, "system"));
            }
            (!list.is_empty()).then(|| {
                view! {
                    <div>
                        <dt>{*label}</dt>
                        <dd>{relation_targets(list)}</dd>
                    </div>
                }
            })
        })
        .collect_view();
    let dash = || view! { <span class="muted">"—"</span> };
    view! {
        <section class="card" aria-labelledby="about-heading">
            <h2 id="about-heading" class="card-title">
                "About"
            </h2>
            <dl class="about">
                <div>
                    <dt>"Owner"</dt>
                    <dd>{owner_row.unwrap_or_else(|| dash().into_any())}</dd>
                </div>
                <div>
                    <dt>"Kind"</dt>
                    <dd>{kind_label(&s.entity_ref.kind)}</dd>
                </div>
                <div>
                    <dt>"Type"</dt>
                    <dd>{s.spec_type.clone().unwrap_or_else(|| "—".into())}</dd>
                </div>
                <div>
                    <dt>"Lifecycle"</dt>
                    <dd>{s.lifecycle.clone().unwrap_or_else(|| "—".into())}</dd>
                </div>
                <div>
                    <dt>"System"</dt>
                    <dd>{system_row.map(IntoAny::into_any).unwrap_or_else(|| dash().into_any())}</dd>
                </div>
                {(!domains.is_empty())
                    .then(|| {
                        view! {
                            <div>
                                <dt>"Domain"</dt>
                                <dd>{relation_targets(domains)}</dd>
                            </div>
                        }
                    })}
                <div>
                    <dt>"Namespace"</dt>
                    <dd>{s.entity_ref.namespace.clone()}</dd>
                </div>
                {rows}
            </dl>
        </section>
    }
}

/// `metadata.links`; only http(s) and mailto URLs become links.
#[component]
pub fn LinksCard(links: Vec<LinkView>) -> impl IntoView {
    (!links.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="links-heading">
                <h2 id="links-heading" class="card-title">
                    "Links"
                </h2>
                <ul class="link-list">
                    {links
                        .into_iter()
                        .map(|l| {
                            let title = l.title.clone().filter(|t| !t.trim().is_empty());
                            let text = title.clone().unwrap_or_else(|| l.url.clone());
                            if is_safe_url(&l.url) {
                                view! {
                                    <li>
                                        <a href=l.url.clone() target="_blank" rel="noopener noreferrer">
                                            {text}
                                            <IconExternal/>
                                        </a>
                                    </li>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <li>
                                        {title.map(|t| view! { <span>{t}</span> " " })}
                                        <code class="muted break">{l.url.clone()}</code>
                                    </li>
                                }
                                    .into_any()
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// What the caller may do with the entity, each with the policy's decision (shown when sign-in
/// is configured, or when something is refused).
#[component]
pub fn AccessCard(access: Vec<AccessView>) -> impl IntoView {
    let shown = SignInState::current().enabled || access.iter().any(|a| !a.allowed);
    (shown && !access.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="access-heading">
                <h2 id="access-heading" class="card-title">
                    "What you may do"
                </h2>
                <ul class="access-list">
                    {access
                        .into_iter()
                        .map(|a| {
                            let (class, verdict) = if a.allowed {
                                ("access-allowed", "Allowed")
                            } else {
                                ("access-refused", "Not allowed")
                            };
                            view! {
                                <li class=class data-permission=a.permission.clone()>
                                    <span class="access-action">{a.action}</span>
                                    " — "
                                    <strong>{verdict}</strong>
                                    <div class="muted small">{a.decision}</div>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// A key/value table (labels, annotations); nothing when empty.
#[component]
pub fn KeyValueCard(
    #[prop(into)] title: String,
    #[prop(into)] id: String,
    pairs: Vec<(String, String)>,
) -> impl IntoView {
    (!pairs.is_empty()).then(|| {
        let labelled_by = id.clone();
        view! {
            <section class="card" aria-labelledby=labelled_by>
                <h2 id=id class="card-title">
                    {title}
                </h2>
                <div class="table-scroll">
                    <table class="kv">
                        <tbody>
                            {pairs
                                .into_iter()
                                .map(|(k, v)| {
                                    view! {
                                        <tr>
                                            <th scope="row">
                                                <code>{k}</code>
                                            </th>
                                            <td>
                                                <code>{v}</code>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        }
    })
}

/// Where the entity comes from.
#[component]
pub fn SourceCard(source: Option<SourceView>, repository: Option<RepositoryView>) -> impl IntoView {
    if let Some(repo) = repository {
        return view! { <RepositoryCard repo/> }.into_any();
    }
    view! {
        <section class="card" aria-labelledby="source-heading">
            <h2 id="source-heading" class="card-title">
                "Source"
            </h2>
            {match source {
                None => {
                    view! { <p class="muted">"Backlot does not know which file this entity was read from."</p> }
                        .into_any()
                }
                Some(src) => {
                    view! {
                        <dl class="about">
                            <div>
                                <dt>"Location"</dt>
                                <dd>
                                    <code class="break">{src.location}</code>
                                </dd>
                            </div>
                            {src
                                .origin_location
                                .map(|o| {
                                    view! {
                                        <div>
                                            <dt>"Registered through"</dt>
                                            <dd>
                                                <code class="break">{o}</code>
                                            </dd>
                                        </div>
                                    }
                                })}
                            {src
                                .document
                                .map(|d| {
                                    view! {
                                        <div>
                                            <dt>"Document"</dt>
                                            <dd>{(d + 1).to_string()}</dd>
                                        </div>
                                    }
                                })}
                            {src
                                .line
                                .map(|l| {
                                    view! {
                                        <div>
                                            <dt>"Line"</dt>
                                            <dd>{l.to_string()}</dd>
                                        </div>
                                    }
                                })}
                        </dl>
                    }
                        .into_any()
                }
            }}
        </section>
    }
    .into_any()
}

/// Where an entity read from Git lives: repository, branch, file, commit and when it changed.
#[component]
fn RepositoryCard(repo: RepositoryView) -> impl IntoView {
    use crate::format::{short_commit, short_time};
    let row = |label: &'static str, value: AnyView| {
        view! {
            <div>
                <dt>{label}</dt>
                <dd>{value}</dd>
            </div>
        }
    };
    let file = match repo.view_url.clone() {
        Some(u) => {
            view! { <a href=u rel="external"><code class="break">{repo.path.clone()}</code></a> }
                .into_any()
        }
        None => view! { <code class="break">{repo.path.clone()}</code> }.into_any(),
    };
    view! {
        <section class="card" aria-labelledby="source-heading" data-testid="repository-card">
            <div class="card-header">
                <h2 id="source-heading" class="card-title">"Source"</h2>
                {repo.edit_url.clone().map(|u| view! { <a href=u rel="external" class="small">"Edit"</a> })}
            </div>
            <dl class="about">
                {row("Repository", view! { <code class="break">{repo.url.clone()}</code> }.into_any())}
                {repo.branch.clone().map(|b| row("Branch", view! { <code>{b}</code> }.into_any()))}
                {row("File", file)}
                {repo
                    .commit
                    .clone()
                    .map(|c| row("Commit", view! { <code title=c.clone()>{short_commit(&c)}</code> }.into_any()))}
                {repo
                    .changed_at
                    .clone()
                    .map(|t| row("Last changed", view! { <span>{short_time(&t)}</span> }.into_any()))}
            </dl>
        </section>
    }
}

/// Display name, email and picture of a group or user.
#[component]
pub fn ProfileCard(profile: Option<ProfileView>, fallback_name: String) -> impl IntoView {
    let profile = profile.unwrap_or_default();
    let name = profile
        .display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(fallback_name);
    let initial = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let picture = profile.picture.filter(|p| is_safe_image_url(p));
    view! {
        <section class="card profile" aria-labelledby="profile-heading">
            <h2 id="profile-heading" class="visually-hidden">
                "Profile"
            </h2>
            {match picture {
                Some(src) => view! { <img class="avatar" src=src alt="" width="56" height="56"/> }.into_any(),
                None => view! { <span class="avatar avatar-initial" aria-hidden="true">{initial}</span> }.into_any(),
            }}
            <div>
                <p class="profile-name">{name}</p>
                {profile
                    .email
                    .map(|e| {
                        let href = format!("mailto:{e}");
                        view! {
                            <p>
                                <a href=href>{e}</a>
                            </p>
                        }
                    })}
            </div>
        </section>
    }
}

/// Every relation, grouped by type.
#[component]
pub fn RelationsTab(relations: Vec<RelationView>) -> impl IntoView {
    if relations.is_empty() {
        return view! { <p class="empty">"This entity has no relations."</p> }.into_any();
    }
    let mut groups: Vec<(String, Vec<RelationView>)> = Vec::new();
    for r in relations {
        match groups.iter_mut().find(|(t, _)| *t == r.relation_type) {
            Some((_, list)) => list.push(r),
            None => groups.push((r.relation_type.clone(), vec![r])),
        }
    }
    view! {
        <div class="relation-groups">
            {groups
                .into_iter()
                .map(|(t, list)| {
                    let heading = relation_label(&t);
                    let count = list.len();
                    view! {
                        <section class="card">
                            <h2 class="card-title">
                                {heading} <span class="count">{count}</span>
                                <code class="muted small relation-type">{t}</code>
                            </h2>
                            <ul class="relation-list">
                                {list
                                    .into_iter()
                                    .map(|relation| {
                                        let kind = relation.target.kind.clone();
                                        view! {
                                            <li>
                                                <KindBadge kind/>
                                                <RelationTarget relation/>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}

/// The API definition, verbatim.
#[component]
pub fn ApiTab(definition: Option<String>) -> impl IntoView {
    match definition {
        Some(def) if !def.trim().is_empty() => view! {
            <section class="card" aria-labelledby="definition-heading">
                <h2 id="definition-heading" class="card-title">
                    "Definition"
                </h2>
                <pre class="code"><code>{def}</code></pre>
            </section>
        }
        .into_any(),
        _ => view! { <p class="empty">"This API has no definition."</p> }.into_any(),
    }
}

/// The stitched entity as JSON.
#[component]
pub fn RawTab(raw_json: String) -> impl IntoView {
    let pretty = pretty_json(&raw_json);
    view! {
        <section class="card" aria-labelledby="raw-heading">
            <h2 id="raw-heading" class="card-title">
                "Raw entity"
            </h2>
            <pre class="code"><code>{pretty}</code></pre>
        </section>
    }
}

/// Labels, annotations, links and source: the reference cards of the overview; with
/// `observability`, the links the configuration's templates make, after `metadata.links`.
#[component]
pub fn MetadataCards(detail: EntityDetail, #[prop(optional)] observability: bool) -> impl IntoView {
    let observed = observability.then(|| detail.summary.entity_ref.clone());
    view! {
        <AccessCard access=detail.access/>
        <LinksCard links=detail.links/>
        {observed.map(|entity| view! { <ObservabilityCard entity/> })}
        <SourceCard source=detail.source repository=detail.repository/>
        <KeyValueCard title="Labels" id="labels-heading" pairs=detail.labels/>
        <KeyValueCard title="Annotations" id="annotations-heading" pairs=detail.annotations/>
    }
}
