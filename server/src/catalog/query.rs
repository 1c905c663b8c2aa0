//! Backstage's catalog queries over a snapshot: `filter` (OR of ANDs of `key[=value]`),
//! `fields` projection, ordering, full-text filtering, facets and cursors.
//!
//! Keys are dotted paths into the stitched entity, compared case-insensitively, as are values;
//! `relations.<type>` matches target references.

use super::snapshot::{FacetIndex, Record, RelationOut, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::HashMap;

/// One `key` or `key=value` condition; several values of the same key in one filter are
/// alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub key: String,
    /// `None`: the key must exist.
    pub values: Option<Vec<String>>,
}

/// `filter=a=1,b=2&filter=c=3`: (a=1 AND b=2) OR c=3. Empty: everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub any_of: Vec<Vec<Condition>>,
    /// Matches nothing (an empty `$any`).
    #[serde(default)]
    pub nothing: bool,
}

impl Filter {
    /// Parses the `filter` query parameters.
    pub fn parse(params: &[String]) -> Result<Filter, String> {
        let mut any_of = Vec::new();
        for p in params {
            let mut all: Vec<Condition> = Vec::new();
            // Spaces around parts, keys and values are ASCII whitespace (the OpenAPI
            // document's `filter` pattern says the same).
            for part in p.split(',') {
                let part = part.trim_ascii();
                if part.is_empty() {
                    continue;
                }
                let (key, value) = match part.split_once('=') {
                    Some((k, v)) => (k.trim_ascii(), Some(v.trim_ascii())),
                    None => (part, None),
                };
                if key.is_empty() {
                    return Err(format!(
                        "invalid filter \"{part}\": expected key=value or key"
                    ));
                }
                let key = key.to_lowercase();
                match all.iter_mut().find(|c| c.key == key) {
                    // `key` and `key=v` together mean `key=v`, in either order.
                    Some(c) => match (&mut c.values, value) {
                        (Some(vs), Some(v)) => vs.push(v.to_lowercase()),
                        (None, Some(v)) => c.values = Some(vec![v.to_lowercase()]),
                        (_, None) => {}
                    },
                    None => all.push(Condition {
                        key,
                        values: value.map(|v| vec![v.to_lowercase()]),
                    }),
                }
            }
            if !all.is_empty() {
                any_of.push(all);
            }
        }
        Ok(Filter {
            any_of,
            nothing: false,
        })
    }

    pub fn matches(&self, r: &Record) -> bool {
        !self.nothing && self.any_of.is_empty()
            || self
                .any_of
                .iter()
                .any(|all| all.iter().all(|c| condition_matches(c, r)))
    }
}

impl Filter {
    /// Whether a condition is on `relations.*`.
    pub fn mentions_relations(&self) -> bool {
        self.any_of
            .iter()
            .flatten()
            .any(|c| c.key.starts_with("relations."))
    }

    /// [`Filter::matches`] for a caller who does not know the relations that `hides`: a
    /// `relations.*` condition looks only at the others (the permission filter's view).
    pub fn matches_hiding(&self, r: &Record, hides: &dyn Fn(&RelationOut) -> bool) -> bool {
        let holds = |c: &Condition| match c.key.strip_prefix("relations.") {
            None => condition_matches(c, r),
            Some(rel) => {
                let mut shown = r
                    .relations
                    .iter()
                    .filter(|x| x.relation_type.eq_ignore_ascii_case(rel) && !hides(x));
                match &c.values {
                    None => shown.next().is_some(),
                    Some(vs) => shown.any(|x| {
                        vs.iter().any(|v| {
                            v.eq_ignore_ascii_case(&x.target_ref)
                                || *v == x.target_ref.to_lowercase()
                        })
                    }),
                }
            }
        };
        !self.nothing && self.any_of.is_empty()
            || self.any_of.iter().any(|all| all.iter().all(holds))
    }
}

fn condition_matches(c: &Condition, r: &Record) -> bool {
    // Fast paths for the fields every catalog query uses.
    let f = r.fields();
    let fast = match c.key.as_str() {
        "kind" => Some(Some(f.lc_kind())),
        "metadata.name" => Some(Some(f.lc_name())),
        "metadata.namespace" => Some(Some(f.lc_namespace())),
        "metadata.title" => Some(f.lc_title()),
        "spec.type" => Some(f.lc_spec_type()),
        "spec.lifecycle" => Some(f.lc_lifecycle()),
        "spec.owner" => Some(f.lc_owner()),
        "spec.system" => Some(f.lc_system()),
        "metadata.tags" => {
            return match &c.values {
                None => f.lc_tags().next().is_some(),
                Some(vs) => f.lc_tags().any(|t| vs.iter().any(|v| v == t)),
            };
        }
        _ => None,
    };
    if let Some(v) = fast {
        return match (&c.values, v) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(vs), Some(v)) => vs.iter().any(|x| x == v),
        };
    }
    let mut found = false;
    let mut hit = false;
    visit_values(r, &c.key, &mut |v| {
        found = true;
        if let Some(vs) = &c.values {
            if vs
                .iter()
                .any(|x| x.eq_ignore_ascii_case(v) || *x == v.to_lowercase())
            {
                hit = true;
            }
        }
    });
    match &c.values {
        None => found,
        Some(_) => hit,
    }
}

/// A filter prepared against a snapshot: conditions on facet fields (kind, type, owner,
/// lifecycle, tags, namespace) compare interned ids; others go through [`condition_matches`].
struct Compiled<'a> {
    nothing: bool,
    any_of: Vec<Vec<Cond<'a>>>,
}

enum Cond<'a> {
    /// Facet number and the ids of the wanted values (`None`: the field must exist).
    Facet(usize, Option<Vec<u32>>),
    Other(&'a Condition),
}

impl<'a> Compiled<'a> {
    fn new(filter: &'a Filter, index: &FacetIndex) -> Self {
        let facet_of = |key: &str| match key {
            "kind" => Some(0),
            "spec.type" => Some(1),
            "relations.ownedby" => Some(2),
            "spec.lifecycle" => Some(3),
            "metadata.tags" => Some(4),
            "metadata.namespace" => Some(5),
            _ => None,
        };
        let any_of = filter
            .any_of
            .iter()
            .map(|all| {
                all.iter()
                    .map(|c| match facet_of(&c.key) {
                        Some(f) => Cond::Facet(
                            f,
                            c.values
                                .as_ref()
                                .map(|vs| vs.iter().filter_map(|v| index.id(f, v)).collect()),
                        ),
                        None => Cond::Other(c),
                    })
                    .collect()
            })
            .collect();
        Compiled {
            nothing: filter.nothing,
            any_of,
        }
    }

    /// The records worth testing, when every alternative pins a facet value, from the posting
    /// lists: an alternative made only of facet conditions gives exactly its records (the
    /// intersection of its conditions), any other the shortest list among its facet
    /// conditions. The flag says whether the result is exact (nothing left to test). `None`:
    /// scan everything.
    fn candidates(&self, index: &FacetIndex) -> Option<(Vec<u32>, bool)> {
        if self.nothing {
            return Some((Vec::new(), true));
        }
        if self.any_of.is_empty() {
            return None;
        }
        let mut exact = true;
        let mut branches: Vec<Vec<u32>> = Vec::with_capacity(self.any_of.len());
        for all in &self.any_of {
            // Each facet condition: the records having any of its values.
            let mut sets: Vec<Vec<u32>> = all
                .iter()
                .filter_map(|c| match c {
                    Cond::Facet(f, Some(ids)) => Some(union(
                        ids.iter().map(|&id| index.records_with(*f, id)).collect(),
                    )),
                    _ => None,
                })
                .collect();
            if sets.is_empty() {
                return None;
            }
            sets.sort_by_key(Vec::len);
            if sets.len() == all.len() {
                let mut acc = sets.swap_remove(0);
                for s in &sets {
                    acc = intersect(&acc, s);
                }
                branches.push(acc);
            } else {
                exact = false;
                branches.push(sets.swap_remove(0));
            }
        }
        let out = if branches.len() == 1 {
            branches.swap_remove(0)
        } else {
            union(branches.iter().map(Vec::as_slice).collect())
        };
        Some((out, exact))
    }

    fn matches(&self, i: usize, r: &Record, index: &FacetIndex) -> bool {
        if self.nothing {
            return false;
        }
        self.any_of.is_empty()
            || self.any_of.iter().any(|all| {
                all.iter().all(|c| match c {
                    Cond::Facet(f, None) => !index.of(i, *f).is_empty(),
                    Cond::Facet(f, Some(ids)) => index.of(i, *f).iter().any(|id| ids.contains(id)),
                    Cond::Other(c) => condition_matches(c, r),
                })
            })
    }
}

/// The sorted union of sorted lists.
fn union(lists: Vec<&[u32]>) -> Vec<u32> {
    if lists.len() == 1 {
        return lists[0].to_vec();
    }
    let mut out: Vec<u32> = lists.concat();
    out.sort_unstable();
    out.dedup();
    out
}

/// The intersection of two sorted lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Calls `f` with every scalar value at a dotted path (arrays are flattened).
pub fn visit_values(r: &Record, key: &str, f: &mut dyn FnMut(&str)) {
    if let Some(rel) = key.strip_prefix("relations.") {
        for x in &r.relations {
            if x.relation_type.eq_ignore_ascii_case(rel) {
                f(&x.target_ref);
            }
        }
        return;
    }
    match key {
        "metadata.uid" => return f(&r.stored.uid),
        "metadata.etag" => return f(&r.stored.hash),
        _ => {}
    }
    // Any other field: read the entity itself (slower; the common fields have fast paths).
    walk(&r.stored.value(), key, f);
}

fn walk(v: &Value, path: &str, f: &mut dyn FnMut(&str)) {
    if path.is_empty() {
        emit_scalars(v, f);
        return;
    }
    match v {
        Value::Object(map) => {
            // The usual case: the next segment is a key as written.
            if let Some((head, rest)) = path.split_once('.') {
                if let Some(child) = map.get(head) {
                    walk(child, rest, f);
                    return;
                }
            } else if let Some(child) = map.get(path) {
                walk(child, "", f);
                return;
            }
            // Keys may contain dots (annotations) or differ in case: try every split point.
            for (k, child) in map {
                let kl = k.len();
                if path.len() >= kl
                    && path.is_char_boundary(kl)
                    && path[..kl].eq_ignore_ascii_case(k)
                {
                    let rest = &path[kl..];
                    if rest.is_empty() {
                        walk(child, "", f);
                    } else if let Some(rest) = rest.strip_prefix('.') {
                        walk(child, rest, f);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, path, f);
            }
        }
        _ => {}
    }
}

fn emit_scalars(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Bool(b) => f(if *b { "true" } else { "false" }),
        Value::Number(n) => f(&n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| emit_scalars(i, f)),
        _ => {}
    }
}

/// First scalar at a path, lower-cased, for ordering.
pub fn sort_value(r: &Record, key: &str) -> Option<String> {
    let f = r.fields();
    match key {
        "metadata.name" => return Some(f.lc_name().to_string()),
        "kind" => return Some(f.lc_kind().to_string()),
        "metadata.title" => return f.lc_title().map(str::to_string),
        "spec.type" => return f.lc_spec_type().map(str::to_string),
        "spec.lifecycle" => return f.lc_lifecycle().map(str::to_string),
        "spec.owner" => return f.lc_owner().map(str::to_string),
        "spec.system" => return f.lc_system().map(str::to_string),
        _ => {}
    }
    let mut out = None;
    visit_values(r, key, &mut |v| {
        if out.is_none() {
            out = Some(v.to_lowercase());
        }
    });
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderField {
    pub field: String,
    pub descending: bool,
}

impl OrderField {
    /// `metadata.name,asc` / `metadata.name,desc` / `metadata.name`.
    pub fn parse(s: &str) -> Result<OrderField, String> {
        let (field, dir) = match s.rsplit_once(',') {
            Some((f, d)) => (f.trim(), d.trim()),
            None => (s.trim(), "asc"),
        };
        if field.is_empty() {
            return Err(format!(
                "invalid orderField \"{s}\": expected field[,asc|desc]"
            ));
        }
        let descending = match dir.to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            other => {
                return Err(format!(
                    "invalid orderField direction \"{other}\": expected asc or desc"
                ))
            }
        };
        Ok(OrderField {
            field: field.to_lowercase(),
            descending,
        })
    }
}

/// A full query, as carried in a cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Query {
    #[serde(default)]
    pub filter: Filter,
    #[serde(default)]
    pub order: Vec<OrderField>,
    /// Free text, lower-cased.
    #[serde(default)]
    pub text: Option<String>,
    /// Fields searched by `text`; empty: name, title, description, tags.
    #[serde(default)]
    pub text_fields: Vec<String>,
}

impl Query {
    /// Indexes of matching records, in order.
    pub fn run(&self, snap: &Snapshot) -> Vec<usize> {
        let compiled = Compiled::new(&self.filter, &snap.facets);
        let mut out: Vec<usize> = match compiled.candidates(&snap.facets) {
            // The posting lists answered the filter exactly.
            Some((list, true)) if self.text.is_none() => {
                list.into_iter().map(|i| i as usize).collect()
            }
            Some((list, _)) => list
                .into_iter()
                .map(|i| i as usize)
                .filter(|&i| self.keep(&compiled, snap, i))
                .collect(),
            None => (0..snap.records.len())
                .filter(|&i| self.keep(&compiled, snap, i))
                .collect(),
        };
        // Records are kept sorted by name: that order needs no sort.
        let by_name = |desc: bool| {
            self.order.len() == 1
                && self.order[0].field == "metadata.name"
                && self.order[0].descending == desc
        };
        if by_name(false) {
            return out;
        }
        if by_name(true) {
            out.reverse();
            return out;
        }
        if !self.order.is_empty() {
            let keys: HashMap<usize, Vec<Option<String>>> = out
                .iter()
                .map(|&i| {
                    (
                        i,
                        self.order
                            .iter()
                            .map(|o| sort_value(&snap.records[i], &o.field))
                            .collect(),
                    )
                })
                .collect();
            out.sort_by(|a, b| self.compare(&keys[a], &keys[b]).then(a.cmp(b)));
        }
        out
    }

    fn compare(&self, a: &[Option<String>], b: &[Option<String>]) -> Ordering {
        for (o, (x, y)) in self.order.iter().zip(a.iter().zip(b)) {
            // Entities without the field go last, whatever the direction.
            let ord = match (x, y) {
                (Some(x), Some(y)) => {
                    let c = x.cmp(y);
                    if o.descending {
                        c.reverse()
                    } else {
                        c
                    }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }

    fn keep(&self, compiled: &Compiled<'_>, snap: &Snapshot, i: usize) -> bool {
        let r = &snap.records[i];
        compiled.matches(i, r, &snap.facets) && self.text_matches(r)
    }

    fn text_matches(&self, r: &Record) -> bool {
        let Some(text) = &self.text else { return true };
        if self.text_fields.is_empty() {
            return text
                .split_whitespace()
                .all(|t| r.fields().text().contains(t));
        }
        text.split_whitespace().all(|t| {
            let mut hit = false;
            for field in &self.text_fields {
                visit_values(r, field, &mut |v| {
                    if !hit && v.to_lowercase().contains(t) {
                        hit = true;
                    }
                });
            }
            hit
        })
    }
}

/// Keeps only the given dotted fields of an entity (`fields=metadata.name,kind`). A key with
/// dots (an annotation such as `backstage.io/techdocs-ref`) is kept whole:
/// `metadata.annotations.backstage.io/techdocs-ref` gives
/// `{"metadata": {"annotations": {"backstage.io/techdocs-ref": …}}}`.
pub fn project(entity: &Value, fields: &[String]) -> Value {
    let mut out = Value::Object(Map::new());
    for f in fields {
        let parts: Vec<&str> = f.split('.').collect();
        if let Some((keys, v)) = get_path(entity, &parts) {
            set_path(&mut out, &keys, v.clone());
        }
    }
    out
}

/// The value at a dotted path and the keys that lead to it (the last one may hold dots).
fn get_path<'a>(v: &'a Value, parts: &[&str]) -> Option<(Vec<String>, &'a Value)> {
    let mut cur = v;
    let mut keys = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        match cur.get(*p) {
            Some(next) => {
                keys.push((*p).to_string());
                cur = next;
            }
            None => {
                // An annotation key with dots: join the rest.
                let rest = parts[i..].join(".");
                let found = cur.get(rest.as_str())?;
                keys.push(rest);
                return Some((keys, found));
            }
        }
    }
    Some((keys, cur))
}

fn set_path(out: &mut Value, keys: &[String], v: Value) {
    let mut cur = out;
    for (i, k) in keys.iter().enumerate() {
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        if i == keys.len() - 1 {
            obj.insert(k.clone(), v);
            return;
        }
        cur = obj
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Counts of each value of a facet among the `records` that match `filter`.
pub fn facet<'a>(
    records: impl Iterator<Item = &'a Record>,
    filter: &Filter,
    key: &str,
) -> Vec<(String, usize)> {
    let key = key.to_lowercase();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in records.filter(|r| filter.matches(r)) {
        let mut seen: Vec<String> = Vec::new();
        if key == "kind" {
            seen.push(r.entity_ref().kind.clone());
        } else {
            visit_values(r, &key, &mut |v| {
                if !seen.iter().any(|s| s == v) {
                    seen.push(v.to_string());
                }
            });
        }
        for v in seen {
            *counts.entry(v).or_default() += 1;
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::tests_support::stored;
    use super::*;
    use serde_json::json;

    fn snap() -> Snapshot {
        Snapshot::build(
            vec![
                stored(
                    "Component",
                    "web",
                    json!({"kind": "Component", "metadata": {"name": "web", "namespace": "default", "tags": ["java", "web"],
                    "annotations": {"backstage.io/techdocs-ref": "dir:."}}, "spec": {"type": "website", "owner": "team-a", "lifecycle": "production"}}),
                ),
                stored(
                    "Component",
                    "api-gw",
                    json!({"kind": "Component", "metadata": {"name": "api-gw", "namespace": "default", "title": "API Gateway"},
                    "spec": {"type": "service", "owner": "team-b", "lifecycle": "experimental"}}),
                ),
                stored(
                    "Group",
                    "team-a",
                    json!({"kind": "Group", "metadata": {"name": "team-a", "namespace": "default"}, "spec": {"type": "team"}}),
                ),
            ],
            vec![],
        )
    }

    fn names(s: &Snapshot, idx: &[usize]) -> Vec<String> {
        idx.iter()
            .map(|&i| s.records[i].stored.entity_ref.name.clone())
            .collect()
    }

    #[test]
    fn posting_lists_give_what_a_scan_gives() {
        let s = snap();
        for f in [
            vec!["kind=component,spec.type=service"],
            vec!["kind=component,spec.type=website,spec.lifecycle=production"],
            vec!["kind=component,spec.type=service", "kind=group"],
            vec!["kind=component,spec.type=nothing"],
            vec!["kind=component,metadata.tags=java"],
            vec!["kind=component,metadata.name=web"],
            vec!["kind=component,spec.type"],
            vec!["kind=group,kind=component"],
            vec!["relations.ownedBy=group:default/team-a,kind=component"],
        ] {
            let filter =
                Filter::parse(&f.iter().map(|x| x.to_string()).collect::<Vec<_>>()).unwrap();
            let scanned: Vec<usize> = (0..s.records.len())
                .filter(|&i| filter.matches(&s.records[i]))
                .collect();
            let q = Query {
                filter,
                ..Default::default()
            };
            assert_eq!(q.run(&s), scanned, "{f:?}");
        }
    }

    #[test]
    fn filters_and_or_exists_and_relations() {
        let s = snap();
        let q = |f: &[&str]| {
            let filter =
                Filter::parse(&f.iter().map(|x| x.to_string()).collect::<Vec<_>>()).unwrap();
            names(
                &s,
                &Query {
                    filter,
                    ..Default::default()
                }
                .run(&s),
            )
        };
        assert_eq!(q(&["kind=component,spec.type=service"]), vec!["api-gw"]);
        assert_eq!(q(&["kind=Component"]), vec!["api-gw", "web"]);
        assert_eq!(
            q(&["kind=group", "spec.type=website"]),
            vec!["team-a", "web"]
        );
        assert_eq!(
            q(&["kind=component,kind=group,spec.type=team"]),
            vec!["team-a"]
        );
        assert_eq!(q(&["metadata.tags=JAVA"]), vec!["web"]);
        assert_eq!(
            q(&["metadata.annotations.backstage.io/techdocs-ref"]),
            vec!["web"]
        );
        assert_eq!(q(&["relations.ownedBy=group:default/team-a"]), vec!["web"]);
        assert_eq!(q(&["metadata.title"]), vec!["api-gw"]);
        assert_eq!(q(&[]).len(), 3);
        assert!(Filter::parse(&["=x".into()]).is_err());
        assert_eq!(q(&["spec.type,spec.type=website"]), vec!["web"]);
        assert_eq!(q(&["spec.type=website,spec.type"]), vec!["web"]);
    }

    #[test]
    fn ordering_text_projection_and_facets() {
        let s = snap();
        let q = Query {
            order: vec![OrderField::parse("spec.lifecycle,desc").unwrap()],
            ..Default::default()
        };
        assert_eq!(names(&s, &q.run(&s)), vec!["web", "api-gw", "team-a"]);
        let q = Query {
            text: Some("gateway".into()),
            ..Default::default()
        };
        assert_eq!(names(&s, &q.run(&s)), vec!["api-gw"]);
        let e = s.records[2].value();
        assert_eq!(
            project(&e, &["metadata.name".into(), "kind".into()]),
            json!({"metadata": {"name": "web"}, "kind": "Component"})
        );
        let f = facet(s.records.iter(), &Filter::default(), "kind");
        assert_eq!(
            f,
            vec![("Component".to_string(), 2), ("Group".to_string(), 1)]
        );
        assert!(OrderField::parse("x,sideways").is_err());
    }

    #[test]
    fn a_projected_key_with_dots_stays_whole() {
        let e = json!({"kind": "Component", "metadata": {"name": "a", "annotations": {
            "backstage.io/techdocs-ref": "dir:.", "backstage.io/x": "y"}}});
        let got = project(
            &e,
            &[
                "metadata.annotations.backstage.io/techdocs-ref".into(),
                "kind".into(),
                "metadata.annotations.nope.x".into(),
            ],
        );
        assert_eq!(
            got,
            json!({"kind": "Component", "metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}})
        );
    }
}
