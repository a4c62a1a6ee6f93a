//! imagespec-core: the spec model and everything that is a pure function of it.
//!
//! ```text
//!                      imagespec-cli  (lib + binary `imagespec`; cargo features pick plugins)
//!                     /        |          |          \
//!   builders: imagespec-docker, imagespec-noop     checker: imagespec-registry
//!   installers: imagespec-uv, imagespec-poetry, imagespec-micromamba
//!                     \        |          |          /     (each: inventory::submit!)
//!                            imagespec-core   (this crate: names no plugin)
//! ```
//!
//! Data flows one way: a spec file is [loaded](spec::load_file) into an
//! [`ImageSpec`], whose [`identity`](ImageSpec::identity) (id, tag, image name)
//! is flytekit's; [installers](installer) turn it into a build plan, which is
//! rendered to a Dockerfile by a pure function.

pub mod builder;
pub mod context;
pub mod engine;
pub mod error;
pub mod existence;
pub mod hash;
pub mod installer;
pub mod knobs;
pub mod plan;
mod plugin;
pub mod pycompat_path;
pub mod pyvalue;
pub mod render;
pub mod source;
pub mod spec;
pub mod traps;
pub mod yaml;

pub use error::{Error, PluginKind, Result, SpecError};
pub use hash::Identity;
pub use spec::{BaseImage, CopyMode, ImageSpec};

/// Re-exported so plugin crates can `inventory::submit!` without depending on inventory.
pub use inventory;

impl ImageSpec {
    /// The checks flytekit's `tag` makes (a requirements file to read, a
    /// source_root to list), on this spec and its nested bases: what every
    /// builder needs, since every image is named by its tag.
    pub fn check_identity(&self) -> Result<()> {
        Ok(spec::check_identity_inputs(self)?)
    }

    /// Every check a spec must pass before its Docker build context can be
    /// made: [`ImageSpec::check_identity`], then flytekit's
    /// `create_docker_context` errors (cuda, python_exec with conda, `copy`
    /// paths) and the chosen installers' (lock files), for this spec. A
    /// nested base is checked by its own builder when it is built.
    pub fn check(&self) -> Result<()> {
        self.check_identity()?;
        spec::check_context_inputs(self)?;
        installer::check(self)
    }
}
