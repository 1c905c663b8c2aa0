//! Planning one location's refresh: what was read, compared with the catalog as a writer sees
//! it (the published snapshot with the changes not yet published over it), becomes the rows to
//! write and the location's entities afterwards. Entities of broken files and invalid documents
//! keep their last good version with a problem saying why; entities no location emits any more
//! are deleted or kept as orphans; an entity another location already provides is a conflict.
//!
//! Pure: no storage, no clock other than the time stamp of what changes.

use super::processing::{FileOutcome, FileStates, LocationRead, ProcessedEntity};
use super::reference::RefKey;
use super::snapshot::{Snapshot, Stored, StoredData};
use super::OrphanStrategy;
use crate::storage::{Changes, EntityRow, EntityWrite, SourceRow};
use crate::util::now_rfc3339;
use app::model::{EntityRef, ProblemView, Severity};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Prefix of the problem added to an entity whose source broke and which keeps its last good version.
pub const STALE_PREFIX: &str = "Showing the last good version:";
/// Prefix of the problem on an entity kept after its source stopped emitting it.
pub const ORPHAN_PREFIX: &str = "Orphaned:";

/// Changes written to storage but not yet in the published snapshot.
///
/// Building a snapshot stitches the whole catalog (tens of milliseconds at 10k entities), so
/// it is not done once per location: a builder task rebuilds as often as it can, each time with
/// every change made since the last build. Writers see the published snapshot overridden by
/// these entries (see [`WriterView`]); a refresh returns once a snapshot with its change is
/// published. The builder holds the write lock while it builds, so writers queue up (their
/// fetches do not) and the next build takes all of their changes at once.
#[derive(Default)]
pub(super) struct Pending {
    /// Location id → (change number, its entities now; empty when the location was removed).
    pub(super) entries: HashMap<String, (u64, Vec<Stored>)>,
    /// Number of the last change.
    pub(super) requested: u64,
}

impl Pending {
    pub(super) fn change(&mut self, location_id: &str, entities: Vec<Stored>) -> u64 {
        self.requested += 1;
        self.entries
            .insert(location_id.to_string(), (self.requested, entities));
        self.requested
    }
}

/// The catalog as a writer must see it: the published snapshot with the pending changes over it.
pub(super) struct WriterView<'a> {
    published: &'a Snapshot,
    pending: &'a Pending,
    /// Entities of the pending changes by key.
    pending_keys: HashMap<&'a RefKey, &'a Stored>,
}

impl<'a> WriterView<'a> {
    pub(super) fn new(published: &'a Snapshot, pending: &'a Pending) -> Self {
        let pending_keys = pending
            .entries
            .values()
            .flat_map(|(_, v)| v.iter().map(|s| (&s.key, s)))
            .collect();
        WriterView {
            published,
            pending,
            pending_keys,
        }
    }

    /// The entities a location provides now.
    fn of_location(&self, id: &str) -> Vec<&'a Stored> {
        match self.pending.entries.get(id) {
            Some((_, v)) => v.iter().collect(),
            None => self
                .published
                .stored()
                .filter(|s| s.location_id == id)
                .collect(),
        }
    }

    /// The entity with this key, whichever location provides it.
    fn get(&self, key: &RefKey) -> Option<&'a Stored> {
        if let Some(s) = self.pending_keys.get(key) {
            return Some(s);
        }
        self.published
            .get_key(key)
            .map(|r| &r.stored)
            .filter(|s| !self.pending.entries.contains_key(&s.location_id))
    }
}

/// Every file was read before, cleanly, with the same content; none went away; no problem
/// anywhere: the refresh changes nothing.
pub(super) fn nothing_changed(
    read: &LocationRead,
    known_files: usize,
    current: &Snapshot,
    id: &str,
) -> bool {
    read.problems.is_empty()
        && read.files.len() == known_files
        && read
            .files
            .iter()
            .all(|f| matches!(f, FileOutcome::Unchanged { .. }))
        && current
            .locations
            .iter()
            .any(|l| l.id == id && l.problems.is_empty() && l.last_refresh_at.is_some())
}

pub(super) struct Plan {
    pub(super) changes: Changes<Stored>,
    /// The location's entities after this refresh.
    pub(super) keep: Vec<Stored>,
    pub(super) location_problems: Vec<ProblemView>,
    pub(super) processed: usize,
    /// The state of the location's files once the changes are stored.
    pub(super) file_states: FileStates,
}

/// Decides what one location read changes.
pub(super) fn plan_changes(
    current: &WriterView<'_>,
    location_id: &str,
    read: LocationRead,
    known_files: &FileStates,
    orphans: OrphanStrategy,
) -> Plan {
    // Consumed: entities move from what was read into the plan, never copied.
    let LocationRead {
        files,
        file_state,
        problems: read_problems,
    } = read;
    let id = &location_id.to_string();
    let now = now_rfc3339();
    let prev: HashMap<&RefKey, &Stored> = current
        .of_location(id)
        .into_iter()
        .map(|s| (&s.key, s))
        .collect();
    let mut by_file: HashMap<&str, Vec<&Stored>> = HashMap::new();
    for s in prev.values() {
        by_file.entry(s.source_file.as_str()).or_default().push(s);
    }
    let mut keep: HashMap<RefKey, Stored> = HashMap::new();
    // Keys (into `keep`) of the entities to write.
    let mut upserts: Vec<RefKey> = Vec::new();
    let mut problems = read_problems;
    let mut processed = 0;

    let keep_stale =
        |s: &Stored, why: &str, keep: &mut HashMap<RefKey, Stored>, upserts: &mut Vec<RefKey>| {
            let mut kept = s.clone();
            kept.problems
                .retain(|p| !p.message.starts_with(STALE_PREFIX));
            kept.problems.push(ProblemView {
                severity: Severity::Error,
                message: format!("{STALE_PREFIX} {why}"),
                file: Some(s.source_file.clone()),
                document: None,
                line: None,
                field: None,
            });
            if kept.problems != s.problems {
                kept.updated_at = now.clone();
                upserts.push(kept.key.clone());
            }
            keep.insert(kept.key.clone(), kept);
        };

    for file in files {
        match file {
            FileOutcome::Unchanged { path, .. } => {
                for s in by_file.get(path.as_str()).into_iter().flatten() {
                    keep.insert(s.key.clone(), (*s).clone());
                }
            }
            FileOutcome::Failed { path, problem } => {
                problems.push(problem.clone());
                for s in by_file.get(path.as_str()).into_iter().flatten() {
                    keep_stale(s, &problem.message, &mut keep, &mut upserts);
                }
            }
            FileOutcome::Read {
                path,
                entities,
                problems: file_problems,
                invalid,
                broken_documents,
                ..
            } => {
                problems.extend(file_problems.iter().cloned());
                for key in &invalid {
                    if let Some(s) = prev.get(key) {
                        let why = format!("the latest version in {path} is not valid (see the location's problems)");
                        keep_stale(s, &why, &mut keep, &mut upserts);
                    }
                }
                for e in entities {
                    processed += 1;
                    if let Some(other) = current.get(&e.key).filter(|s| &s.location_id != id) {
                        problems.push(conflict(&e, other));
                        continue;
                    }
                    if let Some(first) = keep.get(&e.key) {
                        let here = &e.stored;
                        if first.source_file != here.source_file || first.document != here.document
                        {
                            problems.push(ProblemView {
                                severity: Severity::Error,
                                message: format!(
                                    "{} is defined twice in this location: in {} (document {}) and here; this one is ignored",
                                    e.key, first.source_file, first.document
                                ),
                                file: Some(here.source_file.clone()),
                                document: Some(here.document),
                                line: Some(here.line),
                                field: Some("metadata.name".into()),
                            });
                            continue;
                        }
                    }
                    let old = prev.get(&e.key);
                    let (key, stored) = to_stored(e, id, old.copied(), &now);
                    let same = old.is_some_and(|o| {
                        o.hash == stored.hash
                            && o.problems == stored.problems
                            && o.source_file == stored.source_file
                            && o.document == stored.document
                            && o.line == stored.line
                    });
                    if same {
                        if let Some(o) = old {
                            keep.insert(o.key.clone(), (*o).clone());
                        }
                    } else {
                        upserts.push(stored.key.clone());
                        keep.insert(key, stored);
                    }
                }
                if broken_documents {
                    let why = format!(
                        "a document of {path} is not valid YAML (see the location's problems)"
                    );
                    for s in by_file.get(path.as_str()).into_iter().flatten() {
                        if !keep.contains_key(&s.key) {
                            keep_stale(s, &why, &mut keep, &mut upserts);
                        }
                    }
                }
            }
        }
    }

    let mut deletes = Vec::new();
    for (key, s) in &prev {
        if keep.contains_key(*key) {
            continue;
        }
        match orphans {
            OrphanStrategy::Delete => deletes.push(key.0.clone()),
            OrphanStrategy::Keep => {
                let mut kept = (*s).clone();
                if !kept
                    .problems
                    .iter()
                    .any(|p| p.message.starts_with(ORPHAN_PREFIX))
                {
                    kept.problems.push(ProblemView {
                        severity: Severity::Warning,
                        message: format!(
                            "{ORPHAN_PREFIX} no file of its location defines this entity any more"
                        ),
                        file: Some(s.source_file.clone()),
                        document: None,
                        line: None,
                        field: None,
                    });
                    upserts.push(kept.key.clone());
                }
                keep.insert((*key).clone(), kept);
            }
        }
    }

    let visited: HashSet<&str> = file_state.iter().map(|(p, _)| p.as_str()).collect();
    let changes = Changes {
        upserts: upserts
            .iter()
            .filter_map(|k| keep.get(k))
            .cloned()
            .collect(),
        deletes,
        // Only files whose state differs from what is stored are written.
        sources: file_state
            .iter()
            .filter_map(|(p, f)| f.as_ref().map(|f| (p, f)))
            .filter(|(p, f)| known_files.get(p.as_str()) != Some(*f))
            .map(|(p, f)| SourceRow {
                location_id: id.clone(),
                path: p.clone(),
                hash: f.hash.clone(),
                clean: f.clean,
                modified_ns: f.modified_ns,
                size: f.size as i64,
                targets: serde_json::to_string(&f.targets).unwrap_or_else(|_| "[]".into()),
            })
            .collect(),
        deleted_sources: known_files
            .keys()
            .filter(|p| !visited.contains(p.as_str()))
            .cloned()
            .collect(),
    };
    let file_states = file_state
        .into_iter()
        .filter_map(|(p, f)| {
            let f = f.or_else(|| known_files.get(&p).cloned())?;
            Some((p, f))
        })
        .collect();
    Plan {
        changes,
        keep: keep.into_values().collect(),
        location_problems: problems,
        processed,
        file_states,
    }
}

fn conflict(e: &ProcessedEntity, owner: &Stored) -> ProblemView {
    ProblemView {
        severity: Severity::Error,
        message: format!(
            "{} is already provided by another location ({}, {}); this definition is ignored until that one goes away",
            e.key, owner.location_id, owner.source_file
        ),
        file: Some(e.stored.source_file.clone()),
        document: Some(e.stored.document),
        line: Some(e.stored.line),
        field: Some("metadata.name".into()),
    }
}

/// The entity as the catalog keeps it, with its key (moved, not copied). What did not change
/// since `old` (its uid, the references it declares, the fields lists use) is shared with the
/// old version rather than held twice: while a change is written and the new snapshot built,
/// both versions of every changed entity are in memory.
fn to_stored(
    e: ProcessedEntity,
    location_id: &str,
    old: Option<&Stored>,
    now: &str,
) -> (RefKey, Stored) {
    let mut data = StoredData {
        location_id: location_id.to_string(),
        updated_at: now.to_string(),
        ..e.stored.into_data()
    };
    match old {
        Some(old) => {
            data.uid = old.uid.clone();
            if old.declared == data.declared {
                data.declared = old.declared.clone();
            }
            if old.fields == data.fields {
                data.fields = old.fields.clone();
            }
        }
        None => data.uid = uuid::Uuid::new_v4().to_string(),
    }
    (e.key, data.into())
}

impl EntityWrite for Stored {
    fn entity_ref(&self) -> &str {
        self.key.as_str()
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn location_id(&self) -> &str {
        &self.location_id
    }
    fn body(&self) -> &str {
        &self.body
    }
    fn hash(&self) -> &str {
        &self.hash
    }
    fn source_file(&self) -> &str {
        &self.source_file
    }
    fn document(&self) -> i64 {
        self.document as i64
    }
    fn line(&self) -> i64 {
        self.line as i64
    }
    fn problems_json(&self) -> String {
        serde_json::to_string(&self.problems).unwrap_or_else(|_| "[]".into())
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

pub(super) fn stored_from_row(row: EntityRow) -> Option<Stored> {
    let body: Value = match serde_json::from_str(&row.body) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(entity = %row.entity_ref, error = %e, "stored entity is not valid JSON; skipping it");
            return None;
        }
    };
    let kind = body["kind"].as_str().unwrap_or_default();
    let entity_ref = EntityRef::new(
        super::reference::canonical_kind(kind),
        body["metadata"]["namespace"].as_str().unwrap_or("default"),
        body["metadata"]["name"].as_str().unwrap_or_default(),
    );
    let mut stored = Stored::with_text(
        entity_ref,
        &body,
        row.body,
        row.uid,
        row.location_id,
        row.hash,
        (
            row.source_file,
            row.document.max(0) as usize,
            row.line.max(0) as usize,
        ),
        serde_json::from_str(&row.problems).unwrap_or_default(),
        row.updated_at,
    );
    stored.key = RefKey(row.entity_ref);
    Some(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::component;
    use std::sync::Arc;

    const LOCATION: &str = "loc-1";

    /// One file as a read gives it.
    fn read_file(path: &str, text: &str) -> FileOutcome {
        let parsed = crate::files::parse_file(text, path, "file:/cat", &|_| true);
        FileOutcome::Read {
            path: path.to_string(),
            hash: crate::util::content_hash(text.as_bytes()),
            entities: parsed.entities,
            problems: parsed.problems,
            invalid: parsed.invalid,
            broken_documents: parsed.broken_documents,
        }
    }

    fn read(files: Vec<FileOutcome>) -> LocationRead {
        LocationRead {
            files,
            ..Default::default()
        }
    }

    /// Plans `read` for [`LOCATION`] over a catalog holding `catalog`.
    fn plan(catalog: Vec<Stored>, read: LocationRead, orphans: OrphanStrategy) -> Plan {
        let snapshot = Snapshot::build(catalog, Vec::new());
        let pending = Pending::default();
        let view = WriterView::new(&snapshot, &pending);
        plan_changes(&view, LOCATION, read, &FileStates::new(), orphans)
    }

    fn names(rows: &[Stored]) -> Vec<&str> {
        let mut v: Vec<&str> = rows.iter().map(|r| r.entity_ref()).collect();
        v.sort();
        v
    }

    fn kept(plan: &Plan, name: &str) -> Stored {
        plan.keep
            .iter()
            .find(|s| s.key.as_str() == format!("component:default/{name}"))
            .cloned()
            .unwrap_or_else(|| panic!("{name} not kept"))
    }

    #[test]
    fn a_first_read_writes_every_entity_and_a_second_identical_one_writes_none() {
        let files = || {
            vec![
                read_file("/cat/a.yaml", &component("a", "t")),
                read_file("/cat/b.yaml", &component("b", "t")),
            ]
        };
        let first = plan(Vec::new(), read(files()), OrphanStrategy::Delete);
        assert_eq!(
            names(&first.changes.upserts),
            ["component:default/a", "component:default/b"]
        );
        assert!(first.changes.deletes.is_empty());
        assert_eq!(first.processed, 2);
        assert!(first.keep.iter().all(|s| s.location_id == LOCATION));

        let again = plan(first.keep.clone(), read(files()), OrphanStrategy::Delete);
        assert!(again.changes.upserts.is_empty(), "nothing changed");
        assert_eq!(kept(&again, "a").uid, kept(&first, "a").uid, "uid stays");
    }

    #[test]
    fn a_changed_entity_shares_what_did_not_change_with_its_old_version() {
        let first = plan(
            Vec::new(),
            read(vec![read_file("/cat/a.yaml", &component("a", "t"))]),
            OrphanStrategy::Delete,
        );
        let old = kept(&first, "a");
        // The lifecycle changes (a field lists use); the owner (a declared reference) does not.
        let edited = component("a", "t").replace("production", "experimental");
        let after = plan(
            first.keep.clone(),
            read(vec![read_file("/cat/a.yaml", &edited)]),
            OrphanStrategy::Delete,
        );
        let new = kept(&after, "a");
        assert_eq!(names(&after.changes.upserts), ["component:default/a"]);
        assert_eq!(new.uid, old.uid);
        assert!(
            Arc::ptr_eq(&new.declared, &old.declared),
            "declared is shared"
        );
        assert!(!Arc::ptr_eq(&new.fields, &old.fields), "fields changed");
        assert_eq!(new.fields.lc_lifecycle(), Some("experimental"));

        // An owner changed: the new references are the entity's own.
        let moved = component("a", "u").replace("production", "experimental");
        let again = plan(
            after.keep.clone(),
            read(vec![read_file("/cat/a.yaml", &moved)]),
            OrphanStrategy::Delete,
        );
        let newer = kept(&again, "a");
        assert!(!Arc::ptr_eq(&newer.declared, &new.declared));
        assert_eq!(&*newer.declared[0].target_ref, "group:default/u");
        assert!(!Arc::ptr_eq(&newer.fields, &new.fields), "fields changed");
        assert_eq!(newer.fields.lc_owner(), Some("u"));
    }

    #[test]
    fn a_broken_file_keeps_the_last_good_version_with_a_problem_that_says_why() {
        let first = plan(
            Vec::new(),
            read(vec![read_file("/cat/a.yaml", &component("a", "t"))]),
            OrphanStrategy::Delete,
        );
        let broken = FileOutcome::Failed {
            path: "/cat/a.yaml".into(),
            problem: super::super::processing::file_problem("/cat/a.yaml", "invalid YAML"),
        };
        let after = plan(first.keep, read(vec![broken]), OrphanStrategy::Delete);
        let a = kept(&after, "a");
        assert!(
            a.problems[0].message.starts_with(STALE_PREFIX),
            "{:?}",
            a.problems
        );
        assert!(a.problems[0].message.contains("invalid YAML"));
        assert_eq!(names(&after.changes.upserts), ["component:default/a"]);
        assert!(after.changes.deletes.is_empty());
        assert_eq!(after.location_problems.len(), 1);
    }

    #[test]
    fn entities_no_file_emits_are_deleted_or_kept_as_orphans() {
        let both = read(vec![
            read_file("/cat/a.yaml", &component("a", "t")),
            read_file("/cat/b.yaml", &component("b", "t")),
        ]);
        let first = plan(Vec::new(), both, OrphanStrategy::Delete);
        let only_a = || read(vec![read_file("/cat/a.yaml", &component("a", "t"))]);

        let deleted = plan(first.keep.clone(), only_a(), OrphanStrategy::Delete);
        assert_eq!(deleted.changes.deletes, ["component:default/b"]);
        assert_eq!(deleted.keep.len(), 1);

        let orphaned = plan(first.keep, only_a(), OrphanStrategy::Keep);
        assert!(orphaned.changes.deletes.is_empty());
        let b = kept(&orphaned, "b");
        assert!(b.problems[0].message.starts_with(ORPHAN_PREFIX));
        assert_eq!(names(&orphaned.changes.upserts), ["component:default/b"]);
    }

    #[test]
    fn an_entity_another_location_provides_is_a_conflict_not_a_takeover() {
        let mut theirs = plan(
            Vec::new(),
            read(vec![read_file("/other/a.yaml", &component("a", "them"))]),
            OrphanStrategy::Delete,
        )
        .keep;
        theirs[0].location_id = "loc-2".into();
        let ours = plan(
            theirs,
            read(vec![read_file("/cat/a.yaml", &component("a", "us"))]),
            OrphanStrategy::Delete,
        );
        assert!(ours.keep.is_empty());
        assert!(ours.changes.upserts.is_empty());
        let p = &ours.location_problems[0];
        assert!(
            p.message
                .contains("already provided by another location (loc-2"),
            "{p:?}"
        );
        assert_eq!(p.file.as_deref(), Some("/cat/a.yaml"));
    }

    #[test]
    fn the_same_entity_twice_in_one_location_keeps_the_first() {
        let twice = read(vec![
            read_file("/cat/a.yaml", &component("a", "first")),
            read_file("/cat/copy.yaml", &component("a", "second")),
        ]);
        let p = plan(Vec::new(), twice, OrphanStrategy::Delete);
        assert_eq!(p.keep.len(), 1);
        assert_eq!(kept(&p, "a").source_file, "/cat/a.yaml");
        assert!(p.location_problems[0].message.contains("defined twice"));
    }
}
