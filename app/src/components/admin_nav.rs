//! The footer's links to the admin pages (`/admin/audit`, `/admin/permissions`), shown only to
//! callers the policy lets open them (`audit.read`, `policy.read`). In the footer, so the
//! header's tab order and the account menu stay as they are.

use crate::audit::AdminAccess;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn AdminNav() -> impl IntoView {
    let access = AdminAccess::current();
    let pathname = use_location().pathname;
    let current = move |path: &'static str| (pathname.get() == path).then_some("page");
    (access.audit || access.permissions).then(|| {
        view! {
            <nav class="admin-nav" aria-label="Administration">
                {access
                    .audit
                    .then(|| {
                        view! {
                            <a href="/admin/audit" aria-current=move || current("/admin/audit")>
                                "Audit log"
                            </a>
                        }
                    })}
                {access
                    .permissions
                    .then(|| {
                        view! {
                            <a href="/admin/permissions" aria-current=move || current("/admin/permissions")>
                                "Permissions"
                            </a>
                        }
                    })}
            </nav>
        }
    })
}
