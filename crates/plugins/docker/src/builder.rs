//! The `default` builder: flytekit's `DefaultImageBuilder`, as a plugin.

use std::path::PathBuf;

use async_trait::async_trait;
use imagespec_core::builder::{
    BuildOutcome, BuildRequest, BuilderRegistration, ImageBuilder, Target,
};
use imagespec_core::existence::Existence;
use imagespec_core::{Plugin, Result};

use crate::command::{self, BuildCommand, BuildMode, CacheForm, SharedCache};
use crate::error::DockerError;
use crate::preflight;
use crate::progress;
use crate::settings::{DockerSettings, ModeChoice, PRIORITY};

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
    /// Whether a Docker engine answers, asked cheaply: a connection to its
    /// socket (`DOCKER_HOST`'s, else `/var/run/docker.sock`). A remote
    /// engine over SSH, or a docker context, is taken as there: the build
    /// says if it is not.
    fn available(&self) -> std::result::Result<(), String> {
        let settings = self.settings().map_err(|e| e.to_string())?;
        if settings.context.is_some() {
            return Ok(());
        }
        let host = settings
            .host
            .clone()
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        if let Some(path) = host.strip_prefix("unix://") {
            return std::os::unix::net::UnixStream::connect(path)
                .map(drop)
                .map_err(|e| format!("no Docker engine at {host}: {e}"));
        }
        if let Some(addr) = host.strip_prefix("tcp://") {
            use std::net::ToSocketAddrs;
            let addr = addr.trim_end_matches('/');
            let first = addr
                .to_socket_addrs()
                .map_err(|e| format!("DOCKER_HOST {host}: {e}"))?
                .next()
                .ok_or_else(|| format!("DOCKER_HOST {host} names no address"))?;
            return std::net::TcpStream::connect_timeout(&first, std::time::Duration::from_secs(2))
                .map(drop)
                .map_err(|e| format!("no Docker engine at {host}: {e}"));
        }
        Ok(())
    }

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

/// Runs docker on a prepared context, as [`DockerBuilder`] does: the build
/// (with `--push` under buildx), else the engine's built-in BuildKit and
/// then `docker push`.
pub async fn build_with(
    settings: &DockerSettings,
    request: &BuildRequest<'_>,
) -> Result<BuildOutcome> {
    let target = &request.target;
    let context = request.context_for("Docker")?;
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
    let cache = shared_cache(settings, request, caps.mode).await?;
    let command = BuildCommand::of(caps.mode, settings, request, context, &metadata, cache);
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
                // The same image under the cache's tag: no blob is sent again.
                if let Some(cache) = command.cache.as_ref().filter(|c| c.export) {
                    let mut cmd = settings.docker_supervised();
                    cmd.arg("push").arg(&cache.reference);
                    progress::run_streaming(cmd, image, "push", quiet, masked).await?;
                    untag(settings, &cache.reference).await;
                }
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

/// The build cache shared through the registry for this build, when
/// `--registry-cache` asks for it: read from the image's repository, and
/// written back when the image is pushed. The inline form is read by
/// digest, asked of the registry here; the first build of a repository
/// finds none and only writes it.
async fn shared_cache(
    settings: &DockerSettings,
    request: &BuildRequest<'_>,
    mode: BuildMode,
) -> Result<Option<SharedCache>> {
    let target = &request.target;
    if !settings.registry_cache {
        return Ok(None);
    }
    if target.spec.registry().is_none() {
        tracing::warn!(
            image = %target.image_name,
            "the spec has no registry, so its build cache is not shared (--registry-cache)"
        );
        return Ok(None);
    }
    let reference = command::cache_ref(target.image_name);
    let form = match mode {
        BuildMode::Builtin => CacheForm::Inline,
        // buildx's `docker` driver exports no registry cache.
        BuildMode::Buildx => match preflight::buildx_driver(settings).await? {
            driver if driver == "docker" => CacheForm::Inline,
            _ => CacheForm::Registry,
        },
    };
    let import = match form {
        CacheForm::Registry => Some(reference.clone()),
        CacheForm::Inline => match request.registry {
            None => {
                tracing::warn!(
                    cache = %reference,
                    "no registry checker is built in to read the shared build cache; building without it"
                );
                None
            }
            Some(checker) => match checker.check(&reference, &target.platforms).await {
                Existence::Exists { digest } => {
                    tracing::info!(cache = %reference, %digest, "reading the shared build cache");
                    Some(format!(
                        "{}@{digest}",
                        imagespec_core::store::repository(&reference)
                    ))
                }
                Existence::Missing { .. } => {
                    tracing::info!(cache = %reference, "no shared build cache yet");
                    None
                }
                Existence::Unknown { reason } => {
                    tracing::warn!(
                        cache = %reference,
                        "the shared build cache cannot be read ({reason}); building without it"
                    );
                    None
                }
            },
        },
    };
    Ok(Some(SharedCache {
        reference,
        form,
        import,
        export: target.push,
    }))
}

/// Removes the engine's tag `reference` (the image keeps its other tags):
/// the cache tag is only there to be pushed.
async fn untag(settings: &DockerSettings, reference: &str) {
    match preflight::output(settings, &["image", "rm", "--no-prune", reference]).await {
        Ok(out) if out.status.success() => {}
        Ok(out) => tracing::debug!(
            "docker image rm {reference}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => tracing::debug!("docker image rm {reference}: {e}"),
    }
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
    let context = request.context_for("Docker")?;
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
    let cache = shared_cache(&settings, request, mode).await?;
    let command = BuildCommand::of(mode, &settings, request, context, &metadata, cache);
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
            .map(|w| imagespec_core::text::shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    lines.push(line(words));
    if target.push && mode == BuildMode::Builtin {
        lines.push(line(vec![
            docker.clone(),
            "push".into(),
            target.image_name.to_string(),
        ]));
        if let Some(cache) = command.cache.as_ref().filter(|c| c.export) {
            lines.push(line(vec![
                docker.clone(),
                "push".into(),
                cache.reference.clone(),
            ]));
            lines.push(line(vec![
                docker,
                "image".into(),
                "rm".into(),
                "--no-prune".into(),
                cache.reference.clone(),
            ]));
        }
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
