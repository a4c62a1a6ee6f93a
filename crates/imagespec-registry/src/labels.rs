//! An image's labels, read with oci-client: the manifest (an index resolved
//! to the platform asked for), then the config blob's `config.Labels`.
//! docker's credentials and the plain-HTTP rule are the checks' own; the
//! whole read is bounded by [`CheckConfig::timeout`] per attempt, with the
//! checks' retries, and no URL query or credential reaches a message.

use std::collections::BTreeMap;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::ImageIndexEntry;
use oci_client::{Client, Reference};

use crate::config::CheckConfig;
use crate::credentials::credentials_for;

/// The manifest entry of an index for `platform` (`os/arch[/variant]`).
fn resolver(platform: String) -> impl Fn(&[ImageIndexEntry]) -> Option<String> + Send + Sync {
    move |entries| {
        let mut want = platform.split('/');
        let (os, arch, variant) = (want.next(), want.next(), want.next());
        entries
            .iter()
            .find(|e| {
                e.platform.as_ref().is_some_and(|p| {
                    Some(p.os.to_string().as_str()) == os
                        && Some(p.architecture.to_string().as_str()) == arch
                        && (variant.is_none() || p.variant.as_deref() == variant)
                })
            })
            .map(|e| e.digest.clone())
    }
}

/// A message without URL queries (which can carry signatures), masked.
fn clean(text: &str) -> String {
    let no_query = regex::Regex::new(r"(https?://[^\s?]+)\?[^\s]*")
        .map(|re| re.replace_all(text, "$1").into_owned())
        .unwrap_or_else(|_| text.to_string());
    imagespec_core::redact::redact(&no_query).into_owned()
}

/// The labels of `image` for `platform`.
pub(crate) async fn read_labels(
    config: &CheckConfig,
    image: &str,
    platform: &str,
) -> Result<BTreeMap<String, String>, String> {
    let reference: Reference = image
        .parse()
        .map_err(|e| format!("`{image}` is not an image reference: {e}"))?;
    let registry = reference.resolve_registry().to_string();
    let auth = credentials_for(&registry, config.timeout)
        .await
        .map_err(|e| e.to_string())?;
    let protocol = match config.plain_http(&registry) {
        true => ClientProtocol::HttpsExcept(vec![registry.clone()]),
        false => ClientProtocol::Https,
    };
    let platform = platform.split(',').next().unwrap_or_default().trim();
    let client = Client::new(ClientConfig {
        protocol,
        platform_resolver: Some(Box::new(resolver(platform.to_string()))),
        read_timeout: Some(config.timeout),
        connect_timeout: Some(config.timeout),
        ..ClientConfig::default()
    });
    let mut last = String::new();
    let mut backoff = config.backoff;
    for attempt in 0..=config.retries {
        let pulled = tokio::time::timeout(
            config.timeout,
            client.pull_manifest_and_config(&reference, &auth),
        )
        .await;
        match pulled {
            Ok(Ok((_, _, config_json))) => return labels_of(&config_json),
            Ok(Err(e)) => {
                last = clean(&e.to_string());
                // Only a failed connection or a server error may pass.
                use oci_client::errors::OciDistributionError as E;
                if !matches!(e, E::RequestError(_) | E::ServerError { .. }) {
                    break;
                }
            }
            Err(_) => {
                last = format!("no answer within {}s", config.timeout.as_secs_f64());
            }
        }
        tracing::debug!(image, attempt = attempt + 1, reason = %last, "labels: retrying");
        if attempt < config.retries {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2).min(crate::config::MAX_WAIT);
        }
    }
    Err(format!(
        "cannot read the labels of `{image}` ({platform}): {last}"
    ))
}

/// `config.Labels` of an image config (absent: none).
fn labels_of(config_json: &str) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value = serde_json::from_str(config_json)
        .map_err(|e| format!("the image config is not JSON: {e}"))?;
    let Some(labels) = v.get("config").and_then(|c| c.get("Labels")) else {
        return Ok(BTreeMap::new());
    };
    if labels.is_null() {
        return Ok(BTreeMap::new());
    }
    let obj = labels
        .as_object()
        .ok_or("the image config's `config.Labels` is not an object")?;
    Ok(obj
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_from_the_config() {
        let l = labels_of(r#"{"config":{"Labels":{"a":"1","b":"2"}}}"#).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l["b"], "2");
        assert!(labels_of(r#"{"config":{"Labels":null}}"#)
            .unwrap()
            .is_empty());
        assert!(labels_of(r#"{"architecture":"amd64"}"#).unwrap().is_empty());
        assert!(labels_of("nope").is_err());
    }

    #[test]
    fn messages_lose_url_queries() {
        assert_eq!(
            clean("GET https://r.example/v2/x/blobs/sha256:1?X-Amz-Signature=abc failed"),
            "GET https://r.example/v2/x/blobs/sha256:1 failed"
        );
    }

    #[test]
    fn the_resolver_matches_os_arch_and_variant() {
        let entry = |os: &str, arch: &str, variant: Option<&str>, d: &str| {
            serde_json::from_value::<ImageIndexEntry>(serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": d,
                "size": 1,
                "platform": {"os": os, "architecture": arch, "variant": variant},
            }))
            .unwrap()
        };
        let entries = [
            entry("unknown", "unknown", None, "att"),
            entry("linux", "arm64", Some("v8"), "arm"),
            entry("linux", "amd64", None, "amd"),
        ];
        assert_eq!(
            resolver("linux/amd64".into())(&entries).as_deref(),
            Some("amd")
        );
        assert_eq!(
            resolver("linux/arm64/v8".into())(&entries).as_deref(),
            Some("arm")
        );
        assert_eq!(
            resolver("linux/arm64".into())(&entries).as_deref(),
            Some("arm")
        );
        assert_eq!(resolver("linux/s390x".into())(&entries), None);
    }
}
