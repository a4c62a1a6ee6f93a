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

use std::path::PathBuf;
use std::sync::OnceLock;

use async_trait::async_trait;
use imagespec_core::builder::{
    registry_existence, BuildOptions, BuildOutcome, BuilderRegistration, ImageBuilder,
};
use imagespec_core::context::{write_plan_with, Materialize};
use imagespec_core::existence::Existence;
use imagespec_core::plan::SecretSource;
use imagespec_core::{BuildJob, Plugin, Result};

pub use command::BuildMode;
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
                    imagespec_core::safety::printable(other)
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

static CONFIGURED: OnceLock<DockerSettings> = OnceLock::new();

/// Sets the settings the registered `default` builder uses, once, at start-up.
pub fn configure(settings: DockerSettings) {
    let _ = CONFIGURED.set(settings);
}

/// The configured settings, else those of the environment.
pub fn settings() -> std::result::Result<DockerSettings, DockerError> {
    match CONFIGURED.get() {
        Some(s) => Ok(s.clone()),
        None => DockerSettings::from_env(),
    }
}

/// flytekit's `DefaultImageBuilder`, as a plugin named `default`.
#[derive(Debug, Clone, Copy)]
pub struct DockerBuilder;

impl Plugin for DockerBuilder {
    fn name(&self) -> &'static str {
        "default"
    }
}

#[async_trait]
impl ImageBuilder for DockerBuilder {
    async fn build_image(&self, job: &BuildJob, options: &BuildOptions) -> Result<BuildOutcome> {
        let unsupported = unsupported_fields(&job.spec);
        if !unsupported.is_empty() {
            tracing::warn!(
                "flytekit's default builder warns that it does not support these fields and ignores them: {}. \
                 (It does use entrypoint, tag_format and pip_extra_args, and so does imagespec; runtime_packages, \
                 builder_options and registry_config change nothing in the image.)",
                unsupported.join(", ")
            );
        }
        build_with(&settings()?, job, options).await
    }

    async fn planned_commands(
        &self,
        job: &BuildJob,
        options: &BuildOptions,
    ) -> Result<Vec<String>> {
        planned_commands(&settings()?, job, options).await
    }

    /// With a registry: the registry check. Without one: the local engine's
    /// image store, as flytekit asks its Docker daemon.
    async fn existence(&self, job: &BuildJob) -> Result<Existence> {
        if job.spec.registry().is_some() {
            return registry_existence(job).await;
        }
        local_existence(&settings()?, &job.identity.image_name).await
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

/// Builds with explicit settings, as [`DockerBuilder`] does.
pub async fn build_with(
    settings: &DockerSettings,
    job: &BuildJob,
    options: &BuildOptions,
) -> Result<BuildOutcome> {
    let spec = &job.spec;
    let image_name = job.identity.image_name.clone();
    let push = options.push && spec.registry().is_some();

    // A missing secret file is named before anything is built.
    job.inputs.secret_files()?;
    let caps = preflight::check(settings, spec).await?;
    let settings = &settings.with_client(&caps.client);
    let plan = imagespec_core::plan::plan(job, &options.defaults)?;
    // What the tag hashed, for `imagespec explain --against image:REF`
    // (hashes only; no field value). Taken before the context links the
    // files, which changes their ctimes.
    let labels = match imagespec_core::explain::TagRecord::of(job).and_then(|r| r.to_label()) {
        Ok(label) => vec![(imagespec_core::explain::INPUTS_LABEL.to_string(), label)],
        Err(e) => {
            tracing::warn!(
                "{}: built without the {} label: {e}",
                job.identity.image_name,
                imagespec_core::explain::INPUTS_LABEL
            );
            Vec::new()
        }
    };

    // imagespec's own secrets (index URLs with credentials) are handed to
    // docker in memory (see `secret_files`): nothing a kill could leave.
    let held = secret_files(&plan.secrets)?;
    let secrets: Vec<(String, PathBuf)> = held
        .iter()
        .map(|(id, path, _)| (id.clone(), path.clone()))
        .collect();

    // The context: the folder asked for; else the spec's own folder under
    // the cache, kept between builds (so only changed files are copied, and
    // BuildKit, whose session key is the folder's path, resends only those);
    // else, while another build of the spec holds that one, a temporary folder.
    // Held to the end: the kept folder's lock, or the temporary folder
    // (removed, by an interrupted process too).
    let (_kept_lock, _in_progress, _tmp);
    let kept = match &options.keep_context {
        Some(_) => None,
        None => imagespec_core::cache::cache_dir()
            .ok()
            .and_then(|c| imagespec_core::cache::kept_context(&c, job)),
    };
    let dir: PathBuf = match (&options.keep_context, kept) {
        (Some(dir), _) => {
            // Copies: a hard link would change the tree's ctimes, and so
            // defeat the stat cache on the next run.
            write_plan_with(job, &plan, dir, Materialize::Copy)?;
            dir.clone()
        }
        (None, Some((dir, lock))) => {
            _kept_lock = lock;
            imagespec_core::context::sync_plan(job, &plan, &dir)?;
            dir
        }
        (None, None) => {
            let t = tempfile::Builder::new()
                .prefix("imagespec-build-")
                .tempdir()
                .map_err(|e| {
                    imagespec_core::Error::io(
                        "create a temporary folder in",
                        std::env::temp_dir(),
                        e,
                    )
                })?;
            let dir = t.path().join("context");
            _in_progress = imagespec_core::cleanup::register(t.path());
            _tmp = t;
            write_plan_with(job, &plan, &dir, Materialize::Copy)?;
            dir
        }
    };

    // buildx's metadata file: in a folder of its own, made and removed
    // here (never beside a folder the user named).
    let metadata_dir = tempfile::Builder::new()
        .prefix("imagespec-metadata-")
        .tempdir()
        .map_err(|e| {
            imagespec_core::Error::io("create a temporary folder in", std::env::temp_dir(), e)
        })?;
    let metadata = metadata_dir.path().join("metadata.json");
    let platform = build_platforms(spec);
    let plan = command::BuildCommand {
        mode: caps.mode,
        image_name: &image_name,
        platform: &platform,
        labels: &labels,
        secrets: &secrets,
        push,
        builder: settings.buildx_builder.as_deref(),
        network: settings.network.as_deref(),
        context_dir: &dir,
        metadata_file: &metadata,
    };
    let mut build = settings.docker_supervised();
    plan.apply(&mut build);
    tracing::info!(image = %image_name, mode = ?caps.mode, "building");
    let masked = job.secrets();
    progress::run_streaming(build, &image_name, "build", options.quiet, &masked).await?;

    let mut digest = None;
    if push {
        match caps.mode {
            BuildMode::Buildx => digest = command::digest_from_metadata(&metadata),
            BuildMode::Builtin => {
                let mut cmd = settings.docker_supervised();
                cmd.arg("push").arg(&image_name);
                let out = progress::run_streaming(cmd, &image_name, "push", options.quiet, &masked)
                    .await?;
                digest = command::digest_from_push_output(&out);
            }
        }
    }
    drop(metadata_dir);
    Ok(BuildOutcome {
        real_name: None,
        pushed: push,
        digest,
        context: options.keep_context.clone(),
    })
}

/// `--platform` of the build, as check() reads the field: each platform
/// trimmed (the hash keeps the text as written).
fn build_platforms(spec: &imagespec_core::ImageSpec) -> String {
    spec.platform()
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",")
}

/// What [`build_with`] would run, as shell lines: the build (its context
/// folder shown as `<context>`), and the push when the engine's built-in
/// BuildKit is used. Asks docker which BuildKit it has only when the mode
/// is `auto`; when docker cannot be asked, says so and shows buildx's form.
pub async fn planned_commands(
    settings: &DockerSettings,
    job: &BuildJob,
    options: &BuildOptions,
) -> Result<Vec<String>> {
    let spec = &job.spec;
    let image_name = &job.identity.image_name;
    let push = options.push && spec.registry().is_some();
    let plan = imagespec_core::plan::plan(job, &options.defaults)?;
    let mut lines = Vec::new();
    let mut client = settings.docker.clone();
    let mode = match settings.mode {
        ModeChoice::Buildx => BuildMode::Buildx,
        ModeChoice::Builtin => BuildMode::Builtin,
        ModeChoice::Auto => match preflight::check(settings, spec).await {
            Ok(caps) => {
                client = caps.client;
                caps.mode
            }
            Err(e) => {
                lines.push(format!(
                    "# docker could not be asked which BuildKit it has ({}); with buildx:",
                    imagespec_core::safety::printable(&e.to_string()).replace('\n', " ")
                ));
                BuildMode::Buildx
            }
        },
    };
    let secrets: Vec<(String, PathBuf)> = plan
        .secrets
        .iter()
        .map(|s| {
            let src = match &s.source {
                SecretSource::File(path) => path.clone(),
                SecretSource::Text(_) => PathBuf::from("<a private file holding the secret>"),
            };
            (s.id.clone(), src)
        })
        .collect();
    let platform = build_platforms(spec);
    let context = PathBuf::from("<context>");
    let metadata = PathBuf::from("<context>.metadata.json");
    // The record itself is made at build time (it hashes every file).
    let labels = vec![(
        imagespec_core::explain::INPUTS_LABEL.to_string(),
        "<record of the tag inputs>".to_string(),
    )];
    let command = command::BuildCommand {
        labels: &labels,
        mode,
        image_name,
        platform: &platform,
        secrets: &secrets,
        push,
        builder: settings.buildx_builder.as_deref(),
        network: settings.network.as_deref(),
        context_dir: &context,
        metadata_file: &metadata,
    };
    let (args, env) = command.args();
    let docker = client.display().to_string();
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
    if push && mode == BuildMode::Builtin {
        lines.push(line(vec![docker, "push".into(), image_name.clone()]));
    }
    Ok(lines)
}

/// The secret files a build hands to docker (`--secret id=ID,src=PATH`):
/// a file the spec names, as it is; a secret imagespec holds (an index URL
/// with credentials) in an anonymous memory file (`memfd`) that the docker
/// client inherits and opens as `/proc/self/fd/N`. No such secret is ever
/// written to a disk, so no kill can leave it behind. Held until dropped.
type SecretFiles = Vec<(String, PathBuf, Option<std::os::fd::OwnedFd>)>;

fn secret_files(secrets: &[imagespec_core::plan::BuildSecret]) -> Result<SecretFiles> {
    let mut out = Vec::new();
    for secret in secrets {
        match &secret.source {
            SecretSource::File(path) => out.push((secret.id.clone(), path.clone(), None)),
            SecretSource::Text(text) => {
                let fd = memory_file(text.expose().as_bytes()).map_err(|e| {
                    imagespec_core::Error::Other(format!(
                        "cannot hold the secret `{}` for the build: {e}",
                        secret.id
                    ))
                })?;
                use std::os::fd::AsRawFd as _;
                let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
                out.push((secret.id.clone(), path, Some(fd)));
            }
        }
    }
    Ok(out)
}

/// An anonymous memory file holding `bytes`, inherited by the processes
/// started while it is open (no close-on-exec).
fn memory_file(bytes: &[u8]) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{memfd_create, MemfdFlags};
    use std::io::Write as _;
    let fd = memfd_create("imagespec-secret", MemfdFlags::empty())?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    Ok(file.into())
}

imagespec_core::inventory::submit!(BuilderRegistration::new(&DockerBuilder, PRIORITY));

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
