//! Sign-in: several providers at once, each OpenID Connect (authorization code with PKCE,
//! `state` and `nonce`, the ID token's signature, issuer, audience, expiry and nonce checked) or
//! GitHub OAuth; sessions in Backlot's database with idle and absolute lifetimes; and who a
//! signed-in identity is in the catalog.
//!
//! - [`config`]: the `auth:` section (public URL, providers, guest, sessions, unknown users)
//! - [`oidc`]: discovery, the authorization URL, the code exchange and the ID token check
//! - [`github`]: GitHub's OAuth flow and its user API
//! - [`store`]: tower-sessions' store over `storage` (ids kept only as SHA-256), with a short
//!   in-memory cache
//! - [`resolve`]: an identity → its User entity and groups, as the session remembers them
//! - [`tokens`]: API tokens and service tokens (`Authorization: Bearer`), limited by scopes
//!
//! The routes (`/api/auth/…`, Backstage's paths) are in `api::auth`; `http::caller::identify`
//! reads the session and puts the caller on each request. Nothing here logs a token, a code, a
//! secret or a cookie.

pub mod config;
pub mod github;
pub mod oidc;
pub mod resolve;
pub mod store;
pub mod tokens;

pub use config::{AuthSettings, ProviderType, UnknownUsers};
pub use resolve::SignedIn;

/// Why sign-in did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Backlot's own settings (or the provider's metadata) do not allow the flow.
    #[error("sign-in is not configured correctly: {0}")]
    Config(String),
    /// The provider could not be reached or answered something unusable.
    #[error("the identity provider could not be used: {0}")]
    Provider(String),
    /// The browser's request does not belong to a sign-in in progress (state, missing values).
    #[error("{0}")]
    BadRequest(String),
    /// The provider refused, or what it sent did not verify (token, nonce, code already used).
    #[error("sign-in failed: {0}")]
    Refused(String),
    /// The identity is fine but no User entity matches it and unknown users are refused.
    #[error("{0}")]
    UnknownUser(String),
}

/// Sign-in as configured: the settings and the providers, in the configured order.
pub struct Auth {
    pub settings: AuthSettings,
    /// API and service tokens, with the cache of verified ones.
    pub tokens: tokens::Tokens,
    providers: Vec<Provider>,
    /// The providers `/signin` lists (id, name), made once: every request's `SignInState`
    /// shares it.
    choices: std::sync::Arc<[(String, String)]>,
    /// Signed-in sessions decoded in the last seconds, so a request does not decode its session
    /// again.
    pub recent: RecentSessions,
}

/// How long a decoded session is used without reading it again: as long as `store`'s cache
/// keeps a loaded one (a sign-out on another replica is noticed within it).
const RECENT_FOR: std::time::Duration = std::time::Duration::from_secs(10);
/// Most sessions kept decoded.
const RECENT_MAX: usize = 10_000;

/// Signed-in sessions as [`Auth::keep_session`] last let them go on, by session id: the user
/// and the `Caller` made from it. A request whose session is here skips loading, decoding and
/// renewing it (renewal is at most once a minute anyway); sign-out removes it at once.
#[derive(Default)]
pub struct RecentSessions(std::sync::Mutex<RecentMap>);

/// A decoded session: the user and the caller made from it.
type Decoded = std::sync::Arc<(SignedIn, app::model::Caller)>;
type RecentMap =
    std::collections::HashMap<tower_sessions::session::Id, (std::time::Instant, Decoded)>;

impl RecentSessions {
    fn map(&self) -> std::sync::MutexGuard<'_, RecentMap> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, id: &tower_sessions::session::Id) -> Option<Decoded> {
        self.map()
            .get(id)
            .filter(|(at, _)| at.elapsed() < RECENT_FOR)
            .map(|(_, s)| s.clone())
    }

    pub fn put(&self, id: tower_sessions::session::Id, signed_in: SignedIn) {
        let caller = signed_in.caller();
        let mut map = self.map();
        if map.len() >= RECENT_MAX {
            map.retain(|_, (at, _)| at.elapsed() < RECENT_FOR);
            if map.len() >= RECENT_MAX {
                map.clear();
            }
        }
        map.insert(
            id,
            (
                std::time::Instant::now(),
                std::sync::Arc::new((signed_in, caller)),
            ),
        );
    }

    pub fn forget(&self, id: &tower_sessions::session::Id) {
        self.map().remove(id);
    }
}

/// One configured provider.
pub enum Provider {
    Oidc(std::sync::Arc<oidc::Oidc>),
    Github(Box<github::Github>),
}

impl Provider {
    /// The provider's authorization URL, and what the callback must find in the session.
    pub async fn start(&self, redirect: String) -> Result<(String, oidc::Pending), AuthError> {
        match self {
            Provider::Oidc(p) => p.start(redirect).await,
            Provider::Github(p) => Ok(p.start(redirect)),
        }
    }

    /// The callback's code exchanged and checked: who signed in.
    pub async fn finish(
        &self,
        pending: &oidc::Pending,
        code: String,
    ) -> Result<resolve::Identity, AuthError> {
        match self {
            Provider::Oidc(p) => p.finish(pending, code).await,
            Provider::Github(p) => p.finish(pending, code).await,
        }
    }
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Result<Auth, AuthError> {
        let providers = settings
            .providers
            .iter()
            .map(|p| match p.kind() {
                ProviderType::Oidc => {
                    oidc::Oidc::new(&settings, p).map(|o| Provider::Oidc(std::sync::Arc::new(o)))
                }
                ProviderType::Github => {
                    github::Github::new(&settings, p).map(|g| Provider::Github(Box::new(g)))
                }
            })
            .collect::<Result<_, _>>()?;
        let choices = settings
            .providers
            .iter()
            .map(|p| (p.id.clone(), p.display_name()))
            .collect();
        Ok(Auth {
            settings,
            providers,
            choices,
            tokens: tokens::Tokens::default(),
            recent: RecentSessions::default(),
        })
    }

    /// The provider with this id, and its settings.
    pub fn provider(&self, id: &str) -> Option<(&config::ProviderSettings, &Provider)> {
        self.settings
            .providers
            .iter()
            .zip(&self.providers)
            .find(|(s, _)| s.id == id)
    }

    /// What `/signin` lists: each provider's id and name.
    pub fn choices(&self) -> std::sync::Arc<[(String, String)]> {
        self.choices.clone()
    }

    /// Whether a session signed in at `signed_in.since` is within `auth.session.absolute_hours`.
    pub fn within_lifetime(&self, signed_in: &SignedIn) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let lifetime = self.settings.session.absolute().whole_seconds();
        now.saturating_sub(signed_in.since) < lifetime
    }

    /// Whether a signed-in session may go on: within its absolute lifetime (counted from
    /// sign-in). Its idle expiry is renewed here, at most once a minute, so that a session in
    /// use costs one database write a minute, not one a request.
    pub async fn keep_session(
        &self,
        session: &tower_sessions::Session,
        signed_in: &SignedIn,
    ) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if !self.within_lifetime(signed_in) {
            tracing::info!(user = %signed_in.user, "session ended: older than auth.session.absolute_hours");
            if let Err(e) = session.flush().await {
                tracing::warn!(error = %e, "an expired session could not be deleted");
            }
            return false;
        }
        let seen = session.get::<i64>(SEEN).await.ok().flatten().unwrap_or(0);
        if now.saturating_sub(seen) >= 60 {
            // Marks the session changed: saved with a new idle expiry when the answer goes out.
            if let Err(e) = session.insert(SEEN, now).await {
                tracing::warn!(error = %e, "the session could not be renewed");
            }
        }
        true
    }
}

/// Session keys.
pub const SIGNED_IN: &str = "signed_in";
pub const PENDING: &str = "oidc_pending";
/// When the session was last renewed (unix seconds).
pub const SEEN: &str = "seen";

/// The session cookie's name.
pub const COOKIE: &str = "backlot_session";

/// The session layer: cookie `backlot_session`, HttpOnly, SameSite=Lax, Secure when the public
/// URL is https, sessions in the database (cached briefly in memory), ended after
/// `auth.session.idle_minutes` unused (8 hours by default).
pub fn session_layer(
    store: crate::storage::Store,
    settings: Option<&AuthSettings>,
) -> tower_sessions::SessionManagerLayer<store::DbSessionStore> {
    tower_sessions::SessionManagerLayer::new(store::DbSessionStore::new(store))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(settings.is_some_and(AuthSettings::secure_cookie))
        .with_expiry(tower_sessions::Expiry::OnInactivity(
            settings
                .map(|s| s.session.idle())
                .unwrap_or(time::Duration::hours(8)),
        ))
}

#[cfg(test)]
mod id_token_tests;
#[cfg(test)]
mod tests;
