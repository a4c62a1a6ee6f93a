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
    /// 5: lint findings (`lint`, or `--strict`).
    LintFindings,
    /// 64 (EX_USAGE): the command line is wrong.
    Usage,
}

impl ExitStatus {
    /// The exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::InvalidSpec => 2,
            ExitStatus::Missing => 3,
            ExitStatus::Unknown => 4,
            ExitStatus::LintFindings => 5,
            ExitStatus::Usage => 64,
        }
    }

    /// How the JSON error object names it.
    pub fn kind(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::Failure => "failure",
            ExitStatus::InvalidSpec => "invalid_spec",
            ExitStatus::Missing => "missing",
            ExitStatus::Unknown => "unknown",
            ExitStatus::LintFindings => "lint_findings",
            ExitStatus::Usage => "usage",
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// `--strict` met lint findings (exit 5).
#[derive(Debug, thiserror::Error)]
#[error("{count} lint finding(s) in `{file}` and --strict is on: fix them (see the warnings above or `imagespec lint {file}`), or drop --strict")]
pub struct LintFailure {
    /// The spec file.
    pub file: String,
    /// How many.
    pub count: usize,
}

/// A command line clap accepted but the command cannot take (exit 64).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
