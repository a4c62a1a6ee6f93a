//! The Podman builder's errors.

/// Errors of the Podman builder.
#[derive(Debug, thiserror::Error)]
pub enum PodmanError {
    /// podman cannot be run.
    #[error("cannot run podman `{podman}`: {source}. Install Podman (Debian: `apt-get install podman`), or point {env} (or --podman) at it", env = crate::vars::ENV_PODMAN)]
    NoPodman {
        podman: String,
        #[source]
        source: std::io::Error,
    },
    /// podman runs, but cannot build here.
    #[error("podman `{podman}` cannot build here: {detail}")]
    Unusable { podman: String, detail: String },
    /// The spec asks for what podman cannot do here.
    #[error("{0}")]
    Unsupported(String),
    /// A podman command failed.
    #[error("{what} of `{image}` with podman failed{step}: {message}\n{tail}")]
    Failed {
        what: &'static str,
        image: String,
        step: String,
        message: String,
        tail: String,
    },
    /// Interrupted: nothing new starts.
    #[error("interrupted")]
    Interrupted,
    /// A file of its own could not be made or read.
    #[error("{0}")]
    Io(String),
}

impl From<PodmanError> for imagespec_core::Error {
    fn from(e: PodmanError) -> Self {
        imagespec_core::Error::Builder(Box::new(e))
    }
}

impl PodmanError {
    /// A shared runner's error, for `what` of `image` run by `podman`.
    pub fn of_run(
        e: imagespec_builder_run::RunError,
        what: &'static str,
        image: &str,
    ) -> PodmanError {
        use imagespec_builder_run::RunError;
        match e {
            RunError::Spawn { program, source } => PodmanError::NoPodman {
                podman: program,
                source,
            },
            RunError::Interrupted => PodmanError::Interrupted,
            RunError::Failed { .. } => PodmanError::Failed {
                what,
                image: image.to_string(),
                step: e.step_suffix(),
                tail: e.tail(),
                message: e.to_string(),
            },
        }
    }
}
