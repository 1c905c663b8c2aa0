//! Tokens: scopes and what they cover, the format, service tokens' settings, and verifying on
//! SQLite and PostgreSQL (valid, wrong, expired, revoked, the cache, the last use, the stored
//! hash), and the policy refusing what a token's scopes do not cover.

use super::*;
use crate::both_databases;
use crate::catalog::facade::Facade;
use crate::policy::{PolicyStore, Resource};
use crate::storage::testing::TestDb;
use crate::test_support::Harness;
use app::model::EntityRef;
use sqlx::Row;
use std::sync::Arc;

const PEOPLE: &str = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  memberOf: [team-a]\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n";

async fn with_people(db: TestDb) -> Harness {
    let h = Harness::new(db).await;
    let path = h.write("people.yaml", PEOPLE);
    h.register_file(&path).await;
    h
}

fn facade(h: &Harness) -> Facade {
    Facade::new(
        h.catalog.clone(),
        Arc::new(PolicyStore::fixed(crate::policy::built_in(true, &[]))),
    )
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn token_caller(scopes: &[&str]) -> Caller {
    Caller {
        user: Some(EntityRef::new("User", "default", "alice")),
        groups: vec![],
        token: Some(TokenLimit {
            name: "ci".into(),
            scopes: strings(scopes),
        }),
    }
}

#[test]
fn every_permission_but_deleting_entities_has_one_scope() {
    for p in Permission::ALL {
        let covering: Vec<Scope> = Scope::ALL
            .into_iter()
            .filter(|s| s.permissions().contains(&p))
            .collect();
        match p {
            Permission::CatalogEntityDelete => assert!(covering.is_empty()),
            _ => assert_eq!(covering.len(), 1, "{p}"),
        }
        if p.as_str().ends_with(".read") {
            assert_eq!(Scope::covering(p), Some(Scope::Read), "{p}");
        }
    }
    assert_eq!(
        Scope::covering(Permission::CatalogLocationCreate),
        Some(Scope::Locations)
    );
    assert_eq!(
        Scope::covering(Permission::CatalogEntityRefresh),
        Some(Scope::Refresh)
    );
    assert_eq!(
        Scope::covering(Permission::ScaffolderTaskCancel),
        Some(Scope::Templates)
    );
}

#[test]
fn a_scope_refusal_names_the_missing_scope() {
    let read = token_caller(&["read"]);
    assert_eq!(scope_refusal(&read, Permission::CatalogEntityRead), None);
    let why = scope_refusal(&read, Permission::CatalogLocationCreate).expect("refused");
    assert!(why.contains("lacks the scope locations"), "{why}");
    assert!(why.contains("\"ci\""), "{why}");
    let why = scope_refusal(&read, Permission::CatalogEntityDelete).expect("refused");
    assert!(why.contains("no token scope covers it"), "{why}");
    // A session and the guest are not limited by scopes.
    let mut session = read.clone();
    session.token = None;
    assert_eq!(
        scope_refusal(&session, Permission::CatalogEntityDelete),
        None
    );
    assert_eq!(
        scope_refusal(&Caller::guest(), Permission::CatalogLocationCreate),
        None
    );
}

#[test]
fn the_policy_must_allow_and_a_scope_must_cover() {
    let allow_all = crate::policy::allow_all();
    let read = token_caller(&["read", "refresh"]);
    let d = allow_all.decide(&read, Permission::CatalogLocationCreate, &Resource::None);
    assert!(!d.allowed);
    assert!(d.to_string().contains("lacks the scope locations"), "{d}");
    assert!(
        allow_all
            .decide(&read, Permission::CatalogEntityRefresh, &Resource::None)
            .allowed
    );
    // The read filter of a token without `read` hides everything.
    let write_only = token_caller(&["locations"]);
    match allow_all.entity_check(&write_only, Permission::CatalogEntityRead) {
        crate::policy::EntityCheck::Always(d) => {
            assert!(!d.allowed);
            assert!(d.to_string().contains("lacks the scope read"), "{d}");
        }
        crate::policy::EntityCheck::Each(_) => panic!("decided per entity"),
    }
    // Covered by a scope but not allowed by the policy: the policy's answer.
    let default = crate::policy::built_in(true, &[]);
    let d = default.decide(
        &token_caller(&["locations"]),
        Permission::CatalogEntityDelete,
        &Resource::None,
    );
    assert!(!d.allowed);
    // A service token with no entity is signed in, not the guest.
    let service = Caller {
        token: Some(TokenLimit {
            name: "deploy".into(),
            scopes: strings(&["read"]),
        }),
        ..Default::default()
    };
    assert!(!service.is_guest() && !service.is_session());
    assert_eq!(default.role_names(&service), ["member"]);
}

#[test]
fn tokens_are_blt_and_32_random_bytes() {
    let a = generate();
    let b = generate();
    assert_ne!(a.expose(), b.expose());
    for t in [&a, &b] {
        let t = t.expose();
        assert!(t.starts_with(PREFIX));
        let body = &t[PREFIX.len()..];
        assert_eq!(body.len(), 43, "{t}");
        assert!(body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
    assert!(!format!("{a:?}").contains(a.expose()));
    assert_eq!(hash("abc").len(), 64);
    assert_eq!(
        hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn only_a_bearer_authorization_is_taken() {
    let headers = |v: &str| {
        let mut h = axum::http::HeaderMap::new();
        h.insert("authorization", v.parse().unwrap());
        h
    };
    assert_eq!(bearer(&headers("Bearer blt_x")), Some("blt_x"));
    assert_eq!(bearer(&headers("bearer  blt_x ")), Some("blt_x"));
    assert_eq!(bearer(&headers("Bearer")), Some(""));
    assert_eq!(bearer(&headers("Basic dXNlcjpwdw==")), None);
    assert_eq!(bearer(&axum::http::HeaderMap::new()), None);
}

#[test]
fn same_digest_compares_every_byte() {
    assert!(same_digest(&[1, 2, 3], &[1, 2, 3]));
    assert!(!same_digest(&[1, 2, 3], &[1, 2, 4]));
    assert!(!same_digest(&[0, 2, 3], &[1, 2, 3]));
    assert!(!same_digest(&[1, 2], &[1, 2, 3]));
}

fn service(yaml: &str) -> Vec<ServiceToken> {
    yaml_serde::from_str(yaml).expect("service tokens")
}

const LONG: &str = "0123456789abcdef0123456789abcdef-service";

#[test]
fn service_tokens_come_from_the_environment_and_each_error_names_its_field() {
    let env = |k: &str| match k {
        "DEPLOY_TOKEN" => Some(LONG.to_string()),
        "SHORT" => Some("short".to_string()),
        _ => None,
    };
    let mut ok = service("- name: deploy\n  token_env: DEPLOY_TOKEN\n  scopes: [refresh, read, read]\n  entity: deploy-bot\n");
    validate_service_tokens(&mut ok, env).expect("valid");
    assert_eq!(ok[0].token.as_ref().map(Secret::expose), Some(LONG));
    assert_eq!(ok[0].scopes, ["read", "refresh"]);
    assert_eq!(ok[0].entity.as_deref(), Some("user:default/deploy-bot"));
    assert!(!format!("{ok:?}").contains(LONG));

    let cases = [
        ("- name: ''\n  token_env: DEPLOY_TOKEN\n  scopes: [read]\n", "auth.service_tokens[0].name"),
        ("- name: a\n  token_env: UNSET\n  scopes: [read]\n", "auth.service_tokens[0].token_env: the environment variable UNSET is not set"),
        ("- name: a\n  token_env: SHORT\n  scopes: [read]\n", "auth.service_tokens[0].token_env: the token in SHORT must be at least 32"),
        ("- name: a\n  token_env: DEPLOY_TOKEN\n  scopes: [write]\n", "auth.service_tokens[0].scopes: unknown scope \"write\""),
        ("- name: a\n  token_env: DEPLOY_TOKEN\n  scopes: []\n", "auth.service_tokens[0].scopes"),
        ("- name: a\n  token_env: DEPLOY_TOKEN\n  scopes: [read]\n  entity: group:default/x\n", "auth.service_tokens[0].entity"),
        ("- name: a\n  token_env: DEPLOY_TOKEN\n  scopes: [read]\n- name: a\n  token_env: DEPLOY_TOKEN\n  scopes: [read]\n", "auth.service_tokens[1].name"),
    ];
    for (yaml, wanted) in cases {
        let err = validate_service_tokens(&mut service(yaml), env).expect_err(yaml);
        assert!(err.contains(wanted), "{err} should contain {wanted}");
    }
    // The token itself is never in the file.
    assert!(yaml_serde::from_str::<Vec<ServiceToken>>(
        "- name: a\n  token_env: X\n  scopes: [read]\n  token: abc\n"
    )
    .is_err());
}

fn refused(r: Result<Caller, TokenError>) -> &'static str {
    match r {
        Err(TokenError::Unauthenticated(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

both_databases!(
    api_tokens_verify_as_their_owner_limited_by_scopes,
    setup = with_people,
    |h| {
        let store = h.catalog.store();
        let tokens = Tokens::default();
        let f = facade(&h);
        let catalog = || f.read_unfiltered();
        let created = tokens
            .create(
                store,
                &Audit::disabled(),
                "user:default/alice",
                " ci ",
                &strings(&["refresh", "read"]),
                30,
            )
            .await
            .expect("create");
        let value = created.token.expose().to_string();
        assert_eq!(created.row.name, "ci");
        assert_eq!(created.row.scopes, "read refresh");
        assert_eq!(created.row.expires_at - created.row.created_at, 30 * 86_400);

        // The table holds the hash, never the token.
        let (hashes, values) = match &h.db.store.backend() {
            &"sqlite" => {
                let pool = sqlx::SqlitePool::connect(&h.db.url).await.unwrap();
                let rows = sqlx::query("SELECT * FROM api_tokens")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                let all: Vec<String> = rows
                    .iter()
                    .flat_map(|r| (0..r.len()).filter_map(|i| r.try_get::<String, _>(i).ok()))
                    .collect();
                let hashes: Vec<String> = rows.iter().map(|r| r.get("token_hash")).collect();
                pool.close().await;
                (hashes, all)
            }
            _ => {
                let pool = sqlx::PgPool::connect(&h.db.url).await.unwrap();
                let rows = sqlx::query("SELECT * FROM api_tokens")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                let all: Vec<String> = rows
                    .iter()
                    .flat_map(|r| (0..r.len()).filter_map(|i| r.try_get::<String, _>(i).ok()))
                    .collect();
                let hashes: Vec<String> = rows.iter().map(|r| r.get("token_hash")).collect();
                pool.close().await;
                (hashes, all)
            }
        };
        assert_eq!(hashes, [hash(&value)]);
        assert!(
            values.iter().all(|v| !v.contains(&value[PREFIX.len()..])),
            "{values:?}"
        );

        // Valid: the owner with the groups from the catalog, limited by the scopes.
        let caller = tokens
            .verify(store, catalog, &[], &value)
            .await
            .expect("valid");
        assert_eq!(
            caller.user,
            Some(EntityRef::new("user", "default", "alice"))
        );
        assert_eq!(
            caller.groups,
            [EntityRef::new("group", "default", "team-a")]
        );
        assert_eq!(
            caller.token,
            Some(TokenLimit {
                name: "ci".into(),
                scopes: strings(&["read", "refresh"])
            })
        );
        // Its use was recorded, once within the minute.
        let row = store
            .api_token_by_hash(&hash(&value))
            .await
            .unwrap()
            .unwrap();
        let first_use = row.last_used_at.expect("last use written");
        store
            .touch_api_token(&row.id, first_use + 3600, 0)
            .await
            .unwrap();
        tokens
            .verify(store, catalog, &[], &value)
            .await
            .expect("valid again");
        let row = store
            .api_token_by_hash(&hash(&value))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.last_used_at,
            Some(first_use + 3600),
            "not written again within the minute"
        );

        // Wrong tokens.
        let wrong = format!("{}x", &value[..value.len() - 1]);
        assert_eq!(
            refused(tokens.verify(store, catalog, &[], &wrong).await),
            "unknown API token"
        );
        assert_eq!(
            refused(tokens.verify(store, catalog, &[], "").await),
            "unknown API token"
        );
        assert_eq!(
            refused(tokens.verify(store, catalog, &[], "not-a-token").await),
            "unknown API token"
        );

        // Cached: a revocation in the database alone (another process) is seen within the TTL…
        store
            .revoke_api_token("user:default/alice", &row.id, now())
            .await
            .unwrap();
        assert!(tokens.verify(store, catalog, &[], &value).await.is_ok());
        // …a revocation through this process at once.
        let second = tokens
            .create(
                store,
                &Audit::disabled(),
                "user:default/alice",
                "second",
                &strings(&["read"]),
                1,
            )
            .await
            .unwrap();
        let second_value = second.token.expose().to_string();
        tokens
            .verify(store, catalog, &[], &second_value)
            .await
            .expect("valid");
        // Only its owner revokes it.
        assert!(matches!(
            tokens
                .revoke(
                    store,
                    &Audit::disabled(),
                    "user:default/bob",
                    &second.row.id
                )
                .await,
            Err(TokenError::NotFound(_))
        ));
        tokens
            .revoke(
                store,
                &Audit::disabled(),
                "user:default/alice",
                &second.row.id,
            )
            .await
            .expect("revoke");
        assert_eq!(
            refused(tokens.verify(store, catalog, &[], &second_value).await),
            "the API token was revoked"
        );
        assert!(matches!(
            tokens
                .revoke(
                    store,
                    &Audit::disabled(),
                    "user:default/alice",
                    &second.row.id
                )
                .await,
            Err(TokenError::NotFound(_))
        ));

        // Expired.
        let expired_value = format!("{PREFIX}expired-token-for-the-test-0123456789abc");
        let mut expired = second.row.clone();
        expired.id = "expired".into();
        expired.name = "old".into();
        expired.token_hash = hash(&expired_value);
        expired.revoked_at = None;
        expired.expires_at = now() - 1;
        store.insert_api_token(&expired).await.unwrap();
        assert_eq!(
            refused(tokens.verify(store, catalog, &[], &expired_value).await),
            "the API token has expired"
        );

        // What a token may be made with.
        for (name, scopes, days, field) in [
            ("  ", vec!["read"], 30, "name"),
            ("x", vec![], 30, "scopes"),
            ("x", vec!["write"], 30, "scopes"),
            ("x", vec!["read"], 0, "expires_in_days"),
            ("x", vec!["read"], 366, "expires_in_days"),
        ] {
            match tokens
                .create(
                    store,
                    &Audit::disabled(),
                    "user:default/alice",
                    name,
                    &strings(&scopes),
                    days,
                )
                .await
            {
                Err(TokenError::Invalid(m)) => assert!(m.starts_with(field), "{m}"),
                other => panic!("{name:?} {scopes:?} {days}: {:?}", other.map(|c| c.row)),
            }
        }
        let long = "n".repeat(MAX_NAME + 1);
        assert!(tokens
            .create(
                store,
                &Audit::disabled(),
                "user:default/alice",
                &long,
                &strings(&["read"]),
                1
            )
            .await
            .is_err());
        let listed = tokens.list(store, "user:default/alice").await.unwrap();
        // Revoked tokens are not listed; expired ones are.
        let names: Vec<&str> = listed.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["old"]);
    }
);

both_databases!(
    service_tokens_act_as_their_entity_or_as_nobody,
    setup = with_people,
    |h| {
        let store = h.catalog.store();
        let tokens = Tokens::default();
        let f = facade(&h);
        let catalog = || f.read_unfiltered();
        let env = |k: &str| match k {
            "AS_ALICE" => Some(format!("{LONG}-alice")),
            "NOBODY" => Some(format!("{LONG}-nobody")),
            _ => None,
        };
        let mut service = service("- name: as-alice\n  token_env: AS_ALICE\n  scopes: [read]\n  entity: user:default/alice\n- name: nobody\n  token_env: NOBODY\n  scopes: [refresh]\n");
        validate_service_tokens(&mut service, env).unwrap();

        let alice = tokens
            .verify(store, catalog, &service, &format!("{LONG}-alice"))
            .await
            .expect("valid");
        assert_eq!(alice.user, Some(EntityRef::new("user", "default", "alice")));
        assert_eq!(alice.groups, [EntityRef::new("group", "default", "team-a")]);
        assert_eq!(
            alice.token.as_ref().map(|t| t.name.as_str()),
            Some("as-alice")
        );

        let nobody = tokens
            .verify(store, catalog, &service, &format!("{LONG}-nobody"))
            .await
            .expect("valid");
        assert_eq!(nobody.user, None);
        assert!(!nobody.is_guest());
        assert_eq!(
            nobody.token.as_ref().map(|t| t.scopes.clone()),
            Some(strings(&["refresh"]))
        );

        assert_eq!(
            refused(
                tokens
                    .verify(store, catalog, &service, &format!("{LONG}-carol"))
                    .await
            ),
            "unknown API token"
        );
    }
);
