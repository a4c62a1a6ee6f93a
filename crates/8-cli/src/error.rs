//! Why a command failed, as data: the exit status and the cargo feature
//! that would have helped follow from the variant and what it carries, never
//! from an error's text.

use imagespec_core::SpecError;

use crate::status::{ExitStatus, LintFailure, UsageError};

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The pipeline's (a spec error among them).
    #[error(transparent)]
    Core(#[from] imagespec_core::Error),
    /// `--strict` met lint findings.
    #[error(transparent)]
    Lint(#[from] LintFailure),
    /// A command line the command cannot take.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The Docker builder's settings are wrong.
    #[cfg(feature = "docker")]
    #[error(transparent)]
    Docker(#[from] imagespec_docker::DockerError),
    /// The registry checker's settings are wrong.
    #[cfg(feature = "registry")]
    #[error(transparent)]
    Registry(#[from] imagespec_registry::Error),
    /// Writing what was asked for (stdout, a file) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl From<SpecError> for CliError {
    fn from(e: SpecError) -> Self {
        CliError::Core(e.into())
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        CliError::Io {
            what: "cannot write the JSON document".into(),
            source: e.into(),
        }
    }
}

impl CliError {
    /// An I/O failure while doing `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> CliError {
        CliError::Io {
            what: what.into(),
            source,
        }
    }

    /// The status the program ends with.
    pub fn status(&self) -> ExitStatus {
        match self {
            CliError::Lint(_) => ExitStatus::LintFindings,
            CliError::Usage(_) => ExitStatus::Usage,
            CliError::Core(e) if e.is_invalid_spec() => ExitStatus::InvalidSpec,
            _ => ExitStatus::Failure,
        }
    }

    /// The spec error, when the spec is at fault.
    pub fn spec_error(&self) -> Option<&SpecError> {
        match self {
            CliError::Core(imagespec_core::Error::Spec(se)) => Some(se),
            _ => None,
        }
    }

    /// The pipeline's error, if it is one.
    pub fn core(&self) -> Option<&imagespec_core::Error> {
        match self {
            CliError::Core(e) => Some(e),
            _ => None,
        }
    }

    /// Its causes, outermost first (not itself).
    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            out.push(e.to_string());
            next = e.source();
        }
        out
    }
}

/// Result with [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;
