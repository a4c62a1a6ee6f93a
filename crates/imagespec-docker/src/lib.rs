//! The `default` image builder: Docker with BuildKit, as flytekit's
//! `DefaultImageBuilder`.
//!
//! It receives a prepared context (the pipeline wrote and rechecked it, with
//! its secrets and labels) and only runs docker:
//!
//! 1. [`preflight`] asks the engine what it can do, and says what is missing
//!    (no engine, no BuildKit, multi-platform on a driver that cannot) with
//!    the fix, before anything runs.
//! 2. [`command`] makes the build command: `docker buildx build` when buildx
//!    is there (with `--push`), else the engine's built-in BuildKit
//!    (`DOCKER_BUILDKIT=1 docker build`) followed by `docker push`.
//! 3. [`progress`] streams BuildKit's output to stderr, each line prefixed
//!    with the image name, and names the failed step when it fails.
//!
//! The docker client, the buildx builder, `DOCKER_HOST` and the docker
//! context are the user's: flags or environment variables choose them.

pub mod command;
pub mod preflight;
pub mod progress;

use std::path::PathBuf;
use std::sync::OnceLock;

use async_trait::async_trait;
use imagespec_core::builder::{
    BuildContext, BuildOutcome, BuildRequest, BuilderRegistration, ImageBuilder, Target,
};
use imagespec_core::existence::Existence;
use imagespec_core::{Plugin, Result};

pub use command::{BuildCommand, BuildMode};
pub use preflight::{Capabilities, DockerError};

/// Environment variable: the docker client to run (default `docker` on PATH).
pub const ENV_DOCKER: &str = "IMAGESPEC_DOCKER";
/// Environment variable: the buildx builder to use (`docker buildx build --builder`).
pub const ENV_BUILDX_BUILDER: &str = "IMAGESPEC_BUILDX_BUILDER";
/// Environment variable: `auto` (default), `buildx` or `builtin` BuildKit.
pub const ENV_BUILDKIT_MODE: &str = "IMAGESPEC_BUILDKIT";
/// Environment variable: the network of the build's RUN steps (`docker build --network`).
pub const ENV_BUILD_NETWORK: &str = "IMAGESPEC_BUILD_NETWORK";
/// flytekit registers its Docker builder as `default` with priority 1.
pub const PRIORITY: i32 = 1;

/// The builder's settings, as command-line options: each also reads its
/// environment variable. A program flattens them into its own arguments and
/// hands them to [`configure`] at start-up.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DockerArgs {
    #[command(flatten)]
    pub client: DockerClientArgs,
    /// The buildx builder (`docker buildx build --builder`).
    #[arg(long, env = ENV_BUILDX_BUILDER, value_name = "NAME")]
    pub buildx_builder: Option<String>,
    /// `auto` (buildx when present), `buildx`, or `builtin` (the engine's BuildKit).
    #[arg(long, env = ENV_BUILDKIT_MODE, value_name = "MODE")]
    pub buildkit: Option<String>,
    /// The network of the build's RUN steps: `default`, `host` (an index on
    /// the build machine's loopback, say) or `none` (`docker build --network`).
    #[arg(long, env = ENV_BUILD_NETWORK, value_name = "MODE")]
    pub build_network: Option<String>,
}

/// Which docker client and engine to talk to: what a command that only asks
/// the engine (whether an image exists locally) needs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DockerClientArgs {
    /// The docker client to run.
    #[arg(long, env = ENV_DOCKER, value_name = "PATH")]
    pub docker: Option<String>,
    /// The engine to talk to (sets DOCKER_HOST for docker).
    #[arg(long, env = "DOCKER_HOST", value_name = "URL")]
    pub docker_host: Option<String>,
    /// The docker context to use.
    #[arg(long, env = "DOCKER_CONTEXT", value_name = "NAME")]
    pub docker_context: Option<String>,
}

impl From<DockerClientArgs> for DockerArgs {
    fn from(client: DockerClientArgs) -> Self {
        DockerArgs {
            client,
            ..DockerArgs::default()
        }
    }
}

/// Where and how docker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerSettings {
    /// The client binary.
    pub docker: PathBuf,
    /// Whether the user named the client (`--docker`, `IMAGESPEC_DOCKER`).
    /// When not, preflight looks for a client that can build with BuildKit
    /// among every `docker` on PATH and the usual places
    /// ([`preflight::candidates`]), since the first one may not.
    pub docker_named: bool,
    /// `--builder` for buildx.
    pub buildx_builder: Option<String>,
    /// `DOCKER_HOST` for the client.
    pub host: Option<String>,
    /// `--context` for the client.
    pub context: Option<String>,
    /// Which BuildKit to use.
    pub mode: ModeChoice,
    /// `--network` for the build, when not the default.
    pub network: Option<String>,
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
    /// From the options (which clap filled from flags or their environment variables).
    pub fn from_args(args: &DockerArgs) -> std::result::Result<Self, DockerError> {
        let set = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let mode = match set(&args.buildkit).as_deref() {
            None | Some("auto") => ModeChoice::Auto,
            Some("buildx") => ModeChoice::Buildx,
            Some("builtin") => ModeChoice::Builtin,
            Some(other) => {
                return Err(DockerError::Setting(format!(
                    "--buildkit / {ENV_BUILDKIT_MODE} `{other}` is not one of auto, buildx, builtin"
                )))
            }
        };
        let network = match set(&args.build_network).as_deref() {
            None | Some("default") => None,
            Some(n @ ("host" | "none")) => Some(n.to_string()),
            Some(other) => {
                return Err(DockerError::Setting(format!(
                    "--build-network / {ENV_BUILD_NETWORK} `{}` is not one of default, host, none",
                    imagespec_core::text::printable(other)
                )))
            }
        };
        let named = set(&args.client.docker);
        Ok(DockerSettings {
            network,
            docker_named: named.is_some(),
            docker: named
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("docker")),
            buildx_builder: set(&args.buildx_builder),
            host: set(&args.client.docker_host),
            context: set(&args.client.docker_context),
            mode,
        })
    }

    /// From the environment alone, for a program that did not [`configure`]
    /// the builder (a library user, `examples/custom-builder`).
    pub fn from_env() -> std::result::Result<Self, DockerError> {
        let var = |k: &str| std::env::var(k).ok();
        DockerSettings::from_args(&DockerArgs {
            client: DockerClientArgs {
                docker: var(ENV_DOCKER),
                docker_host: var("DOCKER_HOST"),
                docker_context: var("DOCKER_CONTEXT"),
            },
            buildx_builder: var(ENV_BUILDX_BUILDER),
            buildkit: var(ENV_BUILDKIT_MODE),
            build_network: var(ENV_BUILD_NETWORK),
        })
    }

    /// These settings with `client` as the docker client (the one preflight chose).
    pub fn with_client(&self, client: &std::path::Path) -> DockerSettings {
        DockerSettings {
            docker: client.to_path_buf(),
            docker_named: true,
            ..self.clone()
        }
    }

    /// [`DockerSettings::docker`] for a build or push: on Linux it runs
    /// under `setpriv --pdeathsig TERM` (util-linux) where that is
    /// installed, so the docker client ends with imagespec even when
    /// imagespec is killed outright (SIGKILL), and no build it started goes
    /// on to tag or push an image.
    pub fn docker_supervised(&self) -> tokio::process::Command {
        let Some(setpriv) = setpriv() else {
            return self.docker();
        };
        let mut c = tokio::process::Command::new(setpriv);
        c.args(["--pdeathsig", "TERM", "--"]).arg(&self.docker);
        self.apply(c)
    }

    /// A command for the docker client with the host and context applied.
    pub fn docker(&self) -> tokio::process::Command {
        self.apply(tokio::process::Command::new(&self.docker))
    }

    fn apply(&self, mut c: tokio::process::Command) -> tokio::process::Command {
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

/// util-linux's `setpriv` when it can set a parent-death signal.
fn setpriv() -> Option<&'static std::path::Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            ["/usr/bin/setpriv", "/bin/setpriv"]
                .into_iter()
                .map(PathBuf::from)
                .find(|p| {
                    std::process::Command::new(p)
                        .args(["--pdeathsig", "TERM", "--", "true"])
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                })
        })
        .as_deref()
}

/// flytekit's `DefaultImageBuilder`, as a plugin named `default`: it runs
/// docker on a prepared context.
#[derive(Debug, Clone, Default)]
pub struct DockerBuilder {
    /// Where and how docker runs; `None`: from the environment, read when
    /// it builds (the registered builder, for a program that configures none).
    settings: Option<DockerSettings>,
}

impl DockerBuilder {
    /// The builder `inventory` registers: settings from the environment.
    pub const REGISTERED: DockerBuilder = DockerBuilder { settings: None };

    /// A builder with these settings (a program's, read once at start-up;
    /// put in place of the registered one with
    /// [`imagespec_core::Registry::with`]).
    pub fn new(settings: DockerSettings) -> DockerBuilder {
        DockerBuilder {
            settings: Some(settings),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> std::result::Result<DockerSettings, DockerError> {
        match &self.settings {
            Some(s) => Ok(s.clone()),
            None => DockerSettings::from_env(),
        }
    }
}

impl Plugin for DockerBuilder {
    fn name(&self) -> &'static str {
        "default"
    }
}

#[async_trait]
impl ImageBuilder for DockerBuilder {
    fn notes(&self, target: &Target<'_>) -> Vec<String> {
        let unsupported = unsupported_fields(target.spec.spec);
        if unsupported.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "flytekit's default builder warns that it does not support these fields and ignores them: {}. \
             (It does use entrypoint, tag_format and pip_extra_args, and so does imagespec; runtime_packages, \
             builder_options and registry_config change nothing in the image.)",
            unsupported.join(", ")
        )]
    }

    /// Without a registry: the local engine's image store, as flytekit asks
    /// its Docker daemon. With one: the registry's answer (the engine asks).
    async fn existence(&self, target: &Target<'_>) -> Result<Option<Existence>> {
        if target.spec.registry().is_some() {
            return Ok(None);
        }
        Ok(Some(
            local_existence(&self.settings()?, target.image_name).await?,
        ))
    }

    async fn planned_commands(&self, request: &BuildRequest<'_>) -> Result<Vec<String>> {
        planned_commands(&self.settings()?, request).await
    }

    async fn build_image(&self, request: &BuildRequest<'_>) -> Result<BuildOutcome> {
        build_with(&self.settings()?, request).await
    }
}

/// The ImageSpec fields outside flytekit's
/// `DefaultImageBuilder._SUPPORTED_IMAGE_SPEC_PARAMETERS`.
pub const UNSUPPORTED_FIELDS: [&str; 6] = [
    "pip_extra_args",
    "registry_config",
    "entrypoint",
    "tag_format",
    "runtime_packages",
    "builder_options",
];

/// The set fields flytekit's default builder calls unsupported, in its order.
pub fn unsupported_fields(spec: &imagespec_core::ImageSpec) -> Vec<&'static str> {
    spec.set_fields()
        .into_iter()
        .filter(|f| UNSUPPORTED_FIELDS.contains(f))
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

/// The context a request carries, or the error of a request without one.
fn context_of<'r>(request: &BuildRequest<'r>) -> Result<&'r BuildContext> {
    request.context.ok_or_else(|| {
        imagespec_core::Error::Other(format!(
            "{}: the Docker builder builds from a context, and none was prepared",
            request.target.image_name
        ))
    })
}

/// Runs docker on a prepared context, as [`DockerBuilder`] does: the build
/// (with `--push` under buildx), else the engine's built-in BuildKit and
/// then `docker push`.
pub async fn build_with(
    settings: &DockerSettings,
    request: &BuildRequest<'_>,
) -> Result<BuildOutcome> {
    let target = &request.target;
    let context = context_of(request)?;
    let caps = preflight::check(settings, &target.platforms).await?;
    let settings = &settings.with_client(&caps.client);
    // buildx's metadata file: in a folder of its own, made and removed
    // here (never beside a folder the user named).
    let metadata_dir = tempfile::Builder::new()
        .prefix("imagespec-metadata-")
        .tempdir()
        .map_err(|e| {
            imagespec_core::Error::io("create a temporary folder in", std::env::temp_dir(), e)
        })?;
    let metadata = metadata_dir.path().join("metadata.json");
    let command = BuildCommand::of(caps.mode, settings, request, context, &metadata);
    let mut build = settings.docker_supervised();
    command.apply(&mut build);
    tracing::info!(image = %target.image_name, mode = ?caps.mode, "building");
    let (image, quiet, masked) = (target.image_name, request.quiet, request.masked);
    progress::run_streaming(build, image, "build", quiet, masked).await?;

    let mut digest = None;
    if target.push {
        match caps.mode {
            BuildMode::Buildx => digest = command::digest_from_metadata(&metadata),
            BuildMode::Builtin => {
                let mut cmd = settings.docker_supervised();
                cmd.arg("push").arg(image);
                let out = progress::run_streaming(cmd, image, "push", quiet, masked).await?;
                digest = command::digest_from_push_output(&out);
            }
        }
    }
    drop(metadata_dir);
    Ok(BuildOutcome {
        real_name: None,
        pushed: target.push,
        digest,
        context: context.kept.clone(),
    })
}

/// What [`build_with`] would run for a planned request, as shell lines: the
/// build (its context folder shown as `<context>`), and the push when the
/// engine's built-in BuildKit is used. Asks docker which BuildKit it has
/// only when the mode is `auto`; when docker cannot be asked, says so and
/// shows buildx's form.
pub async fn planned_commands(
    settings: &DockerSettings,
    request: &BuildRequest<'_>,
) -> Result<Vec<String>> {
    let target = &request.target;
    let context = context_of(request)?;
    let mut lines = Vec::new();
    let mut settings = settings.clone();
    let mode = match settings.mode {
        ModeChoice::Buildx => BuildMode::Buildx,
        ModeChoice::Builtin => BuildMode::Builtin,
        ModeChoice::Auto => match preflight::check(&settings, &target.platforms).await {
            Ok(caps) => {
                settings = settings.with_client(&caps.client);
                caps.mode
            }
            Err(e) => {
                lines.push(format!(
                    "# docker could not be asked which BuildKit it has ({}); with buildx:",
                    imagespec_core::text::printable(&e.to_string()).replace('\n', " ")
                ));
                BuildMode::Buildx
            }
        },
    };
    let metadata = PathBuf::from("<context>.metadata.json");
    let command = BuildCommand::of(mode, &settings, request, context, &metadata);
    let (args, env) = command.args();
    let docker = settings.docker.display().to_string();
    let mut words: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    words.push(docker.clone());
    words.extend(args);
    let mut prefix = Vec::new();
    if let Some(host) = &settings.host {
        prefix.push(format!("DOCKER_HOST={host}"));
    }
    if let Some(context) = &settings.context {
        prefix.push(format!("DOCKER_CONTEXT={context}"));
    }
    let line = |words: Vec<String>| {
        prefix
            .iter()
            .chain(&words)
            .map(|w| imagespec_core::render::shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    lines.push(line(words));
    if target.push && mode == BuildMode::Builtin {
        lines.push(line(vec![
            docker,
            "push".into(),
            target.image_name.to_string(),
        ]));
    }
    Ok(lines)
}

imagespec_core::inventory::submit!(BuilderRegistration::new(
    &DockerBuilder::REGISTERED,
    PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}

#[cfg(test)]
mod tests {
    use super::*;
    use imagespec_core::spec::{load_str, SpecFormat};
    use std::path::Path;

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
