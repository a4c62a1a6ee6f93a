//! The Docker builder's errors.

/// Errors of the Docker builder.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// A setting is invalid.
    #[error("{0}")]
    Setting(String),
    /// The docker client cannot be run.
    #[error("cannot run the docker client `{docker}`: {source}. Install Docker, or point {env} (or --docker) at a client", env = crate::vars::ENV_DOCKER)]
    NoClient {
        docker: String,
        #[source]
        source: std::io::Error,
    },
    /// The client runs but reaches no engine.
    #[error("no Docker engine is reachable{at}: {detail}. Start dockerd, or set DOCKER_HOST / --docker-host (or a docker context) to a running engine")]
    NoEngine { at: String, detail: String },
    /// A remote engine cannot be reached, for a reason the client named.
    #[error("the Docker engine{at} cannot be reached: {detail}. {fix}")]
    Remote {
        at: String,
        detail: String,
        fix: String,
    },
    /// BuildKit cannot be used.
    #[error("{0}")]
    NoBuildKit(String),
    /// The build asks for more platforms than the builder can make.
    #[error("{0}")]
    Platforms(String),
    /// A docker command failed.
    #[error("{what} of `{image}` failed{step}: {message}\n{tail}")]
    Failed {
        what: &'static str,
        image: String,
        step: String,
        message: String,
        tail: String,
    },
}

impl From<DockerError> for imagespec_core::Error {
    fn from(e: DockerError) -> Self {
        imagespec_core::Error::Builder(Box::new(e))
    }
}
