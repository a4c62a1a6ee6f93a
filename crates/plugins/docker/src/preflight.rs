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

/// `docker ARGS` (host and context applied, no stdin), its output.
pub(crate) async fn output(
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
    major_minor(version).0
}

/// `major.minor` of a version (`20.10.24+dfsg1`: (20, 10)); (0, 0) when
/// it cannot be read.
fn major_minor(version: &str) -> (u32, u32) {
    let mut parts = version.trim().split(['.', '-', '+']);
    let mut next = || parts.next().and_then(|p| p.parse().ok());
    match (next(), next()) {
        (Some(major), Some(minor)) => (major, minor),
        (Some(major), None) => (major, 0),
        _ => (0, 0),
    }
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
    let at = engine_place(settings);
    tracing::info!(
        "docker client {} ({}), engine {}{at}, {}",
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

/// The fix for a remote engine the client could not reach, from what the
/// client said: TLS files missing or not trusted, an SSH host key unknown
/// or a key refused. `None`: nothing remote-specific (the generic advice).
fn remote_fix(host: Option<&str>, detail: &str) -> Option<String> {
    let d = detail.to_lowercase();
    let cert_path = std::env::var("DOCKER_CERT_PATH")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "~/.docker".into());
    if d.contains("could not read ca certificate")
        || d.contains("could not load x509 key pair")
        || (d.contains("no such file") && d.contains(".pem"))
    {
        return Some(format!(
            "The TLS files are missing: DOCKER_CERT_PATH ({cert_path}) must hold ca.pem (the engine's CA), cert.pem and key.pem (this client's pair), or give them to a docker context (`docker context create NAME --docker host=...,ca=...,cert=...,key=...`)"
        ));
    }
    if d.contains("x509:") || d.contains("certificate") || d.contains("tls:") {
        return Some(format!(
            "TLS with the engine failed: its certificate must be signed by the ca.pem in DOCKER_CERT_PATH ({cert_path}) and name the host you connect to, and the engine must trust this client's cert.pem (dockerd --tlsverify --tlscacert)"
        ));
    }
    if d.contains("host key verification failed") || d.contains("no matching host key") {
        return Some(
            "The engine's SSH host key is not known here: check it, then add it to ~/.ssh/known_hosts (`ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts`), or connect once with `ssh` and accept it"
                .into(),
        );
    }
    if d.contains("permission denied (publickey") {
        return Some(
            "SSH refused this machine's key: add its public key to the remote user's authorized_keys, or load the right key into ssh-agent"
                .into(),
        );
    }
    if host.is_some_and(|h| h.starts_with("ssh://")) && d.contains("dial-stdio") {
        return Some(
            "the remote machine runs no docker client able to relay (`docker system dial-stdio`): install Docker 18.09 or newer there"
                .into(),
        );
    }
    None
}

/// Where the engine is, for messages: ` at `HOST``, ` through docker
/// context `NAME``, or nothing (the default engine).
fn engine_place(settings: &DockerSettings) -> String {
    match (&settings.host, &settings.context) {
        (Some(h), _) => format!(" at `{h}`"),
        (None, Some(c)) => format!(" through docker context `{c}`"),
        (None, None) => String::new(),
    }
}

/// What one client can do: its version, the engine's, and how it builds.
async fn probe(settings: &DockerSettings) -> Result<Capabilities, DockerError> {
    let at = engine_place(settings);
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
        let detail = String::from_utf8_lossy(&version.stderr)
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        if let Some(fix) = remote_fix(settings.host.as_deref(), &detail) {
            return Err(DockerError::Remote { at, detail, fix });
        }
        return Err(DockerError::NoEngine { at, detail });
    }
    if major_minor(server_version) < (18, 9) {
        return Err(DockerError::NoBuildKit(format!(
            "the Docker engine{at} is version {server_version}; BuildKit needs 18.09 or newer. Upgrade the engine"
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
            // The engine's own BuildKit reads `RUN --mount` without a
            // `#syntax` line (which would pull a frontend) from 20.10 on.
            if major_minor(server_version) < (20, 10) {
                return Err(DockerError::NoBuildKit(format!(
                    "the Docker engine{at} is version {server_version}: its built-in BuildKit reads the \
                     `RUN --mount` steps of imagespec's Dockerfiles from 20.10 on. Upgrade the engine, or \
                     build through buildx with a builder of its own (`docker buildx create --use --driver \
                     docker-container`)"
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

/// The driver of the buildx builder that builds (`docker`,
/// `docker-container`, `remote`, `kubernetes`; empty when buildx does not
/// say), from `docker buildx inspect`.
pub async fn buildx_driver(settings: &DockerSettings) -> Result<String, DockerError> {
    let mut args = vec!["buildx", "inspect"];
    if let Some(b) = &settings.buildx_builder {
        args.push(b);
    }
    let out = output(settings, &args).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Driver:"))
        .map(|d| d.trim().to_string())
        .unwrap_or_default())
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
                if buildx_driver(settings).await? == "docker" {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_major_and_minor() {
        assert_eq!(major_minor("20.10.24+dfsg1"), (20, 10));
        assert_eq!(major_minor("18.09.7"), (18, 9));
        assert_eq!(major_minor("28.2.2"), (28, 2));
        assert_eq!(major_minor("27"), (27, 0));
        assert_eq!(major_minor("dev"), (0, 0));
        assert!(major_minor("19.03.15") < (20, 10));
    }

    /// A docker client that says it is 19.03 talking to a 19.03 engine at
    /// a remote host, with no buildx.
    #[tokio::test]
    async fn an_engine_too_old_for_the_dockerfiles_is_named_with_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let client = dir.path().join("docker");
        std::fs::write(
            &client,
            "#!/bin/sh\ncase \"$1\" in\n  version) echo '19.03.15 19.03.15' ;;\n  *) exit 1 ;;\nesac\n",
        )
        .unwrap();
        std::fs::set_permissions(&client, std::fs::Permissions::from_mode(0o755)).unwrap();
        let settings = DockerSettings {
            docker: client.clone(),
            docker_named: true,
            host: Some("tcp://build-host:2376".into()),
            ..DockerSettings::from_args(&crate::settings::DockerArgs::default()).unwrap()
        };
        let e = check(&settings, &["linux/amd64".into()]).await.unwrap_err();
        let said = e.to_string();
        assert!(
            said.contains("tcp://build-host:2376")
                && said.contains("19.03.15")
                && said.contains("20.10")
                && said.contains("Upgrade the engine"),
            "{said}"
        );
    }

    #[test]
    fn remote_failures_get_their_own_fix() {
        let tls = remote_fix(
            Some("tcp://10.0.0.5:2376"),
            "could not read CA certificate \"/x/ca.pem\": open /x/ca.pem: no such file or directory",
        )
        .unwrap();
        assert!(
            tls.contains("TLS files are missing") && tls.contains("cert.pem"),
            "{tls}"
        );
        let trust = remote_fix(
            Some("tcp://10.0.0.5:2376"),
            "error during connect: Get \"https://10.0.0.5:2376/v1.24/version\": x509: certificate signed by unknown authority",
        )
        .unwrap();
        assert!(trust.contains("TLS with the engine failed"), "{trust}");
        let ssh = remote_fix(
            Some("ssh://me@build"),
            "error during connect: ... Host key verification failed.",
        )
        .unwrap();
        assert!(ssh.contains("known_hosts"), "{ssh}");
        assert!(remote_fix(
            None,
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock"
        )
        .is_none());
    }
}
