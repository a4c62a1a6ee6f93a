//! The checks a Docker build context needs before it is written.

use imagespec_core::error::{Error, Result, SpecError};
use imagespec_identity::job::BuildJob;

use crate::installer::Installers;

/// flytekit's `create_docker_context` errors and the chosen installers'
/// checks: what a Docker build context of the job needs (a builder that
/// makes no context is spared them, as flytekit's noop builder is).
pub fn context_checks(job: &BuildJob, installers: &Installers<'_>) -> Result<()> {
    let spec = &job.spec;
    if spec.cuda().is_some() || spec.cudnn().is_some() {
        let field = if spec.cuda().is_some() {
            "cuda"
        } else {
            "cudnn"
        };
        return Err(SpecError::field(
            field,
            "cuda and cudnn do not need to be specified. If you are installed a GPU accelerated library on PyPI, \
             then it likely will install cuda from PyPI.With conda you can installed cuda from the `nvidia` channel \
             by adding `nvidia` to ImageSpec.conda_channels and adding packages from https://anaconda.org/nvidia \
             into ImageSpec.conda_packages. If you require cuda for non-python dependencies, you can set a \
             `base_image` with cuda preinstalled.",
        )
        .hint("remove cuda and cudnn; use a CUDA base_image or conda packages from the `nvidia` channel")
        .into());
    }
    if let Some(copy) = &job.inputs.copy {
        if let Err(e) = &copy.context {
            return Err(Error::Spec(e.clone()));
        }
    }
    crate::installer::validate(installers, spec.view(), &job.inputs)
}
