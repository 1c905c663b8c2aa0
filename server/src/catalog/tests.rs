//! Catalog behaviour end to end (files → processing → storage → snapshot), on SQLite and
//! PostgreSQL.

use crate::both_databases;
use crate::catalog::OrphanStrategy;
use crate::test_support::{backstage_examples, component, group, Harness};
use app::model::Severity;

fn count(h: &Harness) -> usize {
    h.catalog.snapshot().records.len()
}

both_databases!(
    backstage_examples_load_unchanged,
    setup = Harness::new,
    |h| {
        let ex = backstage_examples();
        for f in ["all.yaml", "acme-corp.yaml"] {
            h.catalog
                .add_location("file", &ex.join(f).to_string_lossy(), false)
                .await
                .unwrap();
        }
        let snap = h.catalog.snapshot();
        let mut kinds = std::collections::BTreeMap::new();
        for r in snap.records.iter() {
            *kinds.entry(r.stored.entity_ref.kind.clone()).or_insert(0) += 1;
        }
        assert_eq!(snap.records.len(), 66, "{kinds:?}");
        assert_eq!(kinds["Component"], 13);
        assert_eq!(kinds["API"], 9);
        assert_eq!(kinds["Group"], 9);
        assert_eq!(kinds["User"], 17);
        assert_eq!(kinds["Location"], 9);
        assert_eq!(kinds["AiResource"], 2);
        // Both guests, in their namespaces.
        assert!(snap.get("user", "default", "guest").is_some());
        assert!(snap.get("user", "development", "guest").is_some());

        // The missing swapi-graphql file is reported on the location that lists it.
        let all_problems: Vec<String> = snap
            .locations
            .iter()
            .flat_map(|l| l.problems.iter().map(|p| p.message.clone()))
            .collect();
        assert!(
            all_problems
                .iter()
                .any(|m| m.contains("swapi-graphql.yaml") && m.contains("no such file")),
            "{all_problems:?}"
        );
        assert_eq!(
            all_problems.len(),
            1,
            "only the missing file is a location problem: {all_problems:?}"
        );

        // Remote $text definitions: an error on that entity only, which is still there.
        let spotify = snap.get("api", "default", "spotify").unwrap();
        assert!(spotify.problems.iter().any(
            |p| p.field.as_deref() == Some("spec.definition") && p.message.contains("https://")
        ));
        let petstore_webhook = snap.get("api", "default", "petstore-webhook").unwrap();
        assert!(
            petstore_webhook.problems.is_empty(),
            "local $text resolves: {:?}",
            petstore_webhook.problems
        );
        assert!(petstore_webhook.value()["spec"]["definition"]
            .as_str()
            .unwrap()
            .contains("openapi"));

        // The dangling owner of playback-order is reported on it.
        let po = snap.get("component", "default", "playback-order").unwrap();
        assert!(po.problems.iter().any(|p| p.severity == Severity::Error && p.message.contains("group:default/guest")), "{:?}", po.problems);

        // Relations in both directions.
        let artist = snap.get("component", "default", "artist-lookup").unwrap();
        let owner = artist.related("ownedBy").next().unwrap();
        assert!(owner.target_index.is_some());
        let team = &snap.records[owner.target_index.unwrap()];
        assert!(team
            .related("ownerOf")
            .any(|r| r.target().name == "artist-lookup"));
        let user = snap.get("user", "default", "breanna.davison").unwrap();
        assert!(user.related("memberOf").next().is_some());
    }
);

both_databases!(
    broken_file_keeps_last_good_version,
    setup = Harness::new,
    |h| {
        let path = h.write(
            "svc/catalog-info.yaml",
            &format!("{}---\n{}", component("web", "team-a"), group("team-a")),
        );
        h.catalog.add_location("file", &path, false).await.unwrap();
        assert_eq!(count(&h), 2);
        let before = h
            .catalog
            .snapshot()
            .get("component", "default", "web")
            .unwrap()
            .stored
            .uid
            .clone();

        // Whole file broken: entities stay, with an error saying why.
        h.write("svc/catalog-info.yaml", "apiVersion: [unclosed\n");
        let id = h.catalog.snapshot().locations[0].id.clone();
        h.catalog.refresh_location(&id).await.unwrap();
        let snap = h.catalog.snapshot();
        assert_eq!(snap.records.len(), 2);
        let web = snap.get("component", "default", "web").unwrap();
        assert_eq!(web.stored.uid, before);
        assert!(
            web.problems
                .iter()
                .any(|p| p.message.contains("last good version")
                    && p.message.contains("invalid YAML")),
            "{:?}",
            web.problems
        );
        assert!(!snap.locations[0].problems.is_empty());
        // The database keeps the processed entity, not what stitching added in memory.
        let rows = h.db.store.entities().await.unwrap();
        let row = rows.iter().find(|r| r.entity_ref.contains("web")).unwrap();
        let body: serde_json::Value = serde_json::from_str(&row.body).unwrap();
        assert_eq!(body["spec"]["owner"], "team-a");
        assert!(body.get("relations").is_none() && body.get("status").is_none());
        assert!(body["metadata"].get("uid").is_none());
        assert!(row.problems.contains("last good version"));

        // One document invalid: that entity keeps its last good version, the other updates.
        h.write(
            "svc/catalog-info.yaml",
            &format!(
                "{}---\n{}",
                component("web", "team-a").replace("type: service", "type: 42\n  lifecycle2: x"),
                group("team-a").replace("team\n", "squad\n")
            ),
        );
        h.catalog.refresh_location(&id).await.unwrap();
        let snap = h.catalog.snapshot();
        let web = snap.get("component", "default", "web").unwrap();
        assert_eq!(
            web.value()["spec"]["type"],
            "service",
            "last good version kept"
        );
        assert!(web.problems.iter().any(|p| p.message.contains("not valid")));
        assert_eq!(
            snap.get("group", "default", "team-a").unwrap().value()["spec"]["type"],
            "squad"
        );
        let loc = &snap.locations[0];
        assert!(
            loc.problems
                .iter()
                .any(|p| p.field.as_deref() == Some("spec.type")
                    && p.document == Some(0)
                    && p.line == Some(1)),
            "{:?}",
            loc.problems
        );

        // Fixed: the errors go away.
        h.write(
            "svc/catalog-info.yaml",
            &format!("{}---\n{}", component("web", "team-a"), group("team-a")),
        );
        h.catalog.refresh_location(&id).await.unwrap();
        let snap = h.catalog.snapshot();
        assert!(snap
            .get("component", "default", "web")
            .unwrap()
            .problems
            .is_empty());
        assert!(snap.locations[0].problems.is_empty());

        // The same after a restart: storage holds it.
        let (reopened, _) = h
            .process(
                &h.root.join(".backlot"),
                crate::test_support::git_settings(),
            )
            .await;
        assert_eq!(reopened.snapshot().records.len(), 2);
        assert_eq!(
            reopened
                .snapshot()
                .get("component", "default", "web")
                .unwrap()
                .stored
                .uid,
            before
        );
    }
);

both_databases!(
    deleted_targets_remove_entities_and_unchanged_files_are_skipped,
    setup = Harness::new,
    |h| {
        h.write("a.yaml", &component("a", "team"));
        h.write("b.yaml", &component("b", "team"));
        h.write("team.yaml", &group("team"));
        let root = h.write(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./a.yaml, ./b.yaml, ./team.yaml]\n",
    );
        h.catalog.add_location("file", &root, false).await.unwrap();
        assert_eq!(count(&h), 4);
        let id = h.catalog.snapshot().locations[0].id.clone();

        // Nothing changed: nothing is written.
        let before: Vec<_> =
            h.db.store
                .entities()
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.entity_ref, e.updated_at))
                .collect();
        h.catalog.refresh_location(&id).await.unwrap();
        let after: Vec<_> =
            h.db.store
                .entities()
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.entity_ref, e.updated_at))
                .collect();
        assert_eq!(before, after);
        assert!(h
            .db
            .store
            .sources(&id)
            .await
            .unwrap()
            .iter()
            .all(|s| s.clean));

        h.remove("b.yaml");
        h.catalog.refresh_location(&id).await.unwrap();
        let snap = h.catalog.snapshot();
        assert_eq!(snap.records.len(), 3);
        assert!(snap.get("component", "default", "b").is_none());
        assert!(snap.locations[0]
            .problems
            .iter()
            .any(|p| p.message.contains("b.yaml")));

        // A glob location.
        let glob = format!("{}/more/*.yaml", h.root.display());
        h.write("more/x.yaml", &component("x", "team"));
        h.write("more/y.yaml", &component("y", "team"));
        let added = h.catalog.add_location("file", &glob, false).await.unwrap();
        assert_eq!(added.entities.len(), 2);
        h.catalog.delete_location(&added.location.id).await.unwrap();
        assert_eq!(count(&h), 3);
    }
);

both_databases!(
    orphans_kept_when_configured,
    setup = |db| Harness::with_orphans(db, OrphanStrategy::Keep),
    |h| {
        let path = h.write(
            "c.yaml",
            &format!("{}---\n{}", component("a", "t"), group("t")),
        );
        h.catalog.add_location("file", &path, false).await.unwrap();
        h.write("c.yaml", &group("t"));
        let id = h.catalog.snapshot().locations[0].id.clone();
        h.catalog.refresh_location(&id).await.unwrap();
        let snap = h.catalog.snapshot();
        let a = snap
            .get("component", "default", "a")
            .expect("kept as orphan");
        assert!(a
            .problems
            .iter()
            .any(|p| p.message.starts_with("Orphaned:") && p.severity == Severity::Warning));
    }
);

both_databases!(
    conflicts_are_reported_not_overwritten,
    setup = Harness::new,
    |h| {
        let one = h.write("one.yaml", &component("dup", "team-one"));
        let two = h.write("two.yaml", &component("dup", "team-two"));
        h.catalog.add_location("file", &one, false).await.unwrap();
        h.catalog.add_location("file", &two, false).await.unwrap();
        let snap = h.catalog.snapshot();
        assert_eq!(snap.records.len(), 1);
        assert_eq!(snap.records[0].value()["spec"]["owner"], "team-one");
        let second = snap.locations.iter().find(|l| l.target == two).unwrap();
        assert!(
            second
                .problems
                .iter()
                .any(|p| p.message.contains("already provided by another location")),
            "{:?}",
            second.problems
        );
    }
);

both_databases!(
    file_locations_outside_the_roots_are_refused,
    setup = Harness::new,
    |h| {
        let err = h
            .catalog
            .add_location("file", "/etc/hostname", false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, crate::catalog::CatalogError::Forbidden(ref m) if m.contains("BACKLOT_FILE_ROOTS")),
            "{err}"
        );
        let err = h
            .catalog
            .add_location(
                "file",
                &format!("{}/../../etc/*.conf", h.root.display()),
                false,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, crate::catalog::CatalogError::Forbidden(_)));
        // Dry run: nothing stored.
        let path = h.write("d.yaml", &component("dry", "t"));
        let out = h.catalog.add_location("file", &path, true).await.unwrap();
        assert_eq!(out.entities.len(), 1);
        assert_eq!(count(&h), 0);
        assert!(h.db.store.locations().await.unwrap().is_empty());
    }
);

both_databases!(
    ui_catalog_filters_facets_and_pages,
    setup = Harness::new,
    |h| {
        use app::model::CatalogQuery;
        use app::services::CatalogReader;
        let mut docs = vec![
            group("team-a"),
            group("team-b"),
            group("Team-Big"),
            component("Big-One", "Team-Big"),
        ];
        for i in 0..12 {
            let owner = if i < 4 { "team-a" } else { "team-b" };
            let mut c = component(&format!("svc{i:02}"), owner);
            if i % 2 == 1 {
                c = c.replace("type: service", "type: website");
            }
            docs.push(c);
        }
        let path = h.write("c.yaml", &docs.join("---\n"));
        h.catalog.add_location("file", &path, false).await.unwrap();
        let reader = crate::catalog::views::Reader::new(h.state().facade());
        let guest = app::model::Caller::guest();
        let count = |facets: &[app::model::FacetCount], v: &str| {
            facets.iter().find(|f| f.value == v).map(|f| f.count)
        };

        let q = CatalogQuery {
            kind: Some("Component".into()),
            owners: vec!["group:default/team-a".into()],
            page_size: 3,
            ..Default::default()
        };
        let page = reader.list(&guest, &q);
        assert_eq!(page.total, 4);
        assert_eq!(page.items.len(), 3);
        assert_eq!(page.items[0].entity_ref.name, "svc00");
        // Each facet counts what choosing its value would give, all other filters applied.
        assert_eq!(
            count(&page.facets.owners, "group:default/team-a"),
            Some(4),
            "{:?}",
            page.facets.owners
        );
        assert_eq!(count(&page.facets.owners, "group:default/team-b"), Some(8));
        assert_eq!(
            count(&page.facets.owners, "group:default/team-big"),
            Some(1),
            "{:?}",
            page.facets.owners
        );
        assert_eq!(count(&page.facets.types, "website"), Some(2));
        assert_eq!(count(&page.facets.kinds, "component"), Some(4));
        assert_eq!(
            count(&page.facets.kinds, "group"),
            None,
            "groups have no owner"
        );

        let q = CatalogQuery {
            types: vec!["WEBSITE".into()],
            sort: Some("-name".into()),
            page: 1,
            page_size: 4,
            ..Default::default()
        };
        let page = reader.list(&guest, &q);
        assert_eq!(page.total, 6);
        assert_eq!(
            page.items
                .iter()
                .map(|s| s.entity_ref.name.as_str())
                .collect::<Vec<_>>(),
            vec!["svc03", "svc01"]
        );
        let q = CatalogQuery {
            owners: vec!["group:default/nobody".into()],
            ..Default::default()
        };
        assert_eq!(
            reader.list(&guest, &q).total,
            0,
            "an unknown value matches nothing"
        );
        let q = CatalogQuery {
            text: Some("SVC1".into()),
            ..Default::default()
        };
        assert_eq!(reader.list(&guest, &q).total, 2);
        // Owners can be typed the way they are written in descriptors.
        for typed in ["team-a", "TEAM-A", "default/team-a"] {
            let q = CatalogQuery {
                owners: vec![typed.into()],
                ..Default::default()
            };
            assert_eq!(reader.list(&guest, &q).total, 4, "{typed}");
        }

        // Owned by me or my teams: a member of team-a sees team-a's four and what she owns
        // herself; the facets count within that; the guest owns nothing.
        let alice = app::model::Caller {
            user: app::model::EntityRef::from_ref_string("user:default/alice"),
            groups: vec![app::model::EntityRef::new("Group", "default", "team-a")],
            ..Default::default()
        };
        let owned = CatalogQuery {
            owned: true,
            ..Default::default()
        };
        let page = reader.list(&alice, &owned);
        assert_eq!(page.total, 4);
        assert!(page
            .items
            .iter()
            .all(|s| s.entity_ref.name.starts_with("svc0")));
        assert_eq!(count(&page.facets.owners, "group:default/team-a"), Some(4));
        assert_eq!(count(&page.facets.owners, "group:default/team-b"), None);
        assert_eq!(count(&page.facets.types, "website"), Some(2));
        let page = reader.list(
            &alice,
            &CatalogQuery {
                types: vec!["website".into()],
                ..owned.clone()
            },
        );
        assert_eq!(page.total, 2);
        assert_eq!(reader.list(&guest, &owned).total, 0);
        let bigwig = app::model::Caller {
            user: app::model::EntityRef::from_ref_string("user:default/bigwig"),
            groups: vec![app::model::EntityRef::new("Group", "default", "Team-Big")],
            ..Default::default()
        };
        let page = reader.list(&bigwig, &owned);
        assert_eq!(
            page.total, 1,
            "a group written in capitals is still the caller's"
        );
        assert_eq!(page.items[0].entity_ref.name, "Big-One");
    }
);

both_databases!(
    ui_catalog_lists_the_most_common_facet_values,
    setup = Harness::new,
    |h| {
        use app::model::{CatalogQuery, FACET_VALUES_LISTED};
        use app::services::CatalogReader;
        let owners = FACET_VALUES_LISTED + 30;
        let mut docs: Vec<String> = (0..owners)
            .map(|i| component(&format!("svc{i:03}"), &format!("team-{i:03}")))
            .collect();
        // team-129 owns three: it comes first.
        docs.push(component("extra1", "team-129"));
        docs.push(component("extra2", "team-129"));
        let path = h.write("c.yaml", &docs.join("---\n"));
        h.catalog.add_location("file", &path, false).await.unwrap();
        let reader = crate::catalog::views::Reader::new(h.state().facade());
        let guest = app::model::Caller::guest();

        let page = reader.list(&guest, &CatalogQuery::default());
        let listed = &page.facets.owners;
        assert_eq!(listed.len(), FACET_VALUES_LISTED);
        assert_eq!(page.facets.unlisted.get("owner"), Some(&30));
        assert_eq!(page.facets.unlisted.get("type"), None);
        assert_eq!(listed[0].value, "group:default/team-129");
        assert_eq!(listed[0].count, 3);
        // Then by count and name: team-000 … team-098 are listed, the rest are not.
        assert_eq!(listed[1].value, "group:default/team-000");
        assert_eq!(listed[99].value, "group:default/team-098");

        // A chosen value is always listed, even when it is not among the most common.
        let q = CatalogQuery {
            owners: vec!["team-120".into()],
            ..Default::default()
        };
        let page = reader.list(&guest, &q);
        assert_eq!(page.total, 1);
        assert_eq!(page.facets.owners.len(), FACET_VALUES_LISTED);
        assert_eq!(page.facets.owners[0].value, "group:default/team-120");
    }
);

both_databases!(
    a_document_that_is_not_valid_yaml_keeps_the_entities_of_its_file,
    setup = Harness::new,
    |h| {
        let both = format!("{}---\n{}", component("a", "t"), component("b", "t"));
        let path = h.write("multi.yaml", &both);
        h.catalog.add_location("file", &path, false).await.unwrap();
        assert_eq!(count(&h), 2);
        // The second document breaks: which entity it held is unknown, so b stays, stale.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let broken = format!(
            "{}---\n{}",
            component("a", "t"),
            component("b", "t").replace("spec:\n", "spec: [\n")
        );
        h.write("multi.yaml", &broken);
        let id = h.catalog.snapshot().locations[0].id.clone();
        h.catalog.refresh_location(&id).await.unwrap();
        let snap = h.catalog.snapshot();
        let b = snap.get("component", "default", "b").expect("b is kept");
        assert!(
            b.problems
                .iter()
                .any(|p| p.message.contains("is not valid YAML")),
            "{:?}",
            b.problems
        );
        assert!(snap.get("component", "default", "a").is_some());
    }
);

// Issue 10: the file roots confine what arrives through the API, not the operator's own
// locations (the demo, the config file), which may live anywhere.
both_databases!(
    file_roots_confine_api_registrations_not_the_demo_or_the_config,
    setup = Harness::new,
    |h| {
        let elsewhere = tempfile::tempdir().unwrap();
        let demo = elsewhere.path().canonicalize().unwrap().join("demo.yaml");
        std::fs::write(
            &demo,
            format!("{}---\n{}", component("shop", "team-x"), group("team-x")),
        )
        .unwrap();
        let demo = demo.to_string_lossy().into_owned();
        assert!(!h.files.allows(std::path::Path::new(&demo)));

        let ids = h
            .catalog
            .sync_locations(
                &crate::catalog::Origin::Demo,
                &[crate::catalog::NewLocation::new(
                    crate::catalog::LocationType::File,
                    &demo,
                )],
            )
            .await
            .unwrap();
        h.catalog.refresh_location(&ids[0]).await.unwrap();
        let snap = h.catalog.snapshot();
        assert_eq!(count(&h), 2, "{:?}", snap.locations[0].problems);
        assert!(snap.locations[0].problems.is_empty());

        // The same file through the API is refused, naming the setting.
        let refused = h
            .catalog
            .add_location("file", &demo, false)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("file_roots"), "{refused}");
    }
);

// A registration's entities are streamed in pieces; joined, the pieces are one JSON array.
both_databases!(
    added_entities_stream_as_one_json_array,
    setup = Harness::new,
    |h| {
        let five: Vec<String> = (0..5).map(|i| component(&format!("c{i}"), "t")).collect();
        let path = h.write("five.yaml", &five.join("---\n"));
        for dry_run in [true, false] {
            let added = h
                .catalog
                .add_location("file", &path, dry_run)
                .await
                .unwrap();
            for per_chunk in [1, 2, 5, 200] {
                let pieces: Vec<String> =
                    added.entities.clone().into_json_chunks(per_chunk).collect();
                assert_eq!(pieces.len(), 5usize.div_ceil(per_chunk), "{pieces:?}");
                let all: serde_json::Value = serde_json::from_str(&pieces.concat()).unwrap();
                let names: Vec<&str> = all
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["metadata"]["name"].as_str().unwrap())
                    .collect();
                assert_eq!(names.len(), 5);
                assert!(names.contains(&"c4"), "{names:?}");
                // Registered entities are stitched (uid, relations); previews are not.
                assert_eq!(all[0]["metadata"]["uid"].is_string(), !dry_run);
            }
        }
    }
);

both_databases!(
    ui_catalog_says_which_facet_values_are_chosen,
    setup = Harness::new,
    |h| {
        use app::model::CatalogQuery;
        use app::services::CatalogReader;
        let docs = [
            group("team-a"),
            group("team-b"),
            component("one", "team-a"),
            component("two", "team-b").replace("type: service", "type: website"),
        ];
        let path = h.write("c.yaml", &docs.join("---\n"));
        h.catalog.add_location("file", &path, false).await.unwrap();
        let reader = crate::catalog::views::Reader::new(h.state().facade());
        let guest = app::model::Caller::guest();
        let q = CatalogQuery {
            // Typed as in a descriptor, and one nothing has.
            owners: vec!["team-a".into(), "nobody".into()],
            types: vec!["WEBSITE".into()],
            ..Default::default()
        };
        let page = reader.list(&guest, &q);
        assert_eq!(page.total, 0);
        let owners: Vec<(&str, usize, bool)> = page
            .facets
            .owners
            .iter()
            .map(|f| (f.value.as_str(), f.count, f.selected))
            .collect();
        assert_eq!(
            owners,
            vec![
                ("group:default/team-a", 0, true),
                ("nobody", 0, true),
                ("group:default/team-b", 1, false),
            ]
        );
        let types: Vec<(&str, bool)> = page
            .facets
            .types
            .iter()
            .map(|f| (f.value.as_str(), f.selected))
            .collect();
        assert_eq!(types, vec![("website", true), ("service", false)]);
    }
);
