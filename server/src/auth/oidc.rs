//! The OpenID Connect flow with the `openidconnect` crate: discovery (read once, on first use,
//! retried after a failure), the authorization URL with PKCE (S256), `state` and `nonce`, the
//! code exchange, the ID token check (signature against the provider's JWKS, issuer, audience,
//! expiry, nonce) and, when the ID token carries no email, the userinfo endpoint.
//!
//! Key rotation: when an ID token's signature does not verify against the keys Backlot holds,
//! the provider's JWKS is read again and the token checked once more (at most once every
//! [`KEYS_REFETCH_EVERY`], so tokens naming unknown keys cannot make Backlot hammer the
//! provider).
//!
//! HTTP goes through `ureq` (already Backlot's client) on a blocking thread, without following
//! redirects.

use super::config::{AuthSettings, ProviderSettings};
use super::resolve::Identity;
use super::AuthError;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Largest answer read from the provider.
const MAX_BODY: u64 = 1024 * 1024;

/// Shortest time between two reads of the provider's keys after a signature failed.
pub const KEYS_REFETCH_EVERY: Duration = Duration::from_secs(60);

/// What the session keeps between `start` and the callback (for every kind of provider).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The provider's id: a callback to another provider's route is refused.
    #[serde(default)]
    pub provider: String,
    pub state: String,
    /// OIDC only (empty for GitHub).
    #[serde(default)]
    pub nonce: String,
    pub verifier: String,
    /// The same-site path to return to.
    pub redirect: String,
}

/// One OpenID provider.
pub struct Oidc {
    settings: ProviderSettings,
    issuer: String,
    redirect_uri: String,
    metadata: OnceCell<CoreProviderMetadata>,
    /// The provider's keys as read again after a signature failed, and when.
    keys: Mutex<Option<(CoreJsonWebKeySet, Instant)>>,
    agent: ureq::Agent,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpFailure(String);

impl Oidc {
    pub fn new(auth: &AuthSettings, settings: &ProviderSettings) -> Result<Oidc, AuthError> {
        let issuer = settings
            .issuer
            .clone()
            .ok_or_else(|| AuthError::Config(format!("provider {} has no issuer", settings.id)))?;
        Ok(Oidc {
            settings: settings.clone(),
            issuer,
            redirect_uri: auth.redirect_uri(&settings.id),
            metadata: OnceCell::new(),
            keys: Mutex::new(None),
            agent: agent(),
        })
    }

    /// The provider's metadata, discovered on first use.
    async fn metadata(&self) -> Result<CoreProviderMetadata, AuthError> {
        let metadata = self
            .metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.issuer.clone())
                    .map_err(|e| AuthError::Config(format!("issuer: {e}")))?;
                let agent = self.agent.clone();
                let found = tokio::task::spawn_blocking(move || {
                    CoreProviderMetadata::discover(&issuer, &|r| call(&agent, r))
                })
                .await
                .map_err(|e| AuthError::Provider(e.to_string()))?
                .map_err(|e| AuthError::Provider(format!("discovery: {}", error_chain(&e))))?;
                tracing::info!(issuer = %self.issuer, provider = %self.settings.id, "OpenID provider discovered");
                Ok::<_, AuthError>(found)
            })
            .await?;
        let mut metadata = metadata.clone();
        if let Some((keys, _)) = &*self.keys.lock().unwrap_or_else(|p| p.into_inner()) {
            metadata = metadata.set_jwks(keys.clone());
        }
        Ok(metadata)
    }

    /// Reads the provider's keys again unless that was done within [`KEYS_REFETCH_EVERY`];
    /// `None` when it was (or the read failed: the token then stays refused).
    fn refetch_keys(&self, metadata: &CoreProviderMetadata) -> Option<CoreJsonWebKeySet> {
        {
            let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            if keys
                .as_ref()
                .is_some_and(|(_, at)| at.elapsed() < KEYS_REFETCH_EVERY)
            {
                return None;
            }
        }
        let fetched = CoreJsonWebKeySet::fetch(metadata.jwks_uri(), &|r| call(&self.agent, r));
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match fetched {
            Ok(set) => {
                tracing::info!(issuer = %self.issuer, keys = set.keys().len(), "OpenID provider keys read again");
                *keys = Some((set.clone(), Instant::now()));
                Some(set)
            }
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %error_chain(&e), "OpenID provider keys could not be read again");
                // Counts as a try: the next one waits too.
                let old = keys
                    .take()
                    .map(|(set, _)| set)
                    .unwrap_or_else(|| metadata.jwks().clone());
                *keys = Some((old, Instant::now()));
                None
            }
        }
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        AuthError,
    > {
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose().to_string()));
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| AuthError::Config(format!("redirect URI: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's authorization URL, and what the callback must find in the session.
    pub async fn start(&self, redirect: String) -> Result<(String, Pending), AuthError> {
        let client = self.client(self.metadata().await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.settings.scopes().into_iter().filter(|s| s != "openid") {
            request = request.add_scope(Scope::new(scope));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            Pending {
                provider: self.settings.id.clone(),
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                redirect,
            },
        ))
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token (reading the
    /// provider's keys again once when its signature does not verify: they may have rotated).
    pub async fn finish(
        self: &Arc<Self>,
        pending: &Pending,
        code: String,
    ) -> Result<Identity, AuthError> {
        let metadata = self.metadata().await?;
        let this = Arc::clone(self);
        let verifier = pending.verifier.clone();
        let nonce = Nonce::new(pending.nonce.clone());
        tokio::task::spawn_blocking(move || this.finish_blocking(metadata, code, verifier, nonce))
            .await
            .map_err(|e| AuthError::Provider(e.to_string()))?
    }

    fn finish_blocking(
        &self,
        metadata: CoreProviderMetadata,
        code: String,
        verifier: String,
        nonce: Nonce,
    ) -> Result<Identity, AuthError> {
        let agent = self.agent.clone();
        let http = |r| call(&agent, r);
        let client = self.client(metadata.clone())?;
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| AuthError::Config(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request(&http)
            .map_err(|e| AuthError::Refused(format!("code exchange: {}", error_chain(&e))))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| AuthError::Refused("the provider sent no ID token".into()))?;
        // The client with the keys read again, when the signature needed them.
        let rotated;
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(first)) => {
                let Some(keys) = self.refetch_keys(&metadata) else {
                    return Err(AuthError::Refused(format!(
                        "ID token: {}",
                        error_chain(&ClaimsVerificationError::SignatureVerification(first))
                    )));
                };
                rotated = self.client(metadata.set_jwks(keys))?;
                id_token.claims(&rotated.id_token_verifier(), &nonce)
            }
            other => other,
        }
        .map_err(|e| AuthError::Refused(format!("ID token: {}", error_chain(&e))))?;
        let mut identity = Identity {
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            preferred_username: claims.preferred_username().map(|u| u.to_string()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
        };
        if identity.email.is_none() {
            // Providers may keep profile claims out of the ID token of a code flow.
            if let Ok(request) =
                client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
            {
                let info: CoreUserInfoClaims = request
                    .request(&http)
                    .map_err(|e| AuthError::Refused(format!("userinfo: {}", error_chain(&e))))?;
                identity.email = info.email().map(|e| e.to_string());
                identity.preferred_username = identity
                    .preferred_username
                    .or_else(|| info.preferred_username().map(|u| u.to_string()));
                identity.name = identity
                    .name
                    .or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.to_string()));
            }
        }
        Ok(identity)
    }
}

/// The HTTP client of every provider: ureq, 10 s per exchange, no redirects followed, statuses
/// returned rather than turned into errors.
pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// One HTTP exchange for `openidconnect` and `oauth2`, through ureq (no redirects followed).
pub(super) fn call(agent: &ureq::Agent, request: HttpRequest) -> Result<HttpResponse, HttpFailure> {
    let mut response = agent.run(request).map_err(|e| HttpFailure(e.to_string()))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| HttpFailure(e.to_string()))?;
    let mut out = HttpResponse::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// An error with its sources (the crate's errors put the useful part in `source`).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
