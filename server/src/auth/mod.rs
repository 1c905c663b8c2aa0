//! Sign-in: OpenID Connect (authorization code with PKCE, `state` and `nonce`, the ID token's
//! signature, issuer, audience, expiry and nonce checked), sessions in Backlot's database, and
//! who a signed-in identity is in the catalog.
//!
//! - [`config`]: the `auth:` section (public URL, provider, unknown-user policy)
//! - [`oidc`]: discovery, the authorization URL, the code exchange and the ID token check
//! - [`store`]: tower-sessions' store over `storage` (ids kept only as SHA-256)
//! - [`resolve`]: an identity → its User entity and groups, as the session remembers them
//! - [`tokens`]: API tokens and service tokens (`Authorization: Bearer`), limited by scopes
//!
//! The routes (`/api/auth/…`, Backstage's paths) are in `api::auth`; `http::caller::identify`
//! reads the session and puts the caller on each request. Nothing here logs a token, a code, a
//! secret or a cookie.

pub mod config;
pub mod oidc;
pub mod resolve;
pub mod store;
pub mod tokens;

pub use config::{AuthSettings, UnknownUsers};
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

/// Sign-in as configured: the settings and the provider.
pub struct Auth {
    pub settings: AuthSettings,
    pub oidc: std::sync::Arc<oidc::Oidc>,
    /// API and service tokens, with the cache of verified ones.
    pub tokens: tokens::Tokens,
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Result<Auth, AuthError> {
        let oidc = std::sync::Arc::new(oidc::Oidc::new(&settings)?);
        Ok(Auth {
            settings,
            oidc,
            tokens: tokens::Tokens::default(),
        })
    }
}

/// Session keys.
pub const SIGNED_IN: &str = "signed_in";
pub const PENDING: &str = "oidc_pending";

/// The session cookie's name.
pub const COOKIE: &str = "backlot_session";

/// The session layer: cookie `backlot_session`, HttpOnly, SameSite=Lax, Secure when the public
/// URL is https, sessions in the database, ended after 8 idle hours.
pub fn session_layer(
    store: crate::storage::Store,
    settings: Option<&AuthSettings>,
) -> tower_sessions::SessionManagerLayer<store::DbSessionStore> {
    tower_sessions::SessionManagerLayer::new(store::DbSessionStore::new(store))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(settings.is_some_and(AuthSettings::secure_cookie))
        .with_expiry(tower_sessions::Expiry::OnInactivity(time::Duration::hours(
            8,
        )))
}

#[cfg(test)]
mod id_token_tests;
#[cfg(test)]
mod tests;
