//! The home page, the teams view and the star button through the real router, on SQLite and
//! PostgreSQL: what a guest and a signed-in user see, stars and visits kept per user, old
//! catalog links sent to `/catalog`, and the posts a star refuses.

use crate::both_databases;
use crate::test_support::{component, send, thirty_components, with_sign_in, Answer, Harness};
use app::model::{Caller, EntityRef};
use axum::http::StatusCode;
use std::time::Duration;

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("user", "default", "alice")),
        groups: vec![EntityRef::new("group", "default", "team-a")],
        ..Default::default()
    }
}

const FORM: &str = "application/x-www-form-urlencoded";
const SAME_SITE: [(&str, &str); 3] = [
    ("content-type", FORM),
    ("host", "127.0.0.1:3000"),
    ("origin", "http://127.0.0.1:3000"),
];

/// The catalog: team-a and team-b with 30 components between them, alice in team-a, a
/// component whose owner does not exist, and a template with no owner.
fn catalog() -> String {
    let alice = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  profile:\n    displayName: Alice Liddell\n  memberOf: [team-a]\n";
    let template = "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: lonely\nspec:\n  type: service\n  steps: []\n";
    [
        thirty_components(),
        alice.to_string(),
        component("haunted", "ghosts"),
        template.to_string(),
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: org\nspec:\n  type: department\n  children: [team-a, team-b]\n".to_string(),
    ]
    .join("---\n")
}

async fn star(router: &axum::Router, caller: &Caller, body: &str) -> Answer {
    send(router, Some(caller), "POST", "/stars", &SAME_SITE, body).await
}

/// The section of a page that starts at `data-testid="{id}"` and ends at the next section.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let marker = format!("data-testid=\"{id}\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} section in:\n{page}"));
    let rest = &page[at..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

both_databases!(
    home_for_a_guest_and_a_signed_in_user_with_stars_and_visits,
    setup = Harness::new,
    |h| {
        let path = h.write("org.yaml", &catalog());
        h.register_file(&path).await;
        let router = crate::http::router(with_sign_in(h.state(), "[]", |_| None));
        let me = alice();

        // The guest: the organisation at a glance, teams and recent changes.
        let guest = send(&router, None, "GET", "/", &[], "").await;
        assert_eq!(guest.status, StatusCode::OK, "{}", guest.text);
        assert!(
            guest.text.contains("The organisation at a glance"),
            "{}",
            &guest.text[guest.text.find("<main").unwrap_or(0)..]
        );
        let teams = section(&guest.text, "teams");
        assert!(teams.contains("data-team=\"team-a\"") && teams.contains("data-team=\"team-b\""));
        assert!(section(&guest.text, "changes").contains("/catalog/default/component/c00"));
        assert!(!guest.text.contains("data-testid=\"starred\""));

        // Alice: her team, what it owns, nothing starred yet.
        let home = send(&router, Some(&me), "GET", "/", &[], "").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.text);
        assert!(
            home.text.contains("Welcome, Alice Liddell"),
            "{}",
            home.text
        );
        let my_teams = section(&home.text, "my-teams");
        assert!(my_teams.contains("data-team=\"team-a\""));
        assert!(!my_teams.contains("data-team=\"team-b\""));
        // c00, c03 … c27 are team-a's: 10, of which 12 would show.
        let owned = section(&home.text, "my-entities");
        assert!(owned.contains(">10<"), "{owned}");
        assert!(owned.contains("/catalog/default/component/c27"));
        assert!(!owned.contains("/catalog/default/component/c01"));
        assert!(section(&home.text, "starred").contains("Nothing starred yet"));

        // The entity page offers the star; starring comes back to the page.
        let page = send(
            &router,
            Some(&me),
            "GET",
            "/catalog/default/component/c03",
            &[],
            "",
        )
        .await;
        assert!(page.text.contains("☆ Star"), "{}", page.text);
        let starred = star(
            &router,
            &me,
            "entity=component%3Adefault%2Fc03&star=1&back=%2Fcatalog%2Fdefault%2Fcomponent%2Fc03",
        )
        .await;
        assert_eq!(starred.status, StatusCode::SEE_OTHER, "{}", starred.text);
        assert_eq!(starred.location(), "/catalog/default/component/c03");
        let page = send(
            &router,
            Some(&me),
            "GET",
            "/catalog/default/component/c03",
            &[],
            "",
        )
        .await;
        assert!(page.text.contains("★ Starred"));
        assert!(page.text.contains("aria-pressed=\"true\""));

        // The visit is written without the page waiting for it.
        let store = h.catalog.store();
        let mut visits = Vec::new();
        for _ in 0..50 {
            visits = store.recent_visits("user:default/alice", 10).await.unwrap();
            if !visits.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        assert_eq!(
            visits.len(),
            1,
            "one visit, however often the page was opened"
        );
        assert_eq!(visits[0].entity_ref, "component:default/c03");

        let home = send(&router, Some(&me), "GET", "/", &[], "").await;
        assert!(section(&home.text, "starred").contains("/catalog/default/component/c03"));
        assert!(section(&home.text, "recent").contains("/catalog/default/component/c03"));
        // Stars are per user: the guest's home has none, and bob's page shows none.
        let bob = Caller {
            user: Some(EntityRef::new("user", "default", "bob")),
            ..Default::default()
        };
        let bobs = send(
            &router,
            Some(&bob),
            "GET",
            "/catalog/default/component/c03",
            &[],
            "",
        )
        .await;
        assert!(bobs.text.contains("☆ Star"));

        // Unstarred with the same button; without `back`, to the entity's page.
        let unstarred = star(&router, &me, "entity=component%3Adefault%2Fc03&star=0").await;
        assert_eq!(unstarred.location(), "/catalog/default/component/c03");
        let home = send(&router, Some(&me), "GET", "/", &[], "").await;
        assert!(section(&home.text, "starred").contains("Nothing starred yet"));
        assert_eq!(store.stars_of("user:default/alice").await.unwrap(), vec![]);
    }
);

both_databases!(stars_refuse_what_they_should, setup = Harness::new, |h| {
    let path = h.write("org.yaml", &catalog());
    h.register_file(&path).await;
    let router = crate::http::router(with_sign_in(h.state(), "[]", |_| None));
    let me = alice();
    let body = "entity=component%3Adefault%2Fc03&star=1";

    let cross = send(
        &router,
        Some(&me),
        "POST",
        "/stars",
        &[
            ("content-type", FORM),
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
        ],
        body,
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let guest = send(&router, None, "POST", "/stars", &SAME_SITE, body).await;
    assert_eq!(guest.status, StatusCode::FORBIDDEN);
    assert!(guest.text.contains("Sign in"), "{}", guest.text);
    let unknown = star(&router, &me, "entity=component%3Adefault%2Fnope&star=1").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.text.contains("component:default/nope"));
    let malformed = star(&router, &me, "entity=nope&star=1").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.text.contains("entity:"), "{}", malformed.text);
    let bad_value = star(&router, &me, "entity=component%3Adefault%2Fc03&star=yes").await;
    assert_eq!(bad_value.status, StatusCode::BAD_REQUEST);
    // `back` must be a path on this site.
    let away = star(
        &router,
        &me,
        "entity=component%3Adefault%2Fc03&star=1&back=https%3A%2F%2Fevil.example",
    )
    .await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.location(), "/catalog/default/component/c03");
    // Nothing refused was kept.
    let stars = h
        .catalog
        .store()
        .stars_of("user:default/alice")
        .await
        .unwrap();
    assert_eq!(stars.len(), 1);
});

both_databases!(
    teams_view_sorts_and_lists_what_has_no_valid_owner,
    setup = Harness::new,
    |h| {
        let path = h.write("org.yaml", &catalog());
        h.register_file(&path).await;
        let router = crate::http::router(h.state());

        let page = send(&router, None, "GET", "/teams?sort=owned", &[], "").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let teams = section(&page.text, "all-teams");
        let (a, b) = (
            teams.find("data-team=\"team-a\"").expect("team-a"),
            teams.find("data-team=\"team-b\"").expect("team-b"),
        );
        assert!(b < a, "team-b owns 20, team-a 10: most first");
        assert!(teams.contains("aria-sort=\"ascending\""));
        let page = send(&router, None, "GET", "/teams?sort=-owned", &[], "").await;
        let teams = section(&page.text, "all-teams");
        assert!(teams.find("data-team=\"team-a\"") < teams.find("data-team=\"team-b\""));

        let unknown = section(&page.text, "unknown-owner");
        assert!(
            unknown.contains("/catalog/default/component/haunted"),
            "{unknown}"
        );
        assert!(unknown.contains("group:default/ghosts"));
        let unowned = section(&page.text, "unowned");
        assert!(
            unowned.contains("/catalog/default/template/lonely"),
            "{unowned}"
        );
        assert!(!unowned.contains("component/c0"));

        // A parent group's page rolls its sub-teams up.
        let org = send(&router, None, "GET", "/catalog/default/group/org", &[], "").await;
        let subteams = section(&org.text, "subteams");
        assert!(
            subteams.contains("data-team=\"team-a\"") && subteams.contains("data-team=\"team-b\""),
            "{subteams}"
        );
        let leaf = send(
            &router,
            None,
            "GET",
            "/catalog/default/group/team-a",
            &[],
            "",
        )
        .await;
        assert!(!leaf.text.contains("data-testid=\"subteams\""));

        // Old links to the catalog at `/` keep working.
        let old = send(
            &router,
            None,
            "GET",
            "/?kind=component&owner=group%3Adefault%2Fteam-a",
            &[],
            "",
        )
        .await;
        assert!(old.status.is_redirection(), "{} {}", old.status, old.text);
        let to = old.location();
        assert!(to.starts_with("/catalog?"), "{to}");
        assert!(to.contains("kind=component"), "{to}");
    }
);

/// Firing alerts per entity, as the observability map would count them.
struct FakeAlerts(Option<std::collections::HashMap<&'static str, u32>>);

impl app::services::AlertCountReader for FakeAlerts {
    fn enabled(&self) -> bool {
        self.0.is_some()
    }
    fn counts(&self, entities: &[EntityRef]) -> Option<Vec<u32>> {
        let map = self.0.as_ref()?;
        Some(
            entities
                .iter()
                .map(|e| map.get(e.name.as_str()).copied().unwrap_or(0))
                .collect(),
        )
    }
}

fn home_views(h: &Harness, alerts: FakeAlerts) -> crate::home::HomeViews {
    let state = h.state();
    crate::home::HomeViews {
        facade: state.facade(),
        store: state.catalog.store().clone(),
        kube: std::sync::Arc::new(crate::http::guarded::GuardedKube {
            kube: state.kube.clone(),
            facade: state.facade(),
        }),
        scorecards: std::sync::Arc::new(crate::scorecards::service::Views {
            scorecards: state.scorecards.clone(),
            facade: state.facade(),
        }),
        scaffolder: std::sync::Arc::new(crate::scaffolder::views::ScaffolderViews {
            facade: state.facade(),
            tasks: state.scaffolder.clone(),
        }),
        alerts: std::sync::Arc::new(alerts),
        sign_in: false,
        visits: Default::default(),
    }
}

// Each team's firing alerts are the sum over what it owns, and the view sorts by them; without
// Prometheus there are no counts (the column is not shown).
both_databases!(
    teams_count_the_firing_alerts_of_what_they_own,
    setup = Harness::new,
    |h| {
        use app::services::HomeReader;
        let path = h.write("org.yaml", &catalog());
        h.register_file(&path).await;
        let firing = [("c00", 2), ("c03", 1), ("c01", 1), ("haunted", 5)]
            .into_iter()
            .collect();
        let views = home_views(&h, FakeAlerts(Some(firing)));
        let org = views.organisation(&Caller::guest(), "alerts");
        assert_eq!(org.sort, "alerts");
        let rows: Vec<(&str, Option<u32>)> = org
            .teams
            .iter()
            .map(|t| (t.team.entity_ref.name.as_str(), t.alerts))
            .collect();
        // team-a owns c00 and c03, team-b c01; `haunted`'s owner is not in the catalog.
        assert_eq!(
            rows,
            [("team-a", Some(3)), ("team-b", Some(1)), ("org", Some(0))]
        );
        let org = views.organisation(&Caller::guest(), "-alerts");
        assert_eq!(
            org.teams.first().map(|t| t.team.entity_ref.name.as_str()),
            Some("org")
        );

        let views = home_views(&h, FakeAlerts(None));
        let org = views.organisation(&Caller::guest(), "alerts");
        assert!(org.teams.iter().all(|t| t.alerts.is_none()));
    }
);
