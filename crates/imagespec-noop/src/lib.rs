//! The `noop` builder, as flytekit's `NoOpBuilder`: builds nothing, checks
//! nothing, and answers with the spec's `base_image`, which then stands for
//! the spec's image (and is what dependents build on).

use async_trait::async_trait;
use imagespec_core::builder::{BuildOptions, BuildOutcome, BuilderRegistration, ImageBuilder};
use imagespec_core::existence::Decision;
use imagespec_core::{BaseImage, BuildJob, Plugin, Result, SpecError};

/// flytekit registers `noop` with priority 0 (below the Docker builder's 1).
pub const PRIORITY: i32 = 0;

/// Uses `base_image` as the image.
#[derive(Debug, Clone, Copy)]
pub struct NoopBuilder;

impl Plugin for NoopBuilder {
    fn name(&self) -> &'static str {
        "noop"
    }
}

#[async_trait]
impl ImageBuilder for NoopBuilder {
    /// flytekit's NoOpBuilder makes no build context, so none of its checks
    /// apply (the tag's were made when the job was prepared): only that
    /// `base_image` names an image.
    fn check(&self, job: &BuildJob) -> Result<()> {
        base_name(job).map(|_| ())
    }

    fn planned_real_name(&self, job: &BuildJob) -> Result<Option<String>> {
        base_name(job).map(Some)
    }

    /// Never checks: there is nothing to build, so "building" is always right.
    async fn should_build(&self, _job: &BuildJob, _options: &BuildOptions) -> Result<Decision> {
        Ok(Decision::Build {
            reason: "the noop builder uses base_image as it is".into(),
        })
    }

    async fn build_image(&self, job: &BuildJob, _options: &BuildOptions) -> Result<BuildOutcome> {
        Ok(BuildOutcome {
            real_name: Some(base_name(job)?),
            pushed: false,
            digest: None,
            context: None,
        })
    }
}

/// The name noop answers with: the spec's `base_image`, a name, or the name a
/// nested base was built as (flytekit's engine builds it first and hands noop
/// that name).
fn base_name(job: &BuildJob) -> Result<String> {
    match (job.spec.base_image(), &job.inputs.base) {
        (Some(BaseImage::Name(base)), _) => Ok(base.clone()),
        (Some(BaseImage::Spec(_)), Some(resolved)) => Ok(resolved.name.clone()),
        _ => Err(SpecError::field(
            "base_image",
            "base_image must be a string to use the noop image builder",
        )
        .hint("name an existing image in base_image, or use another builder")
        .into()),
    }
}

imagespec_core::inventory::submit!(BuilderRegistration::new(&NoopBuilder, PRIORITY));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}
