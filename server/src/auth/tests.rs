//! Sign-in end to end against a real OpenID provider (`oidc-provider`, end2end/oidc/op.mjs,
//! started with node on a free port): the browser's requests to Backlot go through the real
//! router, its requests to the provider over HTTP, cookies carried by hand.

use super::*;
use crate::both_databases;
use crate::test_support::Harness;
use axum::http::{HeaderMap, StatusCode};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tower::ServiceExt;

mod github;

const SECRET: &str = "backlot-test-secret";
const BASE: &str = "http://127.0.0.1:3000";

/// The provider, stopped when dropped.
struct Op {
    issuer: String,
    _child: tokio::process::Child,
}

async fn start_op(redirect_uri: &str) -> Op {
    let end2end = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    assert!(
        end2end.join("node_modules/oidc-provider").exists(),
        "the sign-in tests need oidc-provider: run `npm ci` in end2end/ (.ci/setup.sh does)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = tokio::process::Command::new("node")
        .arg("oidc/op.mjs")
        .current_dir(&end2end)
        .env("OP_PORT", port.to_string())
        .env("OP_REDIRECT_URI", redirect_uri)
        .env("OP_CLIENT_SECRET", SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs end2end/oidc/op.mjs");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("read op output") {
            if let Some(issuer) = line.strip_prefix("ready ") {
                return issuer.to_string();
            }
        }
        panic!("the provider exited before it was ready");
    })
    .await
    .expect("provider ready within 20 s");
    // Keep reading what it prints (its notices): a closed pipe would end it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Op {
        issuer: ready,
        _child: child,
    }
}

fn settings(issuer: &str, base_url: &str, unknown: UnknownUsers) -> AuthSettings {
    let mut s: AuthSettings = yaml_serde::from_str(&format!(
        "base_url: {base_url}\nproviders:\n  oidc:\n    issuer: {issuer}\n    client_id: backlot\n    client_secret_env: TEST_OIDC_SECRET\nunknown_users: {}\n",
        match unknown {
            UnknownUsers::Refuse => "refuse",
            UnknownUsers::Allow => "allow",
        }
    ))
    .expect("auth settings");
    s.validate(|k| (k == "TEST_OIDC_SECRET").then(|| SECRET.to_string()))
        .expect("valid auth settings");
    s
}

const PEOPLE: &str = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  profile:\n    email: Alice@Example.test\n    displayName: Alice Liddell\n  memberOf: [team-a]\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: bob\nspec:\n  memberOf: []\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n";

async fn with_people(h: &Harness) {
    let path = h.write("people.yaml", PEOPLE);
    h.register_file(&path).await;
}

/// One answer: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
            .to_string()
    }

    /// The `backlot_session` Set-Cookie header, if any.
    fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("backlot_session="))
            .map(str::to_string)
    }
}

/// A browser: Backlot through its router, the provider over HTTP, a cookie jar for each.
struct Browser {
    router: axum::Router,
    backlot: Option<String>,
    op_cookies: BTreeMap<String, String>,
    agent: ureq::Agent,
}

impl Browser {
    fn new(router: axum::Router) -> Self {
        Browser {
            router,
            backlot: None,
            op_cookies: BTreeMap::new(),
            agent: ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    async fn backlot(&mut self, method: &str, uri: &str) -> Answer {
        self.backlot_headers(method, uri, Vec::new()).await
    }

    async fn backlot_headers(
        &mut self,
        method: &str,
        uri: &str,
        headers: Vec<(String, String)>,
    ) -> Answer {
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        if let Some(c) = &self.backlot {
            req = req.header("cookie", format!("backlot_session={c}"));
        }
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(axum::body::Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        let answer = Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        if let Some(set) = answer.session_cookie() {
            let value = set["backlot_session=".len()..]
                .split(';')
                .next()
                .unwrap_or_default()
                .to_string();
            self.backlot = (!value.is_empty() && !set.contains("Max-Age=0")).then_some(value);
        }
        answer
    }

    /// A request to the provider (GET, or POST of a form), cookies kept.
    async fn op(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let agent = self.agent.clone();
        let cookie = self
            .op_cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let url = url.to_string();
        let form: Option<Vec<(String, String)>> = form.map(|f| {
            f.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        });
        let (status, headers, body) = tokio::task::spawn_blocking(move || {
            fn with_cookie<B>(r: ureq::RequestBuilder<B>, cookie: &str) -> ureq::RequestBuilder<B> {
                match cookie.is_empty() {
                    true => r,
                    false => r.header("cookie", cookie),
                }
            }
            let mut res = match form {
                Some(form) => with_cookie(agent.post(&url), &cookie)
                    .send_form(form)
                    .expect("provider answers"),
                None => with_cookie(agent.get(&url), &cookie)
                    .call()
                    .expect("provider answers"),
            };
            let body = res.body_mut().read_to_string().unwrap_or_default();
            (res.status(), res.headers().clone(), body)
        })
        .await
        .expect("provider request");
        for set in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            if let Some((k, v)) = set.split(';').next().and_then(|kv| kv.split_once('=')) {
                self.op_cookies.insert(k.to_string(), v.to_string());
            }
        }
        Answer {
            status: StatusCode::from_u16(status.as_u16()).expect("status"),
            headers: {
                let mut h = HeaderMap::new();
                for (k, v) in &headers {
                    if let (Ok(k), Ok(v)) = (
                        axum::http::HeaderName::from_bytes(k.as_str().as_bytes()),
                        axum::http::HeaderValue::from_bytes(v.as_bytes()),
                    ) {
                        h.append(k, v);
                    }
                }
                h
            },
            body,
        }
    }

    /// From Backlot's redirect to the provider, through login (as `login`) and consent, to
    /// the callback URL the provider sends the browser to (path and query on Backlot).
    async fn sign_in_at_provider(&mut self, issuer: &str, authorize: &str, login: &str) -> String {
        let abs = |l: String| {
            if l.starts_with('/') {
                format!("{issuer}{l}")
            } else {
                l
            }
        };
        let a = self.op(authorize, None).await;
        assert!(a.status.is_redirection(), "{} {}", a.status, a.body);
        let interaction = abs(a.location());
        let a = self
            .op(
                &interaction,
                Some(&[("prompt", "login"), ("login", login), ("password", "x")]),
            )
            .await;
        let a = self.op(&abs(a.location()), None).await;
        let consent = abs(a.location());
        let a = self.op(&consent, Some(&[("prompt", "consent")])).await;
        let a = self.op(&abs(a.location()), None).await;
        let callback = a.location();
        let rest = callback
            .strip_prefix(BASE)
            .unwrap_or_else(|| panic!("the provider sends the browser to Backlot: {callback}"));
        assert!(rest.starts_with("/api/auth/oidc/handler/frame?"), "{rest}");
        rest.to_string()
    }
}

fn query_param(uri: &str, name: &str) -> String {
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or_default();
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .expect("query")
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn router(h: &Harness, settings: AuthSettings) -> axum::Router {
    let mut state = h.state();
    state.auth = Some(Arc::new(Auth::new(settings).expect("auth")));
    crate::http::router(state)
}

both_databases!(
    signs_in_end_to_end_with_a_real_provider,
    setup = Harness::new,
    |h| {
        let op = start_op(&format!("{BASE}/api/auth/oidc/handler/frame")).await;
        with_people(&h).await;
        let mut browser =
            Browser::new(router(&h, settings(&op.issuer, BASE, UnknownUsers::Refuse)));

        // Nobody is signed in yet.
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
        assert!(a.body.contains("AuthenticationError"), "{}", a.body);

        // Start: to the provider, with PKCE (S256), state and nonce; a session cookie.
        let a = browser
            .backlot(
                "GET",
                "/api/auth/oidc/start?redirect=%2Fcatalog%3Fkind%3Duser",
            )
            .await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let authorize = a.location();
        assert!(
            authorize.starts_with(&format!("{}/auth?", op.issuer)),
            "{authorize}"
        );
        assert_eq!(query_param(&authorize, "code_challenge_method"), "S256");
        assert_eq!(query_param(&authorize, "client_id"), "backlot");
        assert!(!query_param(&authorize, "nonce").is_empty());
        assert_eq!(query_param(&authorize, "scope"), "openid profile email");
        assert_eq!(
            query_param(&authorize, "redirect_uri"),
            format!("{BASE}/api/auth/oidc/handler/frame")
        );
        let cookie = a.session_cookie().expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(!cookie.contains("Secure"), "http base URL: {cookie}");
        let first_session = browser.backlot.clone().expect("session id");
        // The database holds only the hash of the id.
        let id: tower_sessions::session::Id = first_session.parse().expect("session id");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(h
            .db
            .store
            .session(&store::hash_id(&id), now)
            .await
            .expect("query")
            .is_some());
        assert!(h
            .db
            .store
            .session(&first_session, now)
            .await
            .expect("query")
            .is_none());

        // Login and consent at the provider, back to the callback.
        let callback = browser
            .sign_in_at_provider(&op.issuer, &authorize, "alice")
            .await;
        let a = browser.backlot("GET", &callback).await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        assert_eq!(a.location(), "/catalog?kind=user");
        let signed_in = browser.backlot.clone().expect("session after sign-in");
        assert_ne!(signed_in, first_session, "a new session id at sign-in");

        // Who am I: the User entity found by email (case aside) and its groups.
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let info: serde_json::Value = serde_json::from_str(&a.body).expect("json");
        assert_eq!(
            info,
            serde_json::json!({"claims": {"sub": "user:default/alice", "ent": ["user:default/alice", "group:default/team-a"]}})
        );

        // Pages know who is there: the header shows the name and a plain sign-out form.
        let a = browser.backlot("GET", "/catalog").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("Alice Liddell"), "{}", a.body);
        assert!(
            a.body.contains(r#"action="/api/auth/logout""#),
            "{}",
            a.body
        );
        assert!(!a.body.contains(r#"href="/signin"#), "{}", a.body);

        // The same callback again (state used up) is refused, and so is the old session.
        let a = browser.backlot("GET", &callback).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        let mut old = Browser::new(browser.router.clone());
        old.backlot = Some(first_session);
        let a = old.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "the pre-sign-in session id is dead"
        );

        // The code replayed into a new sign-in of another browser: the provider refuses it.
        let mut thief = Browser::new(browser.router.clone());
        let a = thief.backlot("GET", "/api/auth/oidc/start").await;
        let state = query_param(&a.location(), "state");
        let replay = format!(
            "/api/auth/oidc/handler/frame?code={}&state={state}",
            query_param(&callback, "code")
        );
        let a = thief.backlot("GET", &replay).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
        assert!(a.body.contains("AuthenticationError"), "{}", a.body);
        let a = thief.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);

        // Sign out: the session is deleted on the server, the cookie cleared.
        let kept = browser.backlot.clone();
        let a = browser.backlot("POST", "/api/auth/logout").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        assert_eq!(a.location(), "/");
        assert!(
            a.session_cookie().is_some_and(|c| c.contains("Max-Age=0")),
            "cookie cleared"
        );
        browser.backlot = kept;
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);

        // The audit log has each step: who, what, how it went; never the code.
        h.audit.flush().await;
        let f = crate::storage::AuditFilter {
            action: Some("auth.".into()),
            action_prefix: true,
            limit: 100,
            ..Default::default()
        };
        let rows = h.db.store.audit_events(&f).await.expect("audit");
        let seen: Vec<(&str, &str, &str)> = rows
            .iter()
            .rev()
            .map(|r| (r.action.as_str(), r.actor.as_str(), r.outcome.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("auth.signin", "user:default/alice", "allowed"),
                ("auth.signin.refused", "guest", "refused"),
                ("auth.signin.refused", "guest", "refused"),
                ("auth.signout", "user:default/alice", "allowed"),
            ]
        );
        let code = query_param(&callback, "code");
        assert!(rows
            .iter()
            .all(|r| !r.detail.as_deref().unwrap_or("").contains(&code)));
        drop(op);
    }
);

both_databases!(
    refuses_wrong_state_unknown_users_and_foreign_redirects,
    setup = Harness::new,
    |h| {
        let op = start_op(&format!("{BASE}/api/auth/oidc/handler/frame")).await;
        with_people(&h).await;
        let app = router(&h, settings(&op.issuer, BASE, UnknownUsers::Refuse));

        // Only paths on this site are returned to.
        let mut browser = Browser::new(app.clone());
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/%5Cevil.example",
            "javascript:alert(1)",
        ] {
            let a = browser
                .backlot("GET", &format!("/api/auth/oidc/start?redirect={bad}"))
                .await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
            assert!(a.body.contains("InputError"), "{}", a.body);
        }

        // A callback whose state differs from the session's is refused, and the sign-in is over.
        let a = browser.backlot("GET", "/api/auth/oidc/start").await;
        let authorize = a.location();
        let callback = browser
            .sign_in_at_provider(&op.issuer, &authorize, "alice")
            .await;
        let forged = callback.replace(
            &format!("state={}", query_param(&callback, "state")),
            "state=forged",
        );
        let a = browser.backlot("GET", &forged).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        assert!(a.body.contains("state differs"), "{}", a.body);
        let a = browser.backlot("GET", &callback).await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "the sign-in was used up: {}",
            a.body
        );
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);

        // A callback without any sign-in started in this browser.
        let mut stranger = Browser::new(app.clone());
        let a = stranger.backlot("GET", &callback).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);

        // Bob has no email in the catalog: found by the email's name part.
        let mut bob = Browser::new(app.clone());
        let a = bob.backlot("GET", "/api/auth/oidc/start").await;
        let cb = bob
            .sign_in_at_provider(&op.issuer, &a.location(), "bob")
            .await;
        let a = bob.backlot("GET", &cb).await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        assert_eq!(a.location(), "/");
        let a = bob.backlot("GET", "/api/auth/v1/userinfo").await;
        assert!(
            a.body.contains("\"sub\":\"user:default/bob\""),
            "{}",
            a.body
        );

        // Mallory is in no User entity: refused with a message that says why and whom to ask.
        let mut mallory = Browser::new(app.clone());
        let a = mallory.backlot("GET", "/api/auth/oidc/start").await;
        let cb = mallory
            .sign_in_at_provider(&op.issuer, &a.location(), "mallory")
            .await;
        let a = mallory.backlot("GET", &cb).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        assert!(a.body.contains("mallory@example.test"), "{}", a.body);
        assert!(a.body.contains("administrators"), "{}", a.body);
        let a = mallory.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);

        // With unknown_users: allow, Mallory is signed in without an entity.
        let open = router(&h, settings(&op.issuer, BASE, UnknownUsers::Allow));
        let mut mallory = Browser::new(open);
        let a = mallory.backlot("GET", "/api/auth/oidc/start").await;
        let cb = mallory
            .sign_in_at_provider(&op.issuer, &a.location(), "mallory")
            .await;
        let a = mallory.backlot("GET", &cb).await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let a = mallory.backlot("GET", "/api/auth/v1/userinfo").await;
        assert!(
            a.body.contains("\"ent\":[\"user:default/mallory\"]"),
            "{}",
            a.body
        );

        // An https public URL makes the cookie Secure.
        let secure = router(
            &h,
            settings(
                &op.issuer,
                "https://portal.example.test",
                UnknownUsers::Refuse,
            ),
        );
        let mut b = Browser::new(secure);
        let a = b.backlot("GET", "/api/auth/oidc/start").await;
        let cookie = a.session_cookie().expect("cookie");
        assert!(cookie.contains("Secure"), "{cookie}");
        assert!(
            query_param(&a.location(), "redirect_uri").starts_with("https://portal.example.test/")
        );
        drop(op);
    }
);

#[tokio::test]
async fn without_auth_the_routes_say_it_is_not_configured() {
    let h = Harness::new(crate::storage::testing::TestDb::sqlite().await).await;
    for (method, uri) in [
        ("GET", "/api/auth/oidc/start?redirect=/"),
        ("GET", "/api/auth/oidc/handler/frame?code=x&state=y"),
        ("GET", "/api/auth/v1/userinfo"),
        ("POST", "/api/auth/logout"),
    ] {
        let (s, body) = h.call(method, uri, None).await;
        assert_eq!(s, StatusCode::CONFLICT, "{method} {uri}: {body}");
        assert_eq!(body["error"]["name"], "NotConfiguredError", "{body}");
    }
    // Pages say nothing about sign-in.
    let (s, page) = h.call_raw("GET", "/catalog", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!page.contains("Sign in"), "{page}");
    assert!(!page.contains("/api/auth/logout"), "{page}");
    let (_, page) = h.call_raw("GET", "/signin", None).await;
    assert!(page.contains("Sign-in is not configured"), "{page}");
    h.cleanup().await;
}

#[test]
fn only_same_site_paths_are_redirect_targets() {
    use crate::api::auth_redirect as safe;
    for ok in [
        "/",
        "/catalog?kind=user",
        "/catalog/default/component/x#docs",
    ] {
        assert_eq!(safe(Some(ok)).ok().as_deref(), Some(ok));
    }
    assert_eq!(safe(None).ok().as_deref(), Some("/"));
    for bad in [
        "",
        "catalog",
        "//evil",
        "/\\evil",
        "https://evil/",
        "/a\nb",
        "/a\\b",
    ] {
        assert!(safe(Some(bad)).is_err(), "{bad:?}");
    }
}
