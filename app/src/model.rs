//! Types shared by the browser and the server: what pages show and what server functions return.
//!
//! They are plain data (serde only). The server builds them from its catalog snapshot; the UI
//! renders them. Nothing here knows about storage.

use serde::{Deserialize, Serialize};

/// A reference to an entity, always fully qualified (`kind:namespace/name`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    /// Kind as written in the descriptor (e.g. `Component`); compare case-insensitively.
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl EntityRef {
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// `component:default/foo`, lower-cased kind as Backstage prints references.
    pub fn to_ref_string(&self) -> String {
        format!(
            "{}:{}/{}",
            self.kind.to_ascii_lowercase(),
            self.namespace,
            self.name
        )
    }

    /// The reverse of [`EntityRef::to_ref_string`]: `kind:namespace/name`, all three given;
    /// `None` for anything else (use the catalog's parser for references with defaults).
    pub fn from_ref_string(s: &str) -> Option<Self> {
        let (kind, rest) = s.split_once(':')?;
        let (namespace, name) = rest.split_once('/')?;
        Some(Self::new(kind, namespace, name))
    }

    /// The entity page: `/catalog/{namespace}/{kind}/{name}` with the kind in lower case.
    pub fn href(&self) -> String {
        format!(
            "/catalog/{}/{}/{}",
            self.namespace,
            self.kind.to_ascii_lowercase(),
            self.name
        )
    }

    /// Short form for display: `name` in the default namespace, `namespace/name` otherwise.
    pub fn display(&self) -> String {
        if self.namespace == "default" {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

/// One row of the catalog table, one search hit, one item in a list of owned entities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntitySummary {
    pub entity_ref: EntityRef,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `spec.type`
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub owner: Option<EntityRef>,
    pub system: Option<EntityRef>,
    pub tags: Vec<String>,
    /// Number of processing errors on the entity (dangling references, unreadable files…).
    pub error_count: usize,
}

/// The catalog page's state; every field round-trips through the URL query string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogQuery {
    /// Kind in lower case, e.g. `component`; `None` means every kind.
    pub kind: Option<String>,
    pub types: Vec<String>,
    /// Owner references as strings (`group:default/team-a`).
    pub owners: Vec<String>,
    pub lifecycles: Vec<String>,
    pub tags: Vec<String>,
    pub namespaces: Vec<String>,
    /// System references as strings (`system:default/audio`).
    pub systems: Vec<String>,
    /// Scorecard levels (`gold`, …, or [`NO_LEVEL`]) on the scorecard shown (`scorecard`).
    #[serde(default)]
    pub levels: Vec<String>,
    /// The scorecard whose level the table shows and filters by (its name); `None`: the first
    /// in force.
    #[serde(default)]
    pub scorecard: Option<String>,
    /// Free text over name, title, description and tags.
    pub text: Option<String>,
    /// Only what the caller or one of their groups owns (`owned=1`); nothing for the guest.
    pub owned: bool,
    /// `name` (default), `kind`, `type`, `owner`, `lifecycle`; prefix `-` for descending.
    pub sort: Option<String>,
    /// Zero-based page number.
    pub page: usize,
    /// Rows per page; the server caps it.
    pub page_size: usize,
}

/// A value of a filter with the number of entities that have it (given the other filters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: usize,
    /// The query chose this value (the server resolves what was typed: `team-a` chooses
    /// `group:default/team-a`). A chosen value is listed even when nothing has it.
    #[serde(default)]
    pub selected: bool,
}

/// At most this many values of one facet are listed (the most common, plus the chosen ones);
/// the rest are counted in [`CatalogFacets::unlisted`] and can be typed in.
pub const FACET_VALUES_LISTED: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogFacets {
    pub kinds: Vec<FacetCount>,
    pub types: Vec<FacetCount>,
    pub owners: Vec<FacetCount>,
    pub lifecycles: Vec<FacetCount>,
    pub tags: Vec<FacetCount>,
    pub namespaces: Vec<FacetCount>,
    pub systems: Vec<FacetCount>,
    /// Per facet key (`owner`, `tag`…): how many values with matches are not listed.
    #[serde(default)]
    pub unlisted: std::collections::BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub items: Vec<EntitySummary>,
    /// Entities matching the query, across all pages.
    pub total: usize,
    pub facets: CatalogFacets,
    /// Firing alerts per item, in order; `None` when no Prometheus is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_counts: Option<Vec<u32>>,
    /// The scorecard level column and facet; `None` when no scorecard is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<CatalogLevels>,
}

/// The level facet's value for entities that reach no level of the scorecard.
pub const NO_LEVEL: &str = "none";

/// One scorecard's levels in the catalog table: a column (each row's level, as last evaluated)
/// and a facet with counts (given the other filters).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogLevels {
    /// The scorecard shown: its name and title.
    pub scorecard: String,
    pub title: String,
    /// Every scorecard in force, (name, title), to choose from.
    pub scorecards: Vec<(String, String)>,
    /// Its levels, lowest first.
    pub levels: Vec<String>,
    /// Per item, in order: `None`, the scorecard does not apply; `Some(0)`, no level reached;
    /// `Some(k)`, `levels[k - 1]`.
    pub items: Vec<Option<u8>>,
    /// The facet: the levels, highest first, then [`NO_LEVEL`], each with how many entities
    /// have it; a chosen value that is no level of this scorecard is listed with 0.
    pub facet: Vec<FacetCount>,
}

impl CatalogLevels {
    /// The name of level `k` (`Some(0)`: none reached, `None`).
    pub fn name(&self, k: u8) -> Option<String> {
        usize::from(k)
            .checked_sub(1)
            .and_then(|i| self.levels.get(i))
            .cloned()
    }
}

/// A relation seen from the entity that carries it (`ownedBy` → `group:default/team-a`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationView {
    /// Backstage relation type, e.g. `ownedBy`, `hasPart`, `dependsOn`.
    pub relation_type: String,
    pub target: EntityRef,
    /// Title of the target when it exists in the catalog; `None` for a dangling reference.
    pub target_title: Option<String>,
    pub target_exists: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found while reading or processing an entity or a location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemView {
    pub severity: Severity,
    pub message: String,
    /// File the problem was found in, when known.
    pub file: Option<String>,
    /// Zero-based index of the YAML document in that file.
    pub document: Option<usize>,
    /// One-based line.
    pub line: Option<usize>,
    /// Dotted path of the field, e.g. `spec.owner`.
    pub field: Option<String>,
}

/// Where an entity was read from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    /// `file:/abs/path/catalog-info.yaml` as in `backstage.io/managed-by-location`.
    pub location: String,
    /// Location the entity was registered through (`backstage.io/managed-by-origin-location`).
    pub origin_location: Option<String>,
    pub document: Option<usize>,
    pub line: Option<usize>,
}

/// Where an entity's files live, for the source panel and the docs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepositoryView {
    /// Repository URL without credentials.
    pub url: String,
    pub branch: Option<String>,
    /// Path of the descriptor inside the repository.
    pub path: String,
    /// Commit the entity was read at, and when that commit was made (RFC 3339).
    pub commit: Option<String>,
    pub changed_at: Option<String>,
    /// Web pages of the file (`backstage.io/view-url`, `edit-url`), when the host has them.
    pub view_url: Option<String>,
    pub edit_url: Option<String>,
    /// Why the last read of the repository failed: what is shown is stale.
    pub stale_error: Option<String>,
    /// When the repository was last read successfully.
    pub last_success_at: Option<String>,
}

/// A rendered docs page (TechDocs) of an entity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DocsPage {
    pub entity: Option<EntitySummary>,
    pub site_name: String,
    pub nav: Vec<DocsNav>,
    /// Page id: the Markdown path without `.md` (`""` for the home page).
    pub page_id: String,
    pub title: String,
    /// Sanitized HTML, safe to insert as is.
    pub html: String,
    pub toc: Vec<DocsToc>,
    /// Web page of the Markdown file, when the host has one.
    pub view_url: Option<String>,
    pub edit_url: Option<String>,
    /// The commit the docs were read at.
    pub commit: Option<String>,
    /// Set instead of a page when the docs cannot be shown (no techdocs-ref, missing page…).
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocsNav {
    pub title: String,
    /// Page URL in the portal, or an external URL; `None` for a section title.
    pub url: Option<String>,
    pub active: bool,
    pub children: Vec<DocsNav>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocsToc {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// One documented entity on the `/docs` index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocsEntry {
    pub entity: EntitySummary,
    pub site_name: String,
    /// `/catalog/{ns}/{kind}/{name}/docs`
    pub url: String,
}

/// A docs page matching a search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocsHit {
    pub entity: EntitySummary,
    pub title: String,
    pub url: String,
    /// Text around the first match.
    pub snippet: String,
}

/// A link from `metadata.links`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkView {
    pub url: String,
    pub title: Option<String>,
    pub icon: Option<String>,
}

/// Everything the entity page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityDetail {
    pub summary: EntitySummary,
    pub api_version: String,
    pub uid: Option<String>,
    pub links: Vec<LinkView>,
    /// Sorted by key.
    pub labels: Vec<(String, String)>,
    /// Sorted by key.
    pub annotations: Vec<(String, String)>,
    /// All relations, sorted by type then target.
    pub relations: Vec<RelationView>,
    /// Errors first, then warnings.
    pub problems: Vec<ProblemView>,
    pub source: Option<SourceView>,
    /// For entities read from Git: repository, path, commit, links.
    pub repository: Option<RepositoryView>,
    /// The entity has docs (`backstage.io/techdocs-ref`).
    pub has_docs: bool,
    /// The whole stitched entity as served by the REST API (for the "raw" view).
    pub raw_json: String,
    /// `spec.definition` of an API entity, resolved, when there is one.
    pub api_definition: Option<String>,
    /// For `Group` and `User`: profile display name, email and picture URL.
    pub profile: Option<ProfileView>,
    /// What the caller may do with the entity, each with the policy's decision.
    #[serde(default)]
    pub access: Vec<AccessView>,
}

/// One thing a person might do with an entity, and whether the policy lets the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    /// What it is, in words ("Refresh it from its source").
    pub action: String,
    /// The permission (`catalog.entity.refresh`).
    pub permission: String,
    pub allowed: bool,
    /// The decision as the policy states it (`ALLOW … by role member rule 2 (refresh)`).
    pub decision: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileView {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
}

/// The group page: the group, its people and everything it owns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: EntityDetail,
    pub parent: Option<EntitySummary>,
    pub children: Vec<EntitySummary>,
    pub members: Vec<EntitySummary>,
    /// Owned entities grouped by kind (kind as written, sorted), each list sorted by name.
    pub owned: Vec<(String, Vec<EntitySummary>)>,
}

/// The user page: the user, their groups and what those groups own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: EntityDetail,
    pub groups: Vec<EntitySummary>,
    /// Entities owned by the user directly or by one of their groups, grouped by kind.
    pub owned: Vec<(String, Vec<EntitySummary>)>,
}

/// A location and how its last refresh went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocationStatus {
    pub id: String,
    /// `file`, `git`, `url`
    pub location_type: String,
    /// Without credentials.
    pub target: String,
    /// `config`, `api`, `demo` or `discovery:<name>`.
    pub origin: String,
    /// Git: branch and path as registered (None: the defaults).
    pub branch: Option<String>,
    pub path: Option<String>,
    /// Git: commit of the last successful read.
    pub commit: Option<String>,
    pub entity_count: usize,
    /// Last attempt, RFC 3339.
    pub last_refresh: Option<String>,
    pub last_success: Option<String>,
    /// Why the last attempt failed: its entities are stale.
    pub error: Option<String>,
    /// Attempts failed in a row.
    pub failures: u32,
    pub problems: Vec<ProblemView>,
}

/// What to register from the Locations page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportRequest {
    /// `git`, `url` or `file`.
    pub location_type: String,
    pub target: String,
    pub branch: Option<String>,
    pub path: Option<String>,
}

/// What registering (or previewing) a location gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportResult {
    pub location: LocationStatus,
    pub entities: Vec<EntitySummary>,
    /// The location was already registered.
    pub exists: bool,
    /// A preview: nothing was stored.
    pub dry_run: bool,
}

/// The catalog-errors page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProblemsReport {
    /// Locations that have at least one problem.
    pub locations: Vec<LocationStatus>,
    /// Entities that have at least one problem, with their problems.
    pub entities: Vec<(EntitySummary, Vec<ProblemView>)>,
}

/// The graph on the entity page: nodes around one entity, edges with relation types.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RelationGraph {
    pub center: Option<EntityRef>,
    pub nodes: Vec<EntitySummary>,
    /// (from index, to index, relation type) into `nodes`; only one direction of each pair.
    pub edges: Vec<(usize, usize, String)>,
}

/// Who is asking. Every service call takes one, so that what each person may see and do is
/// decided in one place on the server (`server/src/catalog/facade.rs`).
///
/// Without sign-in configured every caller is the guest. A signed-in caller carries their user
/// entity and the groups they belong to (their ownership references, as Backstage calls them).
/// Deliberately not `Serialize`: the server decides who is asking, the browser never says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The signed-in user's entity (`user:default/jane`); `None` for the guest.
    pub user: Option<EntityRef>,
    /// The groups the user belongs to, directly or through parents.
    pub groups: Vec<EntityRef>,
    /// Set when the caller is an API or service token (`Authorization: Bearer`): what it may do
    /// is what its owner may do and its scopes cover (`server/src/auth/tokens.rs`). `None` for a
    /// browser session and the guest.
    pub token: Option<TokenLimit>,
}

/// The limit of a token caller: its name (for messages) and its scopes (`read`, `locations`,
/// `refresh`, `templates`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenLimit {
    pub name: String,
    pub scopes: Vec<String>,
}

/// What the header and the sign-in page show about sign-in; the server puts it on each request
/// (`server/src/http/caller.rs`). Not `Serialize`, like [`Caller`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInState {
    /// Sign-in is configured (`auth:`).
    pub enabled: bool,
    /// The signed-in user's display name.
    pub signed_in_as: Option<String>,
    /// The signed-in user's entity (the user menu links to it).
    pub user: Option<EntityRef>,
    /// The sign-in providers `/signin` lists: id (in `/api/auth/{id}/start`) and name.
    pub providers: std::sync::Arc<[(String, String)]>,
}

impl SignInState {
    /// The request's state (during server rendering; the default elsewhere).
    pub fn current() -> SignInState {
        #[cfg(feature = "ssr")]
        {
            use leptos::prelude::use_context;
            use leptos::server_fn::http_export::request::Parts;
            use_context::<Parts>()
                .and_then(|p| p.extensions.get::<SignInState>().cloned())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            SignInState::default()
        }
    }
}

/// A path on this site to come back to after sign-in: `/…`, never `//host` or a URL (the
/// server checks again).
pub fn same_site_path(to: &str) -> Option<&str> {
    (to.starts_with('/')
        && !to.starts_with("//")
        && !to.chars().any(|c| c.is_control() || c == '\\'))
    .then_some(to)
}

impl Caller {
    /// Someone who has not signed in.
    pub fn guest() -> Self {
        Self::default()
    }

    /// Nobody signed in: no user and no token (a service token without an entity is signed in).
    pub fn is_guest(&self) -> bool {
        self.user.is_none() && self.token.is_none()
    }

    /// A person signed in through the browser (not a token, not the guest).
    pub fn is_session(&self) -> bool {
        self.user.is_some() && self.token.is_none()
    }
}

/// One of the caller's API tokens on the settings page (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub expired: bool,
}

/// A token just created: shown once, on the page the creation form returns to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
    pub token: String,
}

/// The API tokens page (`/settings/tokens`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSettings {
    /// Sign-in is configured (tokens need it).
    pub enabled: bool,
    /// The caller is signed in through the browser (only then may tokens be made or revoked).
    pub signed_in: bool,
    pub tokens: Vec<ApiTokenView>,
    /// The token created by the form just posted, taken out of the session (shown once).
    pub created: Option<NewApiToken>,
}
