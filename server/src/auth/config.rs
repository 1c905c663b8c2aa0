//! The `auth:` section of the config: the portal's public URL, the sign-in providers (a list,
//! each `oidc` or `github`; the older map `providers: {oidc: …}` still reads), guest access and
//! session lifetimes. Checked once at load ([`AuthSettings::validate`]), each error naming its
//! field (`auth.providers[1].client_id: …`); client secrets are read from the environment
//! variables the config names, never from the file.

use crate::secret::Secret;
use openidconnect::url::Url;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The portal's public URL (`https://portal.example.com`): each provider's redirect URI is
    /// `{base_url}/api/auth/{id}/handler/frame`, and an https URL makes the cookie `Secure`.
    pub base_url: String,
    /// The sign-in providers, in the order `/signin` lists them.
    #[serde(default, deserialize_with = "providers")]
    pub providers: Vec<ProviderSettings>,
    /// A signed-in identity that matches no User entity: `refuse` (default) or `allow`.
    #[serde(default)]
    pub unknown_users: UnknownUsers,
    /// Static tokens for machine-to-machine use (`auth::tokens`), each read from its variable.
    #[serde(default)]
    pub service_tokens: Vec<super::tokens::ServiceToken>,
    /// Whether someone who has not signed in may browse (as the guest). Off by default: pages
    /// send them to `/signin`, the API answers 401.
    #[serde(default)]
    pub guest: bool,
    /// How long a session lasts.
    #[serde(default)]
    pub session: SessionSettings,
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// A session unused this long ends (renewed on use).
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u32,
    /// A session ends this long after sign-in, used or not.
    #[serde(default = "default_absolute_hours")]
    pub absolute_hours: u32,
}

fn default_idle_minutes() -> u32 {
    480
}

fn default_absolute_hours() -> u32 {
    168
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: default_idle_minutes(),
            absolute_hours: default_absolute_hours(),
        }
    }
}

impl SessionSettings {
    pub fn idle(&self) -> time::Duration {
        time::Duration::minutes(i64::from(self.idle_minutes))
    }

    pub fn absolute(&self) -> time::Duration {
        time::Duration::hours(i64::from(self.absolute_hours))
    }
}

/// The kind of a provider.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    Oidc,
    Github,
}

/// How a signed-in identity is matched to a User entity; tried in the configured order.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Resolver {
    /// `spec.profile.email` equals the identity's email (case aside).
    Email,
    /// `metadata.name` equals the preferred username (GitHub: the login), else the email's name
    /// part, in the default namespace.
    Username,
    /// An annotation equals a claim: by default `github.com/user-login` = the GitHub login.
    Annotation,
}

/// Which annotation the `annotation` resolver compares with which claim.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AnnotationMatch {
    /// The annotation's key, e.g. `example.com/employee-id`.
    pub key: String,
    /// The claim: `sub`, `email`, `preferred_username` or `login` (the same).
    pub claim: String,
}

/// One sign-in provider.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// In the provider's URLs (`/api/auth/{id}/start`): letters, digits, `-` and `_`.
    #[serde(default)]
    pub id: String,
    /// `oidc` or `github` (the map form takes it from the key).
    #[serde(rename = "type", default)]
    pub kind: Option<ProviderType>,
    /// What `/signin` calls it; by default "GitHub" or "OpenID Connect".
    #[serde(default)]
    pub name: Option<String>,
    /// OIDC: the issuer URL; its `/.well-known/openid-configuration` is read on first use.
    #[serde(default)]
    pub issuer: Option<String>,
    pub client_id: String,
    /// The name of the environment variable that holds the client secret.
    pub client_secret_env: String,
    /// OIDC: `[openid, profile, email]`; GitHub: `[read:user, user:email]`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// GitHub (Enterprise): the authorization endpoint.
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// GitHub (Enterprise): the token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// GitHub (Enterprise): the REST API (`https://ghe.example.com/api/v3`).
    #[serde(default)]
    pub api_url: Option<String>,
    /// The sign-in resolvers, in order (default `[email, username, annotation]`).
    #[serde(default = "default_resolvers")]
    pub resolvers: Vec<Resolver>,
    /// The `annotation` resolver's annotation and claim (GitHub's default:
    /// `github.com/user-login` = login).
    #[serde(default)]
    pub annotation: Option<AnnotationMatch>,
    /// Read from `client_secret_env` at load.
    #[serde(skip)]
    pub client_secret: Option<Secret>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UnknownUsers {
    #[default]
    Refuse,
    Allow,
}

fn default_resolvers() -> Vec<Resolver> {
    vec![Resolver::Email, Resolver::Username, Resolver::Annotation]
}

const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_API: &str = "https://api.github.com";

/// `providers:` as a list, or the older map `{oidc: {…}}` (each key the id, and the type when
/// it names one).
fn providers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ProviderSettings>, D::Error> {
    struct Either;
    impl<'de> Visitor<'de> for Either {
        type Value = Vec<ProviderSettings>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of providers")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((key, mut p)) = map.next_entry::<String, ProviderSettings>()? {
                if p.kind.is_none() {
                    p.kind = match key.as_str() {
                        "oidc" => Some(ProviderType::Oidc),
                        "github" => Some(ProviderType::Github),
                        _ => None,
                    };
                }
                if p.id.is_empty() {
                    p.id = key;
                }
                out.push(p);
            }
            Ok(out)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(Either)
}

/// An http(s) URL, or an error naming `field`.
fn http_url(field: &str, value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("{field}: \"{value}\" is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{field}: must be an http or https URL, got \"{value}\""
        ));
    }
    Ok(url)
}

impl ProviderSettings {
    /// The provider's type (checked present at load; OIDC before that).
    pub fn kind(&self) -> ProviderType {
        self.kind.unwrap_or(ProviderType::Oidc)
    }

    /// What `/signin` shows.
    pub fn display_name(&self) -> String {
        match (&self.name, self.kind()) {
            (Some(n), _) => n.clone(),
            (None, ProviderType::Github) => "GitHub".into(),
            (None, ProviderType::Oidc) => "OpenID Connect".into(),
        }
    }

    /// The scopes asked for (the type's default when none are configured).
    pub fn scopes(&self) -> Vec<String> {
        match (&self.scopes, self.kind()) {
            (Some(s), _) => s.clone(),
            (None, ProviderType::Oidc) => ["openid", "profile", "email"].map(String::from).to_vec(),
            (None, ProviderType::Github) => ["read:user", "user:email"].map(String::from).to_vec(),
        }
    }

    /// GitHub's authorization endpoint (github.com unless overridden).
    pub fn github_authorize_url(&self) -> &str {
        self.authorize_url.as_deref().unwrap_or(GITHUB_AUTHORIZE)
    }

    /// GitHub's token endpoint.
    pub fn github_token_url(&self) -> &str {
        self.token_url.as_deref().unwrap_or(GITHUB_TOKEN)
    }

    /// GitHub's REST API, without a trailing `/`.
    pub fn github_api_url(&self) -> &str {
        self.api_url
            .as_deref()
            .unwrap_or(GITHUB_API)
            .trim_end_matches('/')
    }

    /// The annotation the `annotation` resolver compares (GitHub's login by default).
    pub fn annotation_match(&self) -> Option<AnnotationMatch> {
        self.annotation.clone().or_else(|| {
            (self.kind() == ProviderType::Github).then(|| AnnotationMatch {
                key: "github.com/user-login".into(),
                claim: "login".into(),
            })
        })
    }

    fn validate(&mut self, at: &str, get: &impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let ok_id = !self.id.is_empty()
            && self.id.len() <= 63
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok_id {
            return Err(format!(
                "{at}.id: must be letters, digits, - or _ (it is part of the provider's URLs), got \"{}\"",
                self.id
            ));
        }
        if matches!(self.id.as_str(), "v1" | "logout") {
            return Err(format!(
                "{at}.id: \"{}\" is taken by another sign-in route",
                self.id
            ));
        }
        let Some(kind) = self.kind else {
            return Err(format!("{at}.type: required, oidc or github"));
        };
        match kind {
            ProviderType::Oidc => {
                let Some(issuer) = &self.issuer else {
                    return Err(format!("{at}.issuer: required for an oidc provider"));
                };
                http_url(&format!("{at}.issuer"), issuer)?;
                for field in [
                    ("authorize_url", &self.authorize_url),
                    ("token_url", &self.token_url),
                    ("api_url", &self.api_url),
                ] {
                    if field.1.is_some() {
                        return Err(format!(
                            "{at}.{}: only for github providers (oidc reads its endpoints from the issuer)",
                            field.0
                        ));
                    }
                }
                if !self.scopes().iter().any(|s| s == "openid") {
                    return Err(format!("{at}.scopes: must include openid"));
                }
            }
            ProviderType::Github => {
                if self.issuer.is_some() {
                    return Err(format!("{at}.issuer: only for oidc providers"));
                }
                for (field, value) in [
                    ("authorize_url", &self.authorize_url),
                    ("token_url", &self.token_url),
                    ("api_url", &self.api_url),
                ] {
                    if let Some(v) = value {
                        http_url(&format!("{at}.{field}"), v)?;
                    }
                }
            }
        }
        if self.client_id.trim().is_empty() {
            return Err(format!("{at}.client_id: must not be empty"));
        }
        if self.client_secret_env.trim().is_empty() {
            return Err(format!(
                "{at}.client_secret_env: must name an environment variable"
            ));
        }
        match get(&self.client_secret_env).filter(|v| !v.is_empty()) {
            Some(secret) => self.client_secret = Some(Secret::new(secret)),
            None => {
                return Err(format!(
                    "{at}.client_secret_env: the environment variable {} is not set",
                    self.client_secret_env
                ))
            }
        }
        if self.resolvers.is_empty() {
            return Err(format!(
                "{at}.resolvers: name at least one of email, username, annotation"
            ));
        }
        if let Some(a) = &self.annotation {
            if a.key.trim().is_empty() {
                return Err(format!("{at}.annotation.key: must not be empty"));
            }
            if !matches!(
                a.claim.as_str(),
                "sub" | "email" | "preferred_username" | "login"
            ) {
                return Err(format!(
                    "{at}.annotation.claim: one of sub, email, preferred_username, login; got \"{}\"",
                    a.claim
                ));
            }
        }
        Ok(())
    }
}

impl AuthSettings {
    /// Reads the client secrets through `get` (the environment) and checks every field; the
    /// error names the field.
    pub fn validate(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let base = Url::parse(&self.base_url)
            .map_err(|e| format!("auth.base_url \"{}\" is not a URL: {e}", self.base_url))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(format!(
                "auth.base_url must be an http or https URL, got \"{}\"",
                self.base_url
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err("auth.base_url must not have a query or fragment".into());
        }
        self.base_url = self.base_url.trim_end_matches('/').to_string();
        if self.providers.is_empty() {
            return Err(
                "auth.providers: at least one provider is required when auth is configured".into(),
            );
        }
        for (i, p) in self.providers.iter_mut().enumerate() {
            p.validate(&format!("auth.providers[{i}]"), &get)?;
        }
        for (i, p) in self.providers.iter().enumerate() {
            if self.providers[..i].iter().any(|q| q.id == p.id) {
                return Err(format!(
                    "auth.providers[{i}].id: \"{}\" is used by another provider",
                    p.id
                ));
            }
        }
        if self.session.idle_minutes == 0 {
            return Err("auth.session.idle_minutes: must be at least 1".into());
        }
        if self.session.absolute_hours == 0 {
            return Err("auth.session.absolute_hours: must be at least 1".into());
        }
        super::tokens::validate_service_tokens(&mut self.service_tokens, &get)?;
        Ok(())
    }

    /// Whether the session cookie is `Secure`.
    pub fn secure_cookie(&self) -> bool {
        self.base_url.starts_with("https:")
    }

    /// Where provider `id` sends the browser back.
    pub fn redirect_uri(&self, id: &str) -> String {
        format!("{}/api/auth/{id}/handler/frame", self.base_url)
    }

    /// The public URL's origin (`https://portal.example.com`), what a same-origin request's
    /// `Origin` header says.
    pub fn origin(&self) -> String {
        Url::parse(&self.base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.base_url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> AuthSettings {
        yaml_serde::from_str(yaml).expect("auth yaml")
    }

    const GOOD: &str = "base_url: https://portal.example.com/\nproviders:\n  oidc:\n    issuer: https://id.example.com\n    client_id: portal\n    client_secret_env: PORTAL_SECRET\n";

    const LIST: &str = "base_url: http://127.0.0.1:3000\nproviders:\n  - id: corp\n    type: oidc\n    name: Corporate login\n    issuer: https://id.example.com\n    client_id: portal\n    client_secret_env: PORTAL_SECRET\n  - id: github\n    type: github\n    client_id: gh-app\n    client_secret_env: GH_SECRET\n    resolvers: [annotation, username]\nguest: true\nsession:\n  idle_minutes: 30\n";

    fn env(k: &str) -> Option<String> {
        match k {
            "PORTAL_SECRET" => Some("s3cret".into()),
            "GH_SECRET" => Some("gh-s3cret".into()),
            _ => None,
        }
    }

    #[test]
    fn the_map_form_still_reads_as_one_oidc_provider() {
        let mut a = parse(GOOD);
        a.validate(env).expect("valid");
        assert_eq!(a.base_url, "https://portal.example.com");
        assert!(a.secure_cookie());
        assert_eq!(a.origin(), "https://portal.example.com");
        assert_eq!(
            a.redirect_uri("oidc"),
            "https://portal.example.com/api/auth/oidc/handler/frame"
        );
        let [oidc] = a.providers.as_slice() else {
            panic!("one provider: {:?}", a.providers)
        };
        assert_eq!(oidc.id, "oidc");
        assert_eq!(oidc.kind(), ProviderType::Oidc);
        assert_eq!(oidc.scopes(), ["openid", "profile", "email"]);
        assert_eq!(oidc.resolvers, default_resolvers());
        assert_eq!(oidc.annotation_match(), None);
        assert_eq!(
            oidc.client_secret.as_ref().map(Secret::expose),
            Some("s3cret")
        );
        assert_eq!(a.unknown_users, UnknownUsers::Refuse);
        assert!(!a.guest);
        assert_eq!(a.session, SessionSettings::default());
        assert_eq!(a.session.idle(), time::Duration::hours(8));
        assert_eq!(a.session.absolute(), time::Duration::days(7));
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn a_list_names_several_providers_with_github_defaults() {
        let mut a = parse(LIST);
        a.validate(env).expect("valid");
        assert_eq!(a.origin(), "http://127.0.0.1:3000");
        assert!(a.guest);
        assert_eq!(a.session.idle_minutes, 30);
        assert_eq!(a.session.absolute_hours, 168);
        let [corp, gh] = a.providers.as_slice() else {
            panic!("two providers")
        };
        assert_eq!(corp.display_name(), "Corporate login");
        assert_eq!(gh.kind(), ProviderType::Github);
        assert_eq!(gh.display_name(), "GitHub");
        assert_eq!(gh.scopes(), ["read:user", "user:email"]);
        assert_eq!(
            gh.github_authorize_url(),
            "https://github.com/login/oauth/authorize"
        );
        assert_eq!(
            gh.github_token_url(),
            "https://github.com/login/oauth/access_token"
        );
        assert_eq!(gh.github_api_url(), "https://api.github.com");
        assert_eq!(gh.resolvers, [Resolver::Annotation, Resolver::Username]);
        assert_eq!(
            gh.annotation_match().map(|a| a.key),
            Some("github.com/user-login".into())
        );
        assert_eq!(
            gh.client_secret.as_ref().map(Secret::expose),
            Some("gh-s3cret")
        );
        assert_eq!(
            a.redirect_uri("github"),
            "http://127.0.0.1:3000/api/auth/github/handler/frame"
        );
        assert!(!format!("{a:?}").contains("gh-s3cret"));
    }

    #[test]
    fn each_error_names_its_field() {
        let cases = [
            (
                GOOD.replace("https://portal.example.com/", "portal"),
                "auth.base_url",
            ),
            (
                GOOD.replace("https://portal.example.com/", "ftp://p"),
                "auth.base_url",
            ),
            (
                GOOD.replace("https://id.example.com", "not a url"),
                "auth.providers[0].issuer",
            ),
            (
                GOOD.replace("client_id: portal", "client_id: ''"),
                "auth.providers[0].client_id",
            ),
            (
                GOOD.replace("PORTAL_SECRET", "UNSET_VAR"),
                "UNSET_VAR is not set",
            ),
            (
                format!("{GOOD}    scopes: [email]\n"),
                "auth.providers[0].scopes",
            ),
            (
                "base_url: http://127.0.0.1:3000\n".to_string(),
                "auth.providers: at least one",
            ),
            (
                LIST.replace("client_id: gh-app", "client_id: ' '"),
                "auth.providers[1].client_id",
            ),
            (
                LIST.replace("id: github", "id: corp"),
                "auth.providers[1].id: \"corp\" is used",
            ),
            (
                LIST.replace("id: github", "id: 'git hub'"),
                "auth.providers[1].id",
            ),
            (LIST.replace("id: github", "id: v1"), "auth.providers[1].id"),
            (
                LIST.replace("    type: github\n", ""),
                "auth.providers[1].type",
            ),
            (
                LIST.replace(
                    "client_id: gh-app",
                    "client_id: gh-app\n    api_url: not-a-url",
                ),
                "auth.providers[1].api_url",
            ),
            (
                LIST.replace(
                    "client_id: gh-app",
                    "client_id: gh-app\n    issuer: https://id.example.com",
                ),
                "auth.providers[1].issuer",
            ),
            (
                LIST.replace("    issuer: https://id.example.com\n", ""),
                "auth.providers[0].issuer: required",
            ),
            (
                LIST.replace("[annotation, username]", "[]"),
                "auth.providers[1].resolvers",
            ),
            (
                LIST.replace(
                    "client_id: gh-app",
                    "client_id: gh-app\n    annotation: {key: example.com/id, claim: shoe_size}",
                ),
                "auth.providers[1].annotation.claim",
            ),
            (
                LIST.replace("idle_minutes: 30", "idle_minutes: 0"),
                "auth.session.idle_minutes",
            ),
        ];
        for (yaml, field) in cases {
            let err = parse(&yaml).validate(env).expect_err(&yaml);
            assert!(err.contains(field), "{err} should name {field}");
        }
        for (yaml, field) in [
            (format!("{GOOD}unknown_users: maybe\n"), "unknown_users"),
            (LIST.replace("type: github", "type: gitlab"), "gitlab"),
            (LIST.replace("resolvers: [", "resolvers: [shoe, "), "shoe"),
            (LIST.replace("name: Corporate", "nmae: Corporate"), "nmae"),
        ] {
            let err = yaml_serde::from_str::<AuthSettings>(&yaml).expect_err(&yaml);
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn the_readme_example_is_valid() {
        let readme = include_str!("../../../README.md");
        let block = readme
            .split("```yaml\n")
            .filter_map(|b| b.split_once("```").map(|(yaml, _)| yaml))
            .find(|yaml| yaml.starts_with("auth:\n") && yaml.contains("type: github"))
            .expect("README shows an auth: section with a GitHub provider");
        #[derive(Deserialize)]
        struct Doc {
            auth: AuthSettings,
        }
        let mut doc: Doc = yaml_serde::from_str(block).expect("README's auth yaml");
        doc.auth
            .validate(|_| Some("x".to_string()))
            .expect("README's auth section is valid");
        let kinds: Vec<_> = doc
            .auth
            .providers
            .iter()
            .map(ProviderSettings::kind)
            .collect();
        assert_eq!(kinds, [ProviderType::Oidc, ProviderType::Github]);
    }
}
