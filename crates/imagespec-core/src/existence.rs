//! Whether an image already exists, and flytekit's rules for what to do about it.
//!
//! A checker plugin (the registry crate) answers [`Existence`] for an image
//! name; [`decide`] applies flytekit's `should_build` table to the answer.

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::plugin::{collected, Plugin, Registration, Registry};

/// flytekit's variable: build and push even when the image exists.
pub const ENV_FORCE_PUSH: &str = "FLYTE_FORCE_PUSH_IMAGE_SPEC";
/// flytekit's variable: fail instead of assuming an image exists when the check cannot tell.
pub const ENV_FAST_FAIL: &str = "FLYTE_IMG_FAST_FAIL";

/// What a registry said about an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Existence {
    /// The image is there, with every platform asked for.
    Exists {
        /// The manifest (or index) digest.
        digest: String,
    },
    /// The image is not there, or lacks a platform asked for.
    Missing {
        /// Why it counts as missing.
        reason: String,
        /// The digest when the tag exists but lacks platforms.
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<String>,
    },
    /// The check could not tell (access refused, retries exhausted, ...).
    Unknown {
        /// Why not.
        reason: String,
    },
}

impl Existence {
    /// `exists`, `missing` or `unknown`.
    pub fn status(&self) -> &'static str {
        match self {
            Existence::Exists { .. } => "exists",
            Existence::Missing { .. } => "missing",
            Existence::Unknown { .. } => "unknown",
        }
    }
    /// The digest, when known.
    pub fn digest(&self) -> Option<&str> {
        match self {
            Existence::Exists { digest } => Some(digest),
            Existence::Missing { digest, .. } => digest.as_deref(),
            Existence::Unknown { .. } => None,
        }
    }
}

/// What to do about an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    /// Build it (and push it).
    Build { reason: String },
    /// Leave it.
    Skip { reason: String },
}

impl Decision {
    /// True for [`Decision::Build`].
    pub fn builds(&self) -> bool {
        matches!(self, Decision::Build { .. })
    }
}

/// flytekit's `str2bool` on an environment variable: unset is false, and
/// anything but `false`, `0`, `off`, `no` (any case) is true.
pub fn env_flag(name: &str) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(v.to_lowercase().as_str(), "false" | "0" | "off" | "no"),
        Err(_) => false,
    }
}

/// flytekit's `ImageSpecBuilder.should_build` table.
///
/// | existence | force push | fast fail | decision |
/// |---|---|---|---|
/// | exists | no | any | skip |
/// | exists | yes | any | build (overwrite) |
/// | missing | any | any | build |
/// | unknown | any | no | skip, with a warning: assumed to exist |
/// | unknown | any | yes | error (flytekit's RuntimeError) |
pub fn decide(
    image: &str,
    existence: &Existence,
    force_push: bool,
    fast_fail: bool,
) -> Result<Decision> {
    match existence {
        Existence::Exists { .. } if force_push => Ok(Decision::Build {
            reason: format!("{image} exists; force push overwrites it"),
        }),
        Existence::Exists { .. } => Ok(Decision::Skip {
            reason: format!("Image {image} found. Skip building."),
        }),
        Existence::Missing { reason, .. } => Ok(Decision::Build {
            reason: format!("Image {image} not found ({reason}). building..."),
        }),
        Existence::Unknown { reason } if fast_fail => Err(Error::Other(format!(
            "Build failed as ImageSpec failed to check if the image {image} exists ({reason}). \
             This fast failure is configured with {ENV_FAST_FAIL} (or --fast-fail)"
        ))),
        Existence::Unknown { reason } => {
            tracing::warn!(
                "cannot tell whether {image} exists ({reason}); assuming it does, as flytekit does"
            );
            Ok(Decision::Skip {
                reason: format!("imagespec assumes the image {image} already exists ({reason})"),
            })
        }
    }
}

/// A plugin that asks a registry whether an image exists.
#[async_trait]
pub trait ExistenceChecker: Plugin {
    /// Whether `image` (with a registry) exists with every one of `platforms`.
    async fn check(&self, image: &str, platforms: &[String]) -> Existence;
}

/// A checker's entry in the registry.
pub type CheckerRegistration = Registration<dyn ExistenceChecker>;

inventory::collect!(CheckerRegistration);

/// The registry checkers registered in this program, built once.
pub fn registry() -> Result<&'static Registry<dyn ExistenceChecker>> {
    collected!(dyn ExistenceChecker, "registry checkers")
}

/// The registered checker with the highest priority (ties: by name).
pub fn checker() -> Result<Option<&'static dyn ExistenceChecker>> {
    Ok(registry()?.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exists() -> Existence {
        Existence::Exists {
            digest: "sha256:x".into(),
        }
    }
    fn missing() -> Existence {
        Existence::Missing {
            reason: "404".into(),
            digest: None,
        }
    }
    fn unknown() -> Existence {
        Existence::Unknown {
            reason: "401".into(),
        }
    }

    #[test]
    fn every_cell_of_the_decision_table() {
        for fast_fail in [false, true] {
            assert!(!decide("i", &exists(), false, fast_fail).unwrap().builds());
            assert!(decide("i", &exists(), true, fast_fail).unwrap().builds());
            assert!(decide("i", &missing(), false, fast_fail).unwrap().builds());
            assert!(decide("i", &missing(), true, fast_fail).unwrap().builds());
        }
        for force in [false, true] {
            assert!(
                !decide("i", &unknown(), force, false).unwrap().builds(),
                "assumed to exist"
            );
            let err = decide("i", &unknown(), force, true)
                .unwrap_err()
                .to_string();
            assert!(err.contains(ENV_FAST_FAIL), "{err}");
        }
    }
}
