//! An image builder from outside imagespec's workspace crates: `context-dir`.
//!
//! It "builds" an image by writing its build context into a folder named by
//! `builder_options.output_dir` (`<output_dir>/<name>/<tag>/`), and says the
//! image exists when that folder does. Useful on its own for handing contexts
//! to another build system; here it shows every part of the plugin API:
//!
//! 1. implement [`Plugin`] (`name`) and [`ImageBuilder`] (`build_image`, and
//!    optionally `check`, `existence`, `should_build`) over a prepared
//!    [`BuildJob`]: the spec, what its files hold, and its identity;
//! 2. register it: `inventory::submit!(BuilderRegistration::new(&B, priority))`;
//! 3. link it into a binary (`src/main.rs` calls [`link`] and then
//!    `imagespec_cli::main()`), so a spec can say `builder: context-dir`.

use std::path::PathBuf;

use async_trait::async_trait;
use imagespec_core::builder::{BuildOptions, BuildOutcome, BuilderRegistration, ImageBuilder};
use imagespec_core::context::write_context;
use imagespec_core::existence::Existence;
use imagespec_core::{BuildJob, Plugin, Result, SpecError};

/// Low priority: used only when a spec asks for it by name.
pub const PRIORITY: i32 = -10;

/// Writes build contexts into a folder instead of building images.
#[derive(Debug, Clone, Copy)]
pub struct ContextDirBuilder;

impl ContextDirBuilder {
    /// `<builder_options.output_dir>/<name>/<tag>`.
    fn target(job: &BuildJob) -> Result<PathBuf> {
        let spec = &job.spec;
        let dir = spec
            .builder_options()
            .iter()
            .find(|(k, _)| k.as_str() == Some("output_dir"))
            .and_then(|(_, v)| v.as_str())
            .ok_or_else(|| {
                SpecError::field(
                    "builder_options.output_dir",
                    "the context-dir builder needs an output folder",
                )
                .hint("add `builder_options: {output_dir: some/folder}` to the spec")
            })?;
        Ok(spec.resolve(dir).join(spec.name()).join(&job.identity.tag))
    }
}

impl Plugin for ContextDirBuilder {
    fn name(&self) -> &'static str {
        "context-dir"
    }
}

#[async_trait]
impl ImageBuilder for ContextDirBuilder {
    async fn existence(&self, job: &BuildJob) -> Result<Existence> {
        let target = Self::target(job)?;
        Ok(if target.join("Dockerfile").is_file() {
            Existence::Exists {
                digest: format!("file://{}", target.display()),
            }
        } else {
            Existence::Missing {
                reason: format!("{} has no context yet", target.display()),
                digest: None,
            }
        })
    }

    async fn build_image(&self, job: &BuildJob, options: &BuildOptions) -> Result<BuildOutcome> {
        let target = Self::target(job)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| imagespec_core::Error::io("create", parent, e))?;
        }
        let written = write_context(job, &options.defaults, &target)?;
        Ok(BuildOutcome {
            real_name: None,
            pushed: false,
            digest: None,
            context: Some(written.dir),
        })
    }
}

imagespec_core::inventory::submit!(BuilderRegistration::new(&ContextDirBuilder, PRIORITY));

/// Referenced by the binary so the linker keeps the registration.
pub fn link() {}
