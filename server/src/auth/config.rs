//! The `auth:` section of the config: the portal's public URL and the OpenID provider. Checked
//! once at load ([`AuthSettings::validate`]), each error naming its field; the client secret is
//! read from the environment variable the config names, never from the file.

use crate::secret::Secret;
use openidconnect::url::Url;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The portal's public URL (`https://portal.example.com`): the redirect URI is
    /// `{base_url}/api/auth/oidc/handler/frame`, and an https URL makes the cookie `Secure`.
    pub base_url: String,
    #[serde(default)]
    pub providers: Providers,
    /// A signed-in identity that matches no User entity: `refuse` (default) or `allow`.
    #[serde(default)]
    pub unknown_users: UnknownUsers,
    /// Static tokens for machine-to-machine use (`auth::tokens`), each read from its variable.
    #[serde(default)]
    pub service_tokens: Vec<super::tokens::ServiceToken>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Providers {
    pub oidc: Option<OidcSettings>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The issuer URL; its `/.well-known/openid-configuration` is read on first use.
    pub issuer: String,
    pub client_id: String,
    /// The name of the environment variable that holds the client secret.
    pub client_secret_env: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
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

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

impl AuthSettings {
    /// Reads the client secret through `get` (the environment) and checks every field; the
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
        let Some(oidc) = &mut self.providers.oidc else {
            return Err("auth.providers.oidc is required when auth is configured".into());
        };
        let issuer = Url::parse(&oidc.issuer).map_err(|e| {
            format!(
                "auth.providers.oidc.issuer \"{}\" is not a URL: {e}",
                oidc.issuer
            )
        })?;
        if !matches!(issuer.scheme(), "http" | "https") {
            return Err(format!(
                "auth.providers.oidc.issuer must be an http or https URL, got \"{}\"",
                oidc.issuer
            ));
        }
        if oidc.client_id.trim().is_empty() {
            return Err("auth.providers.oidc.client_id must not be empty".into());
        }
        if oidc.client_secret_env.trim().is_empty() {
            return Err(
                "auth.providers.oidc.client_secret_env must name an environment variable".into(),
            );
        }
        match get(&oidc.client_secret_env).filter(|v| !v.is_empty()) {
            Some(secret) => oidc.client_secret = Some(Secret::new(secret)),
            None => {
                return Err(format!(
                    "auth.providers.oidc.client_secret_env: the environment variable {} is not set",
                    oidc.client_secret_env
                ))
            }
        }
        if !oidc.scopes.iter().any(|s| s == "openid") {
            return Err("auth.providers.oidc.scopes must include openid".into());
        }
        super::tokens::validate_service_tokens(&mut self.service_tokens, &get)?;
        Ok(())
    }

    /// Whether the session cookie is `Secure`.
    pub fn secure_cookie(&self) -> bool {
        self.base_url.starts_with("https:")
    }

    /// Where the provider sends the browser back.
    pub fn redirect_uri(&self) -> String {
        format!("{}/api/auth/oidc/handler/frame", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> AuthSettings {
        yaml_serde::from_str(yaml).expect("auth yaml")
    }

    const GOOD: &str = "base_url: https://portal.example.com/\nproviders:\n  oidc:\n    issuer: https://id.example.com\n    client_id: portal\n    client_secret_env: PORTAL_SECRET\n";

    #[test]
    fn a_good_section_reads_the_secret_from_the_environment() {
        let mut a = parse(GOOD);
        a.validate(|k| (k == "PORTAL_SECRET").then(|| "s3cret".to_string()))
            .expect("valid");
        assert_eq!(a.base_url, "https://portal.example.com");
        assert!(a.secure_cookie());
        assert_eq!(
            a.redirect_uri(),
            "https://portal.example.com/api/auth/oidc/handler/frame"
        );
        let oidc = a.providers.oidc.as_ref().expect("oidc");
        assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
        assert_eq!(
            oidc.client_secret.as_ref().map(Secret::expose),
            Some("s3cret")
        );
        assert_eq!(a.unknown_users, UnknownUsers::Refuse);
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn each_error_names_its_field() {
        let env = |k: &str| (k == "PORTAL_SECRET").then(|| "x".to_string());
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
                "auth.providers.oidc.issuer",
            ),
            (
                GOOD.replace("client_id: portal", "client_id: ''"),
                "auth.providers.oidc.client_id",
            ),
            (
                GOOD.replace("PORTAL_SECRET", "UNSET_VAR"),
                "UNSET_VAR is not set",
            ),
            (
                format!("{GOOD}    scopes: [email]\n"),
                "auth.providers.oidc.scopes",
            ),
            (
                "base_url: http://127.0.0.1:3000\n".to_string(),
                "auth.providers.oidc is required",
            ),
        ];
        for (yaml, field) in cases {
            let err = parse(&yaml).validate(env).expect_err(&yaml);
            assert!(err.contains(field), "{err} should name {field}");
        }
        let err = yaml_serde::from_str::<AuthSettings>(&format!("{GOOD}unknown_users: maybe\n"))
            .expect_err("bad policy");
        assert!(err.to_string().contains("unknown_users"), "{err}");
    }
}
