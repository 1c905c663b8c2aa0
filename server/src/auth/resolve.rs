//! Who a signed-in identity is in the catalog: the provider's sign-in resolvers, tried in their
//! configured order (default `email`, `username`, `annotation`), pick the User entity:
//!
//! - `email`: `spec.profile.email` equals the identity's email (case aside);
//! - `username`: `user:default/{name}` where the name is the preferred username (GitHub: the
//!   login), else the email's name part;
//! - `annotation`: a User whose annotation equals a claim (GitHub: `github.com/user-login` is the
//!   login; otherwise as configured).
//!
//! The session keeps the user's ref and the groups it is a member of ([`SignedIn`]); each
//! request's `Caller` is made from that.

use super::config::{AnnotationMatch, Resolver, UnknownUsers};
use super::AuthError;
use crate::catalog::facade::Visible;
use crate::catalog::snapshot::Record;
use app::model::{Caller, EntityRef};
use serde::{Deserialize, Serialize};

/// What the provider said about the person (after the ID token verified).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
}

/// The signed-in user as the session holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    /// `user:default/alice`.
    pub user: String,
    /// Ownership refs: the user and every group it is a member of.
    pub ent: Vec<String>,
    /// What the header shows.
    pub display_name: String,
    /// When the user signed in (unix seconds): the session ends `absolute_hours` later.
    #[serde(default)]
    pub since: i64,
}

impl SignedIn {
    pub fn caller(&self) -> Caller {
        Caller {
            user: EntityRef::from_ref_string(&self.user),
            groups: self
                .ent
                .iter()
                .skip(1)
                .filter_map(|r| EntityRef::from_ref_string(r.as_str()))
                .collect(),
            token: None,
        }
    }
}

/// How a provider matches identities to users: its resolvers, in order, and the annotation the
/// `annotation` resolver compares.
#[derive(Debug, Clone, Copy)]
pub struct Resolvers<'a> {
    pub order: &'a [Resolver],
    pub annotation: Option<&'a AnnotationMatch>,
}

/// The first User entity whose body passes `check`.
fn find_user(catalog: &Visible, check: impl Fn(&serde_json::Value) -> bool) -> Option<&Record> {
    catalog.records().find_map(|(_, record)| {
        if !record.stored.entity_ref.kind.eq_ignore_ascii_case("user") {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&record.stored.body).ok()?;
        check(&body).then_some(record)
    })
}

/// The identity's User entity and groups; refused (or, with `allow`, signed in as
/// `user:default/{name}` with no entity) when none matches.
pub fn resolve(
    identity: &Identity,
    catalog: &Visible,
    resolvers: Resolvers<'_>,
    unknown: UnknownUsers,
) -> Result<SignedIn, AuthError> {
    let email = identity.email.as_deref().map(str::to_ascii_lowercase);
    let email_name = email
        .as_deref()
        .and_then(|e| e.split_once('@').map(|(n, _)| n.to_string()));
    let name_part = email_name
        .clone()
        .or_else(|| identity.preferred_username.clone());
    let by = |resolver: Resolver| -> Option<&Record> {
        match resolver {
            Resolver::Email => email.as_deref().and_then(|email| {
                find_user(catalog, |body| {
                    body.pointer("/spec/profile/email")
                        .and_then(|v| v.as_str())
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
            }),
            Resolver::Username => [identity.preferred_username.as_ref(), email_name.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|n| catalog.get("user", "default", n)),
            Resolver::Annotation => {
                let rule = resolvers.annotation?;
                let value = match rule.claim.as_str() {
                    "sub" => Some(&identity.subject),
                    "email" => identity.email.as_ref(),
                    _ => identity.preferred_username.as_ref(),
                }?;
                let key = rule.key.replace('~', "~0").replace('/', "~1");
                find_user(catalog, |body| {
                    body.pointer(&format!("/metadata/annotations/{key}"))
                        .and_then(|v| v.as_str())
                        .is_some_and(|v| v.eq_ignore_ascii_case(value))
                })
            }
        }
    };
    let record = resolvers.order.iter().find_map(|r| by(*r));
    let display = |fallback: &str| {
        identity
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| fallback.to_string())
    };
    match record {
        Some(record) => {
            let user = record
                .stored
                .entity_ref
                .to_ref_string()
                .to_ascii_lowercase();
            let ent = ownership_refs(&user, record);
            let body: serde_json::Value =
                serde_json::from_str(&record.stored.body).unwrap_or_default();
            let shown = body
                .pointer("/spec/profile/displayName")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| display(&record.stored.entity_ref.name));
            Ok(SignedIn {
                user,
                ent,
                display_name: shown,
                since: 0,
            })
        }
        None => {
            let who = identity
                .email
                .clone()
                .or_else(|| identity.preferred_username.clone())
                .unwrap_or_else(|| identity.subject.clone());
            match (unknown, name_part) {
                (UnknownUsers::Allow, Some(name)) if valid_name(&name) => {
                    let user = format!("user:default/{name}");
                    Ok(SignedIn {
                        ent: vec![user.clone()],
                        user,
                        display_name: display(&name),
                        since: 0,
                    })
                }
                _ => Err(AuthError::UnknownUser(format!(
                    "{who} signed in with the identity provider, but no User entity in the catalog \
                     matches it (by email, name or annotation); ask the portal's administrators \
                     to add you to the catalog"
                ))),
            }
        }
    }
}

/// Ownership refs of a User record: the user, then every group it is a member of.
fn ownership_refs(user: &str, record: &Record) -> Vec<String> {
    let mut ent = vec![user.to_string()];
    for rel in &record.relations {
        if rel.relation_type == "memberOf" && !ent.iter().any(|e| **e == *rel.target_ref) {
            ent.push(rel.target_ref.to_string());
        }
    }
    ent
}

/// A user known by reference (an API token's owner, a service token's `entity`) as a caller:
/// the user and, when the catalog has their User entity, its groups, as at sign-in.
pub fn caller_of(catalog: &Visible, user: &str) -> Caller {
    let user = user.to_ascii_lowercase();
    let record = EntityRef::from_ref_string(&user)
        .filter(|r| r.kind == "user")
        .and_then(|r| catalog.get(&r.kind, &r.namespace, &r.name));
    let ent = match record {
        Some(record) => ownership_refs(&user, record),
        None => vec![user],
    };
    SignedIn {
        user: ent[0].clone(),
        ent,
        display_name: String::new(),
        since: 0,
    }
    .caller()
}

/// A name Backstage accepts for `metadata.name`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}
