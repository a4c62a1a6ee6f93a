//! The `default` image builder: Docker with BuildKit, as flytekit's
//! `DefaultImageBuilder`.
//!
//! 1. [`preflight`] asks the engine what it can do, and says what is missing
//!    (no engine, no BuildKit, multi-platform on a driver that cannot) with
//!    the fix, before anything runs.
//! 2. The context is written (a temporary folder unless kept).
//! 3. [`command`] makes the build command: `docker buildx build` when buildx
//!    is there (with `--push`), else the engine's built-in BuildKit
//!    (`DOCKER_BUILDKIT=1 docker build`) followed by `docker push`.
//! 4. [`progress`] streams BuildKit's output to stderr, each line prefixed
//!    with the image name, and names the failed step when it fails.
//!
//! The docker client, the buildx builder, `DOCKER_HOST` and the docker
//! context are the user's: flags or environment variables choose them.

pub mod command;
pub mod preflight;
pub mod progress;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use imagespec_core::builder::{
    registry_existence, BuildOptions, BuildOutcome, BuilderRegistration, ImageBuilder,
};
use imagespec_core::context::write_context;
use imagespec_core::existence::Existence;
use imagespec_core::{ImageSpec, Result};

pub use command::BuildMode;
pub use preflight::{Capabilities, DockerError};

/// Environment variable: the docker client to run (default `docker` on PATH).
pub const ENV_DOCKER: &str = "IMAGESPEC_DOCKER";
/// Environment variable: the buildx builder to use (`docker buildx build --builder`).
pub const ENV_BUILDX_BUILDER: &str = "IMAGESPEC_BUILDX_BUILDER";
/// Environment variable: `auto` (default), `buildx` or `builtin` BuildKit.
pub const ENV_BUILDKIT_MODE: &str = "IMAGESPEC_BUILDKIT";
/// flytekit registers its Docker builder as `default` with priority 1.
pub const PRIORITY: i32 = 1;

/// Where and how docker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerSettings {
    /// The client binary.
    pub docker: PathBuf,
    /// `--builder` for buildx.
    pub buildx_builder: Option<String>,
    /// `DOCKER_HOST` for the client.
    pub host: Option<String>,
    /// `--context` for the client.
    pub context: Option<String>,
    /// Which BuildKit to use.
    pub mode: ModeChoice,
}

/// The user's choice of BuildKit front door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    /// buildx when the client has it, else the engine's built-in BuildKit.
    Auto,
    /// `docker buildx build`.
    Buildx,
    /// `DOCKER_BUILDKIT=1 docker build`.
    Builtin,
}

impl DockerSettings {
    /// From the environment (`IMAGESPEC_DOCKER`, `IMAGESPEC_BUILDX_BUILDER`,
    /// `IMAGESPEC_BUILDKIT`, `DOCKER_HOST`, `DOCKER_CONTEXT`).
    pub fn from_env() -> std::result::Result<Self, DockerError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mode = match var(ENV_BUILDKIT_MODE).as_deref() {
            None | Some("auto") => ModeChoice::Auto,
            Some("buildx") => ModeChoice::Buildx,
            Some("builtin") => ModeChoice::Builtin,
            Some(other) => {
                return Err(DockerError::Setting(format!(
                    "{ENV_BUILDKIT_MODE}=`{other}` is not one of auto, buildx, builtin"
                )))
            }
        };
        Ok(DockerSettings {
            docker: var(ENV_DOCKER)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("docker")),
            buildx_builder: var(ENV_BUILDX_BUILDER),
            host: var("DOCKER_HOST"),
            context: var("DOCKER_CONTEXT"),
            mode,
        })
    }

    /// A command for the docker client with the host and context applied.
    pub fn docker(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.docker);
        if let Some(ctx) = &self.context {
            c.arg("--context").arg(ctx);
        }
        if let Some(host) = &self.host {
            c.env("DOCKER_HOST", host);
        }
        c.kill_on_drop(true);
        c
    }
}

/// flytekit's `DefaultImageBuilder`, as a plugin named `default`.
#[derive(Debug, Clone, Copy)]
pub struct DockerBuilder;

#[async_trait]
impl ImageBuilder for DockerBuilder {
    fn name(&self) -> &'static str {
        "default"
    }

    async fn build_image(&self, spec: &ImageSpec, options: &BuildOptions) -> Result<BuildOutcome> {
        let unsupported = unsupported_fields(spec);
        if !unsupported.is_empty() {
            tracing::warn!(
                "flytekit's default builder warns that it does not support these fields and ignores them: {}. \
                 (It does use entrypoint, tag_format and pip_extra_args, and so does imagespec; runtime_packages, \
                 builder_options and registry_config change nothing in the image.)",
                unsupported.join(", ")
            );
        }
        let settings = DockerSettings::from_env()?;
        build_with(&settings, spec, options).await
    }

    /// With a registry: the registry check. Without one: the local engine's
    /// image store, as flytekit asks its Docker daemon.
    async fn existence(&self, spec: &ImageSpec) -> Result<Existence> {
        if spec.registry().is_some() {
            return registry_existence(spec).await;
        }
        let settings = DockerSettings::from_env()?;
        let image = spec.identity()?.image_name;
        local_existence(&settings, &image).await
    }
}

/// flytekit's `DefaultImageBuilder._SUPPORTED_IMAGE_SPEC_PARAMETERS`.
pub const SUPPORTED_FIELDS: [&str; 23] = [
    "name",
    "python_version",
    "builder",
    "source_root",
    "source_copy_mode",
    "env",
    "registry",
    "packages",
    "conda_packages",
    "conda_channels",
    "requirements",
    "apt_packages",
    "platform",
    "cuda",
    "cudnn",
    "base_image",
    "pip_index",
    "pip_extra_index_url",
    "pip_secret_mounts",
    "commands",
    "copy",
    "python_exec",
    "builder_config",
];

/// The set fields flytekit's default builder calls unsupported, in its order.
pub fn unsupported_fields(spec: &ImageSpec) -> Vec<&'static str> {
    spec.set_fields()
        .into_iter()
        .filter(|f| !SUPPORTED_FIELDS.contains(f))
        .collect()
}

/// Whether the engine has `image` in its local store.
pub async fn local_existence(settings: &DockerSettings, image: &str) -> Result<Existence> {
    let out = settings
        .docker()
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .stdin(std::process::Stdio::null())
        .output()
        .await;
    Ok(match out {
        Err(e) => Existence::Unknown {
            reason: format!("cannot run `{}`: {e}", settings.docker.display()),
        },
        Ok(o) if o.status.success() => Existence::Exists {
            digest: String::from_utf8_lossy(&o.stdout).trim().to_string(),
        },
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            if err.to_lowercase().contains("no such image") {
                Existence::Missing {
                    reason: "not in the local engine".into(),
                    digest: None,
                }
            } else {
                Existence::Unknown {
                    reason: format!(
                        "the local engine did not answer: {}",
                        err.trim().lines().last().unwrap_or("")
                    ),
                }
            }
        }
    })
}

/// Builds with explicit settings (the CLI's flags), as [`DockerBuilder`] does.
pub async fn build_with(
    settings: &DockerSettings,
    spec: &ImageSpec,
    options: &BuildOptions,
) -> Result<BuildOutcome> {
    let identity = spec.identity()?;
    let image_name = identity.image_name.clone();
    let push = options.push && spec.registry().is_some();

    if options.context_only {
        let dir = match &options.keep_context {
            Some(dir) => dir.clone(),
            None => tempfile::Builder::new()
                .prefix("imagespec-context-")
                .tempdir()
                .map_err(|e| {
                    imagespec_core::Error::io(
                        "create a temporary folder in",
                        std::env::temp_dir(),
                        e,
                    )
                })?
                .keep()
                .join(&identity.tag),
        };
        let written = write_context(spec, &options.defaults, &dir)?;
        return Ok(BuildOutcome {
            image_name,
            real_name: None,
            pushed: false,
            digest: None,
            context: Some(written.dir),
            skipped: false,
        });
    }

    let caps = preflight::check(settings, spec).await?;
    let secrets = secret_sources(spec)?;

    let tmp;
    let dir: PathBuf = match &options.keep_context {
        Some(dir) => dir.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("imagespec-build-")
                .tempdir()
                .map_err(|e| {
                    imagespec_core::Error::io(
                        "create a temporary folder in",
                        std::env::temp_dir(),
                        e,
                    )
                })?;
            tmp.path().join("context")
        }
    };
    write_context(spec, &options.defaults, &dir)?;

    let metadata = dir.with_file_name(format!(
        "{}.metadata.json",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("context")
    ));
    let plan = command::BuildCommand {
        mode: caps.mode,
        image_name: &image_name,
        platform: spec.platform(),
        secrets: &secrets,
        push,
        builder: settings.buildx_builder.as_deref(),
        context_dir: &dir,
        metadata_file: &metadata,
    };
    let mut build = settings.docker();
    plan.apply(&mut build);
    tracing::info!(image = %image_name, mode = ?caps.mode, "building");
    progress::run_streaming(build, &image_name, "build").await?;

    let mut digest = None;
    if push {
        match caps.mode {
            BuildMode::Buildx => digest = command::digest_from_metadata(&metadata),
            BuildMode::Builtin => {
                let mut cmd = settings.docker();
                cmd.arg("push").arg(&image_name);
                let out = progress::run_streaming(cmd, &image_name, "push").await?;
                digest = command::digest_from_push_output(&out);
            }
        }
    }
    let _ = std::fs::remove_file(&metadata);
    Ok(BuildOutcome {
        image_name,
        real_name: None,
        pushed: push,
        digest,
        context: options.keep_context.clone(),
        skipped: false,
    })
}

/// `pip_secret_mounts` sources, resolved against the spec's folder; each must exist.
fn secret_sources(spec: &ImageSpec) -> Result<Vec<PathBuf>> {
    spec.pip_secret_mounts()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let path = spec.resolve(&m.src);
            if Path::new(&path).is_file() {
                Ok(path)
            } else {
                Err(imagespec_core::SpecError::field(
                    format!("pip_secret_mounts[{i}]"),
                    format!("the secret file `{}` does not exist", path.display()),
                )
                .hint("paths in a spec file are relative to the spec file's folder")
                .into())
            }
        })
        .collect()
}

imagespec_core::inventory::submit!(BuilderRegistration::new(&DockerBuilder, PRIORITY));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}

#[cfg(test)]
mod tests {
    use super::*;
    use imagespec_core::spec::{load_str, SpecFormat};

    #[test]
    fn unsupported_fields_are_flytekits_list_in_field_order() {
        let spec = load_str(
            "name: x\nbuilder_options: {}\nentrypoint: []\npackages: [six]\nruntime_packages: []\ntag_format: '{spec_hash}'\n",
            SpecFormat::Yaml,
            None,
            Path::new("."),
        )
        .unwrap();
        // Set to empty is set (not None), as flytekit's `value is not None` sees it.
        assert_eq!(
            unsupported_fields(&spec),
            [
                "entrypoint",
                "tag_format",
                "runtime_packages",
                "builder_options"
            ]
        );
        let plain = load_str("name: x\n", SpecFormat::Yaml, None, Path::new(".")).unwrap();
        assert!(
            unsupported_fields(&plain).is_empty(),
            "name and the default platform are supported"
        );
    }
}
