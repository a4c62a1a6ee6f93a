//! An image builder from outside imagespec's workspace crates: `context-dir`.
//!
//! It "builds" an image by copying the build context the pipeline prepared
//! into a folder named by `builder_options.output_dir`
//! (`<output_dir>/<name>/<tag>/`), and says the image exists when that
//! folder does. Useful on its own for handing contexts to another build
//! system; here it shows every part of the plugin API:
//!
//! 1. implement [`Plugin`] (`name`) and [`ImageBuilder`] (`build_image`,
//!    and optionally `check`, `existence`, `planned_commands`) over what the
//!    pipeline hands a builder: the [`Target`] (spec, image name, platforms,
//!    whether to push) and a prepared, rechecked [`BuildRequest::context`];
//! 2. register it: `inventory::submit!(BuilderRegistration::new(&B, priority))`;
//! 3. link it into a binary (`src/main.rs` calls [`link`] and then
//!    `imagespec_cli::main()`), so a spec can say `builder: context-dir`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use imagespec_core::builder::{
    BuildOutcome, BuildRequest, BuilderRegistration, ImageBuilder, Target,
};
use imagespec_core::existence::Existence;
use imagespec_core::{Error, Plugin, Result, SpecError};

/// Low priority: used only when a spec asks for it by name.
pub const PRIORITY: i32 = -10;

/// Writes build contexts into a folder instead of building images.
#[derive(Debug, Clone, Copy)]
pub struct ContextDirBuilder;

impl ContextDirBuilder {
    /// `<builder_options.output_dir>/<name>/<tag>`.
    fn output(target: &Target<'_>) -> std::result::Result<PathBuf, SpecError> {
        let spec = target.spec;
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
        let tag = target.image_name.rsplit(':').next().unwrap_or_default();
        Ok(spec.resolve(dir).join(spec.name()).join(tag))
    }
}

impl Plugin for ContextDirBuilder {
    fn name(&self) -> &'static str {
        "context-dir"
    }
}

#[async_trait]
impl ImageBuilder for ContextDirBuilder {
    /// Before anything is built: the spec names an output folder.
    fn check(&self, target: &Target<'_>) -> std::result::Result<(), SpecError> {
        Self::output(target).map(drop)
    }

    async fn existence(&self, target: &Target<'_>) -> Result<Option<Existence>> {
        let output = Self::output(target)?;
        Ok(Some(if output.join("Dockerfile").is_file() {
            Existence::Exists {
                digest: format!("file://{}", output.display()),
            }
        } else {
            Existence::Missing {
                reason: format!("{} has no context yet", output.display()),
                digest: None,
            }
        }))
    }

    async fn build_image(&self, request: &BuildRequest<'_>) -> Result<BuildOutcome> {
        let output = Self::output(&request.target)?;
        let Some(context) = request.context else {
            return Err(Error::Other("no context was prepared".into()));
        };
        copy_tree(&context.dir, &output)?;
        Ok(BuildOutcome {
            real_name: None,
            pushed: false,
            digest: None,
            context: Some(output),
        })
    }
}

/// Copies the folder `from` to `to` (created), files and folders only.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io("list", from, e))? {
        let entry = entry.map_err(|e| Error::io("list", from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .map_err(|e| Error::io("inspect", &src, e))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| Error::io("copy", &src, e))?;
        }
    }
    Ok(())
}

imagespec_core::inventory::submit!(BuilderRegistration::new(&ContextDirBuilder, PRIORITY));

/// Referenced by the binary so the linker keeps the registration.
pub fn link() {}
