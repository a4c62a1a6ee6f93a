//! What the docker client and engine can do, asked before anything runs.

use std::path::PathBuf;

use crate::command::BuildMode;
use crate::error::DockerError;
use crate::settings::{DockerSettings, ModeChoice};

/// What preflight found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The docker client that builds (the one named, else the first found
    /// that can build with BuildKit).
    pub client: PathBuf,
    /// The client's version.
    pub client_version: String,
    /// The engine's version.
    pub server_version: String,
    /// How the build will run.
    pub mode: BuildMode,
}

async fn output(
    settings: &DockerSettings,
    args: &[&str],
) -> Result<std::process::Output, DockerError> {
    settings
        .docker()
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| DockerError::NoClient {
            docker: settings.docker.display().to_string(),
            source,
        })
}

fn major(version: &str) -> u32 {
    version
        .trim()
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Where to look for a docker client when none is named: every `docker` on
/// PATH, in PATH's order, then the places packages install one
/// (`/usr/bin/docker` is Debian's, whose 20.10 client has BuildKit built in;
/// `/usr/local/bin/docker` is Docker's static client, which needs the buildx
/// plugin); each file once, however many links lead to it.
pub fn candidates() -> Vec<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let usual = ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin", "/bin"].map(PathBuf::from);
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for dir in on_path.into_iter().chain(usual) {
        let file = dir.join("docker");
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let executable = {
            use std::os::unix::fs::PermissionsExt;
            meta.is_file() && meta.permissions().mode() & 0o111 != 0
        };
        let real = file.canonicalize().unwrap_or_else(|_| file.clone());
        if executable && !seen.contains(&real) {
            seen.push(real);
            out.push(file);
        }
    }
    out
}

/// Checks the engine, BuildKit and the platforms a spec asks for, and picks
/// the docker client: the one named, else the first of [`candidates`] that
/// can build with BuildKit (a client from 23.0 on needs the buildx plugin;
/// older ones use the engine's built-in BuildKit). Says at `-v` which
/// client it chose and why it passed over the others.
pub async fn check(
    settings: &DockerSettings,
    platforms: &[String],
) -> Result<Capabilities, DockerError> {
    let found = match settings.docker_named {
        true => vec![settings.docker.clone()],
        false => candidates(),
    };
    if found.is_empty() {
        return Err(DockerError::NoClient {
            docker: "docker".into(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no `docker` on PATH, nor in /usr/bin or /usr/local/bin",
            ),
        });
    }
    let mut passed_over = Vec::new();
    let mut chosen = None;
    for client in &found {
        match probe(&settings.with_client(client)).await {
            Ok(caps) => {
                chosen = Some(caps);
                break;
            }
            Err(e @ DockerError::NoBuildKit(_)) if !settings.docker_named => {
                passed_over.push(format!("{}: {e}", client.display()));
            }
            Err(e @ DockerError::NoClient { .. }) if !settings.docker_named => {
                passed_over.push(format!("{}: {e}", client.display()));
            }
            Err(e) => return Err(e),
        }
    }
    let Some(caps) = chosen else {
        return Err(DockerError::NoBuildKit(format!(
            "no docker client here can build with BuildKit:\n  {}\nInstall the buildx plugin for one of them, \
             or a client with BuildKit built in (Debian's docker.io 20.10: /usr/bin/docker), or point {} \
             (or --docker) at one",
            passed_over.join("\n  "),
            crate::vars::ENV_DOCKER
        )));
    };
    for why in &passed_over {
        tracing::info!("passed over the docker client {why}");
    }
    tracing::info!(
        "docker client {} ({}), engine {}, {}",
        caps.client.display(),
        caps.client_version,
        caps.server_version,
        match caps.mode {
            BuildMode::Buildx => "BuildKit through buildx",
            BuildMode::Builtin => "the engine's built-in BuildKit",
        }
    );
    check_platforms(settings, platforms, caps).await
}

/// What one client can do: its version, the engine's, and how it builds.
async fn probe(settings: &DockerSettings) -> Result<Capabilities, DockerError> {
    let version = output(
        settings,
        &[
            "version",
            "--format",
            "{{.Client.Version}} {{.Server.Version}}",
        ],
    )
    .await?;
    let text = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let (client_version, server_version) = text.split_once(' ').unwrap_or((text.as_str(), ""));
    if !version.status.success() || server_version.is_empty() || server_version.contains("no value")
    {
        let at = settings
            .host
            .as_ref()
            .map(|h| format!(" at `{h}`"))
            .or_else(|| {
                settings
                    .context
                    .as_ref()
                    .map(|c| format!(" through docker context `{c}`"))
            })
            .unwrap_or_default();
        let detail = String::from_utf8_lossy(&version.stderr)
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        return Err(DockerError::NoEngine { at, detail });
    }
    if major(server_version) < 18 {
        return Err(DockerError::NoBuildKit(format!(
            "the Docker engine is version {server_version}; BuildKit needs 18.09 or newer. Upgrade the engine"
        )));
    }

    let has_buildx = match settings.mode {
        ModeChoice::Builtin => false,
        _ => output(settings, &["buildx", "version"])
            .await?
            .status
            .success(),
    };
    let mode = match (settings.mode, has_buildx) {
        (ModeChoice::Buildx, false) => {
            return Err(DockerError::NoBuildKit(format!(
                "{}=buildx, but `{} buildx` is not available. Install the buildx plugin, or use {}=builtin",
                crate::vars::ENV_BUILDKIT_MODE,
                settings.docker.display(),
                crate::vars::ENV_BUILDKIT_MODE
            )))
        }
        (_, true) => BuildMode::Buildx,
        (_, false) => {
            // Clients from 23.0 on hand DOCKER_BUILDKIT=1 builds to buildx and
            // fail without it; older clients talk to the engine's BuildKit.
            if major(client_version) >= 23 {
                return Err(DockerError::NoBuildKit(format!(
                    "the docker client `{}` ({client_version}) needs the buildx plugin for BuildKit builds, and it has none. \
                     Install the buildx plugin, or point {} (or --docker) at a client with BuildKit built in, such as \
                     Debian's /usr/bin/docker 20.10",
                    settings.docker.display(),
                    crate::vars::ENV_DOCKER
                )));
            }
            BuildMode::Builtin
        }
    };

    Ok(Capabilities {
        client: settings.docker.clone(),
        client_version: client_version.to_string(),
        server_version: server_version.to_string(),
        mode,
    })
}

/// Fails when the spec asks for more platforms than the chosen BuildKit can build.
async fn check_platforms(
    settings: &DockerSettings,
    platforms: &[String],
    caps: Capabilities,
) -> Result<Capabilities, DockerError> {
    let settings = &settings.with_client(&caps.client);
    let mode = caps.mode;
    let asked = platforms.join(",");
    if platforms.len() > 1 {
        match mode {
            BuildMode::Builtin => {
                return Err(DockerError::Platforms(format!(
                    "`{}` asks for {} platforms, and the engine's built-in BuildKit builds one at a time. \
                     Use buildx with a builder that can (`docker buildx create --use --driver docker-container`), \
                     or build one platform per spec",
                    asked,
                    platforms.len()
                )))
            }
            BuildMode::Buildx => {
                let mut args = vec!["buildx", "inspect"];
                if let Some(b) = &settings.buildx_builder {
                    args.push(b);
                }
                let out = output(settings, &args).await?;
                let text = String::from_utf8_lossy(&out.stdout);
                let driver = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Driver:"))
                    .map(str::trim)
                    .unwrap_or("");
                if driver == "docker" {
                    return Err(DockerError::Platforms(format!(
                        "`{}` asks for several platforms, and the buildx builder uses the `docker` driver, which \
                         builds one. Create a builder that can: `docker buildx create --use --driver docker-container`, \
                         or pass it with {}",
                        asked,
                        crate::vars::ENV_BUILDX_BUILDER
                    )));
                }
            }
        }
    }
    Ok(caps)
}
