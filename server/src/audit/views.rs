//! The admin pages' service (`app::services::AuditAdmin`): the audit log (`audit.read`) and one
//! user's effective permissions (`policy.read`), each refused with the rule that decided, and
//! the refusal recorded.

use super::query::{self, Strictness};
use super::{Action, Actor, Audit, Event, Outcome};
use crate::catalog::facade::Facade;
use crate::catalog::CatalogError;
use crate::policy::{Permission, Resource};
use crate::storage::Store;
use app::audit::{AdminAccess, AuditPage, AuditQuery, EffectivePermissions};
use app::error::AppError;
use app::model::Caller;
use app::services::BoxFuture;

/// Decides `permission` (about nothing in particular) for `caller`; a refusal is recorded as
/// `action` and returned as [`CatalogError::Forbidden`] naming the rule.
pub fn authorize_read(
    facade: &Facade,
    audit: &Audit,
    caller: &Caller,
    permission: Permission,
    action: Action,
) -> Result<(), CatalogError> {
    facade
        .authorize(caller, permission, &Resource::None)
        .inspect_err(|e| {
            audit.record(
                Event::new(Actor::of(caller), action, Outcome::Refused).detail(e.to_string()),
            )
        })
}

/// The admin pages' service.
#[derive(Clone)]
pub struct AuditViews {
    pub facade: Facade,
    pub store: Store,
    pub audit: Audit,
}

impl app::services::AuditAdmin for AuditViews {
    fn access(&self, caller: &Caller) -> AdminAccess {
        let policy = self.facade.policy();
        let may = |p| policy.decide(caller, p, &Resource::None).allowed;
        AdminAccess {
            audit: may(Permission::AuditRead),
            permissions: may(Permission::PolicyRead),
        }
    }

    fn events(&self, caller: Caller, q: AuditQuery) -> BoxFuture<Result<AuditPage, AppError>> {
        let this = self.clone();
        Box::pin(async move {
            authorize_read(
                &this.facade,
                &this.audit,
                &caller,
                Permission::AuditRead,
                Action::AuditRead,
            )?;
            let filter = query::filter(&q, Strictness::Page)?;
            Ok(query::page(&this.store, &filter).await?)
        })
    }

    fn permissions(&self, caller: &Caller, user: &str) -> Result<EffectivePermissions, AppError> {
        authorize_read(
            &self.facade,
            &self.audit,
            caller,
            Permission::PolicyRead,
            Action::PolicyRead,
        )?;
        let user = normalise_user(user);
        let v = self.facade.read_unfiltered();
        let (subject, known) =
            crate::policy::explain::caller_of(&v, &user).map_err(|e| AppError::InvalidInput {
                message: e.clone(),
                fields: vec![app::error::FieldError {
                    field: "user".into(),
                    message: e,
                }],
            })?;
        let policy = self.facade.policy();
        let groups: Vec<String> = subject.groups.iter().map(|g| g.to_ref_string()).collect();
        let ownership = subject
            .user
            .iter()
            .map(|u| u.to_ref_string())
            .chain(groups.iter().cloned())
            .collect();
        Ok(EffectivePermissions {
            user: subject
                .user
                .as_ref()
                .map_or_else(|| "guest".to_string(), |u| u.to_ref_string()),
            known,
            groups,
            ownership,
            roles: policy.role_names(&subject),
            policy: policy.source.clone(),
            decisions: crate::policy::explain::effective(&policy, &subject),
        })
    }
}

/// `alice` → `user:default/alice`, `user:alice` → `user:default/alice`; `guest` and full
/// references as they are.
fn normalise_user(user: &str) -> String {
    let user = user.trim();
    if user == "guest" || user.is_empty() {
        return user.to_string();
    }
    let (kind, rest) = user.split_once(':').unwrap_or(("user", user));
    if rest.contains('/') {
        format!("{kind}:{rest}")
    } else {
        format!("{kind}:default/{rest}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn users_are_named_in_full() {
        use super::normalise_user as n;
        assert_eq!(n("alice"), "user:default/alice");
        assert_eq!(n(" user:alice "), "user:default/alice");
        assert_eq!(n("user:ops/bob"), "user:ops/bob");
        assert_eq!(n("guest"), "guest");
    }
}
