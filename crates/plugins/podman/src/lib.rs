//! The `podman` image builder: Podman (its buildah library) builds the
//! context the pipeline prepared, with the same Dockerfile the Docker
//! builder gets, and pushes the image. No daemon: each build is a `podman`
//! process.
//!
//! 1. [`preflight`] finds podman and says, before anything runs, what it
//!    cannot do for this spec (several platforms at once), with the fix.
//! 2. [`command`] makes `podman build` (Docker image format, so the image
//!    is the one BuildKit makes) and `podman push --digestfile`.
//! 3. The run streams podman's output (shared with the Docker builder,
//!    `imagespec-builder-run`); [`steps`] reads buildah's `STEP n/m:` lines
//!    to name the step that failed.
//!
//! Registry trust (an HTTP registry on loopback, say) is podman's own
//! configuration (`registries.conf`), never a spec's.

pub mod builder;
pub mod command;
pub mod error;
pub mod preflight;
pub mod settings;
pub mod steps;
pub mod vars;

pub use builder::{link, PodmanBuilder};
pub use error::PodmanError;
pub use settings::{PodmanArgs, PodmanSettings, PRIORITY};
pub use vars::{ENV_BUILD_NETWORK, ENV_PODMAN};
