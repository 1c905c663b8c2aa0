//! What a registration answers: the new location and its entities, written out as JSON in
//! pieces straight from the snapshot (or, for a dry run, from what was read).

use super::snapshot::{LocationInfo, Snapshot, Stored};
use std::sync::Arc;

/// Outcome of registering a location (or of a dry run).
#[derive(Debug, Clone)]
pub struct AddedLocation {
    pub location: LocationInfo,
    /// The entities it provides (for a dry run: would provide).
    pub entities: AddedEntities,
    /// The location was already registered.
    pub exists: bool,
}

/// The entities of a registration, kept as the catalog holds them and written out on demand.
///
/// They are never turned into `serde_json::Value`s: at 10k entities those cost hundreds of MiB
/// for one response, which glibc's allocator keeps long after the response is gone (issue 10).
#[derive(Clone)]
pub enum AddedEntities {
    /// Registered: the records of the published snapshot at these positions.
    Catalog {
        snapshot: Arc<Snapshot>,
        records: Vec<usize>,
    },
    /// A dry run: the entities as read, not stitched (nothing is stored).
    Preview(Vec<Stored>),
}

impl std::fmt::Debug for AddedEntities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedEntities")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl AddedEntities {
    pub(super) fn of_location(snapshot: Arc<Snapshot>, location_id: &str) -> AddedEntities {
        let records = snapshot
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.stored.location_id == location_id)
            .map(|(i, _)| i)
            .collect();
        AddedEntities::Catalog { snapshot, records }
    }

    /// The entities' references, in order.
    pub fn refs(&self) -> Vec<&app::model::EntityRef> {
        match self {
            AddedEntities::Catalog { snapshot, records } => records
                .iter()
                .map(|&i| &snapshot.records[i].stored.entity_ref)
                .collect(),
            AddedEntities::Preview(entities) => entities.iter().map(|e| &e.entity_ref).collect(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            AddedEntities::Catalog { records, .. } => records.len(),
            AddedEntities::Preview(entities) => entities.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends entity `i` as the REST API serves it (stitched when registered).
    fn write_one(&self, i: usize, out: &mut String) {
        match self {
            AddedEntities::Catalog { snapshot, records } => {
                snapshot.records[records[i]].write_json(out)
            }
            AddedEntities::Preview(entities) => out.push_str(&entities[i].body),
        }
    }

    /// The entities as one JSON array, in pieces of `per_chunk` entities, written as the
    /// pieces are asked for: a response streams them without ever holding the whole array.
    pub fn into_json_chunks(self, per_chunk: usize) -> impl Iterator<Item = String> + Send {
        let n = self.len();
        let per_chunk = per_chunk.max(1);
        let mut next = 0;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut out = String::new();
            if next == 0 {
                out.push('[');
            }
            let end = (next + per_chunk).min(n);
            for i in next..end {
                if i > 0 {
                    out.push(',');
                }
                self.write_one(i, &mut out);
            }
            next = end;
            if next == n {
                out.push(']');
                done = true;
            }
            Some(out)
        })
    }

    /// The entities as the UI lists them, sorted by reference.
    pub fn summaries(&self) -> Vec<app::model::EntitySummary> {
        let mut out: Vec<app::model::EntitySummary> = match self {
            AddedEntities::Catalog { snapshot, records } => records
                .iter()
                .map(|&i| super::views::summary(&snapshot.records[i]))
                .collect(),
            AddedEntities::Preview(entities) => entities
                .iter()
                .filter_map(|e| super::admin::summary_of(&e.value()))
                .collect(),
        };
        out.sort_by_cached_key(|e| e.entity_ref.to_ref_string());
        out
    }
}
