//! Where and how docker runs: the client, the engine, the buildx builder,
//! the BuildKit front door and the build's network, from flags or their
//! environment variables.

use std::path::PathBuf;

use crate::error::DockerError;
use crate::vars::{
    ENV_BUILDKIT_MODE, ENV_BUILDX_BUILDER, ENV_BUILD_NETWORK, ENV_DOCKER, ENV_REGISTRY_CACHE,
};

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
    /// Share the build cache through the registry: each pushed build also
    /// pushes its cache (BuildKit's inline cache with the engine's
    /// BuildKit, a `type=registry` cache with buildx) under the tag
    /// `imagespec-buildcache` of the image's repository, and every build
    /// reads it, so another engine reuses the steps before the source, and
    /// a runner that never pushed the spec ships a source-only change on the
    /// shared build without an engine.
    /// Off by default: the image then carries cache metadata flytekit's
    /// push would not, and the repository gains a tag.
    #[arg(long, env = ENV_REGISTRY_CACHE, value_parser = clap::builder::BoolishValueParser::new())]
    pub registry_cache: bool,
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
    /// Share the build cache through the registry.
    pub registry_cache: bool,
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
            registry_cache: args.registry_cache,
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
            registry_cache: var(ENV_REGISTRY_CACHE)
                .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on")),
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
        self.apply(imagespec_builder_run::supervised(&self.docker))
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
