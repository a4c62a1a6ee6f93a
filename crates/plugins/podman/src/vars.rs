//! The environment variables the Podman builder reads.

/// The podman binary to run.
pub const ENV_PODMAN: &str = "IMAGESPEC_PODMAN";
/// The network of the build's RUN steps; the Docker builder reads it too.
pub const ENV_BUILD_NETWORK: &str = "IMAGESPEC_BUILD_NETWORK";
/// `1` asks for the build cache shared through the registry (the Docker
/// builder's `--registry-cache`), which the podman builder refuses.
pub const ENV_REGISTRY_CACHE: &str = "IMAGESPEC_REGISTRY_CACHE";
