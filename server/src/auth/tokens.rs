//! API tokens for CI and scripts, and static service tokens from the config, both sent as
//! `Authorization: Bearer <token>`.
//!
//! - An **API token** is `blt_` and 32 random bytes (base64url), made by a signed-in user,
//!   shown once and stored only as its SHA-256 (`storage::ApiTokenRow`), with scopes and an
//!   expiry of at most [`MAX_DAYS`] days. It acts as its owner (the user and, from the catalog,
//!   the groups it is a member of, as at sign-in) **limited by its scopes**: the policy must
//!   allow an action and one of the token's scopes must cover it ([`scope_refusal`], asked by
//!   the policy engine for every decision, so a refusal names the missing scope).
//! - A **service token** ([`ServiceToken`], `auth.service_tokens`) is read from an environment
//!   variable at start-up, compared in constant time, and acts as its `entity` (a user ref) or,
//!   without one, as a signed-in caller with no entity; limited by its scopes the same way.
//!
//! [`Tokens`] verifies a bearer token and keeps what it verified for [`CACHE_TTL`] (by the
//! token's hash), so most bearer requests cost no database round trip; revoking a token in this
//! process drops it from the cache at once (other processes see it within [`CACHE_TTL`]). A
//! token's last use is written at most once every [`LAST_USED_EVERY`] seconds.
//!
//! Nothing here logs a token or its hash.

use crate::audit::{Action, Actor, Audit, Event, Outcome};
use crate::catalog::facade::Visible;
use crate::policy::Permission;
use crate::secret::Secret;
use crate::storage::{ApiTokenRow, StorageError, Store};
use app::model::{Caller, TokenLimit};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What every API token starts with.
pub const PREFIX: &str = "blt_";
/// The longest expiry, in days.
pub const MAX_DAYS: i64 = 365;
/// The longest token name, in characters.
pub const MAX_NAME: usize = 100;
/// How long a verified token is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// A token's last use is written at most this often (seconds).
pub const LAST_USED_EVERY: i64 = 60;
/// Tokens kept in the cache at most.
const CACHE_MAX: usize = 10_000;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every `*.read` permission.
    Read,
    /// Register and remove locations.
    Locations,
    /// Refresh entities and locations.
    Refresh,
    /// Run templates (the scaffolder).
    Templates,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Read,
        Scope::Locations,
        Scope::Refresh,
        Scope::Templates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Locations => "locations",
            Scope::Refresh => "refresh",
            Scope::Templates => "templates",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// The permissions this scope covers.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Scope::Read => &[
                CatalogEntityRead,
                CatalogLocationRead,
                KubernetesResourcesRead,
                ScaffolderTemplateRead,
                ScaffolderTaskRead,
                AuditRead,
                PolicyRead,
            ],
            Scope::Locations => &[CatalogLocationCreate, CatalogLocationDelete],
            Scope::Refresh => &[CatalogEntityRefresh],
            Scope::Templates => &[
                ScaffolderActionExecute,
                ScaffolderTaskCreate,
                ScaffolderTaskCancel,
                ScaffolderApprovalDecide,
            ],
        }
    }

    /// The scope that covers `permission`; `None`: no token may do it (`catalog.entity.delete`).
    pub fn covering(permission: Permission) -> Option<Scope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.permissions().contains(&permission))
    }
}

/// Scope names (as sent) into scopes, without repeats, in [`Scope::ALL`]'s order.
pub fn parse_scopes<S: AsRef<str>>(names: &[S]) -> Result<Vec<Scope>, String> {
    if names.is_empty() {
        return Err("give at least one scope (read, locations, refresh, templates)".into());
    }
    for name in names {
        if Scope::parse(name.as_ref()).is_none() {
            return Err(format!(
                "unknown scope \"{}\": the scopes are read, locations, refresh and templates",
                name.as_ref()
            ));
        }
    }
    Ok(Scope::ALL
        .into_iter()
        .filter(|s| names.iter().any(|n| n.as_ref() == s.as_str()))
        .collect())
}

fn scope_names(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(|s| s.as_str().to_string()).collect()
}

/// Why `permission` is refused to `caller` whatever the policy says: the caller is a token and
/// none of its scopes covers it. The message names the missing scope. `None` for a session or
/// the guest, and for a token whose scopes cover it.
pub fn scope_refusal(caller: &Caller, permission: Permission) -> Option<String> {
    let limit = caller.token.as_ref()?;
    let had = if limit.scopes.is_empty() {
        "none".to_string()
    } else {
        limit.scopes.join(", ")
    };
    match Scope::covering(permission) {
        Some(s) if limit.scopes.iter().any(|have| have == s.as_str()) => None,
        Some(s) => Some(format!(
            "the token \"{}\" lacks the scope {} (its scopes: {had})",
            limit.name,
            s.as_str()
        )),
        None => Some(format!(
            "no token scope covers it (the token \"{}\" has: {had}); only a signed-in session may",
            limit.name
        )),
    }
}

/// A static token for machine-to-machine use (`auth.service_tokens`). Its value comes from the
/// environment variable `token_env`, never from the file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceToken {
    /// Shown in messages and logs (`ci-deploy`).
    pub name: String,
    /// The NAME of the environment variable holding the token.
    pub token_env: String,
    pub scopes: Vec<String>,
    /// A user ref whose ownership the token borrows (`user:default/deploy-bot`); without it a
    /// signed-in caller with no entity.
    #[serde(default)]
    pub entity: Option<String>,
    /// Read from `token_env` at load.
    #[serde(skip)]
    pub token: Option<Secret>,
}

/// The shortest service token accepted.
pub const MIN_SERVICE_TOKEN: usize = 32;

/// Reads each service token from the environment (through `get`) and checks every field; the
/// error names the field (`auth.service_tokens[0].token_env: …`).
pub fn validate_service_tokens(
    tokens: &mut [ServiceToken],
    get: impl Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let mut names: Vec<String> = Vec::new();
    for (i, t) in tokens.iter_mut().enumerate() {
        let field = |f: &str| format!("auth.service_tokens[{i}].{f}");
        if t.name.trim().is_empty() {
            return Err(format!("{}: must not be empty", field("name")));
        }
        if names.contains(&t.name) {
            return Err(format!(
                "{}: another service token is named \"{}\"",
                field("name"),
                t.name
            ));
        }
        names.push(t.name.clone());
        if t.token_env.trim().is_empty() {
            return Err(format!(
                "{}: must name an environment variable",
                field("token_env")
            ));
        }
        let value = get(&t.token_env).filter(|v| !v.is_empty()).ok_or_else(|| {
            format!(
                "{}: the environment variable {} is not set",
                field("token_env"),
                t.token_env
            )
        })?;
        if value.chars().count() < MIN_SERVICE_TOKEN || value.chars().any(char::is_whitespace) {
            return Err(format!(
                "{}: the token in {} must be at least {MIN_SERVICE_TOKEN} characters without spaces",
                field("token_env"),
                t.token_env
            ));
        }
        t.token = Some(Secret::new(value));
        let scopes = parse_scopes(&t.scopes).map_err(|e| format!("{}: {e}", field("scopes")))?;
        t.scopes = scope_names(&scopes);
        if let Some(entity) = &t.entity {
            let normal = crate::policy::file::normalise_ref(entity, "user");
            if !normal.starts_with("user:") {
                return Err(format!(
                    "{}: must be a user reference (user:default/name), got \"{entity}\"",
                    field("entity")
                ));
            }
            t.entity = Some(normal);
        }
    }
    Ok(())
}

/// The hex SHA-256 of a token, as stored.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new token: `blt_` and 32 random bytes, base64url (43 characters).
pub fn generate() -> Secret {
    // oauth2's random token: 32 bytes from a CSPRNG (rand's thread RNG), base64url unpadded.
    let random = openidconnect::CsrfToken::new_random_len(32);
    Secret::new(format!("{PREFIX}{}", random.secret()))
}

/// The token of an `Authorization: Bearer …` header; `None` without one (another scheme, or
/// no header). An empty bearer token is `Some("")` and refused.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok();
    let Some(value) = value else {
        return Some("");
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    crate::util::now_ms() / 1000
}

/// Why a token was not accepted or not made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown, expired or revoked (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A request to make one is wrong (400).
    #[error("{0}")]
    Invalid(String),
    #[error("no API token of yours has the id {0}")]
    NotFound(String),
    #[error("API tokens are unavailable: {0}")]
    Storage(#[from] StorageError),
}

/// A token just made: its stored row and the value, to show once.
pub struct Created {
    pub row: ApiTokenRow,
    pub token: Secret,
}

/// What the cache keeps of a verified token.
struct Cached {
    caller: Caller,
    /// The API token's id; `None` for a service token.
    id: Option<String>,
    /// The token's own expiry (seconds since the epoch).
    expires_at: i64,
    /// Trusted until then without the database.
    fresh_until: Instant,
    /// Last use written (seconds since the epoch).
    last_used: Option<i64>,
}

/// Verifies, makes, lists and revokes tokens; holds the cache of verified tokens.
#[derive(Default)]
pub struct Tokens {
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens")
    }
}

/// Compares two digests without stopping at the first difference.
fn same_digest(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The caller a bearer token stands for: from the cache, a service token, or the database.
    /// Unknown, expired and revoked tokens are [`TokenError::Unauthenticated`].
    pub async fn verify(
        &self,
        store: &Store,
        catalog: impl FnOnce() -> Visible,
        service: &[ServiceToken],
        presented: &str,
    ) -> Result<Caller, TokenError> {
        let now = now();
        let hash = hash(presented);
        let cached = {
            let mut cache = self.lock();
            match cache.get(&hash) {
                Some(c) if c.expires_at <= now => {
                    cache.remove(&hash);
                    return Err(TokenError::Unauthenticated("the API token has expired"));
                }
                Some(c) if c.fresh_until > Instant::now() => Some(c.caller.clone()),
                Some(_) => {
                    cache.remove(&hash);
                    None
                }
                None => None,
            }
        };
        let caller = match cached {
            Some(caller) => caller,
            None => {
                let (entry, caller) = self
                    .look_up(store, catalog, service, presented, &hash, now)
                    .await?;
                let mut cache = self.lock();
                if cache.len() >= CACHE_MAX {
                    let at = Instant::now();
                    cache.retain(|_, c| c.fresh_until > at);
                    if cache.len() >= CACHE_MAX {
                        cache.clear();
                    }
                }
                cache.insert(hash.clone(), entry);
                caller
            }
        };
        self.touch(store, &hash, now).await;
        Ok(caller)
    }

    async fn look_up(
        &self,
        store: &Store,
        catalog: impl FnOnce() -> Visible,
        service: &[ServiceToken],
        presented: &str,
        hash: &str,
        now: i64,
    ) -> Result<(Cached, Caller), TokenError> {
        let fresh_until = Instant::now() + CACHE_TTL;
        // Every service token is compared, without stopping at a match.
        let digest = Sha256::digest(presented.as_bytes());
        let mut matched = None;
        for t in service {
            if let Some(secret) = &t.token {
                let theirs = Sha256::digest(secret.expose().as_bytes());
                if same_digest(&digest, &theirs) && matched.is_none() {
                    matched = Some(t);
                }
            }
        }
        if let Some(t) = matched {
            let limit = TokenLimit {
                name: t.name.clone(),
                scopes: t.scopes.clone(),
            };
            let mut caller = match &t.entity {
                Some(user) => crate::auth::resolve::caller_of(&catalog(), user),
                None => Caller::default(),
            };
            caller.token = Some(limit);
            let entry = Cached {
                caller: caller.clone(),
                id: None,
                expires_at: i64::MAX,
                fresh_until,
                last_used: None,
            };
            return Ok((entry, caller));
        }
        if !presented.starts_with(PREFIX) {
            return Err(TokenError::Unauthenticated("unknown API token"));
        }
        let row = store
            .api_token_by_hash(hash)
            .await?
            .ok_or(TokenError::Unauthenticated("unknown API token"))?;
        if row.revoked_at.is_some() {
            return Err(TokenError::Unauthenticated("the API token was revoked"));
        }
        if row.expires_at <= now {
            return Err(TokenError::Unauthenticated("the API token has expired"));
        }
        let mut caller = crate::auth::resolve::caller_of(&catalog(), &row.owner);
        caller.token = Some(TokenLimit {
            name: row.name.clone(),
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
        });
        let entry = Cached {
            caller: caller.clone(),
            id: Some(row.id),
            expires_at: row.expires_at,
            fresh_until,
            last_used: row.last_used_at,
        };
        Ok((entry, caller))
    }

    /// Writes the token's last use when the last one written is a minute old or more.
    async fn touch(&self, store: &Store, hash: &str, now: i64) {
        let id = {
            let mut cache = self.lock();
            let Some(c) = cache.get_mut(hash) else {
                return;
            };
            let Some(id) = c.id.clone() else {
                return;
            };
            if c.last_used.is_some_and(|t| now - t < LAST_USED_EVERY) {
                return;
            }
            // Claimed before writing, so requests at the same moment write once.
            c.last_used = Some(now);
            id
        };
        if let Err(e) = store.touch_api_token(&id, now, LAST_USED_EVERY).await {
            tracing::warn!(token.id = %id, error = %e, "could not record an API token's last use");
        }
    }

    /// Makes a token for `owner` (a signed-in user's ref), recorded in the audit log.
    pub async fn create(
        &self,
        store: &Store,
        audit: &Audit,
        owner: &str,
        name: &str,
        scopes: &[String],
        expires_in_days: i64,
    ) -> Result<Created, TokenError> {
        let made = self.make(store, owner, name, scopes, expires_in_days).await;
        let event = Event::new(
            owner.to_ascii_lowercase(),
            Action::AuthTokenCreate,
            Outcome::Allowed,
        );
        audit.record(match &made {
            Ok(c) => event
                .target(Actor::token(&c.row.id))
                .detail(format!("{} ({})", c.row.name, c.row.scopes)),
            Err(e @ TokenError::Invalid(_)) => Event {
                outcome: Outcome::Refused,
                ..event.detail(e.to_string())
            },
            Err(e) => Event {
                outcome: Outcome::Failed,
                ..event.detail(e.to_string())
            },
        });
        made
    }

    async fn make(
        &self,
        store: &Store,
        owner: &str,
        name: &str,
        scopes: &[String],
        expires_in_days: i64,
    ) -> Result<Created, TokenError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(TokenError::Invalid("name: give the token a name".into()));
        }
        if name.chars().count() > MAX_NAME {
            return Err(TokenError::Invalid(format!(
                "name: at most {MAX_NAME} characters"
            )));
        }
        let scopes =
            parse_scopes(scopes).map_err(|e| TokenError::Invalid(format!("scopes: {e}")))?;
        if !(1..=MAX_DAYS).contains(&expires_in_days) {
            return Err(TokenError::Invalid(format!(
                "expires_in_days: from 1 to {MAX_DAYS} days, got {expires_in_days}"
            )));
        }
        let token = generate();
        let now = now();
        let row = ApiTokenRow {
            id: uuid::Uuid::new_v4().to_string(),
            owner: owner.to_ascii_lowercase(),
            name: name.to_string(),
            token_hash: hash(token.expose()),
            scopes: scope_names(&scopes).join(" "),
            created_at: now,
            expires_at: now + expires_in_days * 86_400,
            last_used_at: None,
            revoked_at: None,
        };
        store.insert_api_token(&row).await?;
        tracing::info!(token.id = %row.id, token.name = %row.name, owner = %row.owner, scopes = %row.scopes, "API token created");
        Ok(Created { row, token })
    }

    /// `owner`'s tokens that are not revoked, newest first.
    pub async fn list(&self, store: &Store, owner: &str) -> Result<Vec<ApiTokenRow>, TokenError> {
        Ok(store.api_tokens_of(&owner.to_ascii_lowercase()).await?)
    }

    /// Revokes `owner`'s token `id`; it stops working in this process at once. Recorded in the
    /// audit log (a token that is not the owner's is not recorded: it is not found).
    pub async fn revoke(
        &self,
        store: &Store,
        audit: &Audit,
        owner: &str,
        id: &str,
    ) -> Result<(), TokenError> {
        let owner = owner.to_ascii_lowercase();
        let revoked = store.revoke_api_token(&owner, id, now()).await;
        let event = Event::new(owner.as_str(), Action::AuthTokenRevoke, Outcome::Allowed)
            .target(Actor::token(id));
        let hash = match revoked {
            Ok(Some(hash)) => hash,
            Ok(None) => return Err(TokenError::NotFound(id.to_string())),
            Err(e) => {
                audit.record(Event {
                    outcome: Outcome::Failed,
                    ..event.detail(e.to_string())
                });
                return Err(e.into());
            }
        };
        self.lock().remove(&hash);
        audit.record(event);
        tracing::info!(token.id = %id, owner = %owner, "API token revoked");
        Ok(())
    }
}

#[cfg(test)]
mod tests;
