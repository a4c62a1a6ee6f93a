//! The environment variables the Podman builder reads.

/// The podman binary to run.
pub const ENV_PODMAN: &str = "IMAGESPEC_PODMAN";
/// The network of the build's RUN steps; the Docker builder reads it too.
pub const ENV_BUILD_NETWORK: &str = "IMAGESPEC_BUILD_NETWORK";
