//! The one way in and out of the catalog for requests. The REST API (`api/catalog.rs`) and the
//! UI's services ([`super::views`], [`super::admin`]) read and write through [`Facade`], and
//! every method takes the [`Caller`].
//!
//! What a caller may see is decided in one place, [`Facade::read`]: it hands out a
//! [`Visible`], a caller's view of one snapshot, and every read goes through its methods (a
//! lookup, a query, facet counts, a relation's target, the locations). Which records that is,
//! is the policy's `catalog.entity.read` ([`visibility`]); which locations, its
//! `catalog.location.read`. A relation whose target the caller may not read is left out of
//! what they are served (the JSON's `relations`, the entity page), so no hidden entity is
//! named through one. Writes are allowed in one place too, [`Facade::authorize`], which turns a
//! refusal into [`CatalogError::Forbidden`] naming the permission and the rule.
//!
//! Every write (register, unregister, refresh a location or an entity; not dry runs) is recorded
//! in the audit log: allowed with the rule that allowed it, refused with the rule that refused
//! it, failed with the error.

use super::added::{AddedEntities, AddedLocation};
use super::query::{self, Filter, Query};
use super::reference::RefKey;
use super::service::CatalogService;
use super::snapshot::{FacetIndex, LocationInfo, Record, RelationOut, Snapshot, Stored};
use super::source::{LocationType, NewLocation, Origin, Sources};
use super::CatalogError;
use crate::audit::{Action, Actor, Audit, Event, Outcome};
use crate::policy::{Decision, Entity, EntityCheck, Permission, Policy, PolicyStore, Resource};
use app::model::{AccessView, Caller};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The catalog as requests use it.
#[derive(Clone)]
pub struct Facade {
    catalog: Arc<CatalogService>,
    /// The policy in force is looked up at each read and write: a reloaded file applies to
    /// the next request, also through readers made once at start-up.
    policy: Arc<PolicyStore>,
    /// Where writes are recorded ([`Audit::disabled`] unless [`Facade::with_audit`]).
    audit: Audit,
}

impl Facade {
    pub fn new(catalog: Arc<CatalogService>, policy: Arc<PolicyStore>) -> Self {
        Self {
            catalog,
            policy,
            audit: Audit::disabled(),
        }
    }

    /// Records every write in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.current()
    }

    /// What `caller` sees of the catalog as it is now. Hold it for the length of a request:
    /// it is one consistent snapshot.
    pub fn read(&self, caller: &Caller) -> Visible {
        let snap = self.catalog.snapshot();
        let policy = self.policy.current();
        let seen = self
            .policy
            .views
            .get_or_compute(&snap, &policy, caller, || {
                visibility(&policy, caller, &snap).map(Into::into)
            });
        Visible {
            snap,
            seen,
            seen_locations: OnceLock::new(),
            asker: Some((policy, caller.clone())),
            counts: OnceLock::new(),
            sources: self.catalog.sources().clone(),
        }
    }

    /// The whole catalog, for the server's own lookups (who a signed-in identity is, which
    /// groups a user has): never for what a caller is shown.
    pub fn read_unfiltered(&self) -> Visible {
        Visible {
            snap: self.catalog.snapshot(),
            seen: None,
            seen_locations: OnceLock::new(),
            asker: None,
            counts: OnceLock::new(),
            sources: self.catalog.sources().clone(),
        }
    }

    /// The policy's decision on `permission` for `caller`; a refusal is
    /// [`CatalogError::Forbidden`] naming the permission and the rule that decided.
    pub fn authorize(
        &self,
        caller: &Caller,
        permission: Permission,
        resource: &Resource<'_>,
    ) -> Result<(), CatalogError> {
        self.decide(caller, permission, resource).map(|_| ())
    }

    /// [`Facade::authorize`], giving the decision when allowed (the audit log names its rule).
    fn decide(
        &self,
        caller: &Caller,
        permission: Permission,
        resource: &Resource<'_>,
    ) -> Result<Decision, CatalogError> {
        let d = self.policy.current().decide(caller, permission, resource);
        if d.allowed {
            return Ok(d);
        }
        tracing::info!(
            permission = %permission,
            rule = d.by.as_ref().map(ToString::to_string),
            user = caller.user.as_ref().map(|u| u.to_ref_string()),
            "refused by the policy"
        );
        Err(CatalogError::Forbidden(format!("not allowed: {d}")))
    }

    /// Records a write: allowed with the deciding rule, refused (a 403) with the refusal,
    /// failed with the error.
    fn record<T>(
        &self,
        caller: &Caller,
        action: Action,
        target: String,
        decision: Option<&Decision>,
        result: &Result<T, CatalogError>,
    ) {
        let event = |outcome| Event::new(Actor::of(caller), action, outcome).target(target);
        let event = match result {
            Ok(_) => {
                let e = event(Outcome::Allowed);
                match decision {
                    Some(d) => e.detail(d.to_string()),
                    None => e,
                }
            }
            Err(e @ CatalogError::Forbidden(_)) => event(Outcome::Refused).detail(e.to_string()),
            Err(e) => event(Outcome::Failed).detail(e.to_string()),
        };
        self.audit.record(event);
    }

    /// How a location is named in the audit log: `type:target`, without credentials.
    fn location_ref(&self, location_type: LocationType, target: &str) -> String {
        format!(
            "{location_type}:{}",
            self.catalog.sources().display_target(location_type, target)
        )
    }

    /// Registers a location, or with `dry_run` reads it and says what it would add; needs
    /// `catalog.location.create`. When the caller's rules depend on the location's entities
    /// (`is_owner`…), it is read first (a dry run) and decided on what it provides. Recorded
    /// as `catalog.location.create` unless a dry run.
    pub async fn register(
        &self,
        caller: &Caller,
        new: NewLocation,
        dry_run: bool,
    ) -> Result<AddedLocation, CatalogError> {
        if dry_run {
            return self.register_decided(caller, new, true, &mut None).await;
        }
        let target = self.location_ref(new.location_type, &new.target);
        let mut decision = None;
        let result = self
            .register_decided(caller, new, false, &mut decision)
            .await;
        self.record(
            caller,
            Action::CatalogLocationCreate,
            target,
            decision.as_ref(),
            &result,
        );
        result
    }

    async fn register_decided(
        &self,
        caller: &Caller,
        new: NewLocation,
        dry_run: bool,
        decision: &mut Option<Decision>,
    ) -> Result<AddedLocation, CatalogError> {
        let permission = Permission::CatalogLocationCreate;
        if !self.policy.current().is_conditional(caller, permission) {
            *decision = Some(self.decide(caller, permission, &Resource::None)?);
            return self.catalog.register(new, dry_run).await;
        }
        let preview = self.catalog.register(new.clone(), true).await?;
        let stored: Vec<&Stored> = match &preview.entities {
            AddedEntities::Catalog { snapshot, records } => records
                .iter()
                .map(|&i| &snapshot.records[i].stored)
                .collect(),
            AddedEntities::Preview(entities) => entities.iter().collect(),
        };
        let resource = Resource::Location {
            location_type: new.location_type,
            entities: stored
                .into_iter()
                .map(|s| Entity::new(s, Some(new.location_type)))
                .collect(),
        };
        *decision = Some(self.decide(caller, permission, &resource)?);
        if dry_run {
            return Ok(preview);
        }
        self.catalog.register(new, false).await
    }

    /// Decides `permission` on the location `id` (its type and every entity it provides). A
    /// location the caller may not read is not found, as one that does not exist. Gives the
    /// decision and how the audit log names the location (`id` when it is not found).
    fn authorize_location(
        &self,
        caller: &Caller,
        permission: Permission,
        id: &str,
    ) -> (String, Result<Decision, CatalogError>) {
        let v = self.read(caller);
        let Some(l) = v.location(id) else {
            return (
                id.to_string(),
                Err(CatalogError::NotFound(format!("no location with id {id}"))),
            );
        };
        let target = self.location_ref(l.location_type, &l.target);
        let resource = location_resource(&v.snap, l);
        (target, self.decide(caller, permission, &resource))
    }

    /// A location's write, decided, done and recorded.
    async fn location_write<F, Fut>(
        &self,
        caller: &Caller,
        permission: Permission,
        action: Action,
        id: &str,
        write: F,
    ) -> Result<(), CatalogError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), CatalogError>>,
    {
        let (target, decided) = self.authorize_location(caller, permission, id);
        let (decision, result) = match decided {
            Ok(d) => (Some(d), write().await),
            Err(e) => (None, Err(e)),
        };
        self.record(caller, action, target, decision.as_ref(), &result);
        result
    }

    /// Reads a location now (`catalog.entity.refresh` on the location's entities); recorded
    /// as `catalog.location.refresh`.
    pub async fn refresh_location(&self, caller: &Caller, id: &str) -> Result<(), CatalogError> {
        self.location_write(
            caller,
            Permission::CatalogEntityRefresh,
            Action::CatalogLocationRefresh,
            id,
            || self.catalog.refresh_location(id),
        )
        .await
    }

    /// Removes a location registered through the API, with its entities
    /// (`catalog.location.delete`); recorded as `catalog.location.delete`.
    pub async fn unregister_location(&self, caller: &Caller, id: &str) -> Result<(), CatalogError> {
        self.location_write(
            caller,
            Permission::CatalogLocationDelete,
            Action::CatalogLocationDelete,
            id,
            || self.catalog.unregister_location(id),
        )
        .await
    }

    /// Re-reads the location that provides an entity the caller sees
    /// (`catalog.entity.refresh` on that entity); recorded as `catalog.entity.refresh`.
    pub async fn refresh_entity(&self, caller: &Caller, key: &RefKey) -> Result<(), CatalogError> {
        let decided = {
            let v = self.read(caller);
            match v.get_key(key) {
                None => Err(CatalogError::NotFound(format!("no entity {key}"))),
                Some(r) => {
                    let location_type = v.location(&r.stored.location_id).map(|l| l.location_type);
                    let entity = Entity::new(&r.stored, location_type);
                    self.decide(
                        caller,
                        Permission::CatalogEntityRefresh,
                        &Resource::Entity(entity),
                    )
                }
            }
        };
        let (decision, result) = match decided {
            Ok(d) => (Some(d), self.catalog.refresh_entity(key).await),
            Err(e) => (None, Err(e)),
        };
        self.record(
            caller,
            Action::CatalogEntityRefresh,
            key.to_string(),
            decision.as_ref(),
            &result,
        );
        result
    }
}

impl Facade {
    /// What `caller` may do with an entity they see: refresh it, read its Kubernetes resources
    /// and, when its location was registered through the API, remove that location; each with
    /// the decision the policy gives (the same the write would meet).
    pub fn entity_access(&self, caller: &Caller, v: &Visible, r: &Record) -> Vec<AccessView> {
        let policy = self.policy.current();
        let location = v.location(&r.stored.location_id);
        let entity = Resource::Entity(Entity::new(&r.stored, location.map(|l| l.location_type)));
        let mut asks = vec![
            (
                "Refresh it from its source",
                Permission::CatalogEntityRefresh,
                &entity,
            ),
            (
                "See its Kubernetes resources",
                Permission::KubernetesResourcesRead,
                &entity,
            ),
        ];
        let whole_location;
        if let Some(l) = location.filter(|l| l.origin == Origin::Api) {
            let permission = Permission::CatalogLocationDelete;
            whole_location = if policy.is_conditional(caller, permission) {
                location_resource(&v.snap, l)
            } else {
                Resource::None
            };
            asks.push(("Remove its location", permission, &whole_location));
        }
        asks.into_iter()
            .map(|(action, permission, resource)| {
                let d = policy.decide(caller, permission, resource);
                AccessView {
                    action: action.to_string(),
                    permission: permission.to_string(),
                    allowed: d.allowed,
                    decision: d.to_string(),
                }
            })
            .collect()
    }
}

/// A location as the policy sees it: its type and the entities it provides.
fn location_resource<'a>(snap: &'a Snapshot, l: &LocationInfo) -> Resource<'a> {
    Resource::Location {
        location_type: l.location_type,
        entities: snap
            .records
            .iter()
            .filter(|r| r.stored.location_id == l.id)
            .map(|r| Entity::new(&r.stored, Some(l.location_type)))
            .collect(),
    }
}

/// The records of `snap` that `caller` may read (`catalog.entity.read`), by index; `None`:
/// all of them. The one place of the read filter. When the caller's rules do not depend on
/// the entity it costs nothing; otherwise one pass over the records with the rules that apply
/// to this caller, compiled once.
fn visibility(policy: &Policy, caller: &Caller, snap: &Snapshot) -> Option<Vec<bool>> {
    match policy.entity_check(caller, Permission::CatalogEntityRead) {
        EntityCheck::Always(d) if d.allowed => None,
        EntityCheck::Always(_) => Some(vec![false; snap.records.len()]),
        EntityCheck::Each(rules) => {
            let types: Option<HashMap<&str, LocationType>> =
                rules.needs_location_type().then(|| {
                    snap.locations
                        .iter()
                        .map(|l| (l.id.as_str(), l.location_type))
                        .collect()
                });
            Some(
                snap.records
                    .iter()
                    .map(|r| {
                        let location_type = types
                            .as_ref()
                            .and_then(|t| t.get(r.stored.location_id.as_str()).copied());
                        rules.allows(&Entity::new(&r.stored, location_type))
                    })
                    .collect(),
            )
        }
    }
}

/// The locations of `snap` that `caller` may read (`catalog.location.read`), by index. When the
/// rules depend on the entities, they are grouped by location in one pass.
fn location_visibility(policy: &Policy, caller: &Caller, snap: &Snapshot) -> Option<Vec<bool>> {
    let permission = Permission::CatalogLocationRead;
    match policy.entity_check(caller, permission) {
        EntityCheck::Always(d) if d.allowed => None,
        EntityCheck::Always(_) => Some(vec![false; snap.locations.len()]),
        EntityCheck::Each(_) => {
            let mut by_location: HashMap<&str, Vec<&Stored>> = HashMap::new();
            for r in snap.records.iter() {
                by_location
                    .entry(r.stored.location_id.as_str())
                    .or_default()
                    .push(&r.stored);
            }
            Some(
                snap.locations
                    .iter()
                    .map(|l| {
                        let entities = by_location
                            .get(l.id.as_str())
                            .map(|list| {
                                list.iter()
                                    .map(|s| Entity::new(s, Some(l.location_type)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let resource = Resource::Location {
                            location_type: l.location_type,
                            entities,
                        };
                        policy.decide(caller, permission, &resource).allowed
                    })
                    .collect(),
            )
        }
    }
}

/// The last answers of [`visibility`], by snapshot, policy and caller: a caller's next
/// request on an unchanged catalog reuses its filter instead of deciding every record again.
/// Entries hold the snapshot weakly and the policy strongly, so neither address can be reused
/// by another while an entry names it.
#[derive(Default)]
pub struct ViewCache {
    entries: std::sync::Mutex<std::collections::VecDeque<ViewEntry>>,
}

struct ViewEntry {
    snap: std::sync::Weak<Snapshot>,
    policy: Arc<Policy>,
    caller: Caller,
    seen: Option<Arc<[bool]>>,
}

/// Callers remembered (the most recent ones).
const VIEW_CACHE_SIZE: usize = 64;

impl ViewCache {
    fn get_or_compute(
        &self,
        snap: &Arc<Snapshot>,
        policy: &Arc<Policy>,
        caller: &Caller,
        compute: impl FnOnce() -> Option<Arc<[bool]>>,
    ) -> Option<Arc<[bool]>> {
        let lock = || match self.entries.lock() {
            Ok(e) => e,
            Err(poisoned) => poisoned.into_inner(),
        };
        {
            let entries = lock();
            let hit = entries.iter().find(|e| {
                std::ptr::eq(e.snap.as_ptr(), Arc::as_ptr(snap))
                    && Arc::ptr_eq(&e.policy, policy)
                    && e.caller == *caller
            });
            if let Some(e) = hit {
                return e.seen.clone();
            }
        }
        // Computed outside the lock: callers do not wait on each other.
        let seen = compute();
        let mut entries = lock();
        // Entries of replaced snapshots are of no more use.
        entries.retain(|e| e.snap.strong_count() > 0);
        if entries.len() >= VIEW_CACHE_SIZE {
            entries.pop_front();
        }
        entries.push_back(ViewEntry {
            snap: Arc::downgrade(snap),
            policy: policy.clone(),
            caller: caller.clone(),
            seen: seen.clone(),
        });
        seen
    }
}

/// A caller's view of one snapshot: only the records they may see.
pub struct Visible {
    snap: Arc<Snapshot>,
    /// Per record index, whether the caller sees it; `None`: every record.
    seen: Option<Arc<[bool]>>,
    /// Per location index, whether the caller sees it; `None`: every location. Decided when
    /// first asked for: most requests never list locations.
    seen_locations: OnceLock<Option<Vec<bool>>>,
    /// The policy and caller the locations are decided for; `None`: unfiltered.
    asker: Option<(Arc<Policy>, Caller)>,
    /// Visible entities per location id, counted when first asked for (only when some are
    /// hidden).
    counts: OnceLock<HashMap<String, usize>>,
    /// How each kind of location is shown (targets without credentials, repositories).
    sources: Sources,
}

impl Visible {
    /// The snapshot this view is of (for results computed once per snapshot, such as
    /// scorecards'; what the caller is shown must still go through this view).
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snap
    }

    /// The entity sources, for how a location is shown.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Whether the caller sees the record at `i`.
    pub fn sees(&self, i: usize) -> bool {
        self.seen
            .as_ref()
            .is_none_or(|seen| seen.get(i).copied().unwrap_or(false))
    }

    /// The record at `i` (an index this view handed out).
    pub fn record(&self, i: usize) -> &Record {
        &self.snap.records[i]
    }

    /// Every visible record with its index, in the snapshot's order (by name).
    pub fn records(&self) -> impl Iterator<Item = (usize, &Record)> {
        self.snap
            .records
            .iter()
            .enumerate()
            .filter(|(i, _)| self.sees(*i))
    }

    /// The facet values of the records, by index (for the catalog page's counts).
    pub fn facets(&self) -> &FacetIndex {
        &self.snap.facets
    }

    /// The index of an entity by its key.
    pub fn index_of(&self, key: &RefKey) -> Option<usize> {
        self.snap
            .index_of_key(key.as_str())
            .filter(|&i| self.sees(i))
    }

    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&Record> {
        self.get_key(&RefKey::of(kind, namespace, name))
    }

    pub fn get_key(&self, key: &RefKey) -> Option<&Record> {
        self.index_of(key).map(|i| self.record(i))
    }

    pub fn get_uid(&self, uid: &str) -> Option<&Record> {
        let i = self.snap.index_of_uid(uid)?;
        self.sees(i).then(|| self.record(i))
    }

    /// A relation's target when it exists and the caller sees it.
    pub fn target(&self, relation: &RelationOut) -> Option<(usize, &Record)> {
        let i = relation.target_index.filter(|&i| self.sees(i))?;
        Some((i, self.record(i)))
    }

    /// Indexes of the records matching a Backstage query, in its order.
    pub fn query(&self, q: &Query) -> Vec<usize> {
        let mut matched = q.run(&self.snap);
        if self.seen.is_some() {
            if q.filter.mentions_relations() {
                // A relation to a record the caller does not see must not make a match.
                let hides = |x: &RelationOut| self.hides(x);
                matched
                    .retain(|&i| self.sees(i) && q.filter.matches_hiding(self.record(i), &hides));
            } else {
                matched.retain(|&i| self.sees(i));
            }
        }
        matched
    }

    /// Counts of each value of a field among the visible records matching `filter`.
    /// Relation facets (`relations.ownerOf`) count only targets the caller sees.
    pub fn facet(&self, filter: &Filter, key: &str) -> Vec<(String, usize)> {
        let relation = key
            .get(..10)
            .filter(|p| p.eq_ignore_ascii_case("relations."))
            .map(|_| &key[10..]);
        let hides = |x: &RelationOut| self.hides(x);
        let Some(relation) = relation.filter(|_| self.seen.is_some()) else {
            if self.seen.is_some() && filter.mentions_relations() {
                let matching = self
                    .records()
                    .map(|(_, r)| r)
                    .filter(|r| filter.matches_hiding(r, &hides));
                return query::facet(matching, &Filter::default(), key);
            }
            return query::facet(self.records().map(|(_, r)| r), filter, key);
        };
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (_, r) in self
            .records()
            .filter(|(_, r)| filter.matches_hiding(r, &hides))
        {
            let mut seen: Vec<&str> = Vec::new();
            for x in self.relations(r) {
                if x.relation_type.eq_ignore_ascii_case(relation) && !seen.contains(&&*x.target_ref)
                {
                    seen.push(&x.target_ref);
                }
            }
            for t in seen {
                *counts.entry(t).or_default() += 1;
            }
        }
        let mut out: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(v, c)| (v.to_string(), c))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    pub fn locations(&self) -> impl Iterator<Item = &LocationInfo> {
        self.snap
            .locations
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                self.location_filter()
                    .is_none_or(|seen| seen.get(*i).copied().unwrap_or(false))
            })
            .map(|(_, l)| &**l)
    }

    fn location_filter(&self) -> Option<&Vec<bool>> {
        self.seen_locations
            .get_or_init(|| {
                let (policy, caller) = self.asker.as_ref()?;
                location_visibility(policy, caller, &self.snap)
            })
            .as_ref()
    }

    pub fn location(&self, id: &str) -> Option<&LocationInfo> {
        self.locations().find(|l| l.id == id)
    }

    /// How many entities a location provides.
    pub fn entity_count(&self, location_id: &str) -> usize {
        if self.seen.is_none() {
            return self
                .snap
                .location_counts
                .get(location_id)
                .copied()
                .unwrap_or(0);
        }
        let counts = self.counts.get_or_init(|| {
            let mut counts = HashMap::new();
            for (_, r) in self.records() {
                *counts.entry(r.stored.location_id.clone()).or_insert(0) += 1;
            }
            counts
        });
        counts.get(location_id).copied().unwrap_or(0)
    }

    /// Whether the caller may not read a relation's target (an existing entity they do not
    /// see). Relations to entities that do not exist are shown: they name only what the
    /// entity's own descriptor says.
    pub fn hides(&self, relation: &RelationOut) -> bool {
        relation.target_index.is_some_and(|i| !self.sees(i))
    }

    /// A record's relations the caller may know about.
    pub fn relations<'a>(&'a self, r: &'a Record) -> impl Iterator<Item = &'a RelationOut> {
        r.relations.iter().filter(|x| !self.hides(x))
    }

    /// The stitched entity as this caller is served it (without hidden relations), parsed.
    pub fn value(&self, r: &Record) -> Value {
        let mut v = r.value();
        if r.relations.iter().any(|x| self.hides(x)) {
            let hidden: Vec<&str> = r
                .relations
                .iter()
                .filter(|x| self.hides(x))
                .map(|x| &*x.target_ref)
                .collect();
            if let Some(list) = v.get_mut("relations").and_then(Value::as_array_mut) {
                list.retain(|rel| {
                    rel["targetRef"]
                        .as_str()
                        .is_none_or(|t| !hidden.iter().any(|h| h.eq_ignore_ascii_case(t)))
                });
            }
        }
        v
    }

    /// Appends the stitched entity as this caller is served it: the snapshot's text, or without
    /// hidden relations when it has any.
    pub fn write_json(&self, r: &Record, out: &mut String) {
        if !r.relations.iter().any(|x| self.hides(x)) {
            r.write_json(out);
            return;
        }
        // The snapshot's text with its `relations` array written again. Stitching appends that
        // array after the body (whose own relations were removed), followed only by `status`
        // when there are problems; inside JSON strings quotes are escaped, so the last
        // unescaped `"relations":[` is the stitched one.
        let full = r.json();
        let start = full
            .rfind("\"relations\":[")
            .map(|at| at + "\"relations\":".len());
        let end = if r.problems.is_empty() {
            full.len().checked_sub(1)
        } else {
            full.rfind(",\"status\":")
        };
        match (start, end) {
            (Some(start), Some(end)) if start < end => {
                out.push_str(&full[..start]);
                out.push('[');
                for (n, x) in self.relations(r).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    // As stitching writes it: the target's parts as in its reference.
                    let (kind, rest) = x.target_ref.split_once(':').unwrap_or(("", &x.target_ref));
                    let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
                    let parts = [
                        ("{\"type\":", x.relation_type),
                        (",\"targetRef\":", &*x.target_ref),
                        (",\"target\":{\"kind\":", kind),
                        (",\"namespace\":", namespace),
                        (",\"name\":", name),
                    ];
                    for (key, value) in parts {
                        out.push_str(key);
                        out.push_str(&Value::from(value).to_string());
                    }
                    out.push_str("}}");
                }
                out.push(']');
                out.push_str(&full[end..]);
            }
            _ => out.push_str(&self.value(r).to_string()),
        }
    }

    /// [`Visible::write_json`] as a string.
    pub fn json(&self, r: &Record) -> String {
        let mut out = String::new();
        self.write_json(r, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::snapshot::tests_support::stored;
    use crate::policy::{Entity, Permission, Resource};
    use serde_json::json;

    fn view(seen: Option<Vec<bool>>) -> Visible {
        let seen = seen.map(Into::into);
        let body = |name: &str, depends_on: &[&str]| {
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                   "metadata": {"name": name},
                   "spec": {"owner": "team", "type": "service", "dependsOn": depends_on}})
        };
        let snap = Snapshot::build(
            vec![
                stored("Component", "a", body("a", &["component:b"])),
                stored("Component", "b", body("b", &[])),
            ],
            vec![],
        );
        Visible {
            snap: Arc::new(snap),
            seen,
            seen_locations: OnceLock::new(),
            asker: None,
            counts: OnceLock::new(),
            sources: Sources::default(),
        }
    }

    #[test]
    fn every_read_honours_what_the_caller_sees() {
        let all = view(None);
        assert_eq!(all.records().count(), 2);
        assert_eq!(all.query(&Query::default()), vec![0, 1]);
        // Record 1 (`b`) hidden: no lookup, query, facet or relation reaches it.
        let some = view(Some(vec![true, false]));
        assert_eq!(some.records().map(|(i, _)| i).collect::<Vec<_>>(), vec![0]);
        assert_eq!(some.query(&Query::default()), vec![0]);
        assert!(some.get("component", "default", "a").is_some());
        assert!(some.get("component", "default", "b").is_none());
        let uid = all.record(1).stored.uid.clone();
        assert!(all.get_uid(&uid).is_some());
        assert!(some.get_uid(&uid).is_none());
        assert_eq!(
            some.facet(&Filter::default(), "kind"),
            vec![("Component".to_string(), 1)]
        );
        let a = some.record(0);
        let dependency = a.relations.iter().find(|r| r.target_index == Some(1));
        assert!(dependency.is_some_and(|r| all.target(r).is_some() && some.target(r).is_none()));
    }

    /// For several policies and callers, every list, count and facet of the caller's view
    /// equals the unfiltered answer filtered by deciding `catalog.entity.read` per entity.
    #[test]
    fn every_list_count_and_facet_equals_filtering_by_the_policy() {
        use crate::policy::file::parse;
        let owners = [
            "team-a",
            "team-b",
            "group:default/admins",
            "user:default/alice",
        ];
        let mut stored_all = Vec::new();
        for i in 0..60 {
            let kind = ["Component", "API", "Resource"][i % 3];
            let tags: Vec<&str> = if i % 4 == 0 {
                vec!["secret"]
            } else {
                vec!["public"]
            };
            let tier = ["web", "db"][i % 2];
            let spec_type = ["service", "website", "library"][i % 3];
            let lifecycle = ["production", "experimental"][i % 2];
            let mut deps = vec![];
            if i > 0 {
                let target_kind = ["component", "api", "resource"][(i - 1) % 3];
                deps.push(format!("{target_kind}:default/e{:02}", i - 1));
            }
            stored_all.push(stored(
                kind,
                &format!("e{i:02}"),
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
                       "metadata": {"name": format!("e{i:02}"), "tags": tags,
                                    "labels": {"tier": tier}},
                       "spec": {"owner": owners[i % owners.len()],
                                "type": spec_type,
                                "lifecycle": lifecycle,
                                "dependsOn": deps}}),
            ));
        }
        for g in ["team-a", "team-b", "admins"] {
            stored_all.push(stored(
                "Group",
                g,
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                       "metadata": {"name": g}, "spec": {"type": "team", "children": []}}),
            ));
        }
        let snap = Arc::new(Snapshot::build(stored_all, vec![]));
        let policies = [
            crate::policy::DEFAULT_POLICY.to_string(),
            "roles:\n  r:\n    rules:\n      - allow: [catalog.entity.read]\n        when: {is_owner: true}\nbindings:\n  - {role: r, signed_in: true}\n".into(),
            "roles:\n  r:\n    rules:\n      - allow: [\"*\"]\n      - deny: [catalog.entity.read]\n        when: {tags: secret}\n      - deny: [catalog.entity.read]\n        when: {kind: api, lifecycle: experimental}\nbindings:\n  - {role: r, signed_in: true, guest: true}\n".into(),
            "roles:\n  r:\n    rules:\n      - allow: [catalog.entity.read]\n        when: {labels: {tier: web}}\n      - allow: [catalog.entity.read]\n        when: {type: [library], is_owner: true}\nbindings:\n  - {role: r, guest: true, signed_in: true}\n".into(),
            "roles:\n  r:\n    rules:\n      - deny: [catalog.*]\nbindings:\n  - {role: r, guest: true}\n".into(),
        ];
        let callers = [
            Caller::guest(),
            Caller {
                user: Some(app::model::EntityRef::new("User", "default", "alice")),
                groups: vec![app::model::EntityRef::new("Group", "default", "team-a")],
                ..Default::default()
            },
            Caller {
                user: Some(app::model::EntityRef::new("User", "default", "bob")),
                groups: vec![app::model::EntityRef::new("Group", "default", "admins")],
                ..Default::default()
            },
        ];
        let all = Visible {
            snap: snap.clone(),
            seen: None,
            seen_locations: OnceLock::new(),
            asker: None,
            counts: OnceLock::new(),
            sources: Sources::default(),
        };
        let filters = [
            Filter::default(),
            Filter::parse(&["kind=component".to_string()]).unwrap(),
            Filter::parse(&[
                "spec.lifecycle=production".to_string(),
                "kind=group".to_string(),
            ])
            .unwrap(),
            Filter::parse(&["relations.dependsOn=resource:default/e05".to_string()]).unwrap(),
            Filter::parse(&["relations.dependencyOf".to_string()]).unwrap(),
        ];
        let facet_keys = [
            "kind",
            "spec.type",
            "spec.owner",
            "metadata.tags",
            "relations.dependsOn",
            "relations.dependencyOf",
            "relations.ownedBy",
        ];
        let mut partial = 0;
        for text in &policies {
            let policy = parse(text, "p.yaml").unwrap();
            for caller in &callers {
                let allowed = |i: usize| {
                    policy
                        .decide(
                            caller,
                            Permission::CatalogEntityRead,
                            &Resource::Entity(Entity::new(&snap.records[i].stored, None)),
                        )
                        .allowed
                };
                let v = Visible {
                    snap: snap.clone(),
                    seen: visibility(&policy, caller, &snap).map(Into::into),
                    seen_locations: OnceLock::new(),
                    asker: None,
                    counts: OnceLock::new(),
                    sources: Sources::default(),
                };
                let expected: Vec<usize> =
                    (0..snap.records.len()).filter(|&i| allowed(i)).collect();
                if !expected.is_empty() && expected.len() < snap.records.len() {
                    partial += 1;
                }
                assert_eq!(v.records().map(|(i, _)| i).collect::<Vec<_>>(), expected);
                for filter in &filters {
                    let q = Query {
                        filter: filter.clone(),
                        ..Query::default()
                    };
                    // The unfiltered answer, filtered by the policy; relations to records the
                    // caller may not read do not count towards a match.
                    let hidden = |x: &RelationOut| x.target_index.is_some_and(|t| !allowed(t));
                    let want: Vec<usize> = all
                        .query(&q)
                        .into_iter()
                        .filter(|&i| allowed(i) && filter.matches_hiding(&snap.records[i], &hidden))
                        .collect();
                    assert_eq!(v.query(&q), want, "{text} {caller:?}");
                    for key in facet_keys {
                        // The unfiltered facet over the allowed records, without relations to
                        // records the caller may not read.
                        let mut counts: HashMap<String, usize> = HashMap::new();
                        for &i in &expected {
                            let r = &snap.records[i];
                            if !filter.matches_hiding(r, &hidden) {
                                continue;
                            }
                            let mut values: Vec<String> = Vec::new();
                            if key == "kind" {
                                values.push(r.entity_ref().kind.clone());
                            } else {
                                query::visit_values(r, key, &mut |x| {
                                    if !values.iter().any(|v| v == x) {
                                        values.push(x.to_string());
                                    }
                                });
                            }
                            if let Some(rel) = key.strip_prefix("relations.") {
                                values.retain(|t| {
                                    r.relations.iter().any(|x| {
                                        x.relation_type.eq_ignore_ascii_case(rel)
                                            && &*x.target_ref == t
                                            && x.target_index.is_none_or(&allowed)
                                    })
                                });
                            }
                            for x in values {
                                *counts.entry(x).or_default() += 1;
                            }
                        }
                        let mut want: Vec<(String, usize)> = counts.into_iter().collect();
                        want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                        assert_eq!(v.facet(filter, key), want, "{key} {text} {caller:?}");
                    }
                }
                // A match through a relation: only when its target is readable too.
                let q = Query {
                    filter: filters[3].clone(),
                    ..Query::default()
                };
                // e06 (a component) depends on e05 (a resource).
                let e06 = snap
                    .index_of_key(RefKey::of("Component", "default", "e06").as_str())
                    .unwrap();
                let e05 = snap
                    .index_of_key(RefKey::of("Resource", "default", "e05").as_str())
                    .unwrap();
                let want = if allowed(e06) && allowed(e05) {
                    vec![e06]
                } else {
                    vec![]
                };
                assert_eq!(v.query(&q), want, "{text} {caller:?}");
                // No hidden entity is named by a visible one's relations as served, and the
                // text served is the parsed view's.
                for (_, r) in v.records() {
                    let served: Value = serde_json::from_str(&v.json(r)).unwrap();
                    assert_eq!(served, v.value(r));
                    for rel in v.value(r)["relations"].as_array().into_iter().flatten() {
                        let t = rel["targetRef"].as_str().unwrap();
                        let key =
                            RefKey::from_ref(&app::model::EntityRef::from_ref_string(t).unwrap());
                        if let Some(i) = snap.index_of_key(key.as_str()) {
                            assert!(allowed(i), "{t} leaked through {}", r.stored.key);
                        }
                    }
                }
            }
        }
        assert!(
            partial >= 5,
            "the policies hide some but not all records often enough: {partial}"
        );
    }

    #[test]
    fn the_view_cache_is_per_snapshot_policy_and_caller() {
        let cache = ViewCache::default();
        let snap = Arc::new(Snapshot::build(vec![], vec![]));
        let other_snap = Arc::new(Snapshot::build(vec![], vec![]));
        let policy = Arc::new(crate::policy::allow_all());
        let other_policy = Arc::new(crate::policy::allow_all());
        let alice = Caller {
            user: Some(app::model::EntityRef::new("User", "default", "alice")),
            groups: vec![],
            ..Default::default()
        };
        let computed = std::cell::Cell::new(0);
        let ask = |s: &Arc<Snapshot>, p: &Arc<Policy>, c: &Caller, answer: bool| {
            cache.get_or_compute(s, p, c, || {
                computed.set(computed.get() + 1);
                Some(vec![answer].into())
            })
        };
        assert_eq!(
            ask(&snap, &policy, &alice, true).as_deref(),
            Some(&[true][..])
        );
        // The same key: the first answer, not computed again.
        assert_eq!(
            ask(&snap, &policy, &alice, false).as_deref(),
            Some(&[true][..])
        );
        assert_eq!(computed.get(), 1);
        // Another caller, policy or snapshot: computed.
        assert_eq!(
            ask(&snap, &policy, &Caller::guest(), false).as_deref(),
            Some(&[false][..])
        );
        assert_eq!(
            ask(&snap, &other_policy, &alice, false).as_deref(),
            Some(&[false][..])
        );
        assert_eq!(
            ask(&other_snap, &policy, &alice, false).as_deref(),
            Some(&[false][..])
        );
        assert_eq!(computed.get(), 4);
    }
}
