//! The scaffolder: Backstage software templates (`scaffolder.backstage.io/v1beta3`) run
//! unchanged, producing the files Backstage produces.
//!
//! - [`run`]: a template's steps run as Backstage's runner runs them (`if`, `each`, inputs
//!   rendered, outputs kept, the `output` rendered; a dry-run skips what cannot dry-run), over
//!   the [`actions`] and a [`workspace`] whose paths never leave it;
//! - [`tasks`]: runs as stored tasks: created from a catalog Template and validated values,
//!   claimed by one worker of any replica, run with live events, cancelled, retried, and
//!   failed as interrupted when their worker stopped; each run's actions reach the catalog as
//!   the task's creator ([`actions::TaskContext`]).
//!
//! What a template makes leaves the workspace through the server's actions:
//! - [`publish`]: `publish:git`, the workspace as a new repository of the Git host Backlot
//!   manages ([`managed_git`]: bare repositories under `scaffolder.managed_git.dir`);
//! - [`publish_hosted`]: `publish:github` and `publish:gitlab`, through the hosts' REST APIs
//!   with the tokens of `git.credentials`;
//! - [`catalog`]: `catalog:register` and `catalog:fetch`, through the catalog's one door
//!   (policy, audit) as the task's creator; `catalog:write` records where the entity came
//!   from ([`provenance`]).
//!
//! Fetch actions read the template's own folder, or another repository ([`remote`]).
//!
//! The rendering core:
//! - [`render`]: the template engine: `${{ … }}` expressions and `{% … %}` blocks with
//!   Backstage's filters and JavaScript's printing ([`Renderer::render_str`]), and step inputs
//!   and `output` rendered with JSON coercion ([`Renderer::render_value`]);
//! - [`skeleton`]: a `fetch:template` skeleton rendered over in-memory files
//!   ([`Renderer::render_skeleton`]): paths rendered and skipped or refused as Backstage does,
//!   `copyWithoutTemplating`, `templateFileExtension`, `cookiecutterCompat`, binary files.
//!
//! `testdata/` holds templates whose expected files and values were recorded from the real
//! Backstage scaffolder (`testdata/record.py`); the tests compare with them exactly.

pub mod actions;
pub mod approval;
pub mod catalog;
pub mod check;
pub mod checkpoint;
pub mod config;
pub mod dry_run;
pub mod edit;
mod js;
pub mod managed_git;
pub mod preview;
pub mod provenance;
pub mod publish;
pub mod publish_hosted;
pub mod remote;
pub mod render;
pub mod run;
pub mod skeleton;
pub mod tasks;
pub mod views;
pub mod workspace;

#[cfg(test)]
mod tests;

pub use render::{Renderer, Syntax};
pub use skeleton::{SkeletonFile, SkeletonOptions};

/// What can go wrong when rendering a template.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    /// The template does not parse, or an expression fails (an unknown filter, calling
    /// undefined, a filter's own error). `file` is the skeleton path, when there is one; `line`
    /// counts from 1 within that file (or within the rendered path).
    #[error("{}{}: {message}", file.as_deref().unwrap_or("template"), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template {
        file: Option<String>,
        line: Option<usize>,
        message: String,
    },
    /// A path (`targetPath`, or a rendered file path) would leave the workspace.
    #[error("{path}: the path would leave the workspace")]
    OutsideWorkspace { path: String },
    /// The action's input is not usable (for example `templateFileExtension` with
    /// `copyWithoutTemplating`).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}
