//! The signed-in user's menu in the header: their name, opening (a `<details>` disclosure, so
//! it works without JavaScript) on "Profile" (their User entity's page), "My groups" (its groups),
//! "API tokens" (`/settings/tokens`) and "Sign out" (a plain form posting to the sign-out route).

use crate::model::EntityRef;
use crate::pages::settings::TOKENS_PATH;
use leptos::prelude::*;

#[component]
pub fn UserMenu(
    /// What the header shows.
    name: String,
    /// The user's entity, when the session has one.
    user: Option<EntityRef>,
) -> impl IntoView {
    let profile = user.as_ref().map(EntityRef::href);
    let groups = profile.as_ref().map(|p| format!("{p}#groups-heading"));
    view! {
        <details class="account user-menu">
            <summary>
                <span class="visually-hidden">"Signed in as "</span>
                <span class="account-name">{name}</span>
            </summary>
            <ul class="user-menu-items">
                {profile.map(|href| view! { <li><a href=href>"Profile"</a></li> })}
                {groups.map(|href| view! { <li><a href=href>"My groups"</a></li> })}
                <li>
                    <a href=TOKENS_PATH>"API tokens"</a>
                </li>
                <li>
                    <form method="post" action="/api/auth/logout">
                        <button type="submit" class="user-menu-signout">"Sign out"</button>
                    </form>
                </li>
            </ul>
        </details>
    }
}
