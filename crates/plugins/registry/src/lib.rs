//! Does an image exist? Asked of the registry itself, as the OCI distribution
//! spec says, with no Docker daemon: a `HEAD` on the manifest (Accept: OCI and
//! Docker manifests and indexes), then, for an index, a `GET` to check that
//! every platform the spec asks for is in it.
//!
//! - Credentials are docker's: `~/.docker/config.json` (or `DOCKER_CONFIG`)
//!   `auths`, `credsStore` and `credHelpers` (through `docker-credential-*`).
//!   Without any, the request is anonymous, and a registry's bearer challenge
//!   (`WWW-Authenticate`) is answered with an anonymous token.
//! - Plain HTTP for `localhost`, `127.0.0.1`, `[::1]` and registries listed
//!   in `IMAGESPEC_INSECURE_REGISTRIES`.
//! - No credential appears in a log line or an error message (nor a URL's
//!   query, which can carry a signature).
//!
//! Every wait and every read is bounded; what passes a bound is an
//! [`Existence::Unknown`] whose reason names the bound:
//!
//! | what | bound |
//! |---|---|
//! | one attempt (`/v2/` ping, token exchange, request, reading the answer) | [`CheckConfig::timeout`]: `IMAGESPEC_REGISTRY_TIMEOUT` seconds, 0 < t ≤ 600 ([`MAX_TIMEOUT`]), default 10 |
//! | retries (5xx, 429, timeouts, connection failures) | `IMAGESPEC_REGISTRY_RETRIES`, 0 to 10 ([`MAX_RETRIES`]), default 3 |
//! | wait between attempts | `IMAGESPEC_REGISTRY_BACKOFF_MS`, 0 to 30000 ms, default 250, doubling up to 30 s ([`MAX_WAIT`]) |
//! | `Retry-After` (seconds or an HTTP date) of a 429 or 503 | waited for instead of a shorter backoff when at most 30 s ([`MAX_WAIT`]); a longer one ends the retries, and the reason names it |
//! | any answer read (manifest, index, error body, token answer, credential helper output) | 4 MiB ([`MAX_BODY_BYTES`]), streamed: no more is ever held |
//! | redirects | 10 ([`MAX_REDIRECTS`]); a loop ends the check at once, named as a redirect loop |
//! | a credential helper | the registry timeout; then it is killed |
//!
//! A manifest body that is not JSON, an index whose `manifests` or platform
//! entries are malformed, a body that is neither an image manifest nor an
//! index, or a digest that does not match the body, is "unknown" too, never
//! "exists".
//!
//! A credential helper that cannot be run, fails, answers nonsense or hangs
//! makes the answer "unknown", naming the helper — as docker's own `pull`
//! fails then ("error getting credentials") instead of going on
//! anonymously. A helper that answers "credentials not found" means
//! anonymous, as for docker.
//!
//! The knobs are validated: [`validate_env`] (which the CLI calls at start)
//! and [`CheckConfig::from_env`] return an [`Error`] naming the variable, its
//! value and what it accepts. An unset or empty variable keeps its default.
//!
//! The checker also reads an image's labels
//! ([`ExistenceChecker::labels`], for `imagespec explain --against
//! image:REF`): the manifest, an index's entry for the platform, and the
//! config blob, with the same credentials, plain-HTTP rule, retries and
//! bounds (every body at most [`MAX_BODY_BYTES`], digests checked).
//!
//! The modules: `config` (the knobs), `credentials` (docker's config and
//! helpers), `transport` (the HTTP client, capped reads, `Retry-After`, what
//! a status means), `auth` (challenges and tokens), `manifest` (reading
//! manifests and indexes, digests), `check` (the retries, the check and the
//! labels).

mod auth;
mod check;
mod config;
mod credentials;
mod error;
mod manifest;
mod reference;
mod store;
mod transport;

use async_trait::async_trait;
use imagespec_core::existence::{CheckerRegistration, Existence, ExistenceChecker};
use imagespec_core::store::{ImageStore, StoreRegistration, StoredManifest, Upload};

pub use check::RegistryChecker;
pub use config::{
    CheckConfig, DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT, ENV_BACKOFF_MS, ENV_INSECURE,
    ENV_RETRIES, ENV_TIMEOUT, MAX_RETRIES, MAX_TIMEOUT, MAX_WAIT,
};
pub use credentials::{credentials_for, docker_config_file};
pub use error::Error;
pub use transport::{MAX_BODY_BYTES, MAX_REDIRECTS};

/// Checks the `IMAGESPEC_REGISTRY_*` and `IMAGESPEC_INSECURE_REGISTRIES`
/// variables: an error names the first one that is not valid, its value and
/// what it accepts. Commands that check registries call it at start, so that
/// a bad value is an error rather than an "unknown" answer.
pub fn validate_env() -> Result<(), Error> {
    CheckConfig::from_env().map(drop)
}

/// The `oci` checker. The registered one reads its configuration from the
/// environment when it checks (for a program that configures none); a
/// program that reads its configuration once, at start-up, makes its own
/// ([`OciChecker::new`]) and hands it to the engine in place of it.
#[derive(Debug, Clone, Default)]
pub struct OciChecker {
    config: Option<CheckConfig>,
    /// The configured checker, made once (with its HTTP client).
    made: std::sync::OnceLock<std::sync::Arc<RegistryChecker>>,
}

impl OciChecker {
    /// The checker `inventory` registers: configured from the environment
    /// each time it is asked.
    pub const fn from_env() -> OciChecker {
        OciChecker {
            config: None,
            made: std::sync::OnceLock::new(),
        }
    }

    /// A checker with this configuration.
    pub fn new(config: CheckConfig) -> OciChecker {
        OciChecker {
            config: Some(config),
            made: std::sync::OnceLock::new(),
        }
    }

    fn checker(&self) -> Result<std::sync::Arc<RegistryChecker>, Error> {
        match &self.config {
            Some(config) => Ok(self
                .made
                .get_or_init(|| std::sync::Arc::new(RegistryChecker::new(config.clone())))
                .clone()),
            None => Ok(std::sync::Arc::new(RegistryChecker::new(
                CheckConfig::from_env()?,
            ))),
        }
    }
}

impl imagespec_core::Plugin for OciChecker {
    fn name(&self) -> &'static str {
        "oci"
    }
}

#[async_trait]
impl ExistenceChecker for OciChecker {
    async fn check(&self, image: &str, platforms: &[String]) -> Existence {
        match self.checker() {
            Ok(checker) => checker.check_image(image, platforms).await,
            Err(e) => Existence::Unknown {
                reason: e.to_string(),
            },
        }
    }

    async fn labels(
        &self,
        image: &str,
        platform: &str,
    ) -> imagespec_core::Result<std::collections::BTreeMap<String, String>> {
        let checker = self
            .checker()
            .map_err(|e| imagespec_core::Error::Other(e.to_string()))?;
        checker
            .labels(image, platform)
            .await
            .map_err(imagespec_core::Error::Other)
    }
}

/// The same plugin reads and writes images, for the engine-free source push.
#[async_trait]
impl ImageStore for OciChecker {
    async fn manifest(&self, image: &str) -> imagespec_core::Result<StoredManifest> {
        let checker = self.checker().map_err(other)?;
        checker
            .read_manifest(image)
            .await
            .map_err(imagespec_core::Error::Other)
    }

    async fn blob(&self, image: &str, digest: &str, max: u64) -> imagespec_core::Result<Vec<u8>> {
        let checker = self.checker().map_err(other)?;
        checker
            .read_blob(image, digest, max, false)
            .await
            .map_err(imagespec_core::Error::Other)
    }

    async fn blob_start(
        &self,
        image: &str,
        digest: &str,
        len: u64,
    ) -> imagespec_core::Result<Vec<u8>> {
        let checker = self.checker().map_err(other)?;
        checker
            .read_blob(image, digest, len, true)
            .await
            .map_err(imagespec_core::Error::Other)
    }

    async fn push_blob(
        &self,
        image: &str,
        digest: &str,
        bytes: &[u8],
        from: Option<&str>,
    ) -> imagespec_core::Result<Upload> {
        let checker = self.checker().map_err(other)?;
        checker
            .write_blob(image, digest, bytes, from)
            .await
            .map_err(imagespec_core::Error::Other)
    }

    async fn push_manifest(
        &self,
        image: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> imagespec_core::Result<String> {
        let checker = self.checker().map_err(other)?;
        checker
            .write_manifest(image, media_type, bytes)
            .await
            .map_err(imagespec_core::Error::Other)
    }
}

fn other(e: Error) -> imagespec_core::Error {
    imagespec_core::Error::Other(e.to_string())
}

static REGISTERED: OciChecker = OciChecker::from_env();

imagespec_core::inventory::submit!(CheckerRegistration::new(&REGISTERED, 0));
imagespec_core::inventory::submit!(StoreRegistration::new(&REGISTERED, 0));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}
