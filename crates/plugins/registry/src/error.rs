//! [`Error`]: what this crate reports to its callers (a knob that is not
//! valid, a credential helper that cannot be used).
//!
//! What a registry answers is not an error: it is an
//! [`Existence`](imagespec_core::existence::Existence).

use std::time::Duration;

/// An error of the registry checks.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `IMAGESPEC_*` variable holds a value outside what it accepts.
    #[error("invalid `{name}={value}`: expected {expected}; fix or unset `{name}`")]
    InvalidKnob {
        /// The variable.
        name: &'static str,
        /// Its value, as set.
        value: String,
        /// What it accepts (form, range and default).
        expected: String,
    },
    /// An `IMAGESPEC_*` variable is not valid UTF-8.
    #[error("invalid `{name}`: its value is not valid UTF-8; fix or unset `{name}`")]
    KnobNotUnicode {
        /// The variable.
        name: &'static str,
    },
    /// A credential helper did not answer in time, and was killed.
    #[error(
        "credential helper `{helper}` did not answer within {}s and was killed; \
         check it with `echo SERVER | {helper} get`",
        timeout.as_secs_f64()
    )]
    HelperTimeout {
        /// The program (`docker-credential-NAME`).
        helper: String,
        /// How long it was given.
        timeout: Duration,
    },
    /// A credential helper could not be run, failed, or answered nonsense.
    /// Its output is not shown: it could hold a secret.
    #[error("credential helper `{helper}` {why}")]
    HelperFailed {
        /// The program (`docker-credential-NAME`).
        helper: String,
        /// What went wrong (`could not be run: ...`, `exited with ...`).
        why: String,
    },
}
