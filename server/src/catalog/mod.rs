//! The catalog: Backstage-compatible entities from descriptor files, processed, stored and
//! stitched with their relations.
//!
//! Stages: an entity [`source`] (files, Git; one per kind of location, outside this module)
//! reads a location with the one [`walk`]er, [`processing`] turning each descriptor into
//! validated entities; [`plan`] decides what changed; [`service`] writes it through `storage`
//! and publishes a [`snapshot`] that every reader uses; [`query`] runs Backstage's filters over
//! a snapshot; [`views`] shapes it for the UI.

pub mod added;
pub mod admin;
pub mod annotations;
pub mod facade;
pub mod parse;
pub mod placeholder;
pub mod plan;
pub mod processing;
pub mod query;
pub mod reference;
mod refresh;
pub mod relations;
pub mod service;
pub mod snapshot;
pub mod source;
mod sync;
pub mod validation;
pub mod views;
pub mod walk;

#[cfg(test)]
mod tests;

pub use service::{CatalogService, CatalogSettings, OrphanStrategy};
pub use source::{LocationType, NewLocation, Origin};

/// What can go wrong when using the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The location's source (a Git repository) could not be read.
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("internal error: {0}")]
    Internal(String),
}
