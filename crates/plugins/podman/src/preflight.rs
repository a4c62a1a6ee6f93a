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

/// The build cache shared through the registry is BuildKit's (its inline
/// or registry cache): asked for, a podman build would share nothing, so it
/// is refused rather than silently skipped.
pub fn refuse_registry_cache(settings: &PodmanSettings) -> Result<(), PodmanError> {
    if settings.registry_cache {
        return Err(PodmanError::Unsupported(format!(
            "--registry-cache ({}) shares BuildKit's build cache through the registry, and the podman \
             builder does not share one. Build with the default builder (Docker with BuildKit), or \
             unset it for the specs podman builds",
            crate::vars::ENV_REGISTRY_CACHE
        )));
    }
    Ok(())
}

/// Finds podman, and refuses what it cannot build: several platforms at
/// once (podman makes one image per platform; a manifest list is another
/// step imagespec does not take).
pub async fn check(settings: &PodmanSettings, platforms: &[String]) -> Result<Found, PodmanError> {
    refuse_registry_cache(settings)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::PodmanArgs;

    #[tokio::test]
    async fn the_registry_cache_is_refused_before_podman_is_looked_for() {
        let settings = PodmanSettings::from_args(&PodmanArgs {
            podman: Some("/nonexistent/podman".into()),
            podman_network: None,
            registry_cache: true,
        })
        .unwrap();
        let e = check(&settings, &["linux/amd64".into()]).await.unwrap_err();
        let said = e.to_string();
        assert!(
            said.contains("--registry-cache")
                && said.contains("IMAGESPEC_REGISTRY_CACHE")
                && said.contains("default builder"),
            "{said}"
        );
        let off = PodmanSettings {
            registry_cache: false,
            ..settings
        };
        assert!(refuse_registry_cache(&off).is_ok());
    }
}
