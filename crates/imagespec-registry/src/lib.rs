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
//! - Each request has a timeout; 5xx, 429 and connection failures are retried
//!   a bounded number of times with exponential backoff.
//! - No credential appears in a log line or an error message.

use std::time::Duration;

use async_trait::async_trait;
use imagespec_core::existence::{CheckerRegistration, Existence, ExistenceChecker};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

/// Environment variable: seconds before a registry request times out.
pub const ENV_TIMEOUT: &str = "IMAGESPEC_REGISTRY_TIMEOUT";
/// Environment variable: how many times a failed request is retried.
pub const ENV_RETRIES: &str = "IMAGESPEC_REGISTRY_RETRIES";
/// Environment variable: first backoff between retries, in milliseconds (doubles each time).
pub const ENV_BACKOFF_MS: &str = "IMAGESPEC_REGISTRY_BACKOFF_MS";
/// Environment variable: comma-separated registries reached over plain HTTP.
pub const ENV_INSECURE: &str = "IMAGESPEC_INSECURE_REGISTRIES";

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How registry checks are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConfig {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt, for 5xx, 429 and connection failures.
    pub retries: u32,
    /// The first wait between attempts; it doubles each time.
    pub backoff: Duration,
    /// Registries reached over plain HTTP (besides loopback ones).
    pub insecure: Vec<String>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_millis(250),
            insecure: Vec::new(),
        }
    }
}

impl CheckConfig {
    /// The defaults, changed by `IMAGESPEC_REGISTRY_*` variables.
    pub fn from_env() -> Self {
        let mut c = CheckConfig::default();
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        if let Some(secs) = num(ENV_TIMEOUT).filter(|s| *s > 0.0) {
            c.timeout = Duration::from_secs_f64(secs);
        }
        if let Some(n) = num(ENV_RETRIES).filter(|n| *n >= 0.0) {
            c.retries = n as u32;
        }
        if let Some(ms) = num(ENV_BACKOFF_MS).filter(|n| *n >= 0.0) {
            c.backoff = Duration::from_millis(ms as u64);
        }
        if let Ok(list) = std::env::var(ENV_INSECURE) {
            c.insecure = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        c
    }

    fn plain_http(&self, registry: &str) -> bool {
        let host = registry.rsplit_once(':').map_or(registry, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                registry
            }
        });
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
            || self.insecure.iter().any(|r| r == registry)
    }
}

/// docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_file() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// The credentials docker would use for a registry, or anonymous.
pub fn credentials_for(registry: &str) -> RegistryAuth {
    if !docker_config_file().is_some_and(|f| f.is_file()) {
        return RegistryAuth::Anonymous;
    }
    let server = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    };
    match docker_credential::get_credential(server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
            tracing::debug!(registry, "using docker credentials (user and password)");
            RegistryAuth::Basic(user, password)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
            tracing::debug!(registry, "using a docker identity token");
            RegistryAuth::Basic("<token>".to_string(), token)
        }
        Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured)
        | Err(docker_credential::CredentialRetrievalError::ConfigNotFound) => {
            RegistryAuth::Anonymous
        }
        Err(e) => {
            // The helper's own output is not shown: it could hold a secret.
            let why = match e {
                docker_credential::CredentialRetrievalError::HelperFailure { helper, .. } => {
                    format!("credential helper `{helper}` failed")
                }
                other => other.to_string(),
            };
            tracing::warn!(
                registry,
                "cannot read docker credentials ({why}); asking anonymously"
            );
            RegistryAuth::Anonymous
        }
    }
}

/// What one attempt's error means.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The manifest is not there.
    NotFound(String),
    /// Worth another attempt.
    Transient(String),
    /// No point retrying (refused, malformed, ...).
    Final(String),
}

impl Failure {
    /// What a failed request says about the image: missing, or unknown.
    fn into_existence(self) -> Existence {
        match self {
            Failure::NotFound(reason) => Existence::Missing {
                reason,
                digest: None,
            },
            Failure::Transient(reason) | Failure::Final(reason) => Existence::Unknown { reason },
        }
    }
}

fn harbor_not_found(message: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"unknown: (artifact|repository) .* not found").expect("valid regex")
    })
    .is_match(message)
}

fn classify(e: &OciDistributionError) -> Failure {
    use OciDistributionError as E;
    match e {
        E::ImageManifestNotFoundError(m) => Failure::NotFound(m.clone()),
        E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => Failure::Final(
            "the registry refused access (401); check your docker credentials".into(),
        ),
        E::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}", e.code))
                .collect();
            let text = codes.join(", ").to_uppercase();
            // The errors a registry gives for a manifest or repository that is not there.
            let not_found = ["MANIFESTUNKNOWN", "NAMEUNKNOWN", "NOTFOUND"];
            if not_found.iter().any(|c| text.contains(c)) {
                Failure::NotFound(format!("registry says {}", codes.join(", ")))
            } else if text.contains("TOOMANYREQUESTS") {
                Failure::Transient("429 too many requests".into())
            } else if text.contains("UNAUTHORIZED") || text.contains("DENIED") {
                Failure::Final(format!(
                    "the registry refused access ({})",
                    codes.join(", ")
                ))
            } else {
                Failure::Final(format!("the registry answered {}", codes.join(", ")))
            }
        }
        E::ServerError { code, message, .. } => match *code {
            404 => Failure::NotFound("404".into()),
            // Harbor answers a missing artifact with a 500 that says so.
            500 if harbor_not_found(message) => {
                Failure::NotFound("500 saying not found (Harbor)".into())
            }
            401 | 403 => Failure::Final(format!("the registry refused access ({code})")),
            429 => Failure::Transient("429 too many requests".into()),
            c if c >= 500 => Failure::Transient(format!("server error {c}")),
            c => Failure::Final(format!("unexpected answer {c}")),
        },
        E::RequestError(r) => {
            let kind = if r.is_timeout() {
                "timed out"
            } else if r.is_connect() {
                "could not connect"
            } else {
                "connection failed"
            };
            Failure::Transient(kind.into())
        }
        other => Failure::Final(other.to_string()),
    }
}

/// The platforms (`os/arch[/variant]`) an index lists.
fn index_platforms(body: &[u8]) -> Option<Vec<String>> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let media = json.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
    let manifests = json.get("manifests")?.as_array()?;
    if !media.is_empty() && !INDEX_TYPES.contains(&media) {
        return None;
    }
    Some(
        manifests
            .iter()
            .filter_map(|m| {
                let p = m.get("platform")?;
                let os = p.get("os")?.as_str()?;
                let arch = p.get("architecture")?.as_str()?;
                Some(match p.get("variant").and_then(|v| v.as_str()) {
                    Some(v) => format!("{os}/{arch}/{v}"),
                    None => format!("{os}/{arch}"),
                })
            })
            .collect(),
    )
}

fn platform_present(wanted: &str, have: &[String]) -> bool {
    have.iter().any(|h| {
        h == wanted || (wanted.matches('/').count() == 1 && h.starts_with(&format!("{wanted}/")))
    })
}

/// Asks registries whether images exist.
#[derive(Debug)]
pub struct RegistryChecker {
    config: CheckConfig,
}

impl RegistryChecker {
    /// A checker with this configuration.
    pub fn new(config: CheckConfig) -> Self {
        RegistryChecker { config }
    }

    fn client(&self, registry: &str) -> Client {
        let protocol = if self.config.plain_http(registry) {
            ClientProtocol::HttpsExcept(vec![registry.to_string()])
        } else {
            ClientProtocol::Https
        };
        Client::new(ClientConfig {
            protocol,
            read_timeout: Some(self.config.timeout),
            connect_timeout: Some(self.config.timeout),
            ..Default::default()
        })
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut wait = self.config.backoff;
        let mut last = String::new();
        for n in 0..=self.config.retries {
            // The client's own timeouts cover connect and read; this bounds the whole attempt.
            let result = tokio::time::timeout(self.config.timeout * 2, attempt()).await;
            let failure = match result {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => classify(&e),
                Err(_) => {
                    Failure::Transient(format!("no answer within {:?}", self.config.timeout * 2))
                }
            };
            match failure {
                Failure::Transient(why) => {
                    tracing::debug!(what, attempt = n + 1, %why, "retrying");
                    last = why;
                    if n < self.config.retries {
                        tokio::time::sleep(wait).await;
                        wait = wait.saturating_mul(2).min(Duration::from_secs(30));
                    }
                }
                other => return Err(other),
            }
        }
        Err(Failure::Final(format!(
            "{last}, after {} attempts",
            self.config.retries + 1
        )))
    }

    /// Whether `image` exists with every one of `platforms`.
    pub async fn check_image(&self, image: &str, platforms: &[String]) -> Existence {
        let reference: Reference = match image.parse() {
            Ok(r) => r,
            Err(e) => {
                return Existence::Unknown {
                    reason: format!("`{image}` is not an image reference: {e}"),
                }
            }
        };
        let registry = reference.resolve_registry().to_string();
        let auth = credentials_for(&registry);
        let client = self.client(&registry);

        let digest = match self
            .with_retries("HEAD manifest", || {
                client.fetch_manifest_digest(&reference, &auth)
            })
            .await
        {
            Ok(d) => d,
            Err(failure) => return failure.into_existence(),
        };
        if platforms.is_empty() {
            return Existence::Exists { digest };
        }
        let body = match self
            .with_retries("GET manifest", || {
                client.pull_manifest_raw(&reference, &auth, &MANIFEST_TYPES)
            })
            .await
        {
            Ok((body, _)) => body,
            Err(failure) => return failure.into_existence(),
        };
        // A single-platform manifest does not say its platform here; like
        // flytekit, it counts as present.
        let Some(have) = index_platforms(&body) else {
            return Existence::Exists { digest };
        };
        let missing: Vec<&String> = platforms
            .iter()
            .filter(|p| !platform_present(p, &have))
            .collect();
        if missing.is_empty() {
            Existence::Exists { digest }
        } else {
            Existence::Missing {
                reason: format!(
                    "the index lacks {} (it has {})",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    have.join(", ")
                ),
                digest: Some(digest),
            }
        }
    }
}

/// The registered checker: configured from the environment at each check.
#[derive(Debug, Clone, Copy)]
pub struct OciChecker;

#[async_trait]
impl imagespec_core::Plugin for OciChecker {
    fn name(&self) -> &'static str {
        "oci"
    }
}

#[async_trait]
impl ExistenceChecker for OciChecker {
    async fn check(&self, image: &str, platforms: &[String]) -> Existence {
        RegistryChecker::new(CheckConfig::from_env())
            .check_image(image, platforms)
            .await
    }
}

imagespec_core::inventory::submit!(CheckerRegistration::new(&OciChecker, 0));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_quirk_and_platforms() {
        assert!(harbor_not_found(
            "unknown: artifact library/demo:abc not found"
        ));
        assert!(harbor_not_found(
            "unknown: repository library/demo not found"
        ));
        assert!(!harbor_not_found("internal error"));
        let index = br#"{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
            {"platform":{"os":"linux","architecture":"amd64"}},
            {"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;
        let have = index_platforms(index).unwrap();
        assert_eq!(have, ["linux/amd64", "linux/arm64/v8"]);
        assert!(platform_present("linux/arm64", &have));
        assert!(!platform_present("linux/s390x", &have));
        assert!(index_platforms(
            br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#
        )
        .is_none());
    }

    #[test]
    fn loopback_is_plain_http() {
        let c = CheckConfig {
            insecure: vec!["reg.internal:5000".into()],
            ..CheckConfig::default()
        };
        assert!(c.plain_http("localhost:5000"));
        assert!(c.plain_http("127.0.0.1:5765"));
        assert!(c.plain_http("reg.internal:5000"));
        assert!(!c.plain_http("ghcr.io"));
    }
}
