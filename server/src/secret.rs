//! Secrets: values that must never reach a log, an error message or a page.
//!
//! [`Secret`] holds one (the webhook secret, a Git or discovery token, and the OAuth client
//! secrets and session keys to come); [`SecretUrl`] holds a URL that may carry a password (the
//! database URL). Both are read from config strings (`Deserialize`), show nothing of the secret
//! in `Debug` or `Display`, and hand the value out only through `expose()`, which names every
//! place that uses it. Neither is `Serialize`, so a secret cannot be written out by accident.

use serde::Deserialize;
use std::fmt;

/// What `Debug` and `Display` show instead of a secret.
const REDACTED: &str = "<redacted>";

/// A secret string: cloned and compared like a string, never shown.
///
/// Comparing with `==` is not constant-time: check a secret a client sent with a constant-time
/// comparison (as [`crate::git::webhook`] does).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself: only to hand to what needs it (a request header, a signature check).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A URL that may carry a password (`postgres://user:password@host/db`). `Debug` and `Display`
/// show it with the password replaced by `***`; [`SecretUrl::expose`] gives the URL itself.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The URL with its password: only to connect with.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password replaced by `***` (user, host and the rest kept).
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let Some(start) = url.find("://").map(|i| i + 3) else {
            return url.clone();
        };
        // The user information ends at the last `@` before the path (a password may hold `@`).
        let end = url[start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| start + i);
        let Some(at) = url[start..end].rfind('@').map(|i| start + i) else {
            return url.clone();
        };
        match url[start..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..start], &url[at..]),
            None => url.clone(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_never_shown() {
        let s: Secret = yaml_serde::from_str("hunter2").unwrap();
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(s.to_string(), "<redacted>");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(Secret(<redacted>))");
        assert_eq!(s, Secret::from("hunter2"));
    }

    #[test]
    fn a_url_shows_everything_but_its_password() {
        let cases = [
            (
                "postgres://app:s3cret@db.example.com:5432/backlot",
                "postgres://app:***@db.example.com:5432/backlot",
            ),
            ("postgres://app:p@ss@db/x", "postgres://app:***@db/x"),
            (
                "postgres://db/x?user=a&sslmode=require",
                "postgres://db/x?user=a&sslmode=require",
            ),
            ("postgres://app@db/x", "postgres://app@db/x"),
            ("postgres://db/x?note=a:b@c", "postgres://db/x?note=a:b@c"),
            (
                "sqlite:///var/lib/backlot/backlot.db",
                "sqlite:///var/lib/backlot/backlot.db",
            ),
            ("sqlite:data.db", "sqlite:data.db"),
        ];
        for (url, shown) in cases {
            let u = SecretUrl::new(url);
            assert_eq!(u.expose(), url);
            assert_eq!(u.to_string(), shown, "{url}");
            assert_eq!(format!("{u:?}"), format!("SecretUrl({shown:?})"), "{url}");
        }
        let u: SecretUrl = yaml_serde::from_str("postgres://u:pw@h/db").unwrap();
        assert!(!format!("{u:?} {u}").contains("pw"));
    }
}
