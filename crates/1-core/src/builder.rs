//! Image builders: the plugins that turn a prepared build context into an
//! image. They only build: everything before (reading the spec's files,
//! naming the image, planning and writing the context, flytekit's re-check)
//! is the pipeline's, done once, whatever builder runs.
//!
//! A builder crate registers itself with
//! `inventory::submit!(BuilderRegistration::new(&MyBuilder, priority))`, or
//! a program puts its own in the set it hands the engine
//! ([`crate::plugin::Registry::with`]). A spec's `builder` field picks one by
//! name; without it, the builder with the highest priority is used (ties
//! broken by name). This crate names no builder.

use std::path::PathBuf;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Result, SpecError};
use crate::existence::{Existence, ExistenceChecker};
use crate::plugin::{Plugin, Registration, Registry};
use crate::redact::Secrets;
use crate::spec::SpecRef;

/// The image a builder is asked about: its name and where it goes. No file
/// is read from it; the spec is there for a builder's own checks.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The spec (this level).
    pub spec: SpecRef<'a>,
    /// flytekit's image name.
    pub image_name: &'a str,
    /// What `FROM` names: the spec's `base_image`, or the name its nested
    /// base was built as.
    pub base_image: Option<&'a str>,
    /// The target platforms (`linux/amd64`), trimmed.
    pub platforms: Vec<String>,
    /// Whether the image goes to its registry.
    pub push: bool,
}

/// A secret the build reads (`RUN --mount=type=secret,id=ID`), and the file
/// that holds it for the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSecret {
    /// The mount's id.
    pub id: String,
    /// The file (a path the spec names, or a memory file the engine's
    /// client inherits, `/proc/self/fd/N`); for a planned context, a
    /// description.
    pub path: PathBuf,
}

/// A build context, ready: the folder with its `Dockerfile` and files,
/// rechecked against the tag as flytekit's builder requires, the secrets the
/// build mounts and the labels the image carries. It holds what must live
/// until the build ends (a temporary folder, a lock, memory files) and
/// releases it when dropped.
pub struct BuildContext {
    /// The folder.
    pub dir: PathBuf,
    /// The Dockerfile's name in it.
    pub dockerfile: String,
    /// The secrets the build mounts.
    pub secrets: Vec<BuildSecret>,
    /// The image's labels.
    pub labels: Vec<(String, String)>,
    /// The folder kept for the user (`--keep-context`), if any.
    pub kept: Option<PathBuf>,
    /// Planned, not written: `dir` and the secrets' paths are descriptions
    /// (`build --dry-run --show command`).
    pub planned: bool,
    held: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext")
            .field("dir", &self.dir)
            .field("dockerfile", &self.dockerfile)
            .field("secrets", &self.secrets)
            .field(
                "labels",
                &self.labels.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("kept", &self.kept)
            .field("planned", &self.planned)
            .finish_non_exhaustive()
    }
}

impl BuildContext {
    /// A context in `dir` (with a file named `Dockerfile`).
    pub fn new(dir: PathBuf) -> BuildContext {
        BuildContext {
            dir,
            dockerfile: "Dockerfile".into(),
            secrets: Vec::new(),
            labels: Vec::new(),
            kept: None,
            planned: false,
            held: Vec::new(),
        }
    }

    /// Keeps `guard` alive as long as the context.
    pub fn hold(&mut self, guard: impl std::any::Any + Send + Sync) {
        self.held.push(Box::new(guard));
    }
}

/// The tag under which a builder that shares its build cache through the
/// registry (the Docker builder's `--registry-cache`) pushes each
/// repository's newest build and its cache: other engines read the cache
/// from it, and a runner with no record of its own starts an engine-free
/// source push from it.
pub const SHARED_BUILD_TAG: &str = "imagespec-buildcache";

/// What a builder is asked to build.
pub struct BuildRequest<'a> {
    /// The image.
    pub target: Target<'a>,
    /// Its context, for a builder that builds from one.
    pub context: Option<&'a BuildContext>,
    /// The name the builder said it would answer with
    /// ([`ImageBuilder::planned_real_name`]).
    pub real_name: Option<String>,
    /// What its output must never show.
    pub masked: &'a Secrets,
    /// Print nothing but errors (`-q`): a builder keeps its output to
    /// itself, and shows its end only when it fails.
    pub quiet: bool,
    /// The registry checker the run asks, for a builder that reads the
    /// registry itself (the digest of a build cache shared through it);
    /// `None` when the program has none.
    pub registry: Option<&'a dyn ExistenceChecker>,
}

impl std::fmt::Debug for BuildRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildRequest")
            .field("target", &self.target)
            .field("context", &self.context)
            .field("real_name", &self.real_name)
            .field("masked", &self.masked)
            .field("quiet", &self.quiet)
            .field("registry", &self.registry.map(|r| r.name()))
            .finish()
    }
}

impl<'a> BuildRequest<'a> {
    /// The context the request carries, or the error of a request without
    /// one, for the builder `builder` (one that builds from a context).
    pub fn context_for(&self, builder: &str) -> Result<&'a BuildContext> {
        self.context.ok_or_else(|| {
            crate::Error::Other(format!(
                "{}: the {builder} builder builds from a context, and none was prepared",
                self.target.image_name
            ))
        })
    }
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
    /// Whether it builds from a context (a `Dockerfile` and files): the
    /// pipeline then runs flytekit's checks of a Docker context and prepares
    /// one. A builder that makes none (noop) says no, and gets none.
    fn needs_context(&self) -> bool {
        true
    }

    /// Whether it can build on this machine at all, asked cheaply (no
    /// build tool is run): for a spec that names no builder, the engine
    /// takes the first builder, by priority, that can (Docker when an
    /// engine answers, else Podman). `Err`: why not, for the log.
    fn available(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Checks of its own, beyond the context's, made before anything is
    /// built.
    fn check(&self, _target: &Target<'_>) -> Result<(), SpecError> {
        Ok(())
    }

    /// What it wants said before it builds (flytekit's warnings).
    fn notes(&self, _target: &Target<'_>) -> Vec<String> {
        Vec::new()
    }

    /// The fully qualified name [`ImageBuilder::build_image`] will answer
    /// with, when the builder knows it without building (noop: the spec's
    /// `base_image`). flytekit maps the spec's image name to it, so a spec
    /// built on this one builds on that name, and hashes it. `None`: the
    /// image name itself.
    fn planned_real_name(&self, _target: &Target<'_>) -> Result<Option<String>, SpecError> {
        Ok(None)
    }

    /// Whether it asks whether the image exists before building. A builder
    /// that builds nothing (noop) says no: "building" is always right.
    fn checks_existence(&self) -> bool {
        true
    }

    /// Its own answer to whether the image exists (a local engine's image
    /// store, for a spec without a registry); `None`: ask the registry.
    async fn existence(&self, _target: &Target<'_>) -> Result<Option<Existence>> {
        Ok(None)
    }

    /// The commands [`ImageBuilder::build_image`] would run for a planned
    /// request, as shell lines (`build --dry-run --show command`; a secret's
    /// source is named, never its content). The default: none.
    async fn planned_commands(&self, _request: &BuildRequest<'_>) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// Builds (and pushes, when the target says so) the image.
    async fn build_image(&self, request: &BuildRequest<'_>) -> Result<BuildOutcome>;
}

/// A builder's entry in the registry.
pub type BuilderRegistration = Registration<'static, dyn ImageBuilder>;

inventory::collect!(BuilderRegistration);

/// A set of builders (the registered ones, or an embedder's own).
pub type Builders<'a> = Registry<'a, dyn ImageBuilder>;

/// The builders registered with `inventory::submit!` in this program, built once.
pub fn registry() -> Result<&'static Builders<'static>> {
    crate::collected!(dyn ImageBuilder, "image builders")
}
