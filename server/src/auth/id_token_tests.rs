//! The ID token checks, each against a stub OpenID provider whose token endpoint answers an ID
//! token the test made: a good one, a wrong nonce, an expired one, another audience or issuer,
//! one signed by a key the provider never published, one not signed at all, and one signed by
//! a key the provider rotated to after Backlot read its keys. (The real provider in `tests.rs`
//! only ever signs correctly, so these cases need a provider that misbehaves on purpose.)
//! The keys are test-only PEM files in `testdata/`.

use super::config::AuthSettings;
use super::oidc::Oidc;
use super::AuthError;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CLIENT: &str = "backlot";

fn key(n: u8, kid: &str) -> CoreRsaPrivateSigningKey {
    let pem = match n {
        1 => include_str!("testdata/op-key-1.pem"),
        2 => include_str!("testdata/op-key-2.pem"),
        _ => include_str!("testdata/op-key-3.pem"),
    };
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).expect("test key")
}

#[derive(Default)]
struct OpState {
    issuer: String,
    /// The keys `/jwks` publishes.
    published: Mutex<Vec<(u8, String)>>,
    /// What `/token` answers as the ID token.
    id_token: Mutex<String>,
    jwks_reads: AtomicUsize,
}

struct Stub {
    state: Arc<OpState>,
    oidc: Arc<Oidc>,
}

async fn discovery(State(s): State<Arc<OpState>>) -> Json<Value> {
    Json(json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/auth", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(s): State<Arc<OpState>>) -> Json<Value> {
    s.jwks_reads.fetch_add(1, Ordering::SeqCst);
    let keys = s
        .published
        .lock()
        .expect("lock")
        .iter()
        .map(|(n, kid)| key(*n, kid).as_verification_key())
        .collect();
    Json(serde_json::to_value(CoreJsonWebKeySet::new(keys)).expect("jwks json"))
}

async fn token(State(s): State<Arc<OpState>>) -> Json<Value> {
    Json(json!({
        "access_token": "stub-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": s.id_token.lock().expect("lock").clone(),
    }))
}

/// A provider publishing key 1 as `k1`, and Backlot's client for it.
async fn stub() -> Stub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let state = Arc::new(OpState {
        issuer: issuer.clone(),
        published: Mutex::new(vec![(1, "k1".into())]),
        ..OpState::default()
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut settings: AuthSettings = yaml_serde::from_str(&format!(
        "base_url: http://127.0.0.1:3000\nproviders:\n  oidc:\n    issuer: {issuer}\n    client_id: {CLIENT}\n    client_secret_env: STUB_SECRET\n"
    ))
    .expect("settings");
    settings
        .validate(|_| Some("stub-secret".into()))
        .expect("valid settings");
    let oidc = Arc::new(Oidc::new(&settings, &settings.providers[0]).expect("client"));
    Stub { state, oidc }
}

/// What an ID token says, before the test changes one claim.
fn claims(s: &Stub, nonce: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "iss": s.state.issuer,
        "aud": [CLIENT],
        "sub": "alice",
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "email": "alice@example.test",
        "name": "Alice Liddell",
    })
}

/// A compact JWS over `claims`, RS256 with key `n` named `kid`.
fn signed(claims: &Value, n: u8, kid: &str) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key(n, kid)
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            input.as_bytes(),
        )
        .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

impl Stub {
    /// Starts a sign-in, lets the provider answer `make(nonce)` as the ID token, finishes it.
    async fn sign_in(&self, make: impl FnOnce(&str) -> String) -> Result<String, AuthError> {
        let (_, pending) = self.oidc.start("/".into()).await.expect("start");
        *self.state.id_token.lock().expect("lock") = make(&pending.nonce);
        self.oidc
            .finish(&pending, "stub-code".into())
            .await
            .map(|identity| identity.email.unwrap_or_default())
    }

    fn jwks_reads(&self) -> usize {
        self.state.jwks_reads.load(Ordering::SeqCst)
    }
}

fn refused(result: Result<String, AuthError>, says: &str) {
    match result {
        Err(AuthError::Refused(m)) => assert!(m.contains(says), "{m} should say {says}"),
        other => panic!("expected a refusal saying {says}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_id_token_is_accepted() {
    let s = stub().await;
    let email = s
        .sign_in(|nonce| signed(&claims(&s, nonce), 1, "k1"))
        .await
        .expect("accepted");
    assert_eq!(email, "alice@example.test");
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let s = stub().await;
    refused(
        s.sign_in(|_| signed(&claims(&s, "another-sign-in"), 1, "k1"))
            .await,
        "nonce",
    );
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let s = stub().await;
    refused(
        s.sign_in(|nonce| {
            let mut c = claims(&s, nonce);
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            c["iat"] = json!(now - 7200);
            c["exp"] = json!(now - 3600);
            signed(&c, 1, "k1")
        })
        .await,
        "Expired",
    );
}

#[tokio::test]
async fn another_audience_or_issuer_is_refused() {
    let s = stub().await;
    refused(
        s.sign_in(|nonce| {
            let mut c = claims(&s, nonce);
            c["aud"] = json!(["another-client"]);
            signed(&c, 1, "k1")
        })
        .await,
        "audiences",
    );
    refused(
        s.sign_in(|nonce| {
            let mut c = claims(&s, nonce);
            c["iss"] = json!("http://issuer.example.test");
            signed(&c, 1, "k1")
        })
        .await,
        "issuer",
    );
}

#[tokio::test]
async fn an_unsigned_id_token_is_refused() {
    let s = stub().await;
    refused(
        s.sign_in(|nonce| {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string());
            let body = URL_SAFE_NO_PAD.encode(claims(&s, nonce).to_string());
            format!("{header}.{body}.")
        })
        .await,
        "ID token",
    );
}

#[tokio::test]
async fn rotated_keys_are_read_again_and_a_foreign_key_is_refused_without_hammering_the_provider() {
    let s = stub().await;
    s.sign_in(|nonce| signed(&claims(&s, nonce), 1, "k1"))
        .await
        .expect("accepted with the first key");
    assert_eq!(s.jwks_reads(), 1, "keys read once, at discovery");

    // The provider rotates to key 2: Backlot does not know it yet, reads the keys again, accepts.
    *s.state.published.lock().expect("lock") = vec![(2, "k2".into())];
    s.sign_in(|nonce| signed(&claims(&s, nonce), 2, "k2"))
        .await
        .expect("accepted after reading the rotated keys");
    assert_eq!(s.jwks_reads(), 2);

    // A token signed by a key the provider never published, under a published key's id: refused,
    // and the keys were read again only a moment ago, so they are not read once more.
    refused(
        s.sign_in(|nonce| signed(&claims(&s, nonce), 3, "k2")).await,
        "Signature verification failed",
    );
    assert_eq!(s.jwks_reads(), 2, "no second read within the minute");
    // The rotated key keeps working, without another read.
    s.sign_in(|nonce| signed(&claims(&s, nonce), 2, "k2"))
        .await
        .expect("still accepted");
    assert_eq!(s.jwks_reads(), 2);
}

#[tokio::test]
async fn a_foreign_key_is_refused_after_the_keys_are_read_again() {
    let s = stub().await;
    // Signed by key 3 under the published key's id: the keys are read again (once), the
    // signature still does not verify.
    refused(
        s.sign_in(|nonce| signed(&claims(&s, nonce), 3, "k1")).await,
        "Signature verification failed",
    );
    assert_eq!(s.jwks_reads(), 2);
}
