//! Which podman runs, from a flag or its environment variable. Trust in a
//! registry (TLS, an HTTP registry) is podman's own configuration.

use std::path::{Path, PathBuf};

use crate::error::PodmanError;

use crate::vars::{ENV_BUILD_NETWORK, ENV_PODMAN, ENV_REGISTRY_CACHE};

/// Below the Docker builder's 1: a spec that names no builder gets Podman
/// only when no Docker engine answers (or `--builder podman`).
pub const PRIORITY: i32 = 0;

/// The builder's settings, as command-line options (each also reads its
/// environment variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PodmanArgs {
    /// The podman binary to run (the builder `podman`).
    #[arg(long, env = ENV_PODMAN, value_name = "PATH")]
    pub podman: Option<String>,
    /// The network of podman's RUN steps: `default`, `host` (an index on
    /// the build machine's loopback, say) or `none` (`podman build --network`).
    #[arg(long, env = ENV_BUILD_NETWORK, value_name = "MODE")]
    pub podman_network: Option<String>,
    /// Whether the program was asked for the build cache shared through the
    /// registry (`--registry-cache`, a Docker builder flag the program
    /// passes on); `IMAGESPEC_REGISTRY_CACHE` is read too.
    #[arg(skip)]
    pub registry_cache: bool,
}

/// Which podman runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanSettings {
    /// The binary.
    pub podman: PathBuf,
    /// Whether the user named it (else `podman` on PATH).
    pub named: bool,
    /// `--network` for the build, when not the default.
    pub network: Option<String>,
    /// The build cache shared through the registry was asked for: refused
    /// when podman builds.
    pub registry_cache: bool,
}

impl PodmanSettings {
    /// From the options (clap filled them from flags or the environment).
    pub fn from_args(args: &PodmanArgs) -> Result<PodmanSettings, PodmanError> {
        let network = match args.podman_network.as_deref().filter(|n| !n.is_empty()) {
            None | Some("default") => None,
            Some(n @ ("host" | "none")) => Some(n.to_string()),
            Some(other) => {
                return Err(PodmanError::Unsupported(format!(
                    "--podman-network / {ENV_BUILD_NETWORK} `{}` is not one of default, host, none",
                    imagespec_core::text::printable(other)
                )))
            }
        };
        let named = args.podman.as_deref().filter(|p| !p.is_empty());
        let registry_cache = args.registry_cache
            || std::env::var(ENV_REGISTRY_CACHE)
                .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
        Ok(PodmanSettings {
            podman: PathBuf::from(named.unwrap_or("podman")),
            named: named.is_some(),
            network,
            registry_cache,
        })
    }

    /// From the environment alone (the registered builder's).
    pub fn from_env() -> Result<PodmanSettings, PodmanError> {
        PodmanSettings::from_args(&PodmanArgs {
            podman: std::env::var(ENV_PODMAN).ok(),
            podman_network: std::env::var(ENV_BUILD_NETWORK).ok(),
            registry_cache: false,
        })
    }

    /// The binary that would run: the named one, or `podman` found on PATH.
    pub fn resolve(&self) -> Option<PathBuf> {
        if self.named || self.podman.components().count() > 1 {
            return is_executable(&self.podman).then(|| self.podman.clone());
        }
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|dir| dir.join(&self.podman))
            .find(|p| is_executable(p))
    }

    /// A command for podman.
    pub fn podman(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.podman);
        c.kill_on_drop(true);
        c
    }

    /// A command for podman that ends with imagespec (a build or a push).
    pub fn podman_supervised(&self) -> tokio::process::Command {
        let mut c = imagespec_builder_run::supervised(&self.podman);
        c.kill_on_drop(true);
        c
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
