//! Reading and writing images, for the engine-free source push: manifests
//! and blobs read with the checker's credentials, bounds and retries, and
//! written as the OCI distribution spec says (a blob the repository has is
//! not sent again; one another repository of the registry has is mounted;
//! else a `POST` then a `PUT` of its bytes; a manifest `PUT` under its tag).

use oci_client::Reference;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};

use imagespec_core::store::{StoredManifest, Upload};

use crate::check::RegistryChecker;
use crate::manifest;
use crate::transport::{self, read_capped, request_failure, status_failure, BodyError, Failure};

fn reference(image: &str) -> Result<Reference, String> {
    crate::reference::parse(image)
}

fn flat(f: Failure) -> String {
    match f {
        Failure::NotFound(r) | Failure::Final(r) | Failure::Transient { reason: r, .. } => r,
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl RegistryChecker {
    /// The manifest or index `image` names.
    pub async fn read_manifest(&self, image: &str) -> Result<StoredManifest, String> {
        let r = reference(image)?;
        let session = self.session(&r, false).await.map_err(flat)?;
        let url = format!(
            "{}/v2/{}/manifests/{}",
            session.base,
            r.repository(),
            r.digest().unwrap_or_else(|| r.tag().unwrap_or("latest"))
        );
        let fetched = self
            .retrying("GET manifest", || async {
                let auth = session.authorization().await?;
                let resp = auth
                    .apply(session.client.get(&url).header(ACCEPT, manifest::accept()))
                    .send()
                    .await
                    .map_err(|e| request_failure(&e))?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = match read_capped(resp, transport::MAX_BODY_BYTES).await {
                    Ok(b) => b,
                    Err(BodyError::TooLarge) if status != StatusCode::OK => Vec::new(),
                    Err(e) => return Err(transport::body_failure(e, "GET manifest")),
                };
                if status != StatusCode::OK {
                    return Err(status_failure(status, &headers, &body));
                }
                let media_type = headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                Ok((media_type, body))
            })
            .await
            .map_err(|f| self.masked(format!("{image}: {}", flat(f))))?;
        let (media_type, bytes) = fetched;
        let digest = sha256(&bytes);
        if let Some(wanted) = r.digest() {
            if wanted != digest {
                return Err(format!(
                    "{image}: the registry's manifest is `{digest}`, not `{wanted}`"
                ));
            }
        }
        Ok(StoredManifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// A blob of `image`'s repository: at most `max` bytes, checked against
    /// its digest unless `start` (then its first bytes, up to `max`).
    pub async fn read_blob(
        &self,
        image: &str,
        digest: &str,
        max: u64,
        start: bool,
    ) -> Result<Vec<u8>, String> {
        let r = reference(image)?;
        let session = self.session(&r, false).await.map_err(flat)?;
        let url = format!("{}/v2/{}/blobs/{digest}", session.base, r.repository());
        let cap = usize::try_from(max).unwrap_or(usize::MAX);
        self.retrying("GET blob", || async {
            let auth = session.authorization().await?;
            let resp = auth
                .apply(session.client.get(&url))
                .send()
                .await
                .map_err(|e| request_failure(&e))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if status != StatusCode::OK {
                let body = read_capped(resp, 64 * 1024).await.unwrap_or_default();
                return Err(status_failure(status, &headers, &body));
            }
            let body = match start {
                true => transport::read_start(resp, cap).await,
                false => read_capped(resp, cap).await,
            }
            .map_err(|e| transport::body_failure(e, "GET blob"))?;
            if !start && !manifest::body_has_digest(&body, digest) {
                return Err(Failure::Final(format!(
                    "the registry's blob does not have its digest `{digest}`"
                )));
            }
            Ok(body)
        })
        .await
        .map_err(|f| self.masked(format!("{image}: {}", flat(f))))
    }

    /// Uploads a blob to `image`'s repository unless it has it; mounted
    /// from the repository `from` of the same registry when given.
    pub async fn write_blob(
        &self,
        image: &str,
        digest: &str,
        bytes: &[u8],
        from: Option<&str>,
    ) -> Result<Upload, String> {
        let r = reference(image)?;
        let session = self.session(&r, true).await.map_err(flat)?;
        let repo = r.repository().to_string();
        let blob_url = format!("{}/v2/{repo}/blobs/{digest}", session.base);
        let uploads = format!("{}/v2/{repo}/blobs/uploads/", session.base);
        let result = self
            .retrying("PUT blob", || async {
                let auth = session.authorization().await?;
                let head = auth
                    .apply(session.client.head(&blob_url))
                    .send()
                    .await
                    .map_err(|e| request_failure(&e))?;
                if head.status() == StatusCode::OK {
                    return Ok(Upload::Present);
                }
                let mut start = session.client.post(&uploads);
                if let Some(from) = from {
                    start = start.query(&[("mount", digest), ("from", from)]);
                }
                let started = auth
                    .apply(start)
                    .header(reqwest::header::CONTENT_LENGTH, 0)
                    .send()
                    .await
                    .map_err(|e| request_failure(&e))?;
                let status = started.status();
                let headers = started.headers().clone();
                if status == StatusCode::CREATED && from.is_some() {
                    return Ok(Upload::Mounted);
                }
                if status != StatusCode::ACCEPTED {
                    let body = read_capped(started, 64 * 1024).await.unwrap_or_default();
                    return Err(status_failure(status, &headers, &body));
                }
                let location = headers
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        Failure::Final("the registry started an upload without a Location".into())
                    })?;
                let mut put_url = reqwest::Url::parse(&session.base)
                    .and_then(|base| base.join(location))
                    .map_err(|e| Failure::Final(format!("the upload Location is no URL: {e}")))?;
                put_url.query_pairs_mut().append_pair("digest", digest);
                let put = auth
                    .apply(session.client.request(Method::PUT, put_url))
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.to_vec())
                    .send()
                    .await
                    .map_err(|e| request_failure(&e))?;
                let status = put.status();
                let headers = put.headers().clone();
                if status != StatusCode::CREATED {
                    let body = read_capped(put, 64 * 1024).await.unwrap_or_default();
                    return Err(status_failure(status, &headers, &body));
                }
                Ok(Upload::Sent(bytes.len() as u64))
            })
            .await;
        result.map_err(|f| self.masked(format!("{image}: uploading {digest}: {}", flat(f))))
    }

    /// Puts a manifest (or index) under `image`'s tag or digest; returns its
    /// digest.
    pub async fn write_manifest(
        &self,
        image: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, String> {
        let r = reference(image)?;
        let session = self.session(&r, true).await.map_err(flat)?;
        let url = format!(
            "{}/v2/{}/manifests/{}",
            session.base,
            r.repository(),
            r.digest().unwrap_or_else(|| r.tag().unwrap_or("latest"))
        );
        self.retrying("PUT manifest", || async {
            let auth = session.authorization().await?;
            let resp = auth
                .apply(session.client.put(&url))
                .header(CONTENT_TYPE, media_type)
                .body(bytes.to_vec())
                .send()
                .await
                .map_err(|e| request_failure(&e))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if status != StatusCode::CREATED {
                let body = read_capped(resp, 64 * 1024).await.unwrap_or_default();
                return Err(status_failure(status, &headers, &body));
            }
            Ok(())
        })
        .await
        .map_err(|f| self.masked(format!("{image}: putting the manifest: {}", flat(f))))?;
        Ok(sha256(bytes))
    }
}
