//! What the program exits with.

use std::process::ExitCode;

/// The outcome of a command, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: what was asked for exists.
    Success,
    /// 1: it failed.
    Failure,
    /// 2: a spec is invalid (the message names file, field and line).
    InvalidSpec,
    /// 3 (`exists`): an image is missing.
    Missing,
    /// 4 (`exists`): whether an image exists could not be told.
    Unknown,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::InvalidSpec => 2,
            ExitStatus::Missing => 3,
            ExitStatus::Unknown => 4,
        })
    }
}

impl ExitStatus {
    /// The status an error ends the program with.
    pub fn of_error(err: &anyhow::Error) -> ExitStatus {
        let invalid = err.chain().any(|c| {
            matches!(c.downcast_ref::<imagespec_core::Error>(), Some(e) if e.is_invalid_spec())
                || c.downcast_ref::<imagespec_core::SpecError>().is_some()
        });
        if invalid {
            ExitStatus::InvalidSpec
        } else {
            ExitStatus::Failure
        }
    }
}
