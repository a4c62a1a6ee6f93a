//! The environment variables the Docker builder reads.

/// Environment variable: the docker client to run (default `docker` on PATH).
pub const ENV_DOCKER: &str = "IMAGESPEC_DOCKER";
/// Environment variable: the buildx builder to use (`docker buildx build --builder`).
pub const ENV_BUILDX_BUILDER: &str = "IMAGESPEC_BUILDX_BUILDER";
/// Environment variable: `auto` (default), `buildx` or `builtin` BuildKit.
pub const ENV_BUILDKIT_MODE: &str = "IMAGESPEC_BUILDKIT";
/// Environment variable: `1` shares the build cache through the registry
/// (`--registry-cache`).
pub const ENV_REGISTRY_CACHE: &str = "IMAGESPEC_REGISTRY_CACHE";
/// The tag the shared build cache is pushed under, in each image's repository.
pub const CACHE_TAG: &str = imagespec_core::builder::SHARED_BUILD_TAG;
/// Environment variable: the network of the build's RUN steps (`docker build --network`).
pub const ENV_BUILD_NETWORK: &str = "IMAGESPEC_BUILD_NETWORK";
