//! The API tokens page and its forms through the real router, on SQLite and PostgreSQL: a token
//! made with the form is shown once (through the session, never the URL), works as a bearer
//! token and is revoked with its button; the header's user menu for a signed-in user only.

use crate::both_databases;
use crate::storage::testing::TestDb;
use crate::test_support::{send, with_sign_in, Harness};
use app::model::{Caller, EntityRef};
use axum::http::StatusCode;

fn alice() -> Caller {
    Caller {
        user: Some(EntityRef::new("user", "default", "alice")),
        groups: vec![EntityRef::new("group", "default", "team-a")],
        ..Default::default()
    }
}

/// The first `blt_…` token in a page.
fn token_in(page: &str) -> Option<String> {
    let at = page.find("blt_")?;
    let token: String = page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (token.len() == 47).then_some(token)
}

const FORM: &str = "application/x-www-form-urlencoded";

both_databases!(
    a_token_made_with_the_form_is_shown_once_and_revoked,
    setup = Harness::new,
    |h| {
        let router = crate::http::router(with_sign_in(h.state(), "[]", |_| None));
        let me = alice();

        // Made: 303 back to the page, the token nowhere in the URL.
        let made = send(
            &router,
            Some(&me),
            "POST",
            "/settings/tokens/create",
            &[
                ("content-type", FORM),
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000"),
            ],
            "name=deploy&scope=read&scope=refresh&expires_in_days=90",
        )
        .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
        assert_eq!(made.location(), "/settings/tokens?created=1");
        let cookie = made.cookie().expect("the session keeps the new token");

        // Shown once, on the page the form returns to.
        let page = send(
            &router,
            Some(&me),
            "GET",
            "/settings/tokens?created=1",
            &[("cookie", &cookie)],
            "",
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        let token =
            token_in(&page.text).unwrap_or_else(|| panic!("no token on the page: {}", page.text));
        assert!(page.text.contains("Copy it now"));
        assert!(
            page.text.contains("deploy") && page.text.contains("class=\"chip\">refresh<"),
            "{}",
            page.text
        );
        let again = send(
            &router,
            Some(&me),
            "GET",
            "/settings/tokens?created=1",
            &[("cookie", &cookie)],
            "",
        )
        .await;
        assert!(token_in(&again.text).is_none(), "shown twice");
        assert!(again.text.contains("deploy"), "still listed");
        assert!(again.text.contains("/settings/tokens/revoke"));

        // It works as a bearer token.
        let bearer = format!("Bearer {token}");
        let api = send(
            &router,
            None,
            "GET",
            "/api/catalog/entities",
            &[("authorization", &bearer)],
            "",
        )
        .await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.text);

        // A token cannot use the forms; nor can another site.
        let by_token = send(
            &router,
            None,
            "POST",
            "/settings/tokens/create",
            &[("content-type", FORM), ("authorization", &bearer)],
            "name=x&scope=read&expires_in_days=7",
        )
        .await;
        assert_eq!(by_token.status, StatusCode::SEE_OTHER);
        assert!(
            by_token.location().starts_with("/settings/tokens?error="),
            "{}",
            by_token.location()
        );
        let cross = send(
            &router,
            Some(&me),
            "POST",
            "/settings/tokens/create",
            &[
                ("content-type", FORM),
                ("host", "127.0.0.1:3000"),
                ("origin", "https://evil.example"),
            ],
            "name=x&scope=read&expires_in_days=7",
        )
        .await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        // A bad form: back with the reason.
        let bad = send(
            &router,
            Some(&me),
            "POST",
            "/settings/tokens/create",
            &[("content-type", FORM)],
            "name=x&expires_in_days=7",
        )
        .await;
        assert!(
            bad.location().starts_with("/settings/tokens?error=scopes"),
            "{}",
            bad.location()
        );

        // Revoked with its button: it stops working.
        let id = again
            .text
            .split("data-token=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a row")
            .to_string();
        let revoked = send(
            &router,
            Some(&me),
            "POST",
            "/settings/tokens/revoke",
            &[("content-type", FORM)],
            &format!("id={id}"),
        )
        .await;
        assert_eq!(revoked.location(), "/settings/tokens?revoked=1");
        let api = send(
            &router,
            None,
            "GET",
            "/api/catalog/entities",
            &[("authorization", &bearer)],
            "",
        )
        .await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);
        let page = send(
            &router,
            Some(&me),
            "GET",
            "/settings/tokens?revoked=1",
            &[],
            "",
        )
        .await;
        assert!(
            page.text.contains("The token was revoked.")
                && page.text.contains("You have no API tokens."),
            "{}",
            page.text
        );
    }
);

#[tokio::test]
async fn the_user_menu_is_for_signed_in_users() {
    let h = Harness::new(TestDb::sqlite().await).await;
    let router = crate::http::router(with_sign_in(h.state(), "[]", |_| None));

    let page = send(&router, Some(&alice()), "GET", "/catalog", &[], "").await;
    assert_eq!(page.status, StatusCode::OK);
    let menu = page
        .text
        .split("<details class=\"account user-menu\"")
        .nth(1)
        .expect("a user menu");
    let menu = &menu[..menu.find("</details>").expect("closed")];
    for wanted in [
        ">alice<",
        "href=\"/catalog/default/user/alice\"",
        "href=\"/catalog/default/user/alice#groups-heading\"",
        "href=\"/settings/tokens\"",
        "action=\"/api/auth/logout\"",
        "Sign out",
    ] {
        assert!(menu.contains(wanted), "{wanted} in {menu}");
    }

    // The guest: a "Sign in" link, no menu; the tokens page says to sign in.
    let page = send(&router, None, "GET", "/settings/tokens", &[], "").await;
    assert!(!page.text.contains("user-menu"));
    assert!(
        page.text.contains(" to make and revoke API tokens."),
        "{}",
        page.text
    );

    // Without sign-in configured: no menu, and the page says tokens need sign-in.
    let plain = crate::http::router(h.state());
    let page = send(&plain, None, "GET", "/settings/tokens", &[], "").await;
    assert!(!page.text.contains("user-menu"));
    assert!(page.text.contains("API tokens need it"), "{}", page.text);
    h.cleanup().await;
}
