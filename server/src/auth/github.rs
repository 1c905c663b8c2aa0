//! GitHub (and GitHub Enterprise) sign-in: OAuth's authorization code flow with the `oauth2`
//! crate (`state`, and PKCE, which GitHub accepts), then who the person is from the REST API:
//! `GET {api_url}/user` (login, name, public email) and, when the profile shows no email,
//! `GET {api_url}/user/emails` for the primary verified one. The identity's preferred username
//! is the login, which the `username` and `annotation` (`github.com/user-login`) resolvers read.
//!
//! HTTP goes through the same ureq client as OIDC (`oidc::agent`: a blocking thread, no
//! redirects followed). Nothing here logs the code or the access token.

use super::config::{AuthSettings, ProviderSettings};
use super::oidc::{self, Pending};
use super::resolve::Identity;
use super::AuthError;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Largest answer read from GitHub's API.
const MAX_BODY: u64 = 1024 * 1024;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One GitHub (Enterprise) OAuth app.
pub struct Github {
    id: String,
    client: Client,
    scopes: Vec<String>,
    api_url: String,
    agent: ureq::Agent,
}

/// `GET /user`: what Backlot reads of it.
#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

impl Github {
    pub fn new(auth: &AuthSettings, settings: &ProviderSettings) -> Result<Github, AuthError> {
        let config = |what: &str, e: &dyn std::fmt::Display| {
            AuthError::Config(format!("provider {}: {what}: {e}", settings.id))
        };
        let mut client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(
                AuthUrl::new(settings.github_authorize_url().to_string())
                    .map_err(|e| config("authorize_url", &e))?,
            )
            .set_token_uri(
                TokenUrl::new(settings.github_token_url().to_string())
                    .map_err(|e| config("token_url", &e))?,
            )
            .set_redirect_uri(
                RedirectUrl::new(auth.redirect_uri(&settings.id))
                    .map_err(|e| config("redirect URI", &e))?,
            )
            // GitHub reads the client's credentials from the form.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &settings.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        Ok(Github {
            id: settings.id.clone(),
            client,
            scopes: settings.scopes(),
            api_url: settings.github_api_url().to_string(),
            agent: oidc::agent(),
        })
    }

    /// GitHub's authorization URL, and what the callback must find in the session.
    pub fn start(&self, redirect: String) -> (String, Pending) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state) = request.url();
        (
            url.to_string(),
            Pending {
                provider: self.id.clone(),
                state: state.secret().clone(),
                nonce: String::new(),
                verifier: verifier.secret().clone(),
                redirect,
            },
        )
    }

    /// Exchanges the code (with the PKCE verifier) for an access token and reads the user.
    pub async fn finish(&self, pending: &Pending, code: String) -> Result<Identity, AuthError> {
        let client = self.client.clone();
        let agent = self.agent.clone();
        let verifier = PkceCodeVerifier::new(pending.verifier.clone());
        let api = self.api_url.clone();
        tokio::task::spawn_blocking(move || {
            let http = |r| oidc::call(&agent, r);
            let token = client
                .exchange_code(AuthorizationCode::new(code))
                .set_pkce_verifier(verifier)
                .request(&http)
                .map_err(|e| AuthError::Refused(format!("code exchange: {}", token_error(&e))))?;
            let token = token.access_token().secret();
            let user: User = get_json(&agent, &format!("{api}/user"), token)?;
            let mut email = user.email.filter(|e| !e.is_empty());
            if email.is_none() {
                // Without a public email: the primary verified address (scope user:email).
                match get_json::<Vec<Email>>(&agent, &format!("{api}/user/emails"), token) {
                    Ok(emails) => {
                        email = emails
                            .into_iter()
                            .find(|e| e.primary && e.verified)
                            .map(|e| e.email)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "GitHub: the user's emails could not be read")
                    }
                }
            }
            Ok(Identity {
                subject: user.id.to_string(),
                email,
                preferred_username: Some(user.login),
                name: user.name.filter(|n| !n.is_empty()),
            })
        })
        .await
        .map_err(|e| AuthError::Provider(e.to_string()))?
    }
}

/// Why the token endpoint said no. GitHub answers a refused code with 200 and
/// `{"error":"bad_verification_code",…}`, which `oauth2` reports as a parse error: its `error`
/// is what is worth saying.
fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    e: &RequestTokenError<RE, T>,
) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
    }
    match e {
        RequestTokenError::Parse(_, body) => match serde_json::from_slice::<Refusal>(body) {
            Ok(r) => format!("GitHub answered {}", r.error),
            Err(_) => oidc::error_chain(e),
        },
        other => oidc::error_chain(other),
    }
}

/// `GET url` with the access token, as JSON.
fn get_json<T: DeserializeOwned>(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
) -> Result<T, AuthError> {
    let path = url.rsplit_once("/user").map(|(_, p)| p).unwrap_or_default();
    let what = format!("GET /user{path}");
    let mut response = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header("User-Agent", "backlot")
        .call()
        .map_err(|e| AuthError::Provider(format!("{what}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(AuthError::Refused(format!("{what}: HTTP {status}")));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| AuthError::Provider(format!("{what}: {e}")))?;
    serde_json::from_slice(&body).map_err(|e| AuthError::Provider(format!("{what}: {e}")))
}
