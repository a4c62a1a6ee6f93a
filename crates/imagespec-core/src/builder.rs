//! Image builders: the plugins that turn a prepared [`BuildJob`] into an image.
//!
//! A builder crate registers itself with
//! `inventory::submit!(BuilderRegistration::new(&MyBuilder, priority))`. A
//! spec's `builder` field picks one by name; without it, the registered
//! builder with the highest priority is used (ties broken by name). This
//! crate names no builder.
//!
//! [`prepare`] is where a spec becomes a job: its nested bases first, each
//! base standing for the name its builder will answer with.

use std::path::PathBuf;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, PluginKind, Result, SpecError};
use crate::existence::{decide, Decision, Existence};
use crate::job::{BuildJob, Preparer};
use crate::knobs::PythonDefaults;
use crate::plugin::{collected, Plugin, Registration, Registry};
use crate::spec::{ImageSpec, SpecRef};

/// Environment variable that turns pushing off (`false`/`0`).
pub const ENV_PUSH: &str = "IMAGESPEC_PUSH";
/// flytekit's variable with the same meaning.
pub const ENV_FLYTE_PUSH: &str = "FLYTE_PUSH_IMAGE_SPEC";

/// How a build is run.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Push the image when the spec has a registry.
    pub push: bool,
    /// The values flytekit takes from its Python process.
    pub defaults: PythonDefaults,
    /// Write the build context here and keep it, instead of a temporary folder.
    pub keep_context: Option<PathBuf>,
    /// Build and push even when the image exists (`force_push()`, `--force-push`,
    /// `FLYTE_FORCE_PUSH_IMAGE_SPEC`).
    pub force_push: bool,
    /// Fail instead of assuming the image exists when the check cannot tell
    /// (`--fast-fail`, `FLYTE_IMG_FAST_FAIL`).
    pub fast_fail: bool,
    /// Assume an image exists when its existence cannot be told (flytekit's
    /// behaviour, `--assume-exists-when-unknown`); off, such an image is built.
    pub assume_exists_when_unknown: bool,
    /// Print nothing but errors (`-q`): builders keep their output to
    /// themselves, and show its end only when they fail.
    pub quiet: bool,
    /// Where the locks that keep two processes from building one image at
    /// once live (`None`: no locking).
    pub lock_dir: Option<PathBuf>,
}

impl BuildOptions {
    /// The existence policy these options ask for, with the spec's own
    /// (a typed spec's `_is_force_push` and `_fast_fail`).
    pub fn policy(&self, spec: SpecRef<'_>) -> crate::existence::Policy {
        crate::existence::Policy {
            force_push: self.force_push || spec.is_force_push(),
            fast_fail: self.fast_fail || spec.is_fast_fail(),
            assume_exists_when_unknown: self.assume_exists_when_unknown,
        }
    }
}

impl BuildOptions {
    /// Whether pushing is on by the environment: `IMAGESPEC_PUSH`, else
    /// `FLYTE_PUSH_IMAGE_SPEC`, each read exactly as flytekit reads its
    /// variable (`os.getenv(name, "True").lower() in ("true", "1")`): unset
    /// is on; set, only `true` (any case) and `1` are on.
    pub fn push_from_env() -> bool {
        let value = std::env::var(ENV_PUSH).or_else(|_| std::env::var(ENV_FLYTE_PUSH));
        match value {
            Ok(v) => push_value(&v),
            Err(_) => true,
        }
    }
}

/// flytekit's test of `FLYTE_PUSH_IMAGE_SPEC`: `value.lower() in ("true", "1")`.
pub fn push_value(value: &str) -> bool {
    matches!(value.to_lowercase().as_str(), "true" | "1")
}

/// What a build produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildOutcome {
    /// The fully qualified name the builder produced, when it differs from
    /// the job's image name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// Whether the image was pushed.
    pub pushed: bool,
    /// The manifest digest in the registry, when pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The kept build context.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "lossy_path")]
    pub context: Option<PathBuf>,
}

/// A path as text, lossy where it is not UTF-8 (JSON holds no other bytes).
fn lossy_path<S: serde::Serializer>(path: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(p) => s.serialize_str(&p.to_string_lossy()),
        None => s.serialize_none(),
    }
}

/// An image builder plugin.
#[async_trait]
pub trait ImageBuilder: Plugin {
    /// Every check a job must pass before this builder can build it. The
    /// default is what a Docker build context needs ([`context_checks`]:
    /// flytekit's `create_docker_context` errors and the installers'); a
    /// builder that makes no context (noop) checks less, as flytekit's do.
    fn check(&self, job: &BuildJob) -> Result<()> {
        context_checks(job)
    }

    /// The fully qualified name [`ImageBuilder::build_image`] will answer
    /// with, when the builder knows it without building (noop: the spec's
    /// `base_image`). flytekit maps the spec's image name to it, so a spec
    /// built on this one builds on that name, and hashes it. `None`: the
    /// image name itself.
    fn planned_real_name(&self, _job: &BuildJob) -> Result<Option<String>> {
        Ok(None)
    }

    /// Whether the image exists where this builder would put it. The default
    /// asks the registered registry checker when the spec has a registry; a
    /// builder that can look elsewhere (a local engine) overrides it.
    async fn existence(&self, job: &BuildJob) -> Result<Existence> {
        registry_existence(job).await
    }

    /// flytekit's `should_build`: [`ImageBuilder::existence`] through
    /// [`crate::existence::decide`].
    async fn should_build(&self, job: &BuildJob, options: &BuildOptions) -> Result<Decision> {
        let image = &job.identity.image_name;
        let policy = options.policy(job.spec.view());
        let existence = match self.existence(job).await {
            // Forced builds need no answer.
            Err(Error::MissingPlugin { .. }) if policy.force_push => {
                return Ok(Decision::Build {
                    reason:
                        "forced (--force-push); existence not checked: no registry checker built in"
                            .into(),
                })
            }
            other => other?,
        };
        decide(image, &existence, policy)
    }

    /// The commands [`ImageBuilder::build_image`] would run for this job, as
    /// shell lines, for `build --dry-run --show command` (a secret's source
    /// is named, never its content). The default: none (a builder that runs
    /// no command, as noop).
    async fn planned_commands(
        &self,
        _job: &BuildJob,
        _options: &BuildOptions,
    ) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// Builds (and pushes, when asked) the image of a checked job whose
    /// nested base, if any, was built already.
    async fn build_image(&self, job: &BuildJob, options: &BuildOptions) -> Result<BuildOutcome>;
}

/// flytekit's `create_docker_context` errors and the chosen installers'
/// checks: what a Docker build context of the job needs.
pub fn context_checks(job: &BuildJob) -> Result<()> {
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
    crate::installer::validate(spec.view(), &job.inputs)
}

/// Whether a job's image exists in its registry, asked of the registered
/// checker; a spec without a registry counts as missing.
pub async fn registry_existence(job: &BuildJob) -> Result<Existence> {
    let image = &job.identity.image_name;
    if job.spec.registry().is_none() {
        return Ok(Existence::Missing {
            reason: "no registry to look in".into(),
            digest: None,
        });
    }
    let platforms: Vec<String> = job.spec.platforms().iter().map(|p| p.to_string()).collect();
    match crate::existence::checker()? {
        Some(checker) => Ok(checker.check(image, &platforms).await),
        None => Err(Error::MissingPlugin {
            kind: PluginKind::Checker,
            needed_for: format!("checking whether `{image}` exists in its registry"),
        }),
    }
}

/// A builder's entry in the registry.
pub type BuilderRegistration = Registration<dyn ImageBuilder>;

inventory::collect!(BuilderRegistration);

/// A set of builders (the registered ones, or an embedder's own).
pub type Builders = Registry<dyn ImageBuilder>;

/// The builders registered with `inventory::submit!` in this program, built once.
pub fn registry() -> Result<&'static Builders> {
    collected!(dyn ImageBuilder, "image builders")
}

/// The builder a spec asks for by name, or the highest-priority one.
pub fn for_spec_in(builders: &Builders, spec: &ImageSpec) -> Result<&'static dyn ImageBuilder> {
    match spec.builder() {
        Some(name) => builders.get(name).ok_or_else(|| {
            let known = builders.names();
            SpecError::field(
                "builder",
                format!("image builder `{name}` is not registered"),
            )
            .hint(if known.is_empty() {
                "this imagespec was built without any builder; enable one with cargo features"
                    .to_string()
            } else {
                format!("registered builders: {}", known.join(", "))
            })
            .into()
        }),
        None => builders.first().ok_or(Error::MissingPlugin {
            kind: PluginKind::Builder,
            needed_for: "building an image".into(),
        }),
    }
}

/// The registered builder a spec asks for, or the highest-priority one.
pub fn for_spec(spec: &ImageSpec) -> Result<&'static dyn ImageBuilder> {
    for_spec_in(registry()?, spec)
}

/// Prepares a spec with the registered plugins: spec checks, inputs and
/// identity, for the spec and its nested bases, each base standing for the
/// name its builder will answer with (flytekit's real-name mapping).
pub fn prepare(spec: SpecRef<'_>) -> Result<BuildJob> {
    let side_files = |s: SpecRef<'_>| crate::installer::side_files(s).unwrap_or_default();
    let real_name = |job: &BuildJob| -> Result<Option<String>> {
        match for_spec(&job.spec) {
            Ok(builder) => builder.planned_real_name(job),
            // An unknown builder is reported when the job is built.
            Err(_) => Ok(None),
        }
    };
    BuildJob::prepare(
        spec,
        &Preparer {
            side_files: &side_files,
            real_name: &real_name,
        },
    )
}

/// The name dependents of a job build on: the real name its builder will
/// answer with, else its image name.
pub fn dependent_name(job: &BuildJob) -> Result<String> {
    let planned = match for_spec(&job.spec) {
        Ok(builder) => builder.planned_real_name(job)?,
        Err(_) => None,
    };
    Ok(planned.unwrap_or_else(|| job.identity.image_name.clone()))
}

/// Runs, for a job and each of its nested bases, the checks of the builder
/// that builds it ([`ImageBuilder::check`]); a job whose builder is not
/// registered gets the Docker context's checks.
pub fn check_chain(job: &BuildJob) -> Result<()> {
    let mut prefix = String::new();
    for j in job.chain() {
        let checked = match for_spec(&j.spec) {
            Ok(builder) => builder.check(j),
            Err(_) => context_checks(j),
        };
        checked.map_err(|e| match e {
            Error::Spec(se) if !prefix.is_empty() => Error::Spec(se.nested_in(&prefix)),
            other => other,
        })?;
        prefix = if prefix.is_empty() {
            "base_image".to_string()
        } else {
            format!("{prefix}.base_image")
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::push_value;

    #[test]
    fn push_values_are_read_as_flytekit_reads_them() {
        // `os.getenv("FLYTE_PUSH_IMAGE_SPEC", "True").lower() in ("true", "1")`
        for on in ["true", "True", "TRUE", "1"] {
            assert!(push_value(on), "{on}");
        }
        for off in ["false", "0", "", "yes", "on", " true", "true ", "2"] {
            assert!(!push_value(off), "{off:?}");
        }
    }
}
