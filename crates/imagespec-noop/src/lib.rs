//! The `noop` builder, as flytekit's `NoOpBuilder`: builds nothing, checks
//! nothing, and answers with the spec's `base_image`, which then stands for
//! the spec's image (and is what dependents build on).

use async_trait::async_trait;
use imagespec_core::builder::{BuildOptions, BuildOutcome, BuilderRegistration, ImageBuilder};
use imagespec_core::existence::Decision;
use imagespec_core::{BaseImage, ImageSpec, Result, SpecError};

/// flytekit registers `noop` with priority 0 (below the Docker builder's 1).
pub const PRIORITY: i32 = 0;

/// Uses `base_image` as the image.
#[derive(Debug, Clone, Copy)]
pub struct NoopBuilder;

#[async_trait]
impl ImageBuilder for NoopBuilder {
    fn name(&self) -> &'static str {
        "noop"
    }

    /// flytekit's NoOpBuilder makes no build context, so none of its checks
    /// apply: only the tag's, and `base_image` must be a name.
    fn check(&self, spec: &ImageSpec) -> Result<()> {
        spec.check_identity()?;
        base_name(spec).map(|_| ())
    }

    fn planned_real_name(&self, spec: &ImageSpec) -> Result<Option<String>> {
        base_name(spec).map(Some)
    }

    /// Never checks: there is nothing to build, so "building" is always right.
    async fn should_build(&self, _spec: &ImageSpec, _options: &BuildOptions) -> Result<Decision> {
        Ok(Decision::Build {
            reason: "the noop builder uses base_image as it is".into(),
        })
    }

    async fn build_image(&self, spec: &ImageSpec, _options: &BuildOptions) -> Result<BuildOutcome> {
        let base = base_name(spec)?;
        Ok(BuildOutcome {
            image_name: spec.identity()?.image_name,
            real_name: Some(base),
            pushed: false,
            digest: None,
            context: None,
            skipped: false,
        })
    }
}

/// The name noop answers with: the spec's `base_image`, which must be a
/// name, or a nested spec (flytekit's engine builds it first and hands noop
/// the name it answered with).
fn base_name(spec: &ImageSpec) -> Result<String> {
    match spec.base_image() {
        Some(BaseImage::Name(base)) => Ok(base.clone()),
        Some(BaseImage::Spec(base)) => {
            imagespec_core::builder::dependent_name(base, &base.identity()?.image_name)
        }
        None => Err(SpecError::field(
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
