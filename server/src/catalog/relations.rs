//! Relations: which fields of which kinds point where, and the inverse of each relation type.
//!
//! Processing an entity emits both directions of every relation it declares (`ownedBy` on the
//! component and `ownerOf` on the group), as Backstage's built-in processor does; stitching then
//! gives each entity every relation whose source it is.

use super::reference::{parse_ref, RefError};
use app::model::EntityRef;
use serde_json::Value;

/// A relation from `source` to `target` of a Backstage relation type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Relation {
    pub source: EntityRef,
    pub relation_type: &'static str,
    pub target: EntityRef,
    /// The field that declared it, on the declaring side only (`spec.owner`); `None` on the
    /// inverse relation.
    pub field: Option<String>,
}

/// A reference field that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct RefProblem {
    /// Dotted path, e.g. `spec.dependsOn[2]`.
    pub field: String,
    pub error: RefError,
}

/// (field, default kind of its references, relation type, inverse relation type)
type FieldRule = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

const OWNER: FieldRule = ("owner", Some("Group"), "ownedBy", "ownerOf");
const SYSTEM: FieldRule = ("system", Some("System"), "partOf", "hasPart");
const DEPENDS_ON: FieldRule = ("dependsOn", None, "dependsOn", "dependencyOf");
const DEPENDENCY_OF: FieldRule = ("dependencyOf", None, "dependencyOf", "dependsOn");

fn rules_for(kind: &str) -> &'static [FieldRule] {
    match kind.to_ascii_lowercase().as_str() {
        "component" => &[
            OWNER,
            SYSTEM,
            ("subcomponentOf", Some("Component"), "partOf", "hasPart"),
            ("providesApis", Some("API"), "providesApi", "apiProvidedBy"),
            ("consumesApis", Some("API"), "consumesApi", "apiConsumedBy"),
            DEPENDS_ON,
            DEPENDENCY_OF,
        ],
        "api" => &[OWNER, SYSTEM],
        "resource" => &[OWNER, SYSTEM, DEPENDS_ON, DEPENDENCY_OF],
        "system" => &[OWNER, ("domain", Some("Domain"), "partOf", "hasPart")],
        "domain" => &[OWNER, ("subdomainOf", Some("Domain"), "partOf", "hasPart")],
        "group" => &[
            ("parent", Some("Group"), "childOf", "parentOf"),
            ("children", Some("Group"), "parentOf", "childOf"),
            ("members", Some("User"), "hasMember", "memberOf"),
        ],
        "user" => &[("memberOf", Some("Group"), "memberOf", "hasMember")],
        "template" | "airesource" => &[OWNER, SYSTEM],
        _ => &[],
    }
}

/// Relations an entity declares in its spec, both directions, plus the problems found in its
/// reference fields. `me` is the entity's own reference.
pub fn emit(me: &EntityRef, entity: &Value) -> (Vec<Relation>, Vec<RefProblem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let Some(spec) = entity.get("spec") else {
        return (out, problems);
    };
    for &(field, default_kind, forward, inverse) in rules_for(&me.kind) {
        let mut visit = |path: String, raw: &str| match parse_ref(raw, default_kind, &me.namespace)
        {
            Ok(target) => {
                out.push(Relation {
                    source: target.clone(),
                    relation_type: inverse,
                    target: me.clone(),
                    field: None,
                });
                out.push(Relation {
                    source: me.clone(),
                    relation_type: forward,
                    target,
                    field: Some(path),
                });
            }
            Err(error) => problems.push(RefProblem { field: path, error }),
        };
        match spec.get(field) {
            Some(Value::String(s)) => visit(format!("spec.{field}"), s),
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = item.as_str() {
                        visit(format!("spec.{field}[{i}]"), s);
                    }
                }
            }
            _ => {}
        }
    }
    (out, problems)
}

/// The inverse of a relation type (`ownedBy` → `ownerOf`); unknown types are their own inverse.
pub fn inverse_of(relation_type: &'static str) -> &'static str {
    for (a, b) in RELATION_PAIRS {
        if a == relation_type {
            return b;
        }
        if b == relation_type {
            return a;
        }
    }
    relation_type
}

/// Every relation type with its inverse, for documentation and the UI.
pub const RELATION_PAIRS: [(&str, &str); 7] = [
    ("ownedBy", "ownerOf"),
    ("partOf", "hasPart"),
    ("dependsOn", "dependencyOf"),
    ("providesApi", "apiProvidedBy"),
    ("consumesApi", "apiConsumedBy"),
    ("memberOf", "hasMember"),
    ("childOf", "parentOf"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(k: &str, n: &str) -> EntityRef {
        EntityRef::new(k, "default", n)
    }

    #[test]
    fn component_emits_both_directions() {
        let me = r("Component", "web");
        let e = json!({"spec": {"owner": "team-a", "system": "shop", "providesApis": ["orders"],
            "consumesApis": ["api:payments"], "dependsOn": ["resource:db", "nokind"]}});
        let (rels, problems) = emit(&me, &e);
        let has = |s: &EntityRef, t: &str, d: &EntityRef| {
            rels.iter()
                .any(|x| &x.source == s && x.relation_type == t && &x.target == d)
        };
        assert!(has(&me, "ownedBy", &r("Group", "team-a")));
        assert!(has(&r("Group", "team-a"), "ownerOf", &me));
        assert!(has(&me, "partOf", &r("System", "shop")));
        assert!(has(&r("System", "shop"), "hasPart", &me));
        assert!(has(&me, "providesApi", &r("API", "orders")));
        assert!(has(&r("API", "orders"), "apiProvidedBy", &me));
        assert!(has(&me, "consumesApi", &r("API", "payments")));
        assert!(has(&me, "dependsOn", &r("Resource", "db")));
        assert!(has(&r("Resource", "db"), "dependencyOf", &me));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "spec.dependsOn[1]");
        assert_eq!(problems[0].error, RefError::MissingKind("nokind".into()));
    }

    #[test]
    fn groups_and_users() {
        let g = r("Group", "team-a");
        let (rels, _) = emit(
            &g,
            &json!({"spec": {"parent": "dept", "children": ["sub"], "members": ["jane"]}}),
        );
        let has = |rels: &[Relation], s: &EntityRef, t: &str, d: &EntityRef| {
            rels.iter()
                .any(|x| &x.source == s && x.relation_type == t && &x.target == d)
        };
        assert!(has(&rels, &g, "childOf", &r("Group", "dept")));
        assert!(has(&rels, &r("Group", "dept"), "parentOf", &g));
        assert!(has(&rels, &g, "hasMember", &r("User", "jane")));
        let u = r("User", "jane");
        let (rels, _) = emit(&u, &json!({"spec": {"memberOf": ["team-a"]}}));
        assert!(has(&rels, &r("Group", "team-a"), "hasMember", &u));
        let fwd = rels.iter().find(|x| x.source == u).unwrap();
        assert_eq!(fwd.field.as_deref(), Some("spec.memberOf[0]"));
    }

    #[test]
    fn references_default_to_the_entity_namespace() {
        let me = EntityRef::new("Component", "shop", "web");
        let (rels, _) = emit(&me, &json!({"spec": {"owner": "team-a"}}));
        assert_eq!(rels[1].target, EntityRef::new("Group", "shop", "team-a"));
        assert_eq!(rels[1].field.as_deref(), Some("spec.owner"));
    }
}
