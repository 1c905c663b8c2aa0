//! The UI's read side: implements `app::services::CatalogReader` over what the caller sees
//! ([`Visible`], from the [`Facade`]), shaping records into the page models of `app::model`.
//!
//! The table's scorecard level column and facet come from a [`LevelSource`] (the scorecards'
//! stored results, `scorecards/levels.rs`): the catalog knows no scorecard, and a render reads
//! one level per record, never evaluates a rule.

use super::annotations::{EDIT_URL, SOURCE_CHANGED_AT, SOURCE_COMMIT, TECHDOCS_REF, VIEW_URL};
use super::facade::{Facade, Visible};
use super::reference::{parse_ref, RefKey};
use super::snapshot::{FacetIndex, LocationInfo, Record, FACETS};
use app::model::*;
use app::query::Facet;
use app::services::CatalogReader;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Largest page the UI may ask for.
pub const MAX_PAGE_SIZE: usize = 200;
const DEFAULT_PAGE_SIZE: usize = 25;

pub struct Reader {
    pub facade: Facade,
    /// The scorecards' levels (the table's level column and facet); `None`: none shown.
    pub levels: Option<Arc<dyn LevelSource>>,
}

impl Reader {
    /// A reader without the level column.
    pub fn new(facade: Facade) -> Self {
        Reader {
            facade,
            levels: None,
        }
    }
}

/// A scorecard's level per record, read from results kept outside the catalog (the
/// scorecards'). Implementations read what they stored; they never evaluate a rule.
pub trait LevelSource: Send + Sync {
    /// The levels of `v`'s snapshot's records on the scorecard named `chosen` (any case; else, or
    /// when there is no such scorecard, the first in force); `None` when no scorecard is in
    /// force.
    /// Only scorecards `v`'s caller may read are offered.
    fn levels(&self, v: &Visible, chosen: Option<&str>) -> Option<RecordLevels>;
}

/// One scorecard's levels for every record of a snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordLevels {
    /// The scorecard's name and title.
    pub scorecard: String,
    pub title: String,
    /// Every scorecard in force, (name, title).
    pub scorecards: Vec<(String, String)>,
    /// Lowest first.
    pub levels: Vec<String>,
    /// Per record index: `None`, the scorecard does not apply; `Some(0)`, no level reached;
    /// `Some(k)`, `levels[k - 1]`.
    pub of: Vec<Option<u8>>,
}

impl RecordLevels {
    /// The level ids that chosen values stand for (`none` is 0; level names in any case);
    /// values that are no level of this scorecard stand for nothing.
    pub fn ids(&self, chosen: &[String]) -> Vec<u8> {
        chosen
            .iter()
            .filter_map(|v| {
                if v.eq_ignore_ascii_case(NO_LEVEL) {
                    return Some(0);
                }
                let k = self.levels.iter().position(|l| l.eq_ignore_ascii_case(v))?;
                u8::try_from(k + 1).ok()
            })
            .collect()
    }

    /// The name of level `k`; `None` for 0 (no level).
    pub fn name(&self, k: u8) -> Option<&str> {
        usize::from(k)
            .checked_sub(1)
            .and_then(|i| self.levels.get(i))
            .map(String::as_str)
    }

    /// Whether `value` names level `k`.
    fn names(&self, value: &str, k: u8) -> bool {
        match k {
            0 => value.eq_ignore_ascii_case(NO_LEVEL),
            _ => self
                .levels
                .get(usize::from(k) - 1)
                .is_some_and(|l| l.eq_ignore_ascii_case(value)),
        }
    }

    /// The facet: levels highest first, then [`NO_LEVEL`], with their counts (`tally[k]`);
    /// chosen values that are no level last, with 0.
    fn facet(&self, tally: &[usize], chosen: &[String]) -> Vec<FacetCount> {
        let mut out: Vec<FacetCount> = (0..=self.levels.len())
            .rev()
            .map(|k| {
                let value = match k {
                    0 => NO_LEVEL.to_string(),
                    _ => self.levels[k - 1].clone(),
                };
                FacetCount {
                    selected: chosen.iter().any(|c| self.names(c, k as u8)),
                    count: tally.get(k).copied().unwrap_or(0),
                    value,
                }
            })
            .collect();
        for c in chosen {
            if self.ids(std::slice::from_ref(c)).is_empty() {
                out.push(FacetCount {
                    value: c.clone(),
                    count: 0,
                    selected: true,
                });
            }
        }
        out
    }
}

pub fn summary(r: &Record) -> EntitySummary {
    let f = r.fields();
    EntitySummary {
        entity_ref: r.entity_ref().clone(),
        title: f.title().map(str::to_string),
        description: f.description().map(str::to_string),
        spec_type: f.spec_type().map(str::to_string),
        lifecycle: f.lifecycle().map(str::to_string),
        owner: r.related("ownedBy").next().map(|x| x.target()),
        system: r
            .related("partOf")
            .find(|x| x.target_kind() == "system")
            .map(|x| x.target()),
        tags: f.tags().map(str::to_string).collect(),
        error_count: r.error_count(),
    }
}

fn detail(r: &Record, v: &Visible) -> EntityDetail {
    let full = v.value(r);
    let b = &full;
    let pairs = |v: &Value| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = v
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    let links = b["metadata"]["links"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| {
                    Some(LinkView {
                        url: l["url"].as_str()?.to_string(),
                        title: l["title"].as_str().map(str::to_string),
                        icon: l["icon"].as_str().map(str::to_string),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let relations = v
        .relations(r)
        .map(|x| {
            let target = v.target(x);
            RelationView {
                relation_type: x.relation_type.to_string(),
                target: x.target(),
                target_title: target.and_then(|(_, t)| t.title().map(str::to_string)),
                target_exists: target.is_some(),
            }
        })
        .collect();
    let profile = b["spec"]["profile"].as_object().map(|p| ProfileView {
        display_name: p
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_string),
        email: p.get("email").and_then(Value::as_str).map(str::to_string),
        picture: p.get("picture").and_then(Value::as_str).map(str::to_string),
    });
    let ann = &b["metadata"]["annotations"];
    let pretty = serde_json::to_string_pretty(&full).unwrap_or_default();
    EntityDetail {
        summary: summary(r),
        api_version: b["apiVersion"].as_str().unwrap_or_default().to_string(),
        uid: Some(r.stored.uid.clone()),
        links,
        labels: pairs(&b["metadata"]["labels"]),
        annotations: pairs(ann),
        relations,
        problems: r.problems.clone(),
        source: ann[super::processing::MANAGED_BY_LOCATION]
            .as_str()
            .map(|loc| SourceView {
                location: loc.to_string(),
                origin_location: ann[super::processing::MANAGED_BY_ORIGIN_LOCATION]
                    .as_str()
                    .map(str::to_string),
                document: Some(r.stored.document),
                line: Some(r.stored.line),
            }),
        repository: repository(r, v, ann),
        has_docs: ann[TECHDOCS_REF].is_string(),
        raw_json: pretty,
        api_definition: if r.fields().lc_kind() == "api" {
            b["spec"]["definition"].as_str().map(str::to_string)
        } else {
            None
        },
        profile,
        access: Vec::new(),
    }
}

/// The repository panel of an entity read from Git.
fn repository(r: &Record, v: &Visible, ann: &Value) -> Option<RepositoryView> {
    let l = v.location(&r.stored.location_id)?;
    let repo = v.sources().of(l.location_type).ok()?.repository(l)?;
    let text = |k: &str| ann[k].as_str().map(str::to_string);
    Some(RepositoryView {
        url: repo.url,
        branch: repo.branch,
        path: r.stored.source_file.clone(),
        commit: text(SOURCE_COMMIT),
        changed_at: text(SOURCE_CHANGED_AT),
        view_url: text(VIEW_URL),
        edit_url: text(EDIT_URL),
        stale_error: l.last_error.clone(),
        last_success_at: l.last_success_at.clone(),
    })
}

/// Owned entities grouped by kind, each list sorted by name.
fn owned_by(v: &Visible, owners: &[&Record]) -> Vec<(String, Vec<EntitySummary>)> {
    let mut seen = HashSet::new();
    let mut by_kind: BTreeMap<String, Vec<EntitySummary>> = BTreeMap::new();
    for owner in owners {
        for rel in owner.related("ownerOf") {
            if let Some((i, t)) = v.target(rel) {
                if seen.insert(i) {
                    by_kind
                        .entry(t.entity_ref().kind.clone())
                        .or_default()
                        .push(summary(t));
                }
            }
        }
    }
    for list in by_kind.values_mut() {
        list.sort_by(|a, b| {
            a.entity_ref
                .name
                .to_lowercase()
                .cmp(&b.entity_ref.name.to_lowercase())
        });
    }
    by_kind.into_iter().collect()
}

fn targets(r: &Record, v: &Visible, relation: &str) -> Vec<EntitySummary> {
    r.related(relation)
        .filter_map(|x| v.target(x))
        .map(|(_, t)| summary(t))
        .collect()
}

/// The values chosen for each facet as value ids; `None`: no filter on that facet. A chosen
/// value that no entity has matches nothing; it is kept as typed in `unknown`, so that the page
/// still lists it (ticked, to be unticked).
struct UiFilter {
    ids: [Option<Vec<u32>>; FACETS],
    unknown: [Vec<String>; FACETS],
}

impl UiFilter {
    fn new(q: &CatalogQuery, index: &FacetIndex) -> Self {
        let chosen: [Vec<String>; FACETS] = [
            q.kind.iter().cloned().collect(),
            q.types.clone(),
            q.owners.clone(),
            q.lifecycles.clone(),
            q.tags.clone(),
            q.namespaces.clone(),
            q.systems.clone(),
        ];
        UiFilter {
            ids: std::array::from_fn(|f| {
                (!chosen[f].is_empty()).then(|| {
                    chosen[f]
                        .iter()
                        .flat_map(|v| Self::ids(index, f, v))
                        .collect()
                })
            }),
            unknown: std::array::from_fn(|f| {
                chosen[f]
                    .iter()
                    .filter(|v| Self::ids(index, f, v).is_empty())
                    .cloned()
                    .collect()
            }),
        }
    }

    /// The ids a chosen value stands for. Owners and systems are references, so a typed
    /// `team-a` or `ops/team-a` means what Backstage would resolve it to.
    fn ids(index: &FacetIndex, f: usize, value: &str) -> Vec<u32> {
        let v = value.to_lowercase();
        if let Some(id) = index.id(f, &v) {
            return vec![id];
        }
        let kinds: &[&str] = match f {
            OWNER_FACET => &["group", "user"],
            6 => &["system"],
            _ => return Vec::new(),
        };
        if v.contains(':') {
            return Vec::new();
        }
        kinds
            .iter()
            .filter_map(|k| {
                let r = parse_ref(&v, Some(k), "default").ok()?;
                index.id(f, RefKey::from_ref(&r).as_str())
            })
            .collect()
    }

    /// Whether `id` is among the chosen values of facet `f`.
    fn chosen(&self, f: usize, id: u32) -> bool {
        self.ids[f].as_ref().is_some_and(|c| c.contains(&id))
    }

    fn matches(&self, facet: usize, ids: &[u32]) -> bool {
        match &self.ids[facet] {
            None => true,
            Some(chosen) => ids.iter().any(|id| chosen.contains(id)),
        }
    }
}

/// Orders catalog rows: `name` (default), `kind`, `type`, `owner`, `lifecycle`, `system`;
/// `-` in front for descending. Ties by name. Rows arrive sorted by name.
fn sort_rows(v: &Visible, rows: &mut [usize], sort: Option<&str>) {
    let sort = sort.unwrap_or("name");
    let (desc, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort),
    };
    let value = |i: usize| -> Option<String> {
        let r = v.record(i);
        let f = r.fields();
        match key {
            "kind" => Some(f.lc_kind().to_string()),
            "type" => f.lc_spec_type().map(str::to_string),
            "lifecycle" => f.lc_lifecycle().map(str::to_string),
            "owner" => r
                .related("ownedBy")
                .next()
                .map(|x| x.target_ref.to_string()),
            "system" => r
                .related("partOf")
                .find(|x| x.target_kind() == "system")
                .map(|x| x.target_ref.to_string()),
            _ => None,
        }
    };
    if matches!(key, "kind" | "type" | "lifecycle" | "owner" | "system") {
        let mut keyed: Vec<(Option<String>, usize)> = rows.iter().map(|&i| (value(i), i)).collect();
        // Stable: equal keys keep name order. Rows without the field go last either way.
        keyed.sort_by(|(a, _), (b, _)| match (a, b) {
            (Some(a), Some(b)) => {
                if desc {
                    b.cmp(a)
                } else {
                    a.cmp(b)
                }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        for (slot, (_, i)) in rows.iter_mut().zip(keyed) {
            *slot = i;
        }
    } else if desc {
        rows.reverse();
    }
}

/// The owner facet's position in [`FacetIndex`] (kind, type, owner, …).
const OWNER_FACET: usize = 2;

impl CatalogReader for Reader {
    fn list(&self, caller: &Caller, q: &CatalogQuery) -> CatalogPage {
        let v = self.facade.read(caller);
        let index = v.facets();
        let wanted = UiFilter::new(q, index);
        // The level column's scorecard, and the levels chosen (`None`: no level filter).
        let levels = self
            .levels
            .as_ref()
            .and_then(|l| l.levels(&v, q.scorecard.as_deref()));
        let level_wanted: Option<Vec<u8>> = levels
            .as_ref()
            .filter(|_| !q.levels.is_empty())
            .map(|l| l.ids(&q.levels));
        let mut level_tally = vec![0usize; levels.as_ref().map_or(0, |l| l.levels.len() + 1)];
        let text: Vec<String> = q
            .text
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        // `owned`: the owner values that are the caller or one of their groups (none for the
        // guest, who owns nothing).
        let mine: Option<Vec<u32>> = q.owned.then(|| {
            caller
                .user
                .iter()
                .chain(&caller.groups)
                .filter_map(|r| index.id(OWNER_FACET, &r.to_ref_string().to_lowercase()))
                .collect()
        });
        let mut matched = Vec::new();
        let mut tallies: [Vec<usize>; FACETS] =
            std::array::from_fn(|f| vec![0; index.values[f].len()]);
        // One pass: an entity counts towards a facet's values when it matches every other
        // filter (and the text), so each facet shows what choosing a value would give.
        for (i, r) in v.records() {
            if !text.iter().all(|t| r.fields().text().contains(t.as_str())) {
                continue;
            }
            if let Some(mine) = &mine {
                if !index.of(i, OWNER_FACET).iter().any(|id| mine.contains(id)) {
                    continue;
                }
            }
            let ok: [bool; FACETS] = std::array::from_fn(|f| wanted.matches(f, index.of(i, f)));
            let level = levels.as_ref().and_then(|l| l.of.get(i).copied().flatten());
            let level_ok = match (&level_wanted, level) {
                (None, _) => true,
                (Some(chosen), Some(k)) => chosen.contains(&k),
                (Some(_), None) => false,
            };
            let failing = ok.iter().filter(|m| !**m).count() + usize::from(!level_ok);
            if failing == 0 {
                matched.push(i);
            }
            if let Some(k) = level {
                if failing == 0 || (failing == 1 && !level_ok) {
                    if let Some(n) = level_tally.get_mut(usize::from(k)) {
                        *n += 1;
                    }
                }
            }
            for f in 0..FACETS {
                if failing == 0 || (failing == 1 && !ok[f]) {
                    for &id in index.of(i, f) {
                        tallies[f][id as usize] += 1;
                    }
                }
            }
        }
        sort_rows(&v, &mut matched, q.sort.as_deref());
        let size = if q.page_size == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            q.page_size.min(MAX_PAGE_SIZE)
        };
        let shown: Vec<usize> = matched
            .iter()
            .skip(q.page.saturating_mul(size))
            .take(size)
            .copied()
            .collect();
        let items = shown.iter().map(|&i| summary(v.record(i))).collect();
        let levels = levels.map(|l| CatalogLevels {
            items: shown
                .iter()
                .map(|&i| l.of.get(i).copied().flatten())
                .collect(),
            facet: l.facet(&level_tally, &q.levels),
            scorecard: l.scorecard,
            title: l.title,
            scorecards: l.scorecards,
            levels: l.levels,
        });
        // Per facet: the chosen values, then the most common, up to FACET_VALUES_LISTED.
        let mut unlisted = BTreeMap::new();
        let mut f = 0;
        let [kinds, types, owners, lifecycles, tags, namespaces, systems] = tallies.map(|t| {
            let names = &index.values[f];
            let mut ids: Vec<(bool, usize, u32)> = t
                .into_iter()
                .enumerate()
                .map(|(id, count)| (wanted.chosen(f, id as u32), count, id as u32))
                // Chosen filters show even without matches; a chosen kind is a tab, not a filter.
                .filter(|(chosen, count, _)| (*chosen && f > 0) || *count > 0)
                .collect();
            let by_rank = |a: &(bool, usize, u32), b: &(bool, usize, u32)| {
                b.0.cmp(&a.0)
                    .then(b.1.cmp(&a.1))
                    .then_with(|| names[a.2 as usize].cmp(&names[b.2 as usize]))
            };
            if ids.len() > FACET_VALUES_LISTED {
                ids.select_nth_unstable_by(FACET_VALUES_LISTED, by_rank);
                if f > 0 {
                    unlisted.insert(
                        Facet::ALL[f - 1].key().to_string(),
                        ids.len() - FACET_VALUES_LISTED,
                    );
                }
                ids.truncate(FACET_VALUES_LISTED);
            }
            ids.sort_by(by_rank);
            let mut listed: Vec<FacetCount> = ids
                .into_iter()
                .map(|(selected, count, id)| FacetCount {
                    value: names[id as usize].to_string(),
                    count,
                    selected,
                })
                .collect();
            let unknown = wanted.unknown[f]
                .iter()
                .filter(|_| f > 0)
                .map(|v| FacetCount {
                    value: v.clone(),
                    count: 0,
                    selected: true,
                });
            listed.extend(unknown);
            // Chosen values first, then by count and value.
            listed.sort_by(|a, b| {
                b.selected
                    .cmp(&a.selected)
                    .then(b.count.cmp(&a.count))
                    .then_with(|| a.value.cmp(&b.value))
            });
            f += 1;
            listed
        });
        let facets = CatalogFacets {
            kinds,
            types,
            owners,
            lifecycles,
            tags,
            namespaces,
            systems,
            unlisted,
        };
        CatalogPage {
            items,
            total: matched.len(),
            facets,
            // Filled by the server function from the alerts' map (observability).
            alert_counts: None,
            levels,
        }
    }

    fn entity(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<EntityDetail> {
        let v = self.facade.read(caller);
        v.get(kind, namespace, name).map(|r| EntityDetail {
            access: self.facade.entity_access(caller, &v, r),
            ..detail(r, &v)
        })
    }

    fn group(&self, caller: &Caller, namespace: &str, name: &str) -> Option<GroupDetail> {
        let v = self.facade.read(caller);
        let r = v.get("group", namespace, name)?;
        let mut members = targets(r, &v, "hasMember");
        members.sort_by(|a, b| a.entity_ref.name.cmp(&b.entity_ref.name));
        let mut children = targets(r, &v, "parentOf");
        children.sort_by(|a, b| a.entity_ref.name.cmp(&b.entity_ref.name));
        Some(GroupDetail {
            group: detail(r, &v),
            parent: targets(r, &v, "childOf").into_iter().next(),
            children,
            members,
            owned: owned_by(&v, &[r]),
        })
    }

    fn user(&self, caller: &Caller, namespace: &str, name: &str) -> Option<UserDetail> {
        let v = self.facade.read(caller);
        let r = v.get("user", namespace, name)?;
        let group_records: Vec<&Record> = r
            .related("memberOf")
            .filter_map(|x| v.target(x))
            .map(|(_, g)| g)
            .collect();
        let mut owners = vec![r];
        owners.extend(group_records.iter().copied());
        Some(UserDetail {
            user: detail(r, &v),
            groups: group_records.iter().map(|g| summary(g)).collect(),
            owned: owned_by(&v, &owners),
        })
    }

    fn graph(
        &self,
        caller: &Caller,
        kind: &str,
        namespace: &str,
        name: &str,
        depth: usize,
    ) -> RelationGraph {
        let v = self.facade.read(caller);
        let Some(center) = v.index_of(&RefKey::of(kind, namespace, name)) else {
            return RelationGraph::default();
        };
        // Breadth-first over existing targets; one direction of each relation pair is drawn.
        const FORWARD: [&str; 7] = [
            "ownedBy",
            "partOf",
            "dependsOn",
            "providesApi",
            "consumesApi",
            "memberOf",
            "childOf",
        ];
        const MAX_NODES: usize = 40;
        let mut nodes = vec![center];
        let mut index = std::collections::HashMap::from([(center, 0usize)]);
        let mut edges = Vec::new();
        let mut frontier = vec![center];
        for _ in 0..depth.clamp(1, 2) {
            let mut next = Vec::new();
            for &i in &frontier {
                for rel in &v.record(i).relations {
                    let Some((t, _)) = v.target(rel) else {
                        continue;
                    };
                    let forward = FORWARD.contains(&rel.relation_type);
                    let inverse = super::relations::RELATION_PAIRS
                        .iter()
                        .find(|(_, inv)| *inv == rel.relation_type);
                    if !forward && inverse.is_none() {
                        continue;
                    }
                    if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(t) {
                        if nodes.len() >= MAX_NODES {
                            continue;
                        }
                        slot.insert(nodes.len());
                        nodes.push(t);
                        next.push(t);
                    }
                    let (a, b) = (index[&i], index[&t]);
                    let edge = match (forward, inverse) {
                        (true, _) => (a, b, rel.relation_type.to_string()),
                        (false, Some((fwd, _))) => (b, a, (*fwd).to_string()),
                        _ => continue,
                    };
                    if !edges.contains(&edge) {
                        edges.push(edge);
                    }
                }
            }
            frontier = next;
        }
        RelationGraph {
            center: Some(v.record(center).entity_ref().clone()),
            nodes: nodes.iter().map(|&i| summary(v.record(i))).collect(),
            edges,
        }
    }

    fn search(&self, caller: &Caller, text: &str, limit: usize) -> Vec<EntitySummary> {
        let v = self.facade.read(caller);
        let terms: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        if terms.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u32, usize)> = Vec::new();
        for (i, r) in v.records() {
            if !terms.iter().all(|t| r.fields().text().contains(t.as_str())) {
                continue;
            }
            let first = &terms[0];
            let f = r.fields();
            let score = if f.lc_name() == first.as_str() {
                0
            } else if f.lc_name().starts_with(first.as_str()) {
                1
            } else if f.lc_name().contains(first.as_str()) {
                2
            } else if f.lc_title().is_some_and(|t| t.contains(first.as_str())) {
                3
            } else {
                4
            };
            hits.push((score, i));
        }
        hits.sort();
        hits.into_iter()
            .take(limit.clamp(1, 50))
            .map(|(_, i)| summary(v.record(i)))
            .collect()
    }

    fn problems(&self, caller: &Caller) -> ProblemsReport {
        let v = self.facade.read(caller);
        let locations = v
            .locations()
            .filter(|l| !l.problems.is_empty() || l.last_error.is_some())
            .map(|l| location_status(l, &v))
            .collect();
        let entities = v
            .records()
            .map(|(_, r)| r)
            .filter(|r| !r.problems.is_empty())
            .map(|r| (summary(r), r.problems.clone()))
            .collect();
        ProblemsReport {
            locations,
            entities,
        }
    }
}

/// A location's status for the Locations page; its target as its source shows it.
pub fn location_status(l: &LocationInfo, v: &Visible) -> LocationStatus {
    LocationStatus {
        id: l.id.clone(),
        location_type: l.location_type.to_string(),
        target: v.sources().display_target(l.location_type, &l.target),
        origin: l.origin.to_string(),
        branch: l.branch.clone(),
        path: l.path.clone(),
        commit: l.commit.clone(),
        entity_count: v.entity_count(&l.id),
        last_refresh: l.last_refresh_at.clone(),
        last_success: l.last_success_at.clone(),
        error: l.last_error.clone(),
        failures: l.failures,
        problems: l.problems.clone(),
    }
}
