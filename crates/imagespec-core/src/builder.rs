//! Image builders: the plugins that turn a spec into an image.
//!
//! A builder crate registers itself with
//! `inventory::submit!(BuilderRegistration::new(&MyBuilder, priority))`. A
//! spec's `builder` field picks one by name; without it, the registered
//! builder with the highest priority is used (ties broken by name). This
//! crate names no builder.

use std::path::PathBuf;
use std::sync::OnceLock;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result, SpecError};
use crate::existence::{decide, Decision, Existence};
use crate::knobs::PythonDefaults;
use crate::spec::ImageSpec;

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
    /// Only write the context; run nothing.
    pub context_only: bool,
    /// Build and push even when the image exists (`force_push()`, `--force-push`,
    /// `FLYTE_FORCE_PUSH_IMAGE_SPEC`).
    pub force_push: bool,
    /// Fail instead of assuming the image exists when the check cannot tell
    /// (`--fast-fail`, `FLYTE_IMG_FAST_FAIL`).
    pub fast_fail: bool,
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
    /// The name flytekit computes for the spec.
    pub image_name: String,
    /// The fully qualified name the builder produced, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// Whether the image was pushed.
    pub pushed: bool,
    /// The manifest digest in the registry, when pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The kept build context, for `--context-only` or a kept context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<PathBuf>,
    /// True when nothing was built because the image exists.
    pub skipped: bool,
}

/// An image builder plugin.
#[async_trait]
pub trait ImageBuilder: Send + Sync + 'static {
    /// Unique name, e.g. `default`.
    fn name(&self) -> &'static str;

    /// Every check a spec must pass before this builder can build it. The
    /// default is what a Docker build context needs ([`ImageSpec::check`]:
    /// flytekit's `create_docker_context` errors and the installers'); a
    /// builder that makes no context (noop) checks less, as flytekit's do.
    fn check(&self, spec: &ImageSpec) -> Result<()> {
        spec.check()
    }

    /// The fully qualified name [`ImageBuilder::build_image`] will answer
    /// with, when the builder knows it without building (noop: the spec's
    /// `base_image`). flytekit maps the spec's image name to it, so a spec
    /// built on this one builds on that name, and hashes it. `None`: the
    /// image name itself.
    fn planned_real_name(&self, _spec: &ImageSpec) -> Result<Option<String>> {
        Ok(None)
    }

    /// Whether the image exists where this builder would put it. The default
    /// asks the registered registry checker when the spec has a registry; a
    /// builder that can look elsewhere (a local engine) overrides it.
    async fn existence(&self, spec: &ImageSpec) -> Result<Existence> {
        registry_existence(spec).await
    }

    /// flytekit's `should_build`: [`ImageBuilder::existence`] through
    /// [`crate::existence::decide`].
    async fn should_build(&self, spec: &ImageSpec, options: &BuildOptions) -> Result<Decision> {
        let image = spec.identity()?.image_name;
        let force = options.force_push || spec.is_force_push();
        let existence =
            match self.existence(spec).await {
                // Forced builds need no answer.
                Err(Error::MissingPlugin { .. }) if force => return Ok(Decision::Build {
                    reason:
                        "forced (--force-push); existence not checked: no registry checker built in"
                            .into(),
                }),
                other => other?,
            };
        decide(
            &image,
            &existence,
            force,
            options.fast_fail || spec.is_fast_fail(),
        )
    }

    /// Builds (and pushes, when asked) the image of a checked spec whose
    /// nested base, if any, was built already.
    async fn build_image(&self, spec: &ImageSpec, options: &BuildOptions) -> Result<BuildOutcome>;
}

/// Whether a spec's image exists in its registry, asked of the registered
/// checker; a spec without a registry counts as missing.
pub async fn registry_existence(spec: &ImageSpec) -> Result<Existence> {
    let image = spec.identity()?.image_name;
    if spec.registry().is_none() {
        return Ok(Existence::Missing {
            reason: "no registry to look in".into(),
            digest: None,
        });
    }
    let platforms: Vec<String> = spec.platforms().iter().map(|p| p.to_string()).collect();
    match crate::existence::checker() {
        Some(checker) => Ok(checker.check(&image, &platforms).await),
        None => Err(Error::MissingPlugin {
            kind: crate::error::PluginKind::Checker,
            needed_for: format!("checking whether `{image}` exists in its registry"),
        }),
    }
}

/// A builder's entry in the registry.
#[derive(Clone, Copy)]
pub struct BuilderRegistration {
    /// The builder.
    pub builder: &'static dyn ImageBuilder,
    /// Higher wins when a spec names no builder.
    pub priority: i32,
}

impl std::fmt::Debug for BuilderRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuilderRegistration")
            .field("name", &self.builder.name())
            .field("priority", &self.priority)
            .finish()
    }
}

impl BuilderRegistration {
    /// For `inventory::submit!`.
    pub const fn new(builder: &'static dyn ImageBuilder, priority: i32) -> Self {
        BuilderRegistration { builder, priority }
    }
}

inventory::collect!(BuilderRegistration);

/// A set of builders: sorted by priority (highest first), then by name, with
/// unique names. [`Builders::registered`] is the set `inventory` collected;
/// tests and embedders can make their own.
#[derive(Debug, Clone)]
pub struct Builders {
    sorted: Vec<BuilderRegistration>,
}

impl Builders {
    /// Sorts the registrations; a duplicate name is an error.
    pub fn new(registrations: impl IntoIterator<Item = BuilderRegistration>) -> Result<Self> {
        let sorted = crate::plugin::unique_sorted(
            registrations.into_iter().collect(),
            "image builders",
            |r| r.builder.name(),
            |r| (-r.priority, r.builder.name()),
        )
        .map_err(Error::Other)?;
        Ok(Builders { sorted })
    }

    /// The builders registered with `inventory::submit!` in this program, built once.
    pub fn registered() -> Result<&'static Builders> {
        static REG: OnceLock<std::result::Result<Builders, String>> = OnceLock::new();
        REG.get_or_init(|| {
            Builders::new(inventory::iter::<BuilderRegistration>().copied())
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Other(e.clone()))
    }

    /// Every builder, in order.
    pub fn all(&self) -> &[BuilderRegistration] {
        &self.sorted
    }

    /// The builder a spec asks for by name, or the highest-priority one.
    pub fn for_spec(&self, spec: &ImageSpec) -> Result<&'static dyn ImageBuilder> {
        match spec.builder() {
            Some(name) => self
                .sorted
                .iter()
                .find(|r| r.builder.name() == name)
                .map(|r| r.builder)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.sorted.iter().map(|r| r.builder.name()).collect();
                    SpecError::field("builder", format!("image builder `{name}` is not registered"))
                        .hint(if known.is_empty() {
                            "this imagespec was built without any builder; enable one with cargo features"
                                .to_string()
                        } else {
                            format!("registered builders: {}", known.join(", "))
                        })
                        .into()
                }),
            None => self.sorted.first().map(|r| r.builder).ok_or_else(|| {
                Error::Other("there is no image builder registered; build imagespec with a builder plugin".into())
            }),
        }
    }
}

/// The registered builders, highest priority first, then by name.
pub fn registry() -> Result<&'static [BuilderRegistration]> {
    Builders::registered().map(Builders::all)
}

/// The registered builder a spec asks for, or the highest-priority one.
pub fn for_spec(spec: &ImageSpec) -> Result<&'static dyn ImageBuilder> {
    Builders::registered()?.for_spec(spec)
}

/// Runs, for a spec and each of its nested bases, the checks of the builder
/// that builds it ([`ImageBuilder::check`]); a spec whose builder is not
/// registered gets the Docker context's checks ([`ImageSpec::check`]).
pub fn check_chain(spec: &ImageSpec) -> Result<()> {
    let mut current = Some(spec);
    let mut prefix = String::new();
    while let Some(s) = current {
        let checked = match for_spec(s) {
            Ok(builder) => builder.check(s),
            Err(_) => s.check(),
        };
        checked.map_err(|e| match e {
            Error::Spec(se) if !prefix.is_empty() => Error::Spec(se.nested_in(&prefix)),
            other => other,
        })?;
        current = match s.base_image() {
            Some(crate::spec::BaseImage::Spec(base)) => Some(base),
            _ => None,
        };
        prefix = if prefix.is_empty() {
            "base_image".to_string()
        } else {
            format!("{prefix}.base_image")
        };
    }
    Ok(())
}

/// The name dependents of `spec` build on, as flytekit's engine maps it: the
/// real name its builder will answer with, else `image_name`. Without a
/// registered builder for the spec, the image name.
pub fn dependent_name(spec: &ImageSpec, image_name: &str) -> Result<String> {
    let Ok(builder) = for_spec(spec) else {
        return Ok(image_name.to_string());
    };
    Ok(builder
        .planned_real_name(spec)?
        .unwrap_or_else(|| image_name.to_string()))
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
