//! Whether an image already exists, and flytekit's rules for what to do about it.
//!
//! A checker plugin (the registry crate) answers [`Existence`] for an image
//! name; [`decide`] applies flytekit's `should_build` table to the answer.

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::plugin::{Plugin, Registration, Registry};

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

/// What to do when the answer is not "missing".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Build and push even when the image exists (`--force-push`).
    pub force_push: bool,
    /// Fail when existence cannot be told (`--fast-fail`, `FLYTE_IMG_FAST_FAIL`).
    pub fast_fail: bool,
    /// flytekit's behaviour when existence cannot be told: assume the image
    /// exists and build nothing (`--assume-exists-when-unknown`). Off, an
    /// image whose existence cannot be told is built.
    pub assume_exists_when_unknown: bool,
}

/// flytekit's `ImageSpecBuilder.should_build` table, with one change: when
/// the check cannot tell, imagespec builds (a push that then fails is an
/// error), where flytekit assumes the image exists and builds nothing.
///
/// | existence | force push | fast fail | assume exists | decision |
/// |---|---|---|---|---|
/// | exists | no | any | any | skip |
/// | exists | yes | any | any | build (overwrite) |
/// | missing | any | any | any | build |
/// | unknown | yes | any | any | build |
/// | unknown | no | yes | any | error (flytekit's RuntimeError) |
/// | unknown | no | no | yes | skip, with a warning (flytekit's default) |
/// | unknown | no | no | no | build, with a warning |
pub fn decide(image: &str, existence: &Existence, policy: Policy) -> Result<Decision> {
    match existence {
        Existence::Exists { .. } if policy.force_push => Ok(Decision::Build {
            reason: format!("{image} exists; force push overwrites it"),
        }),
        Existence::Exists { .. } => Ok(Decision::Skip {
            reason: format!("Image {image} found. Skip building."),
        }),
        Existence::Missing { reason, .. } => Ok(Decision::Build {
            reason: format!("Image {image} not found ({reason}). building..."),
        }),
        Existence::Unknown { reason } if policy.force_push => Ok(Decision::Build {
            reason: format!("cannot tell whether {image} exists ({reason}); force push builds it"),
        }),
        Existence::Unknown { reason } if policy.fast_fail => Err(Error::Other(format!(
            "Build failed as ImageSpec failed to check if the image {image} exists ({reason}). \
             This fast failure is configured with FLYTE_IMG_FAST_FAIL (or --fast-fail)"
        ))),
        Existence::Unknown { reason } if policy.assume_exists_when_unknown => {
            tracing::warn!(
                "cannot tell whether {image} exists ({reason}); assuming it does, as asked (--assume-exists-when-unknown)"
            );
            Ok(Decision::Skip {
                reason: format!("assumed to exist: its existence cannot be told ({reason})"),
            })
        }
        Existence::Unknown { reason } => {
            tracing::warn!("cannot tell whether {image} exists ({reason}); building it");
            Ok(Decision::Build {
                reason: format!("its existence cannot be told ({reason}); built"),
            })
        }
    }
}

/// A plugin that asks a registry whether an image exists.
#[async_trait]
pub trait ExistenceChecker: Plugin {
    /// Whether `image` (with a registry) exists with every one of `platforms`.
    async fn check(&self, image: &str, platforms: &[String]) -> Existence;

    /// The labels of `image` (its config's `config.Labels`), for `platform`
    /// (`os/arch[/variant]`) when the image is an index. A checker that
    /// cannot read them says so.
    async fn labels(
        &self,
        image: &str,
        platform: &str,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let _ = platform;
        Err(Error::Other(format!(
            "the registry checker `{}` cannot read the labels of `{image}`",
            self.name()
        )))
    }
}

/// A checker's entry in the registry.
pub type CheckerRegistration = Registration<'static, dyn ExistenceChecker>;

inventory::collect!(CheckerRegistration);

/// A set of registry checkers (the registered ones, or an embedder's own);
/// the one with the highest priority asks.
pub type Checkers<'a> = Registry<'a, dyn ExistenceChecker>;

/// The registry checkers registered in this program, built once.
pub fn registry() -> Result<&'static Checkers<'static>> {
    crate::collected!(dyn ExistenceChecker, "registry checkers")
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
        let p = |force_push, fast_fail, assume| Policy {
            force_push,
            fast_fail,
            assume_exists_when_unknown: assume,
        };
        for (fast, assume) in [(false, false), (true, false), (false, true), (true, true)] {
            assert!(!decide("i", &exists(), p(false, fast, assume))
                .unwrap()
                .builds());
            assert!(decide("i", &exists(), p(true, fast, assume))
                .unwrap()
                .builds());
            assert!(decide("i", &missing(), p(false, fast, assume))
                .unwrap()
                .builds());
            assert!(decide("i", &missing(), p(true, fast, assume))
                .unwrap()
                .builds());
            assert!(
                decide("i", &unknown(), p(true, fast, assume))
                    .unwrap()
                    .builds(),
                "force push always builds"
            );
        }
        let err = decide("i", &unknown(), p(false, true, false))
            .unwrap_err()
            .to_string();
        assert!(err.contains("FLYTE_IMG_FAST_FAIL"), "{err}");
        assert!(
            decide("i", &unknown(), p(false, true, true)).is_err(),
            "fast fail wins"
        );
        assert!(
            !decide("i", &unknown(), p(false, false, true))
                .unwrap()
                .builds(),
            "flytekit's assumption, when asked for"
        );
        assert!(
            decide("i", &unknown(), p(false, false, false))
                .unwrap()
                .builds(),
            "never a silent success: built"
        );
    }
}
