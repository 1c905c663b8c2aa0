use super::*;
use crate::catalog::snapshot::tests_support::stored;
use crate::catalog::snapshot::Stored;
use crate::catalog::source::LocationType;
use app::model::{Caller, EntityRef};
use serde_json::json;

fn error_of(text: &str) -> (Option<usize>, String) {
    match file::parse(text, "p.yaml") {
        Err(PolicyError::Invalid { line, message, .. }) => (line, message),
        other => panic!("expected an invalid policy, got {other:?}"),
    }
}

#[test]
fn unknown_permission_is_refused_at_its_line() {
    let text = "roles:\n  member:\n    rules:\n      - allow: [catalog.entity.read]\n      - allow: [catalog.entity.raed]\n";
    let (line, message) = error_of(text);
    assert_eq!(line, Some(5), "{message}");
    assert!(
        message.contains("unknown permission \"catalog.entity.raed\""),
        "{message}"
    );
    assert!(message.contains("rules[1]"), "names the field: {message}");
}

#[test]
fn unknown_condition_key_and_bad_values_are_refused_at_their_line() {
    let text = "roles:\n  member:\n    rules:\n      - allow: [catalog.entity.read]\n        when:\n          owner: true\n";
    let (line, message) = error_of(text);
    assert_eq!(line, Some(6), "{message}");
    assert!(message.contains("unknown field `owner`"), "{message}");

    let text = "roles:\n  member:\n    rules:\n      - allow: [catalog.entity.read]\n        when:\n          location_type: [svn]\n";
    let (line, message) = error_of(text);
    assert_eq!(line, Some(6), "{message}");
    assert!(
        message.contains("unknown location type \"svn\""),
        "{message}"
    );

    let text = "roles:\n  member:\n    rules:\n      - allow: [nothing.*]\n";
    let (line, message) = error_of(text);
    assert_eq!(line, Some(4), "{message}");
    assert!(message.contains("matches no permission"), "{message}");
}

#[test]
fn a_binding_to_a_missing_role_is_refused_at_its_line() {
    let text = "roles:\n  member:\n    rules: []\nbindings:\n  - role: member\n    signed_in: true\n  - role: admn\n    groups: [admins]\n";
    let (line, message) = error_of(text);
    assert_eq!(line, Some(7), "{message}");
    assert!(message.contains("bindings[1].role: no role named \"admn\" (roles: member)"));
}

#[test]
fn a_rule_needs_exactly_one_effect() {
    let text = "roles:\n  member:\n    rules:\n      - name: odd\n        allow: [\"*\"]\n        deny: [\"*\"]\n";
    let (line, message) = error_of(text);
    assert_eq!(line, Some(4), "{message}");
    assert!(message.contains("roles.member.rules[0]"), "{message}");
    assert!(message.contains("has both"), "{message}");
    let (_, message) = error_of("roles:\n  member:\n    rules:\n      - name: none\n");
    assert!(message.contains("has neither"), "{message}");
}

#[test]
fn errors_print_as_file_line_message() {
    let e = file::parse("roles: [", "/etc/p.yaml").unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with("/etc/p.yaml:1: "), "{shown}");
}

#[test]
fn the_built_in_policies_are_valid() {
    file::parse(DEFAULT_POLICY, "default").expect("default policy");
    let open = built_in(false, &[]);
    assert_eq!(open.roles.len(), 1);
    let guest = Caller::guest();
    for p in Permission::ALL {
        assert!(open.decide(&guest, p, &Resource::None).allowed, "{p}");
    }
}

const TABLE_POLICY: &str = r#"
roles:
  admin:
    rules:
      - name: everything
        allow: ["*"]
  member:
    rules:
      - name: read
        allow: [catalog.entity.read, catalog.location.read]
      - name: no-secrets
        deny: [catalog.entity.read]
        when: { tags: [secret] }
      - name: own-locations
        allow: [catalog.location.*]
        when: { is_owner: true, location_type: [git, url] }
      - name: refresh-production
        allow: [catalog.entity.refresh]
        when: { lifecycle: production, kind: Component, namespace: default, type: service }
      - name: labelled
        allow: [kubernetes.resources.read]
        when: { labels: { tier: "*" }, annotations: { "example.com/k8s": "on" } }
  guest:
    rules:
      - name: read-apis
        allow: [catalog.entity.read]
        when: { kind: [API] }
bindings:
  - role: admin
    groups: [admins]
    users: [user:default/root]
  - role: member
    signed_in: true
  - role: guest
    guest: true
"#;

fn user(name: &str, groups: &[&str]) -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", name)),
        groups: groups
            .iter()
            .map(|g| EntityRef::new("Group", "default", *g))
            .collect(),
        ..Default::default()
    }
}

fn entity(kind: &str, name: &str, owner: &str, extra: serde_json::Value) -> Stored {
    let mut body = json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
        "metadata": {"name": name}, "spec": {"owner": owner, "type": "service",
        "lifecycle": "production"}});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    stored(kind, name, body)
}

fn loc<'a>(t: LocationType, es: &[&'a Stored]) -> Resource<'a> {
    Resource::Location {
        location_type: t,
        entities: es.iter().map(|s| Entity::new(s, Some(t))).collect(),
    }
}

/// What a decision says in short: allowed, and the deciding rule's name.
fn verdict(d: &Decision) -> (bool, Option<String>) {
    (d.allowed, d.by.as_ref().and_then(|r| r.name.clone()))
}

#[test]
fn decision_table() {
    let policy = file::parse(TABLE_POLICY, "table.yaml").unwrap();
    let mine = entity("Component", "web", "team-a", json!({}));
    let theirs = entity("Component", "db", "team-b", json!({}));
    let secret = entity(
        "Component",
        "vault",
        "team-a",
        json!({"metadata": {"name": "vault", "tags": ["Secret"]}}),
    );
    let api = entity("API", "pets", "team-b", json!({}));
    let experimental = entity(
        "Component",
        "lab",
        "team-a",
        json!({"spec": {"owner": "team-a", "type": "service", "lifecycle": "experimental"}}),
    );
    let labelled = entity(
        "Component",
        "k",
        "team-a",
        json!({"metadata": {"name": "k", "labels": {"tier": "web"},
               "annotations": {"example.com/k8s": "on"}}}),
    );
    let unlabelled = entity(
        "Component",
        "k2",
        "team-a",
        json!({"metadata": {"name": "k2", "annotations": {"example.com/k8s": "on"}}}),
    );
    fn e(s: &Stored) -> Resource<'_> {
        Resource::Entity(Entity::new(s, Some(LocationType::Git)))
    }
    let alice = user("alice", &["team-a"]);
    let root = user("root", &[]);
    let admin = user("bob", &["admins"]);
    let guest = Caller::guest();
    use Permission::*;
    let s = |x: &str| Some(x.to_string());
    type Row<'a> = (&'a Caller, Permission, Resource<'a>, (bool, Option<String>));
    let table: Vec<Row<'_>> = vec![
        (&alice, CatalogEntityRead, e(&mine), (true, s("read"))),
        (&alice, CatalogEntityRead, e(&theirs), (true, s("read"))),
        // Deny beats allow, whatever the order and whichever role: admins are signed in too,
        // so member's deny reaches them.
        (
            &alice,
            CatalogEntityRead,
            e(&secret),
            (false, s("no-secrets")),
        ),
        (
            &admin,
            CatalogEntityRead,
            e(&secret),
            (false, s("no-secrets")),
        ),
        (
            &root,
            CatalogEntityRead,
            e(&secret),
            (false, s("no-secrets")),
        ),
        (
            &root,
            CatalogEntityDelete,
            e(&secret),
            (true, s("everything")),
        ),
        (&alice, CatalogEntityDelete, e(&mine), (false, None)),
        // Ownership and location type.
        (
            &alice,
            CatalogLocationCreate,
            loc(LocationType::Git, &[&mine]),
            (true, s("own-locations")),
        ),
        (
            &alice,
            CatalogLocationCreate,
            loc(LocationType::Git, &[&mine, &theirs]),
            (false, None),
        ),
        (
            &alice,
            CatalogLocationCreate,
            loc(LocationType::File, &[&mine]),
            (false, None),
        ),
        (
            &alice,
            CatalogLocationCreate,
            loc(LocationType::Git, &[]),
            (false, None),
        ),
        (&alice, CatalogLocationCreate, Resource::None, (false, None)),
        (
            &alice,
            CatalogLocationDelete,
            loc(LocationType::Url, &[&secret]),
            (true, s("own-locations")),
        ),
        // Lifecycle, kind, namespace, type.
        (
            &alice,
            CatalogEntityRefresh,
            e(&mine),
            (true, s("refresh-production")),
        ),
        (
            &alice,
            CatalogEntityRefresh,
            e(&experimental),
            (false, None),
        ),
        (&alice, CatalogEntityRefresh, e(&api), (false, None)),
        // Labels (any value) and annotations (this value).
        (
            &alice,
            KubernetesResourcesRead,
            e(&labelled),
            (true, s("labelled")),
        ),
        (
            &alice,
            KubernetesResourcesRead,
            e(&unlabelled),
            (false, None),
        ),
        // The guest reads APIs only.
        (&guest, CatalogEntityRead, e(&api), (true, s("read-apis"))),
        (&guest, CatalogEntityRead, e(&mine), (false, None)),
        (&guest, CatalogLocationCreate, Resource::None, (false, None)),
        (&guest, ScaffolderTaskCreate, Resource::None, (false, None)),
        (
            &admin,
            ScaffolderTaskCreate,
            Resource::None,
            (true, s("everything")),
        ),
    ];
    for (n, (caller, permission, resource, want)) in table.iter().enumerate() {
        let d = policy.decide(caller, *permission, resource);
        assert_eq!(&verdict(&d), want, "row {n}: {d}");
    }
    assert_eq!(policy.role_names(&admin), vec!["admin", "member"]);
    assert_eq!(policy.role_names(&guest), vec!["guest"]);
}

#[test]
fn a_refusal_names_the_permission_and_the_rule() {
    let policy = file::parse(TABLE_POLICY, "table.yaml").unwrap();
    let secret = entity(
        "Component",
        "vault",
        "team-a",
        json!({"metadata": {"name": "vault", "tags": ["secret"]}}),
    );
    let d = policy.decide(
        &user("alice", &["team-a"]),
        Permission::CatalogEntityRead,
        &Resource::Entity(Entity::new(&secret, None)),
    );
    assert_eq!(
        d.to_string(),
        "DENY catalog.entity.read by role member rule 2 (no-secrets)"
    );
    let d = policy.decide(
        &Caller::guest(),
        Permission::CatalogLocationCreate,
        &Resource::None,
    );
    assert_eq!(
        d.to_string(),
        "DENY catalog.location.create: no rule allows it (roles: guest)"
    );
}

#[test]
fn the_default_policy_with_sign_in() {
    let policy = built_in(true, &["user:default/carol".into(), "platform".into()]);
    let mine = entity("Component", "web", "team-a", json!({}));
    let theirs = entity("Component", "db", "team-b", json!({}));
    let alice = user("alice", &["team-a"]);
    let ok = |c: &Caller, p: Permission, r: &Resource<'_>| policy.decide(c, p, r).allowed;
    use Permission::*;
    assert!(ok(
        &alice,
        CatalogEntityRead,
        &Resource::Entity(Entity::new(&theirs, None))
    ));
    assert!(ok(&alice, CatalogEntityRefresh, &Resource::None));
    assert!(ok(
        &alice,
        CatalogLocationCreate,
        &loc(LocationType::Git, &[&mine])
    ));
    assert!(!ok(
        &alice,
        CatalogLocationCreate,
        &loc(LocationType::Git, &[&theirs])
    ));
    assert!(!ok(
        &alice,
        CatalogLocationDelete,
        &loc(LocationType::Git, &[&theirs])
    ));
    assert!(!ok(&alice, CatalogEntityDelete, &Resource::None));
    let guest = Caller::guest();
    assert!(ok(
        &guest,
        CatalogEntityRead,
        &Resource::Entity(Entity::new(&theirs, None))
    ));
    assert!(!ok(&guest, CatalogEntityRefresh, &Resource::None));
    assert!(!ok(
        &guest,
        CatalogLocationCreate,
        &loc(LocationType::Git, &[&mine])
    ));
    for admin in [
        user("x", &["admins"]),
        user("carol", &[]),
        user("y", &["platform"]),
    ] {
        assert!(
            ok(
                &admin,
                CatalogLocationDelete,
                &loc(LocationType::Git, &[&theirs])
            ),
            "{admin:?}"
        );
        assert!(
            ok(&admin, ScaffolderActionExecute, &Resource::None),
            "{admin:?}"
        );
    }
}

/// The compiled check (decided once, or per entity with the caller's rules only) agrees with
/// deciding each entity on its own, for several policies and callers.
#[test]
fn the_entity_check_agrees_with_single_decisions() {
    let policies = [
        TABLE_POLICY.to_string(),
        DEFAULT_POLICY.to_string(),
        "roles:\n  r:\n    rules:\n      - allow: [catalog.entity.read]\n        when: {is_owner: true}\n      - allow: [catalog.entity.read]\n        when: {kind: [group, user]}\nbindings:\n  - {role: r, signed_in: true, guest: true}\n".into(),
        "roles:\n  r:\n    rules:\n      - deny: [\"*\"]\n      - allow: [catalog.entity.read]\nbindings:\n  - {role: r, guest: true}\n".into(),
        "roles:\n  r:\n    rules:\n      - allow: [catalog.*]\n      - deny: [catalog.entity.read]\n        when: {is_owner: false, location_type: file}\nbindings:\n  - {role: r, signed_in: true}\n".into(),
    ];
    let entities = [
        entity("Component", "web", "team-a", json!({})),
        entity(
            "Component",
            "db",
            "team-b",
            json!({"metadata": {"name": "db", "tags": ["secret"]}}),
        ),
        entity("API", "pets", "group:default/team-b", json!({})),
        entity("Group", "team-a", "team-a", json!({})),
    ];
    let callers = [
        Caller::guest(),
        user("alice", &["team-a"]),
        user("bob", &["admins", "team-b"]),
    ];
    for text in &policies {
        let policy = file::parse(text, "p.yaml").unwrap();
        for caller in &callers {
            for p in Permission::ALL {
                let check = policy.entity_check(caller, p);
                for (n, s) in entities.iter().enumerate() {
                    let t = if n % 2 == 0 {
                        LocationType::File
                    } else {
                        LocationType::Git
                    };
                    let single = policy
                        .decide(caller, p, &Resource::Entity(Entity::new(s, Some(t))))
                        .allowed;
                    let compiled = match &check {
                        EntityCheck::Always(d) => d.allowed,
                        EntityCheck::Each(rules) => rules.allows(&Entity::new(s, Some(t))),
                    };
                    assert_eq!(single, compiled, "{p} {caller:?} entity {n}\n{text}");
                }
            }
        }
    }
}

#[test]
fn a_bad_new_file_keeps_the_last_good_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    let v1 = "roles:\n  r:\n    rules:\n      - name: first\n        allow: [catalog.entity.read]\nbindings:\n  - {role: r, guest: true}\n";
    std::fs::write(&path, v1).unwrap();
    let settings = PolicySettings {
        file: Some(path.clone()),
        admins: vec![],
    };
    let store = PolicyStore::from_settings(&settings, false).unwrap();
    let rule = |s: &PolicyStore| {
        s.current()
            .decide(
                &Caller::guest(),
                Permission::CatalogEntityRead,
                &Resource::None,
            )
            .by
            .and_then(|r| r.name)
    };
    assert_eq!(rule(&store), Some("first".into()));
    std::fs::write(
        &path,
        v1.replace("catalog.entity.read", "catalog.entity.reed"),
    )
    .unwrap();
    assert!(!store.reload());
    assert_eq!(
        rule(&store),
        Some("first".into()),
        "the last good one stays"
    );
    std::fs::write(&path, v1.replace("first", "second")).unwrap();
    assert!(store.reload());
    assert_eq!(rule(&store), Some("second".into()));
    // At start-up an invalid file is an error, not a silent default.
    std::fs::write(&path, "roles: {r: {rules: [{allow: [x]}]}}").unwrap();
    assert!(matches!(
        PolicyStore::from_settings(&settings, false),
        Err(PolicyError::Invalid { line: Some(1), .. })
    ));
}

#[tokio::test]
async fn the_reload_loop_picks_up_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    let v1 = "roles:\n  r:\n    rules:\n      - name: first\n        allow: [catalog.entity.read]\nbindings:\n  - {role: r, guest: true}\n";
    std::fs::write(&path, v1).unwrap();
    let settings = PolicySettings {
        file: Some(path.clone()),
        admins: vec![],
    };
    let store = std::sync::Arc::new(PolicyStore::from_settings(&settings, false).unwrap());
    store.spawn_reload_loop(std::time::Duration::from_millis(20));
    std::fs::write(&path, v1.replace("first", "second")).unwrap();
    let name = || {
        store
            .current()
            .decide(
                &Caller::guest(),
                Permission::CatalogEntityRead,
                &Resource::None,
            )
            .by
            .and_then(|r| r.name)
    };
    for _ in 0..200 {
        if name().as_deref() == Some("second") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the changed file was not loaded: {:?}", name());
}

/// The example policy in README's Permissions section is one the server takes.
#[test]
fn the_readme_example_policy_is_valid() {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("```yaml\nroles:")
        .expect("README has an example policy")
        + "```yaml\n".len();
    let end = start + readme[start..].find("```").expect("the block ends");
    let policy = file::parse(&readme[start..end], "README.md").unwrap();
    assert_eq!(
        policy.role_names(&user("x", &["admins"])),
        ["admin", "member"]
    );
}
