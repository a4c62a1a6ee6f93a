//! The `default` image builder: Docker with BuildKit, as flytekit's
//! `DefaultImageBuilder`.
//!
//! It receives a prepared context (the pipeline wrote and rechecked it, with
//! its secrets and labels) and only runs docker:
//!
//! 1. [`preflight`] asks the engine what it can do, and says what is missing
//!    (no engine, no BuildKit, multi-platform on a driver that cannot) with
//!    the fix, before anything runs.
//! 2. [`command`] makes the build command: `docker buildx build` when buildx
//!    is there (with `--push`), else the engine's built-in BuildKit
//!    (`DOCKER_BUILDKIT=1 docker build`) followed by `docker push`.
//! 3. [`progress`] streams BuildKit's output to stderr, each line prefixed
//!    with the image name, and names the failed step when it fails.
//!
//! The docker client, the buildx builder, `DOCKER_HOST` and the docker
//! context are the user's: flags or environment variables choose them.

pub mod builder;
pub mod command;
pub mod error;
pub mod preflight;
pub mod progress;
pub mod settings;
pub mod vars;

pub use builder::{
    build_with, link, local_existence, planned_commands, unsupported_fields, DockerBuilder,
    UNSUPPORTED_FIELDS,
};
pub use command::{BuildCommand, BuildMode};
pub use error::DockerError;
pub use preflight::Capabilities;
pub use settings::{DockerArgs, DockerClientArgs, DockerSettings, ModeChoice, PRIORITY};
pub use vars::{ENV_BUILDKIT_MODE, ENV_BUILDX_BUILDER, ENV_BUILD_NETWORK, ENV_DOCKER};
