//! What the policy decides for one user, explained: who the user is as sign-in finds them
//! ([`caller_of`]: their groups from the catalog) and every known permission's decision with
//! the rule that made it ([`effective`]). `backlot policy check` and the admin page
//! `/admin/permissions` both use it.

use super::{Permission, Policy, Resource};
use crate::catalog::facade::Visible;
use app::audit::PermissionDecision;
use app::model::{Caller, EntityRef};

/// The caller `user` names (`guest`, or a user reference `kind:namespace/name`) with their
/// groups as sign-in finds them: the User entity's `memberOf` relations. Also whether that
/// entity exists.
pub fn caller_of(v: &Visible, user: &str) -> Result<(Caller, bool), String> {
    if user == "guest" {
        return Ok((Caller::guest(), false));
    }
    let r = EntityRef::from_ref_string(user).ok_or_else(|| {
        "the user must be kind:namespace/name (user:default/alice) or guest".to_string()
    })?;
    let record = v.get(&r.kind, &r.namespace, &r.name);
    let groups = record
        .map(|rec| {
            rec.related("memberOf")
                .filter_map(|x| EntityRef::from_ref_string(&x.target_ref))
                .collect()
        })
        .unwrap_or_default();
    Ok((
        Caller {
            user: Some(r),
            groups,
            ..Default::default()
        },
        record.is_some(),
    ))
}

/// Every known permission's decision for `caller`, about nothing in particular (rules with
/// conditions do not apply; `conditional` says where they could).
pub fn effective(policy: &Policy, caller: &Caller) -> Vec<PermissionDecision> {
    Permission::ALL
        .into_iter()
        .map(|p| {
            let d = policy.decide(caller, p, &Resource::None);
            PermissionDecision {
                permission: p.as_str().to_string(),
                allowed: d.allowed,
                explanation: d.to_string(),
                rule: d.by.as_ref().map(ToString::to_string),
                conditional: policy.is_conditional(caller, p),
            }
        })
        .collect()
}
