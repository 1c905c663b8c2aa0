//! GitHub sign-in end to end against a local stub of GitHub's OAuth and user endpoints (GitHub
//! itself cannot be reached from here): `/login/oauth/authorize` (sends the browser straight
//! back with a code and the state), `/login/oauth/access_token` (checks the client secret and
//! the PKCE verifier; a code works once, then `bad_verification_code` as GitHub answers),
//! `/api/v3/user` and `/api/v3/user/emails` (GitHub Enterprise's paths). Also here, because they
//! need a signed-in browser: guest access, the CSRF check and sessions across a restart.

use super::*;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Json;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const GH_SECRET: &str = "gh-test-secret";

/// The stub's memory: who signs in next, the codes it gave out, the tokens.
#[derive(Default)]
struct Stub {
    who: Mutex<String>,
    /// code → (login, PKCE challenge, used)
    codes: Mutex<HashMap<String, (String, String, bool)>>,
    tokens: Mutex<HashMap<String, String>>,
    counter: AtomicU64,
    /// Random per stub: in every code and token it gives out.
    nonce: String,
}

/// The stub server, stopped when dropped.
struct GithubStub {
    url: String,
    stub: Arc<Stub>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GithubStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GithubStub {
    /// The GitHub login the next authorization signs in.
    fn sign_in_as(&self, login: &str) {
        *self.stub.who.lock().expect("stub") = login.to_string();
    }
}

async fn authorize(
    State(stub): State<Arc<Stub>>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    assert_eq!(q.get("client_id").map(String::as_str), Some("gh-client"));
    // Unique in the process, so the log check below cannot match another test's line.
    let code = format!(
        "code-{}-{}",
        stub.nonce,
        stub.counter.fetch_add(1, Ordering::Relaxed)
    );
    let login = stub.who.lock().expect("stub").clone();
    let challenge = q.get("code_challenge").cloned().unwrap_or_default();
    stub.codes
        .lock()
        .expect("stub")
        .insert(code.clone(), (login, challenge, false));
    let back = format!(
        "{}?code={code}&state={}",
        q.get("redirect_uri").expect("redirect_uri"),
        app::query::encode_component(q.get("state").expect("state"))
    );
    Redirect::to(&back).into_response()
}

async fn access_token(
    State(stub): State<Arc<Stub>>,
    Form(f): Form<HashMap<String, String>>,
) -> axum::response::Response {
    // GitHub answers refusals with 200 and an `error`.
    let refuse = |error: &str| {
        Json(json!({"error": error, "error_description": "refused by the stub"})).into_response()
    };
    if f.get("client_secret").map(String::as_str) != Some(GH_SECRET)
        || f.get("client_id").map(String::as_str) != Some("gh-client")
    {
        return refuse("incorrect_client_credentials");
    }
    let code = f.get("code").cloned().unwrap_or_default();
    let mut codes = stub.codes.lock().expect("stub");
    let Some((login, challenge, used)) = codes.get_mut(&code) else {
        return refuse("bad_verification_code");
    };
    if *used {
        return refuse("bad_verification_code");
    }
    *used = true;
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if computed != *challenge {
        return refuse("invalid_grant");
    }
    let token = format!(
        "gho_{}{}",
        stub.nonce,
        stub.counter.fetch_add(1, Ordering::Relaxed)
    );
    stub.tokens
        .lock()
        .expect("stub")
        .insert(token.clone(), login.clone());
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
        .into_response()
}

/// The login the request's bearer token was given to.
fn login_of(stub: &Stub, headers: &HeaderMap) -> Option<String> {
    assert!(
        headers.contains_key("user-agent"),
        "GitHub needs a User-Agent"
    );
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    stub.tokens.lock().expect("stub").get(token).cloned()
}

async fn user(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> axum::response::Response {
    let Some(login) = login_of(&stub, &headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    };
    let (id, name, email) = match login.as_str() {
        "CarolGH" => (3, json!("Carol Cloud"), json!(null)),
        "alice-gh" => (1, json!(null), json!(null)),
        _ => (9, json!(null), json!(format!("{login}@nowhere.test"))),
    };
    Json(json!({"id": id, "login": login, "name": name, "email": email})).into_response()
}

async fn emails(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> axum::response::Response {
    let Some(login) = login_of(&stub, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let list = match login.as_str() {
        "alice-gh" => json!([
            {"email": "old@example.test", "primary": false, "verified": true},
            {"email": "unverified@example.test", "primary": true, "verified": false},
            {"email": "alice@example.test", "primary": true, "verified": true}
        ]),
        _ => {
            json!([{"email": format!("{}@users.noreply.test", login.to_lowercase()), "primary": true, "verified": true}])
        }
    };
    Json(list).into_response()
}

async fn start_stub() -> GithubStub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("stub port");
    let url = format!("http://{}", listener.local_addr().expect("stub address"));
    let stub = Arc::new(Stub {
        nonce: uuid::Uuid::new_v4().simple().to_string(),
        ..Stub::default()
    });
    let app = axum::Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/api/v3/user", get(user))
        .route("/api/v3/user/emails", get(emails))
        .with_state(stub.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    GithubStub { url, stub, task }
}

fn github_settings(stub: &str, guest: bool) -> AuthSettings {
    let mut s: AuthSettings = yaml_serde::from_str(&format!(
        "base_url: {BASE}\nguest: {guest}\nproviders:\n  - id: github\n    type: github\n    client_id: gh-client\n    client_secret_env: TEST_GH_SECRET\n    authorize_url: {stub}/login/oauth/authorize\n    token_url: {stub}/login/oauth/access_token\n    api_url: {stub}/api/v3/\n  - id: corp\n    type: oidc\n    name: Corporate login\n    issuer: http://127.0.0.1:9/never-contacted\n    client_id: backlot\n    client_secret_env: TEST_GH_SECRET\n"
    ))
    .expect("auth settings");
    s.validate(|k| (k == "TEST_GH_SECRET").then(|| GH_SECRET.to_string()))
        .expect("valid auth settings");
    s
}

/// Carol is known to the catalog only by her GitHub login (an annotation).
const CAROL: &str = "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: carol\n  annotations:\n    github.com/user-login: CarolGH\nspec:\n  profile:\n    displayName: Carol C.\n  memberOf: [team-a]\n";

impl Browser {
    /// A request with extra headers.
    async fn backlot_with(&mut self, method: &str, uri: &str, headers: &[(&str, &str)]) -> Answer {
        let extra: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.backlot_headers(method, uri, extra).await
    }

    /// Start → the stub → the callback URL on Backlot.
    async fn github_callback(&mut self, redirect: &str) -> String {
        let a = self
            .backlot(
                "GET",
                &format!("/api/auth/github/start?redirect={redirect}"),
            )
            .await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let a = self.op(&a.location(), None).await;
        assert!(a.status.is_redirection(), "{} {}", a.status, a.body);
        let callback = a.location();
        callback
            .strip_prefix(BASE)
            .unwrap_or_else(|| panic!("back to Backlot: {callback}"))
            .to_string()
    }

    /// Signs in through the stub; the answer of the callback.
    async fn github_sign_in(&mut self, redirect: &str) -> Answer {
        let callback = self.github_callback(redirect).await;
        self.backlot("GET", &callback).await
    }
}

async fn people(h: &Harness) {
    with_people(h).await;
    let path = h.write("carol.yaml", CAROL);
    h.register_file(&path).await;
}

both_databases!(
    github_signs_in_through_a_local_stub,
    setup = Harness::new,
    |h| {
        let logs = crate::test_support::Captured::process();
        let gh = start_stub().await;
        people(&h).await;
        let app = router(&h, github_settings(&gh.url, false));

        // The authorization URL: the configured endpoint, client, scopes, state, PKCE.
        let mut browser = Browser::new(app.clone());
        let a = browser
            .backlot(
                "GET",
                "/api/auth/github/start?redirect=%2Fcatalog%3Fkind%3Duser",
            )
            .await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let authorize = a.location();
        assert!(
            authorize.starts_with(&format!("{}/login/oauth/authorize?", gh.url)),
            "{authorize}"
        );
        assert_eq!(query_param(&authorize, "client_id"), "gh-client");
        assert_eq!(query_param(&authorize, "scope"), "read:user user:email");
        assert_eq!(query_param(&authorize, "code_challenge_method"), "S256");
        assert!(!query_param(&authorize, "state").is_empty());
        assert_eq!(
            query_param(&authorize, "redirect_uri"),
            format!("{BASE}/api/auth/github/handler/frame")
        );
        let before = browser.backlot.clone().expect("a session cookie");

        // Through the stub and back: Carol, found by her `github.com/user-login` annotation
        // (her verified email matches no User, her login no User's name).
        gh.sign_in_as("CarolGH");
        let a = browser.op(&authorize, None).await;
        let callback = a
            .location()
            .strip_prefix(BASE)
            .expect("back to Backlot")
            .to_string();
        assert!(
            callback.starts_with("/api/auth/github/handler/frame?"),
            "{callback}"
        );
        let a = browser.backlot("GET", &callback).await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        assert_eq!(a.location(), "/catalog?kind=user");
        assert_ne!(browser.backlot.as_ref(), Some(&before), "a new session id");
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        let info: serde_json::Value = serde_json::from_str(&a.body).expect("json");
        assert_eq!(
            info,
            json!({"claims": {"sub": "user:default/carol", "ent": ["user:default/carol", "group:default/team-a"]}})
        );
        let a = browser.backlot("GET", "/catalog").await;
        assert!(a.body.contains("Carol C."), "{}", a.body);

        // The code replayed into another browser's sign-in: GitHub says bad_verification_code.
        let mut thief = Browser::new(app.clone());
        let a = thief.backlot("GET", "/api/auth/github/start").await;
        let state = query_param(&a.location(), "state");
        let replay = format!(
            "/api/auth/github/handler/frame?code={}&state={state}",
            query_param(&callback, "code")
        );
        let a = thief.backlot("GET", &replay).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
        assert!(a.body.contains("bad_verification_code"), "{}", a.body);
        assert!(a.body.contains("AuthenticationError"), "{}", a.body);
        let a = thief.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);

        // A wrong state is refused, and that sign-in is over.
        let mut other = Browser::new(app.clone());
        gh.sign_in_as("CarolGH");
        let callback = other.github_callback("/").await;
        let forged = callback.replace(
            &format!("state={}", query_param(&callback, "state")),
            "state=forged",
        );
        let a = other.backlot("GET", &forged).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        assert!(a.body.contains("state differs"), "{}", a.body);
        let a = other.backlot("GET", &callback).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "used up: {}", a.body);

        // A sign-in started with one provider is not finished on another's route.
        let mut mixed = Browser::new(app.clone());
        gh.sign_in_as("CarolGH");
        let callback = mixed.github_callback("/").await;
        let a = mixed
            .backlot(
                "GET",
                &callback.replace("/api/auth/github/", "/api/auth/corp/"),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);

        // No public email: the primary verified address from /user/emails finds Alice.
        let mut alice = Browser::new(app.clone());
        gh.sign_in_as("alice-gh");
        let a = alice.github_sign_in("/").await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let a = alice.backlot("GET", "/api/auth/v1/userinfo").await;
        assert!(
            a.body.contains("\"sub\":\"user:default/alice\""),
            "{}",
            a.body
        );

        // Someone the catalog does not know is refused.
        let mut mallory = Browser::new(app.clone());
        gh.sign_in_as("mallory");
        let a = mallory.github_sign_in("/").await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);

        // An unknown provider is a 404 in the envelope.
        for uri in [
            "/api/auth/gitlab/start",
            "/api/auth/gitlab/handler/frame?code=x&state=y",
        ] {
            let a = browser.backlot("GET", uri).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}: {}", a.body);
            assert!(a.body.contains("NotFoundError"), "{}", a.body);
        }

        // Nothing secret reached the log: not the client secret, a code, an access token or a
        // session cookie (the flow above did log: its sign-ins are there).
        let text = logs.text();
        assert!(text.contains("user:default/carol"), "the sign-in is logged");
        let codes: Vec<String> = gh
            .stub
            .codes
            .lock()
            .expect("stub")
            .keys()
            .cloned()
            .collect();
        let tokens: Vec<String> = gh
            .stub
            .tokens
            .lock()
            .expect("stub")
            .keys()
            .cloned()
            .collect();
        assert!(
            codes.len() >= 5 && tokens.len() >= 2,
            "{codes:?} {tokens:?}"
        );
        let cookies = [&browser, &alice]
            .iter()
            .map(|b| b.backlot.clone().expect("signed in"))
            .collect::<Vec<_>>();
        for secret in codes
            .iter()
            .chain(&tokens)
            .chain(&cookies)
            .map(String::as_str)
            .chain([GH_SECRET])
        {
            assert!(!text.contains(secret), "{secret} is in the log");
        }
    }
);

both_databases!(
    guests_are_sent_to_sign_in_unless_guest_access_is_on,
    setup = Harness::new,
    |h| {
        let gh = start_stub().await;
        people(&h).await;
        let closed = router(&h, github_settings(&gh.url, false));
        let mut guest = Browser::new(closed.clone());

        let a = guest.backlot("GET", "/catalog?kind=user").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert_eq!(a.location(), "/signin?redirect=/catalog%3Fkind%3Duser");
        for (method, uri) in [
            ("GET", "/api/catalog/entities"),
            ("POST", "/api/catalog/refresh"),
            ("POST", "/_app/anything"),
            ("POST", "/locations/refresh"),
            // A git client cannot follow the sign-in page: it is told to authenticate.
            ("GET", "/git/team/svc.git/info/refs?service=git-upload-pack"),
        ] {
            let a = guest.backlot(method, uri).await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri}: {}",
                a.body
            );
            assert!(a.body.contains("AuthenticationError"), "{}", a.body);
        }
        for uri in ["/healthz", "/readyz", "/metrics", "/api/auth/v1/userinfo"] {
            let a = guest.backlot("GET", uri).await;
            assert_ne!(a.status, StatusCode::SEE_OTHER, "{uri}");
        }
        // The webhook answers for itself (its own secret).
        let a = guest.backlot("POST", "/api/webhooks/git").await;
        assert!(!a.body.contains("guest access is off"), "{}", a.body);

        // The sign-in page lists every provider, keeping the way back.
        let a = guest.backlot("GET", "/signin?redirect=%2Fcatalog").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("Sign in with GitHub"), "{}", a.body);
        assert!(
            a.body.contains("Sign in with Corporate login"),
            "{}",
            a.body
        );
        assert!(
            a.body
                .contains(r#"href="/api/auth/github/start?redirect=/catalog""#),
            "{}",
            a.body
        );
        assert!(
            a.body
                .contains(r#"href="/api/auth/corp/start?redirect=/catalog""#),
            "{}",
            a.body
        );
        // A foreign redirect is not carried over.
        let a = guest
            .backlot("GET", "/signin?redirect=https%3A%2F%2Fevil.example")
            .await;
        assert!(
            a.body
                .contains(r#"href="/api/auth/github/start?redirect=/""#),
            "{}",
            a.body
        );

        // Signed in, the same requests go through.
        gh.sign_in_as("CarolGH");
        let a = guest.github_sign_in("/catalog").await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let a = guest.backlot("GET", "/catalog?kind=user").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(!a.body.contains("guest-marker"), "{}", a.body);
        let a = guest.backlot("GET", "/api/catalog/entities").await;
        assert_eq!(a.status, StatusCode::OK);

        // auth.guest: true: the guest browses, marked as such, with a way to sign in.
        let open = router(&h, github_settings(&gh.url, true));
        let mut visitor = Browser::new(open);
        let a = visitor.backlot("GET", "/catalog").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(a.body.contains("guest-marker"), "{}", a.body);
        assert!(a.body.contains(r#"href="/signin?redirect="#), "{}", a.body);
        let a = visitor.backlot("GET", "/api/catalog/entities").await;
        assert_eq!(a.status, StatusCode::OK);
    }
);

both_databases!(
    cross_origin_posts_with_the_cookie_are_refused,
    setup = Harness::new,
    |h| {
        let gh = start_stub().await;
        people(&h).await;
        let app = router(&h, github_settings(&gh.url, false));
        let mut browser = Browser::new(app);
        gh.sign_in_as("CarolGH");
        browser.github_sign_in("/").await;

        for (method, uri) in [
            ("POST", "/api/auth/logout"),
            ("POST", "/api/catalog/refresh"),
            ("POST", "/locations/refresh"),
            ("POST", "/_app/anything"),
            ("DELETE", "/api/catalog/locations/x"),
        ] {
            for headers in [
                vec![("origin", "https://evil.example")],
                vec![
                    ("origin", "https://evil.example"),
                    ("sec-fetch-site", "cross-site"),
                ],
                vec![("sec-fetch-site", "same-site")],
                vec![("origin", "null")],
            ] {
                let a = browser.backlot_with(method, uri, &headers).await;
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{method} {uri} {headers:?}: {}",
                    a.body
                );
                assert!(a.body.contains("NotAllowedError"), "{}", a.body);
                assert!(
                    a.body.contains("cross-origin request refused"),
                    "{}",
                    a.body
                );
            }
        }
        // Still signed in: the refused sign-out did nothing.
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);

        // Same origin (by Sec-Fetch-Site, or by Origin = the public URL) passes the check.
        let a = browser
            .backlot_with(
                "POST",
                "/api/catalog/refresh",
                &[("sec-fetch-site", "same-origin"), ("origin", BASE)],
            )
            .await;
        assert_ne!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        let a = browser
            .backlot_with("POST", "/api/catalog/refresh", &[("origin", BASE)])
            .await;
        assert_ne!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        // A bearer-token call is not a browser's ambient credential: not checked here.
        let a = browser
            .backlot_with(
                "POST",
                "/api/catalog/refresh",
                &[
                    ("origin", "https://evil.example"),
                    ("authorization", "Bearer some-token"),
                ],
            )
            .await;
        assert_ne!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        // Sign-out from this site works.
        let a = browser
            .backlot_with(
                "POST",
                "/api/auth/logout",
                &[("origin", BASE), ("sec-fetch-site", "same-origin")],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    }
);

both_databases!(
    a_session_survives_a_restart_and_ends_at_sign_out,
    setup = Harness::new,
    |h| {
        let gh = start_stub().await;
        people(&h).await;
        // Signed in with one Backlot…
        let first = router(&h, github_settings(&gh.url, false));
        let mut browser = Browser::new(first.clone());
        gh.sign_in_as("CarolGH");
        let a = browser.github_sign_in("/").await;
        assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
        let cookie = browser.backlot.clone().expect("session");
        let a = browser.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::OK);

        // …the cookie works with another built over the same database (a restart).
        let second = router(&h, github_settings(&gh.url, false));
        let mut again = Browser::new(second.clone());
        again.backlot = Some(cookie.clone());
        let a = again.backlot("GET", "/api/auth/v1/userinfo").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(a.body.contains("user:default/carol"), "{}", a.body);

        // Signed out there: refused there at once, and by any Backlot that reads the database.
        let a = again.backlot("POST", "/api/auth/logout").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        for app in [second, router(&h, github_settings(&gh.url, false))] {
            let mut old = Browser::new(app);
            old.backlot = Some(cookie.clone());
            let a = old.backlot("GET", "/api/auth/v1/userinfo").await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
            let a = old.backlot("GET", "/catalog").await;
            assert_eq!(
                a.status,
                StatusCode::SEE_OTHER,
                "signed out: back to sign-in"
            );
        }
        drop(first);
    }
);

both_databases!(
    a_session_ends_after_its_absolute_lifetime,
    setup = Harness::new,
    |h| {
        let gh = start_stub().await;
        let auth = Auth::new(github_settings(&gh.url, false)).expect("auth");
        let store = Arc::new(store::DbSessionStore::new(h.db.store.clone()));
        let hours = i64::from(auth.settings.session.absolute_hours);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for (age_hours, kept) in [(hours - 1, true), (hours + 1, false)] {
            let session = tower_sessions::Session::new(None, store.clone(), None);
            let signed_in = SignedIn {
                user: "user:default/carol".into(),
                ent: vec!["user:default/carol".into()],
                display_name: "Carol".into(),
                since: now - age_hours * 3600,
            };
            session.insert(SIGNED_IN, &signed_in).await.expect("insert");
            session.save().await.expect("save");
            assert_eq!(
                auth.keep_session(&session, &signed_in).await,
                kept,
                "{age_hours} h"
            );
            let left: Option<SignedIn> = session.get(SIGNED_IN).await.expect("get");
            assert_eq!(left.is_some(), kept, "{age_hours} h");
        }
    }
);
