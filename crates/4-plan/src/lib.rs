//! The fourth stage: the plan of an image and its text.
//!
//! [`layout::plan`] lays out flytekit's Dockerfile as a [`model::BuildPlan`],
//! a pure function of a `BuildJob` (the spec and its inputs), the
//! installers it is handed and the Python defaults; the chosen
//! [`installer::Installer`]s fill its slots. [`render::render`] writes the
//! text, in one place, with all quoting. [`checks::context_checks`] are
//! flytekit's refusals of a Docker context. Nothing here reads a file.
//!
//! Modules, in the order they build on each other: `model` (the plan's
//! types and the builder installers fill) → `installer` (the plugin trait)
//! → `layout` (flytekit's layout) and `checks` → `render`.

pub mod checks;
pub mod installer;
pub mod layout;
pub mod model;
pub mod render;

pub use checks::context_checks;
pub use installer::{Installer, InstallerRegistration, Installers, Role};
pub use layout::{plan, DEFAULT_BASE_IMAGE, IMAGE_USER};
pub use model::*;
