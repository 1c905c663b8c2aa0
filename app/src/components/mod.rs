//! Reusable pieces of the UI: page layout, search box, relations graph, problem lists and
//! small building blocks shared by the pages.

pub mod admin_nav;
pub mod common;
pub mod delivery;
pub mod entity_parts;
pub mod fetch;
pub mod get_form;
pub mod graph;
pub mod layout;
pub mod observability;
pub mod problems;
pub mod resources;
pub mod scorecards;
pub mod search_box;
pub mod user_menu;
pub mod wizard_checks;
