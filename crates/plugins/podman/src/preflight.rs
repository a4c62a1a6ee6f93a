//! What podman can do here, asked before anything is built.

use crate::error::PodmanError;
use crate::settings::PodmanSettings;

/// What preflight found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The podman binary that runs.
    pub podman: std::path::PathBuf,
    /// `podman --version`'s version.
    pub version: String,
}

/// Finds podman, and refuses what it cannot build: several platforms at
/// once (podman makes one image per platform; a manifest list is another
/// step imagespec does not take).
pub async fn check(settings: &PodmanSettings, platforms: &[String]) -> Result<Found, PodmanError> {
    if platforms.len() > 1 {
        return Err(PodmanError::Unsupported(format!(
            "`{}` asks for {} platforms, and the podman builder builds one. Build with the default \
             builder (BuildKit through buildx with a `docker-container` builder), or give each \
             platform its own spec",
            platforms.join(","),
            platforms.len()
        )));
    }
    let podman = settings.resolve().ok_or_else(|| PodmanError::NoPodman {
        podman: settings.podman.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
    })?;
    let out = tokio::process::Command::new(&podman)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| PodmanError::NoPodman {
            podman: podman.display().to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(PodmanError::Unusable {
            podman: podman.display().to_string(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    // `podman version 4.3.1`
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last().unwrap_or("").to_string();
    Ok(Found { podman, version })
}
