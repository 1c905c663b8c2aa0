//! The in-memory read model: every stitched entity with its relations, indexed for the REST API
//! and the UI, rebuilt from the processed entities after each change.
//!
//! Readers take an `Arc<Snapshot>` and never wait for writers. Each record keeps the processed
//! entity as JSON text once (shared with storage writes) and its relations; serving it splices
//! `metadata.uid`/`etag`, `relations` and `status` into that text, which is cheaper than
//! keeping a second, stitched copy of every entity in memory.

use super::reference::{canonical_kind, RefKey};
use super::relations;
use app::model::{EntityRef, ProblemView, Severity};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A processed entity as stored (the input of stitching). Kept compact: the body as JSON text,
/// plus what filters, pages and stitching need, extracted once when it is created.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub key: RefKey,
    pub entity_ref: EntityRef,
    pub uid: String,
    pub location_id: String,
    /// The processed entity as JSON (no `relations`, `status`, `metadata.uid` or
    /// `metadata.etag`), as in the database.
    pub body: Arc<str>,
    pub hash: String,
    pub source_file: String,
    pub document: usize,
    pub line: usize,
    pub problems: Vec<ProblemView>,
    pub updated_at: String,
    /// Fields extracted from the body.
    pub fields: Arc<Fields>,
    /// References the entity declares in its spec (each gives a relation both ways).
    pub declared: Arc<[Declared]>,
}

/// A reference an entity declares: `spec.owner: team-a` is `ownedBy` → `group:default/team-a`
/// (and `ownerOf` back).
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub relation_type: &'static str,
    pub inverse: &'static str,
    /// `kind:namespace/name`, kind in lower case.
    /// Its key is this in lower case.
    pub target_ref: Arc<str>,
    /// The field it was declared in, e.g. `spec.dependsOn[1]`.
    pub field: Box<str>,
}

/// Fields of an entity that lists, filters, facets and sorting use, extracted once.
#[derive(Debug, Default, PartialEq)]
pub struct Fields {
    pub title: Option<String>,
    pub description: Option<String>,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub tags: Vec<String>,
    /// `spec.owner` and `spec.system` as written.
    pub owner: Option<String>,
    pub system: Option<String>,
    pub lc: Lowered,
}

/// Lower-cased values for case-insensitive filtering and sorting.
#[derive(Debug, Default, PartialEq)]
pub struct Lowered {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub tags: Vec<String>,
    pub owner: Option<String>,
    pub system: Option<String>,
    /// Searched by free-text filters: name, title, description, display name, tags.
    pub text: String,
}

impl Fields {
    pub fn of(entity_ref: &EntityRef, b: &Value) -> Fields {
        let s = |v: &Value| v.as_str().map(str::to_string);
        let lc = |v: &Option<String>| v.as_ref().map(|x| x.to_lowercase());
        let title = s(&b["metadata"]["title"]);
        let description = s(&b["metadata"]["description"]);
        let spec_type = s(&b["spec"]["type"]);
        let lifecycle = s(&b["spec"]["lifecycle"]);
        let owner = s(&b["spec"]["owner"]);
        let system = s(&b["spec"]["system"]);
        let tags: Vec<String> = b["metadata"]["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut text = entity_ref.name.to_lowercase();
        for t in [
            title.as_deref(),
            description.as_deref(),
            b["spec"]["profile"]["displayName"].as_str(),
        ]
        .into_iter()
        .flatten()
        {
            text.push('\n');
            text.push_str(&t.to_lowercase());
        }
        for t in &tags {
            text.push('\n');
            text.push_str(&t.to_lowercase());
        }
        let lowered = Lowered {
            kind: entity_ref.kind.to_ascii_lowercase(),
            namespace: entity_ref.namespace.to_ascii_lowercase(),
            name: entity_ref.name.to_lowercase(),
            title: lc(&title),
            spec_type: lc(&spec_type),
            lifecycle: lc(&lifecycle),
            tags: tags.iter().map(|t| t.to_lowercase()).collect(),
            owner: lc(&owner),
            system: lc(&system),
            text,
        };
        Fields {
            title,
            description,
            spec_type,
            lifecycle,
            tags,
            owner,
            system,
            lc: lowered,
        }
    }
}

impl Stored {
    /// Builds the compact form of a processed entity.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        entity_ref: EntityRef,
        body: &Value,
        uid: String,
        location_id: String,
        hash: String,
        source: (String, usize, usize),
        problems: Vec<ProblemView>,
        updated_at: String,
    ) -> Stored {
        let (emitted, _) = relations::emit(&entity_ref, body);
        let declared: Vec<Declared> = emitted
            .into_iter()
            .filter_map(|r| {
                let field = r.field?;
                Some(Declared {
                    relation_type: r.relation_type,
                    inverse: relations::inverse_of(r.relation_type),
                    target_ref: r.target.to_ref_string().into(),
                    field: field.into(),
                })
            })
            .collect();
        Stored {
            key: RefKey::from_ref(&entity_ref),
            fields: Arc::new(Fields::of(&entity_ref, body)),
            declared: declared.into(),
            body: serde_json::to_string(&without_stitched(body))
                .unwrap_or_else(|_| "{}".into())
                .into(),
            entity_ref,
            uid,
            location_id,
            hash,
            source_file: source.0,
            document: source.1,
            line: source.2,
            problems,
            updated_at,
        }
    }

    /// The body parsed (for the few places that need arbitrary fields).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The entity without what stitching adds (`relations`, `status`, `metadata.uid`,
/// `metadata.etag`), borrowed when it has none of them.
fn without_stitched(body: &Value) -> std::borrow::Cow<'_, Value> {
    let stitched = |v: &Value| {
        v.get("relations").is_some()
            || v.get("status").is_some()
            || v["metadata"].get("uid").is_some()
            || v["metadata"].get("etag").is_some()
    };
    if !stitched(body) {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut v = body.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("relations");
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("uid");
            meta.remove("etag");
        }
    }
    std::borrow::Cow::Owned(v)
}

impl Stored {}

/// A relation on a stitched entity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RelationOut {
    pub relation_type: &'static str,
    /// `kind:namespace/name` of the target, kind in lower case (as Backstage prints it).
    pub target_ref: Arc<str>,
    /// Index of the target in the snapshot, if it exists.
    pub target_index: Option<usize>,
}

impl RelationOut {
    pub fn target(&self) -> EntityRef {
        let (kind, rest) = self
            .target_ref
            .split_once(':')
            .unwrap_or(("", &self.target_ref));
        let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
        EntityRef::new(canonical_kind(kind), ns, name)
    }

    pub fn target_kind(&self) -> &str {
        self.target_ref
            .split_once(':')
            .map(|(k, _)| k)
            .unwrap_or("")
    }
}

/// A stitched entity.
#[derive(Debug)]
pub struct Record {
    pub stored: Stored,
    pub relations: Vec<RelationOut>,
    /// Stored problems plus dangling references, errors first.
    pub problems: Vec<ProblemView>,
    /// Byte offset in `stored.body` just inside the top-level `"metadata":{`, where `uid` and
    /// `etag` go.
    meta_at: Option<u32>,
}

impl Record {
    /// The stitched entity parsed; for pages and projections, not for hot paths.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json()).unwrap_or(Value::Null)
    }

    /// The entity as the REST API serves it.
    pub fn json(&self) -> String {
        let mut out = String::with_capacity(self.stored.body.len() + 160 * self.relations.len());
        self.write_json(&mut out);
        out
    }

    /// Appends the stitched entity: the processed body with `metadata.uid` and `metadata.etag`,
    /// `relations` and, when there are problems, `status.items` as Backstage reports them.
    pub fn write_json(&self, out: &mut String) {
        let body = &*self.stored.body;
        let Some(inner) = body.strip_suffix('}') else {
            out.push_str("{}");
            return;
        };
        match self.meta_at.map(|at| at as usize) {
            Some(at) => {
                out.push_str(&inner[..at]);
                out.push_str("\"uid\":");
                push_json_str(out, &self.stored.uid);
                out.push_str(",\"etag\":");
                push_json_str(out, &self.stored.hash);
                if !inner[at..].starts_with('}') {
                    out.push(',');
                }
                out.push_str(&inner[at..]);
            }
            None => out.push_str(inner),
        }
        if inner.len() > 1 {
            out.push(',');
        }
        out.push_str("\"relations\":");
        push_relations(out, &self.relations);
        if !self.problems.is_empty() {
            let items: Vec<Value> = self
                .problems
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "type": "backstage.io/catalog-processing",
                        "level": if p.severity == Severity::Error { "error" } else { "warning" },
                        "message": p.message,
                        "error": {"name": "InputError", "message": p.message},
                    })
                })
                .collect();
            out.push_str(",\"status\":");
            out.push_str(
                &serde_json::to_string(&serde_json::json!({ "items": items }))
                    .unwrap_or_else(|_| "{}".into()),
            );
        }
        out.push('}');
    }

    pub fn entity_ref(&self) -> &EntityRef {
        &self.stored.entity_ref
    }

    pub fn fields(&self) -> &Fields {
        &self.stored.fields
    }

    pub fn lc(&self) -> &Lowered {
        &self.stored.fields.lc
    }

    pub fn title(&self) -> Option<&str> {
        self.fields().title.as_deref()
    }

    /// Relations of one type.
    pub fn related(&self, relation_type: &str) -> impl Iterator<Item = &RelationOut> {
        let t = relation_type.to_string();
        self.relations.iter().filter(move |r| r.relation_type == t)
    }

    pub fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }
}

/// A location as the snapshot knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationInfo {
    pub id: String,
    pub location_type: super::source::LocationType,
    pub target: String,
    pub origin: super::source::Origin,
    /// Last attempt to read it.
    pub last_refresh_at: Option<String>,
    pub problems: Vec<ProblemView>,
    /// Git: branch and path as registered (None: defaults).
    pub branch: Option<String>,
    pub path: Option<String>,
    /// Git: commit of the last successful read.
    pub commit: Option<String>,
    pub last_success_at: Option<String>,
    /// Why the last attempt failed: its entities are stale.
    pub last_error: Option<String>,
    /// Attempts failed in a row (the retry backoff grows with it).
    pub failures: u32,
}

impl LocationInfo {
    /// Records a successful read at `now`.
    pub fn succeeded(&mut self, now: &str, problems: Vec<ProblemView>, commit: Option<&str>) {
        self.last_refresh_at = Some(now.to_string());
        self.last_success_at = Some(now.to_string());
        self.problems = problems;
        if let Some(c) = commit {
            self.commit = Some(c.to_string());
        }
        self.last_error = None;
        self.failures = 0;
    }
}

/// The whole catalog at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Sorted by lower-cased name, then key.
    pub records: Arc<[Record]>,
    pub by_key: Arc<HashMap<RefKey, usize>>,
    pub by_uid: Arc<HashMap<String, usize>>,
    /// Shared, so that changing one location's status copies pointers, not every location.
    pub locations: Vec<Arc<LocationInfo>>,
    /// Entity count per location id.
    pub location_counts: Arc<HashMap<String, usize>>,
    /// The catalog page's facet values of every record, as small integers.
    pub facets: Arc<FacetIndex>,
}

/// Facets of the catalog page, in `CatalogFacets` order: kind, type, owner, lifecycle, tags,
/// namespace, system.
pub const FACETS: usize = 7;

/// Every record's facet values, interned: counting facets over the whole catalog is then a
/// walk over integers.
#[derive(Debug, Default)]
pub struct FacetIndex {
    /// Per facet: the values (lower case, as compared) by id.
    pub values: [Vec<Box<str>>; FACETS],
    lookup: [HashMap<Box<str>, u32>; FACETS],
    /// Value ids of record `i`, facet `f`: `ids[offsets[i * FACETS + f]..offsets[i * FACETS + f + 1]]`.
    ids: Vec<u32>,
    offsets: Vec<u32>,
    /// Per facet and value id: the records that have it, in record order (posting lists).
    postings: [Vec<Vec<u32>>; FACETS],
}

impl FacetIndex {
    fn build(records: &[Record]) -> FacetIndex {
        let mut index = FacetIndex {
            offsets: Vec::with_capacity(records.len() * FACETS + 1),
            ..Default::default()
        };
        index.offsets.push(0);
        let mut buf: [Vec<&str>; FACETS] = Default::default();
        for r in records {
            facet_values(r, &mut buf);
            for (f, values) in buf.iter().enumerate() {
                for v in values {
                    let id = match index.lookup[f].get(*v) {
                        Some(&id) => id,
                        None => {
                            // References keep the case of names; facets compare lower case.
                            let lower: Box<str> = v.to_lowercase().into();
                            let id = match index.lookup[f].get(&lower) {
                                Some(&id) => id,
                                None => {
                                    let id = index.values[f].len() as u32;
                                    index.values[f].push(lower.clone());
                                    index.lookup[f].insert(lower, id);
                                    id
                                }
                            };
                            if **v != *index.values[f][id as usize] {
                                index.lookup[f].insert((*v).into(), id);
                            }
                            id
                        }
                    };
                    index.ids.push(id);
                }
                index.offsets.push(index.ids.len() as u32);
            }
        }
        let mut postings: [Vec<Vec<u32>>; FACETS] =
            std::array::from_fn(|f| vec![Vec::new(); index.values[f].len()]);
        for i in 0..records.len() {
            for (f, lists) in postings.iter_mut().enumerate() {
                for &id in index.of(i, f) {
                    lists[id as usize].push(i as u32);
                }
            }
        }
        index.postings = postings;
        index
    }

    /// The records that have value `id` for facet `facet`, in record order.
    pub fn records_with(&self, facet: usize, id: u32) -> &[u32] {
        self.postings[facet]
            .get(id as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Value ids of one record for one facet.
    pub fn of(&self, record: usize, facet: usize) -> &[u32] {
        let k = record * FACETS + facet;
        &self.ids[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// The id of a value (lower case), if any record has it.
    pub fn id(&self, facet: usize, value: &str) -> Option<u32> {
        self.lookup[facet].get(value).copied()
    }
}

/// A record's values for each facet (lower case). The buffers are reused across records.
fn facet_values<'a>(r: &'a Record, out: &mut [Vec<&'a str>; FACETS]) {
    for v in out.iter_mut() {
        v.clear();
    }
    let lc = r.lc();
    out[0].push(&lc.kind);
    out[1].extend(lc.spec_type.as_deref());
    out[3].extend(lc.lifecycle.as_deref());
    out[4].extend(lc.tags.iter().map(String::as_str));
    out[5].push(&lc.namespace);
    for x in &r.relations {
        match x.relation_type {
            "ownedBy" => out[2].push(&x.target_ref),
            "partOf" if x.target_kind() == "system" => out[6].push(&x.target_ref),
            _ => {}
        }
    }
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot::build(Vec::new(), Vec::new())
    }
}

impl Snapshot {
    /// Stitches processed entities into a snapshot: relations in both directions, dangling
    /// references reported.
    pub fn build(mut stored: Vec<Stored>, locations: Vec<Arc<LocationInfo>>) -> Snapshot {
        stored.sort_by(|a, b| {
            a.fields
                .lc
                .name
                .cmp(&b.fields.lc.name)
                .then_with(|| a.key.cmp(&b.key))
        });
        let by_key: HashMap<RefKey, usize> = stored
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key.clone(), i))
            .collect();

        // Relations, grouped by source index.
        let mut outgoing: Vec<Vec<RelationOut>> = vec![Vec::new(); stored.len()];
        let mut dangling: Vec<Vec<ProblemView>> = vec![Vec::new(); stored.len()];
        let mut key = String::new();
        for (i, s) in stored.iter().enumerate() {
            let me: Arc<str> = s.entity_ref.to_ref_string().into();
            for d in s.declared.iter() {
                key.clear();
                key.push_str(&d.target_ref);
                key.make_ascii_lowercase();
                let target_index = by_key.get(key.as_str()).copied();
                match target_index {
                    Some(t) => outgoing[t].push(RelationOut {
                        relation_type: d.inverse,
                        target_ref: me.clone(),
                        target_index: Some(i),
                    }),
                    None => dangling[i].push(ProblemView {
                        severity: Severity::Error,
                        message: format!(
                            "{} refers to {}, which is not in the catalog",
                            d.field, d.target_ref
                        ),
                        file: Some(s.source_file.clone()),
                        document: Some(s.document),
                        line: Some(s.line),
                        field: Some(d.field.to_string()),
                    }),
                }
                outgoing[i].push(RelationOut {
                    relation_type: d.relation_type,
                    target_ref: d.target_ref.clone(),
                    target_index,
                });
            }
        }

        let mut records = Vec::with_capacity(stored.len());
        for ((s, mut rels), dangling) in stored.into_iter().zip(outgoing).zip(dangling) {
            rels.sort_by(|a, b| {
                (a.relation_type, &a.target_ref).cmp(&(b.relation_type, &b.target_ref))
            });
            rels.dedup_by(|a, b| {
                a.relation_type == b.relation_type && a.target_ref == b.target_ref
            });
            let mut problems = s.problems.clone();
            problems.extend(dangling);
            problems.sort_by_key(|p| p.severity != Severity::Error);
            let meta_at = top_level_object(&s.body, "metadata").map(|i| i as u32);
            records.push(Record {
                stored: s,
                relations: rels,
                problems,
                meta_at,
            });
        }

        let mut by_uid = HashMap::with_capacity(records.len());
        let mut location_counts: HashMap<String, usize> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            by_uid.insert(r.stored.uid.clone(), i);
            *location_counts
                .entry(r.stored.location_id.clone())
                .or_default() += 1;
        }
        let facets = Arc::new(FacetIndex::build(&records));
        Snapshot {
            facets,
            records: records.into(),
            by_key: Arc::new(by_key),
            by_uid: Arc::new(by_uid),
            locations,
            location_counts: Arc::new(location_counts),
        }
    }

    /// The same entities with other location statuses: no re-stitching.
    pub fn with_locations(&self, locations: Vec<Arc<LocationInfo>>) -> Snapshot {
        Snapshot {
            locations,
            ..self.clone()
        }
    }

    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&Record> {
        self.by_key
            .get(&RefKey::of(kind, namespace, name))
            .map(|&i| &self.records[i])
    }

    pub fn get_key(&self, key: &RefKey) -> Option<&Record> {
        self.by_key.get(key).map(|&i| &self.records[i])
    }

    pub fn get_uid(&self, uid: &str) -> Option<&Record> {
        self.by_uid.get(uid).map(|&i| &self.records[i])
    }

    /// The stored entities, to rebuild a snapshot after a change.
    pub fn stored(&self) -> impl Iterator<Item = &Stored> {
        self.records.iter().map(|r| &r.stored)
    }
}

/// The byte offset just inside `"key":{` at the top level of a compact JSON object.
fn top_level_object(json: &str, key: &str) -> Option<usize> {
    let needle = format!("\"{key}\":{{");
    let bytes = json.as_bytes();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                if depth == 1 && json[i..].starts_with(&needle) {
                    return Some(i + needle.len());
                }
                in_string = true;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends relations as Backstage serves them:
/// `{"type":…,"targetRef":"kind:ns/name","target":{"kind":…,"namespace":…,"name":…}}`.
fn push_relations(out: &mut String, relations: &[RelationOut]) {
    out.push('[');
    for (i, r) in relations.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let (kind, rest) = r.target_ref.split_once(':').unwrap_or(("", &r.target_ref));
        let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
        out.push_str("{\"type\":");
        push_json_str(out, r.relation_type);
        out.push_str(",\"targetRef\":");
        push_json_str(out, &r.target_ref);
        out.push_str(",\"target\":{\"kind\":");
        push_json_str(out, kind);
        out.push_str(",\"namespace\":");
        push_json_str(out, namespace);
        out.push_str(",\"name\":");
        push_json_str(out, name);
        out.push_str("}}");
    }
    out.push(']');
}

#[cfg(test)]
pub mod tests_support {
    use super::*;

    pub fn stored(kind: &str, name: &str, body: Value) -> Stored {
        Stored::new(
            EntityRef::new(kind, "default", name),
            &body,
            format!("uid-{name}"),
            "loc".into(),
            "etag1".into(),
            ("/c.yaml".into(), 0, 1),
            vec![],
            "t".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::stored;
    use super::*;
    use serde_json::json;

    #[test]
    fn stitches_both_directions_and_reports_dangling_refs() {
        let snap = Snapshot::build(
            vec![
                stored(
                    "Component",
                    "web",
                    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                    "metadata": {"name": "web", "namespace": "default"},
                    "spec": {"type": "service", "owner": "team-a", "system": "ghost"}}),
                ),
                stored(
                    "Group",
                    "team-a",
                    json!({"kind": "Group", "metadata": {"name": "team-a", "namespace": "default"}, "spec": {}}),
                ),
            ],
            vec![],
        );
        let web = snap.get("component", "default", "web").unwrap();
        let group = snap.get("group", "default", "team-a").unwrap();
        assert!(web
            .relations
            .iter()
            .any(|r| r.relation_type == "ownedBy" && r.target_index.is_some()));
        assert!(group
            .relations
            .iter()
            .any(|r| r.relation_type == "ownerOf" && r.target().name == "web"));
        assert_eq!(web.problems.len(), 1);
        assert_eq!(web.problems[0].field.as_deref(), Some("spec.system"));
        assert!(web.problems[0].message.contains("system:default/ghost"));
        let v: Value = serde_json::from_str(&web.json()).unwrap();
        assert_eq!(v["metadata"]["uid"], "uid-web");
        assert_eq!(v["metadata"]["etag"], "etag1");
        assert_eq!(v["status"]["items"][0]["level"], "error");
        assert!(v["relations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["type"] == "ownedBy"
                && r["targetRef"] == "group:default/team-a"
                && r["target"]["kind"] == "group"));
        let component = snap.facets.id(0, "component").unwrap();
        assert_eq!(snap.facets.records_with(0, component), [1]);
        assert_eq!(snap.records[0].lc().name, "team-a");
        // Rebuilding from the stored entities gives the same JSON.
        let again = Snapshot::build(snap.stored().cloned().collect(), vec![]);
        let web2 = again.get("component", "default", "web").unwrap();
        assert_eq!(web.json(), web2.json());
    }

    #[test]
    fn served_json_splices_uid_etag_relations_into_the_stored_text() {
        // A descriptor that carries what stitching owns: it is replaced, never duplicated.
        let with_stitched = stored(
            "Component",
            "odd",
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                   "metadata": {"name": "odd", "uid": "theirs", "etag": "x", "title": "say \"hi\" {"},
                   "relations": [{"type": "x", "targetRef": "y"}], "status": {"items": []},
                   "spec": {"owner": "nobody"}}),
        );
        assert!(!with_stitched.body.contains("theirs"));
        let snap = Snapshot::build(vec![with_stitched], vec![]);
        let text = snap.records[0].json();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["metadata"]["uid"], "uid-odd");
        assert_eq!(v["metadata"]["etag"], "etag1");
        assert_eq!(v["metadata"]["title"], "say \"hi\" {");
        assert_eq!(v["relations"][0]["type"], "ownedBy");
        assert_eq!(v["relations"].as_array().unwrap().len(), 1);
        assert_eq!(v["status"]["items"][0]["level"], "error");
        assert_eq!(text.matches("\"uid\"").count(), 1);
        assert_eq!(text.matches("\"relations\"").count(), 1);

        // Only the top-level `metadata` takes them.
        let nested = r#"{"config":{"metadata":{"a":1}},"kind":"X","metadata":{"name":"n"}}"#;
        let at = top_level_object(nested, "metadata").unwrap();
        assert_eq!(&nested[at..], r#""name":"n"}}"#);
        assert_eq!(
            top_level_object(r#"{"s":"\"metadata\":{"}"#, "metadata"),
            None
        );

        // Strings are escaped as serde_json does.
        for s in [
            "plain",
            "quote \" and \\ back",
            "tab\tnew\nline\u{1}",
            "ünïcode ✓",
        ] {
            let mut out = String::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }

        // Empty metadata, and a body without any: still valid JSON.
        for body in [
            json!({"kind": "Thing", "metadata": {}}),
            json!({"kind": "Thing"}),
        ] {
            let snap = Snapshot::build(vec![stored("Thing", "t", body)], vec![]);
            let v: Value = serde_json::from_str(&snap.records[0].json()).unwrap();
            assert_eq!(v["relations"], json!([]));
        }
    }
}
