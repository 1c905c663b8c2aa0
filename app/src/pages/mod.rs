//! One module per route: home (and the teams view), catalog, entity (with the group and user variants), docs, locations,
//! catalog errors, search, Kubernetes clusters, sign-in, settings (API tokens), the admin pages
//! (audit log, permissions) and the 404 page.

pub mod admin;
pub mod catalog;
pub mod create;
pub mod docs;
pub mod entity;
pub mod errors;
pub mod group;
pub mod home;
pub mod kubernetes;
pub mod locations;
pub mod not_found;
pub mod search;
pub mod settings;
pub mod signin;
pub mod tasks;
pub mod user;
