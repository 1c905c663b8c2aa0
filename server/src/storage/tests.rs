use super::*;
use crate::both_databases;

fn location(id: &str, target: &str) -> LocationRow {
    LocationRow {
        id: id.into(),
        location_type: "file".into(),
        target: target.into(),
        origin: "api".into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        last_refresh_at: None,
        problems: "[]".into(),
        branch: None,
        path: None,
        commit_id: None,
        last_success_at: None,
        last_error: None,
        failures: 0,
        version: 0,
    }
}

fn entity(r: &str, loc: &str, body: &str) -> EntityRow {
    EntityRow {
        entity_ref: r.into(),
        uid: format!("uid-{r}"),
        location_id: loc.into(),
        body: body.into(),
        hash: format!("h-{body}"),
        source_file: "/x.yaml".into(),
        document: 0,
        line: 1,
        problems: "[]".into(),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

both_databases!(locations_round_trip_and_conflict, |db| {
    let s = &db.store;
    s.insert_location(&location("l1", "/a.yaml")).await.unwrap();
    assert!(matches!(
        s.insert_location(&location("l2", "/a.yaml")).await,
        Err(StorageError::Conflict)
    ));
    let ok = Attempt::Succeeded {
        problems: "[{\"x\":1}]",
        commit_id: Some("abc"),
    };
    s.record_attempt("l1", "2026-01-02T00:00:00.000Z", ok)
        .await
        .unwrap();
    let all = s.locations().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].last_refresh_at.as_deref(),
        Some("2026-01-02T00:00:00.000Z")
    );
    assert_eq!(all[0].problems, "[{\"x\":1}]");
    assert_eq!(all[0].commit_id.as_deref(), Some("abc"));
    // Two failures: the error and the count are kept, and so is what was read before.
    for at in ["2026-01-03T00:00:00.000Z", "2026-01-04T00:00:00.000Z"] {
        let failed = Attempt::Failed {
            error: "unreachable",
        };
        s.record_attempt("l1", at, failed).await.unwrap();
    }
    let l = &s.locations().await.unwrap()[0];
    assert_eq!(
        (l.failures, l.last_error.as_deref()),
        (2, Some("unreachable"))
    );
    assert_eq!(
        l.last_success_at.as_deref(),
        Some("2026-01-02T00:00:00.000Z")
    );
    assert_eq!(l.commit_id.as_deref(), Some("abc"));
    let ok = Attempt::Succeeded {
        problems: "[]",
        commit_id: None,
    };
    s.record_attempt("l1", "2026-01-05T00:00:00.000Z", ok)
        .await
        .unwrap();
    let l = &s.locations().await.unwrap()[0];
    assert_eq!((l.failures, l.last_error.as_deref()), (0, None));
    assert_eq!(l.commit_id.as_deref(), Some("abc"));
});

both_databases!(leases_are_exclusive_until_they_expire, |db| {
    let s = &db.store;
    s.insert_location(&location("l1", "/a.yaml")).await.unwrap();
    assert!(s.try_lease("l1", "p1", 1_000, 61_000).await.unwrap());
    assert!(!s.try_lease("l1", "p2", 2_000, 62_000).await.unwrap());
    assert!(
        s.try_lease("l1", "p1", 3_000, 63_000).await.unwrap(),
        "extended"
    );
    // p1 died: once its lease expires, p2 takes over.
    assert!(s.try_lease("l1", "p2", 64_000, 124_000).await.unwrap());
    s.release_lease("l1", "p1").await.unwrap();
    assert!(!s.try_lease("l1", "p1", 65_000, 125_000).await.unwrap());
    s.release_lease("l1", "p2").await.unwrap();
    assert!(s.try_lease("l1", "p1", 66_000, 126_000).await.unwrap());
});

both_databases!(apply_upserts_deletes_and_cascades, |db| {
    let s = &db.store;
    s.insert_location(&location("l1", "/a.yaml")).await.unwrap();
    let mut changes = Changes::default();
    for i in 0..1200 {
        changes
            .upserts
            .push(entity(&format!("component:default/c{i}"), "l1", "{}"));
    }
    changes.sources.push(SourceRow {
        location_id: "l1".into(),
        path: "/a.yaml".into(),
        hash: "h".into(),
        clean: true,
        modified_ns: 7,
        size: 9,
        targets: "[]".into(),
    });
    s.apply("l1", &changes).await.unwrap();
    assert_eq!(s.entities().await.unwrap().len(), 1200);
    let src = s.sources("l1").await.unwrap();
    assert!(src[0].clean);
    assert_eq!((src[0].modified_ns, src[0].size), (7, 9));

    // Update one, delete two.
    let changes = Changes {
        upserts: vec![entity("component:default/c0", "l1", "{\"v\":2}")],
        deletes: vec!["component:default/c1".into(), "component:default/c2".into()],
        sources: vec![SourceRow {
            location_id: "l1".into(),
            path: "/a.yaml".into(),
            hash: "h2".into(),
            clean: false,
            modified_ns: 8,
            size: 10,
            targets: "[]".into(),
        }],
        deleted_sources: vec![],
    };
    s.apply("l1", &changes).await.unwrap();
    let all = s.entities().await.unwrap();
    assert_eq!(all.len(), 1198);
    let c0 = all
        .iter()
        .find(|e| e.entity_ref == "component:default/c0")
        .unwrap();
    assert_eq!(&*c0.body, "{\"v\":2}");
    assert_eq!(c0.uid, "uid-component:default/c0", "uid survives updates");
    let src = s.sources("l1").await.unwrap();
    assert_eq!((src[0].hash.as_str(), src[0].clean), ("h2", false));

    assert!(s.delete_location("l1").await.unwrap());
    assert!(!s.delete_location("l1").await.unwrap());
    assert!(s.entities().await.unwrap().is_empty());
    assert!(s.sources("l1").await.unwrap().is_empty());
});

/// An unsupported URL is named in the error without its password.
#[tokio::test]
async fn unsupported_url_error_hides_the_password() {
    let Err(e) = Store::connect("mysql://app:hunter2@db.example.com/backlot").await else {
        panic!("a MySQL URL is not supported");
    };
    let msg = e.to_string();
    assert!(
        msg.contains("mysql://app:***@db.example.com/backlot"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
}
