//! The `noop` builder, as flytekit's `NoOpBuilder`: builds nothing, checks
//! nothing, and answers with the spec's `base_image`, which then stands for
//! the spec's image (and is what dependents build on).

use async_trait::async_trait;
use imagespec_core::builder::{
    BuildOutcome, BuildRequest, BuilderRegistration, ImageBuilder, Target,
};
use imagespec_core::{BaseImage, Plugin, Result, SpecError};

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
    /// Never taken in place of a builder that is missing: it builds
    /// nothing, so a spec (or `--builder`) must name it.
    fn available(&self) -> std::result::Result<(), String> {
        Err("it builds nothing, so only a spec or --builder that names it gets it".into())
    }

    /// flytekit's NoOpBuilder makes no build context, so none of its checks
    /// apply (the tag's were made when the job was prepared).
    fn needs_context(&self) -> bool {
        false
    }

    /// Only that `base_image` names an image.
    fn check(&self, target: &Target<'_>) -> std::result::Result<(), SpecError> {
        base_name(target).map(|_| ())
    }

    fn planned_real_name(
        &self,
        target: &Target<'_>,
    ) -> std::result::Result<Option<String>, SpecError> {
        base_name(target).map(Some)
    }

    /// Never asks: there is nothing to build, so "building" is always right.
    fn checks_existence(&self) -> bool {
        false
    }

    async fn build_image(&self, request: &BuildRequest<'_>) -> Result<BuildOutcome> {
        Ok(BuildOutcome {
            real_name: Some(base_name(&request.target)?),
            pushed: false,
            digest: None,
            context: None,
        })
    }
}

/// The name noop answers with: the spec's `base_image`, a name, or the name a
/// nested base was built as (flytekit's engine builds it first and hands noop
/// that name).
fn base_name(target: &Target<'_>) -> std::result::Result<String, SpecError> {
    match (target.spec.base_image(), target.base_image) {
        (Some(BaseImage::Name(base)), _) => Ok(base.clone()),
        (Some(BaseImage::Spec(_)), Some(resolved)) => Ok(resolved.to_string()),
        _ => Err(SpecError::field(
            "base_image",
            "base_image must be a string to use the noop image builder",
        )
        .hint("name an existing image in base_image, or use another builder")),
    }
}

imagespec_core::inventory::submit!(BuilderRegistration::new(&NoopBuilder, PRIORITY));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}
