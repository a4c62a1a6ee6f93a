//! [`RegistryChecker`]: one image's check — credentials, then a `HEAD` on
//! the manifest, then (when platforms are asked for) a `GET` of it — each
//! request retried as [`CheckConfig`] says, each attempt bounded by its
//! timeout.

use imagespec_core::existence::Existence;
use oci_client::Reference;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};

use crate::auth::Session;
use crate::config::{CheckConfig, MAX_WAIT};
use crate::credentials::credentials_for;
use crate::manifest::{self, Manifest};
use crate::transport::{
    self, read_capped, request_failure, status_failure, BodyError, Failure, MAX_BODY_BYTES,
};
use imagespec_core::redact::Secrets;

/// The header naming a manifest's digest.
const DIGEST_HEADER: &str = "docker-content-digest";

/// A manifest as fetched: its body (at most [`MAX_BODY_BYTES`]), its
/// `Content-Type` and its checked digest.
#[derive(Debug)]
struct Fetched {
    body: Vec<u8>,
    content_type: Option<String>,
    digest: String,
}

impl Fetched {
    /// What the body is; malformed is a final failure.
    fn manifest(&self) -> Result<Manifest, Failure> {
        manifest::parse(&self.body, self.content_type.as_deref()).map_err(Failure::Final)
    }
}

/// `config.Labels` of an image config (absent: none).
fn labels_of(config_json: &[u8]) -> Result<std::collections::BTreeMap<String, String>, String> {
    let v: serde_json::Value = serde_json::from_slice(config_json)
        .map_err(|e| format!("the image config is not JSON: {e}"))?;
    let Some(labels) = v.get("config").and_then(|c| c.get("Labels")) else {
        return Ok(Default::default());
    };
    if labels.is_null() {
        return Ok(Default::default());
    }
    let obj = labels
        .as_object()
        .ok_or("the image config's `config.Labels` is not an object")?;
    Ok(obj
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect())
}

/// What one attempt's failure says about the image.
fn into_existence(failure: Failure) -> Existence {
    match failure {
        Failure::NotFound(reason) => Existence::Missing {
            reason,
            digest: None,
        },
        Failure::Transient { reason, .. } | Failure::Final(reason) => Existence::Unknown { reason },
    }
}

/// The `Docker-Content-Digest` header, if present and not empty.
fn digest_header(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    match headers.get(DIGEST_HEADER) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok("") => Ok(None),
            Ok(d) => Ok(Some(d.trim().to_string())),
            Err(_) => Err(Failure::Final(
                "the registry's `Docker-Content-Digest` header is not text".into(),
            )),
        },
    }
}

/// The manifest requests of one check of one image.
#[derive(Debug)]
struct ImageRequests<'a> {
    session: std::sync::Arc<Session>,
    url: String,
    reference: &'a Reference,
}

impl ImageRequests<'_> {
    async fn send(&self, method: Method) -> Result<reqwest::Response, Failure> {
        let authorization = self.session.authorization().await?;
        let request = self
            .session
            .client
            .request(method, &self.url)
            .header(ACCEPT, manifest::accept());
        authorization
            .apply(request)
            .send()
            .await
            .map_err(|e| request_failure(&e))
    }

    /// One attempt at the manifest digest: `HEAD`, or a `GET` when the
    /// `HEAD` does not name it (the body is then read and checked too).
    async fn digest(&self) -> Result<String, Failure> {
        let head = self.send(Method::HEAD).await?;
        if let Some(digest) = digest_header(head.headers())? {
            if head.status() != StatusCode::OK {
                return Err(status_failure(head.status(), head.headers(), b""));
            }
            if let Some(wanted) = self.reference.digest() {
                if wanted != digest {
                    return Err(Failure::Final(format!(
                        "the registry names the manifest `{digest}`, not `{wanted}`"
                    )));
                }
            }
            return Ok(digest);
        }
        let fetched = self.get().await?;
        fetched.manifest()?;
        Ok(fetched.digest)
    }

    /// The same repository's manifest `digest` (an index's entry).
    fn at(&self, digest: &str) -> ImageRequests<'_> {
        ImageRequests {
            session: self.session.clone(),
            url: format!(
                "{}/v2/{}/manifests/{digest}",
                self.session.base, self.session.repository
            ),
            reference: self.reference,
        }
    }

    /// One attempt at the blob `digest` of the same repository, at most
    /// `cap` bytes, its digest checked.
    async fn blob(&self, digest: &str, cap: usize) -> Result<Vec<u8>, Failure> {
        let url = format!(
            "{}/v2/{}/blobs/{digest}",
            self.session.base, self.session.repository
        );
        let authorization = self.session.authorization().await?;
        let resp = authorization
            .apply(self.session.client.get(&url))
            .send()
            .await
            .map_err(|e| request_failure(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match read_capped(resp, cap).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) if status != StatusCode::OK => Vec::new(),
            Err(e) => return Err(transport::body_failure(e, "GET blob")),
        };
        if status != StatusCode::OK {
            return Err(status_failure(status, &headers, &body));
        }
        if !manifest::body_has_digest(&body, digest) {
            return Err(Failure::Final(format!(
                "the registry's blob does not have its digest `{digest}`"
            )));
        }
        Ok(body)
    }

    /// One attempt at the manifest itself.
    async fn get(&self) -> Result<Fetched, Failure> {
        let resp = self.send(Method::GET).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match read_capped(resp, MAX_BODY_BYTES).await {
            Ok(body) => body,
            // An error is told by its status when its body is too long to read.
            Err(BodyError::TooLarge) if status != StatusCode::OK => Vec::new(),
            Err(e) => return Err(transport::body_failure(e, "GET manifest")),
        };
        if status != StatusCode::OK {
            return Err(status_failure(status, &headers, &body));
        }
        let header = digest_header(&headers)?;
        let digest = manifest::checked_digest(&body, header.as_deref(), self.reference.digest())
            .map_err(Failure::Final)?;
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Fetched {
            body,
            content_type,
            digest,
        })
    }
}

/// Asks registries whether images exist.
#[derive(Debug)]
pub struct RegistryChecker {
    config: CheckConfig,
    /// Credentials and tokens met: never in what the checker says.
    masked: std::sync::Arc<std::sync::Mutex<Secrets>>,
    /// One HTTP client for every session: making one loads the system's
    /// CA certificates (milliseconds each time). A pooled connection whose
    /// runtime has ended is seen closed and not reused.
    client: std::sync::OnceLock<reqwest::Client>,
}

impl RegistryChecker {
    /// A checker with this configuration.
    pub fn new(config: CheckConfig) -> Self {
        RegistryChecker {
            config,
            masked: Default::default(),
            client: std::sync::OnceLock::new(),
        }
    }

    /// The credentials and tokens this checker has met, for whoever prints
    /// what it logged.
    pub fn secrets(&self) -> Secrets {
        self.masked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn mask(&self, text: String) -> String {
        self.secrets().mask(&text).into_owned()
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run
    /// out. Each attempt has [`CheckConfig::timeout`], end to end. The wait
    /// before the next is the backoff (doubling, at most [`MAX_WAIT`]), or a
    /// longer `Retry-After` of a 429 or 503; a `Retry-After` over
    /// [`MAX_WAIT`] ends the retries.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let timeout = self.config.timeout;
        let mut backoff = self.config.backoff;
        let mut last = String::new();
        for n in 0..=self.config.retries {
            let failure = match tokio::time::timeout(timeout, attempt()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(f)) => f,
                Err(_) => {
                    Failure::transient(format!("no answer within {}s", timeout.as_secs_f64()))
                }
            };
            let Failure::Transient {
                reason,
                retry_after,
            } = failure
            else {
                return Err(failure);
            };
            tracing::debug!(what, attempt = n + 1, %reason, "retrying");
            let mut wait = backoff;
            let mut reason = reason;
            if let Some(ra) = retry_after {
                if ra.wait > MAX_WAIT {
                    return Err(Failure::Final(format!(
                        "{reason}, with `Retry-After: {}` ({}s): longer than the {}s imagespec \
                         waits, so it stopped after {} attempt{}",
                        ra.value,
                        ra.wait.as_secs(),
                        MAX_WAIT.as_secs(),
                        n + 1,
                        if n == 0 { "" } else { "s" }
                    )));
                }
                wait = wait.max(ra.wait);
                reason = format!("{reason} (Retry-After: {})", ra.value);
            }
            last = reason;
            if n < self.config.retries {
                tokio::time::sleep(wait).await;
                backoff = backoff.saturating_mul(2).min(MAX_WAIT);
            }
        }
        Err(Failure::Final(format!(
            "{last}, after {} attempts",
            self.config.retries + 1
        )))
    }

    /// The requests for `reference`'s manifest: credentials, client, session.
    async fn requests<'r>(&self, reference: &'r Reference) -> Result<ImageRequests<'r>, Failure> {
        let session = self.session(reference, false).await?;
        let url = format!(
            "{}/v2/{}/manifests/{}",
            session.base,
            reference.repository(),
            reference
                .digest()
                .unwrap_or_else(|| reference.tag().unwrap_or("latest"))
        );
        Ok(ImageRequests {
            session,
            url,
            reference,
        })
    }

    /// A session with `reference`'s repository: docker's credentials, the
    /// registry's scheme, tokens that push when `push`.
    pub(crate) async fn session(
        &self,
        reference: &Reference,
        push: bool,
    ) -> Result<std::sync::Arc<Session>, Failure> {
        let registry = reference.resolve_registry().to_string();
        let credentials = credentials_for(&registry, self.config.timeout)
            .await
            .map_err(|e| Failure::Final(e.to_string()))?;
        let client = match self.client.get() {
            Some(client) => client.clone(),
            None => {
                let made = transport::client(self.config.timeout)?;
                self.client.get_or_init(|| made).clone()
            }
        };
        let scheme = if self.config.plain_http(&registry) {
            "http"
        } else {
            "https"
        };
        let session = Session::new(
            client,
            format!("{scheme}://{registry}"),
            reference.repository().to_string(),
            credentials,
            std::sync::Arc::clone(&self.masked),
        );
        Ok(std::sync::Arc::new(match push {
            true => session.pushing(),
            false => session,
        }))
    }

    /// [`RegistryChecker::with_retries`], for the store.
    pub(crate) async fn retrying<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        self.with_retries(what, attempt).await
    }

    /// What the checker says, masked.
    pub(crate) fn masked(&self, text: String) -> String {
        self.mask(text)
    }

    /// The labels (`config.Labels`) of `image` for `platform`: the manifest
    /// (an index resolved to the platform), then the config blob, each read
    /// at most [`MAX_BODY_BYTES`], with digests checked.
    pub async fn labels(
        &self,
        image: &str,
        platform: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        self.read_labels(image, platform)
            .await
            .map_err(|e| self.mask(e))
    }

    async fn read_labels(
        &self,
        image: &str,
        platform: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        let reference = crate::reference::parse(image)?;
        let platform = platform.split(',').next().unwrap_or_default().trim();
        let reason = |f: Failure| match f {
            Failure::NotFound(r) | Failure::Final(r) | Failure::Transient { reason: r, .. } => {
                format!("cannot read the labels of `{image}` ({platform}): {r}")
            }
        };
        let requests = self.requests(&reference).await.map_err(reason)?;
        let fetched = self
            .with_retries("GET manifest", || requests.get())
            .await
            .map_err(reason)?;
        let body = match fetched.manifest().map_err(reason)? {
            Manifest::Image => fetched.body,
            Manifest::Index(_) => {
                let digest = manifest::index_entry(&fetched.body, platform)
                    .map_err(|r| reason(Failure::Final(r)))?;
                let entry = requests.at(&digest);
                let image = self
                    .with_retries("GET manifest", || entry.get())
                    .await
                    .map_err(reason)?;
                if !manifest::body_has_digest(&image.body, &digest) {
                    return Err(reason(Failure::Final(format!(
                        "the manifest does not have its digest `{digest}`"
                    ))));
                }
                image.body
            }
        };
        let (config, size) = manifest::config_of(&body).map_err(|r| reason(Failure::Final(r)))?;
        if size > MAX_BODY_BYTES as u64 {
            return Err(reason(Failure::Final(format!(
                "its config is {size} bytes, over the {} imagespec reads",
                transport::cap_text()
            ))));
        }
        let blob = self
            .with_retries("GET config", || requests.blob(&config, MAX_BODY_BYTES))
            .await
            .map_err(reason)?;
        labels_of(&blob).map_err(|r| reason(Failure::Final(r)))
    }

    /// Whether `image` exists with every one of `platforms`.
    pub async fn check_image(&self, image: &str, platforms: &[String]) -> Existence {
        match self.check_unmasked(image, platforms).await {
            Existence::Missing { reason, digest } => Existence::Missing {
                reason: self.mask(reason),
                digest,
            },
            Existence::Unknown { reason } => Existence::Unknown {
                reason: self.mask(reason),
            },
            exists => exists,
        }
    }

    async fn check_unmasked(&self, image: &str, platforms: &[String]) -> Existence {
        let reference = match crate::reference::parse(image) {
            Ok(r) => r,
            Err(reason) => return Existence::Unknown { reason },
        };
        let requests = match self.requests(&reference).await {
            Ok(r) => r,
            Err(f) => return into_existence(f),
        };

        let digest = match self
            .with_retries("HEAD manifest", || requests.digest())
            .await
        {
            Ok(d) => d,
            Err(failure) => return into_existence(failure),
        };
        if platforms.is_empty() {
            return Existence::Exists { digest };
        }
        let fetched = match self.with_retries("GET manifest", || requests.get()).await {
            Ok(f) => f,
            Err(failure) => return into_existence(failure),
        };
        let have = match fetched.manifest() {
            // A single-platform manifest does not say its platform here; like
            // flytekit, it counts as present.
            Ok(Manifest::Image) => return Existence::Exists { digest },
            Ok(Manifest::Index(have)) => have,
            Err(failure) => return into_existence(failure),
        };
        let missing: Vec<&str> = platforms
            .iter()
            .filter(|p| !manifest::platform_present(p, &have))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            Existence::Exists { digest }
        } else {
            Existence::Missing {
                reason: format!(
                    "the index lacks {} (it has {})",
                    missing.join(", "),
                    have.join(", ")
                ),
                digest: Some(digest),
            }
        }
    }
}
