//! The one way in and out of the catalog for requests. The REST API (`api/catalog.rs`) and the
//! UI's services ([`super::views`], [`super::admin`]) read and write through [`Facade`], and
//! every method takes the [`Caller`].
//!
//! What a caller may see is decided in one place, [`Facade::read`]: it hands out a
//! [`Visible`], a caller's view of one snapshot, and every read goes through its methods (a
//! lookup, a query, facet counts, a relation's target, the locations). Today every caller sees
//! everything; sign-in's permission filter goes into [`visibility`] and nowhere else. Writes
//! are allowed in one place too, [`Facade::may_change`].

use super::added::AddedLocation;
use super::query::{self, Filter, Query};
use super::reference::RefKey;
use super::service::CatalogService;
use super::snapshot::{FacetIndex, LocationInfo, Record, RelationOut, Snapshot};
use super::source::{NewLocation, Sources};
use super::CatalogError;
use app::model::Caller;
use std::sync::Arc;

/// The catalog as requests use it.
#[derive(Clone)]
pub struct Facade {
    catalog: Arc<CatalogService>,
}

impl Facade {
    pub fn new(catalog: Arc<CatalogService>) -> Self {
        Self { catalog }
    }

    /// What `caller` sees of the catalog as it is now. Hold it for the length of a request:
    /// it is one consistent snapshot.
    pub fn read(&self, caller: &Caller) -> Visible {
        let snap = self.catalog.snapshot();
        let seen = visibility(caller, &snap);
        Visible {
            snap,
            seen,
            sources: self.catalog.sources().clone(),
        }
    }

    /// Whether `caller` may change the catalog (register, refresh, remove). Today: everyone.
    fn may_change(&self, _caller: &Caller) -> Result<(), CatalogError> {
        Ok(())
    }

    /// Registers a location, or with `dry_run` reads it and says what it would add.
    pub async fn register(
        &self,
        caller: &Caller,
        new: NewLocation,
        dry_run: bool,
    ) -> Result<AddedLocation, CatalogError> {
        self.may_change(caller)?;
        self.catalog.register(new, dry_run).await
    }

    /// Reads a location now.
    pub async fn refresh_location(&self, caller: &Caller, id: &str) -> Result<(), CatalogError> {
        self.may_change(caller)?;
        self.catalog.refresh_location(id).await
    }

    /// Removes a location registered through the API, with its entities.
    pub async fn unregister_location(&self, caller: &Caller, id: &str) -> Result<(), CatalogError> {
        self.may_change(caller)?;
        self.catalog.unregister_location(id).await
    }

    /// Re-reads the location that provides an entity the caller sees.
    pub async fn refresh_entity(&self, caller: &Caller, key: &RefKey) -> Result<(), CatalogError> {
        self.may_change(caller)?;
        if self.read(caller).get_key(key).is_none() {
            return Err(CatalogError::NotFound(format!("no entity {key}")));
        }
        self.catalog.refresh_entity(key).await
    }
}

/// The records of `snap` that `caller` may see, by index; `None`: all of them. The one place
/// for the permission filter of sign-in. Today every caller sees every record.
fn visibility(_caller: &Caller, _snap: &Snapshot) -> Option<Vec<bool>> {
    None
}

/// A caller's view of one snapshot: only the records they may see.
pub struct Visible {
    snap: Arc<Snapshot>,
    /// Per record index, whether the caller sees it; `None`: every record.
    seen: Option<Vec<bool>>,
    /// How each kind of location is shown (targets without credentials, repositories).
    sources: Sources,
}

impl Visible {
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
            matched.retain(|&i| self.sees(i));
        }
        matched
    }

    /// Counts of each value of a field among the visible records matching `filter`.
    pub fn facet(&self, filter: &Filter, key: &str) -> Vec<(String, usize)> {
        query::facet(self.records().map(|(_, r)| r), filter, key)
    }

    pub fn locations(&self) -> impl Iterator<Item = &LocationInfo> {
        self.snap.locations.iter().map(|l| &**l)
    }

    pub fn location(&self, id: &str) -> Option<&LocationInfo> {
        self.locations().find(|l| l.id == id)
    }

    /// How many entities a location provides.
    pub fn entity_count(&self, location_id: &str) -> usize {
        self.snap
            .location_counts
            .get(location_id)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::snapshot::tests_support::stored;
    use serde_json::json;

    fn view(seen: Option<Vec<bool>>) -> Visible {
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
}
