//! Reading a manifest body: an image manifest, or an index (manifest list)
//! and the platforms it lists. Anything else — not JSON, an index whose
//! entries are malformed, neither kind — is an error naming what is wrong,
//! which makes the answer "unknown", never "exists". Digests are checked here
//! too.

use serde_json::Value;
use sha2::Digest as _;

/// OCI image index and Docker manifest list.
pub(crate) const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
/// OCI image manifest and Docker v2 schema 2 manifest.
pub(crate) const IMAGE_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// The `Accept` header of manifest requests: indexes and manifests, OCI and Docker.
pub(crate) fn accept() -> String {
    [
        INDEX_TYPES[0],
        IMAGE_TYPES[0],
        INDEX_TYPES[1],
        IMAGE_TYPES[1],
    ]
    .join(", ")
}

/// What a manifest body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Manifest {
    /// A single-platform image (which does not say its platform here).
    Image,
    /// An index and the platforms (`os/arch[/variant]`) of its entries.
    Index(Vec<String>),
}

/// Reads `body`, served with `content_type` (the `Content-Type` header).
/// The body's `mediaType` decides its kind; without one, the header does;
/// without either, its shape does.
pub(crate) fn parse(body: &[u8], content_type: Option<&str>) -> Result<Manifest, String> {
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the registry's manifest is not JSON ({e}){}",
            content_type
                .map(|t| format!("; it was served as `{t}`"))
                .unwrap_or_default()
        )
    })?;
    let Some(object) = json.as_object() else {
        return Err("the registry's manifest is not a JSON object".into());
    };
    let media_type = match object.get("mediaType") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err("the registry's manifest has a `mediaType` that is not a string".into())
        }
    };
    let header_type = content_type
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .filter(|t| INDEX_TYPES.contains(t) || IMAGE_TYPES.contains(t));
    match media_type.or(header_type) {
        Some(t) if INDEX_TYPES.contains(&t) => index_platforms(object).map(Manifest::Index),
        Some(t) if IMAGE_TYPES.contains(&t) => image(object).map(|()| Manifest::Image),
        Some(t) => Err(format!(
            "the registry answered a manifest of type `{t}`, which is neither an image manifest \
             nor an index"
        )),
        None if object.contains_key("manifests") => index_platforms(object).map(Manifest::Index),
        None if object.contains_key("config") || object.contains_key("layers") => {
            image(object).map(|()| Manifest::Image)
        }
        None => Err(
            "the registry's manifest is neither an image manifest nor an index (no \
             `mediaType`, `manifests`, `config` or `layers`)"
                .into(),
        ),
    }
}

fn image(object: &serde_json::Map<String, Value>) -> Result<(), String> {
    if !object.get("config").is_some_and(Value::is_object) {
        return Err("the image manifest is malformed: `config` is missing or not an object".into());
    }
    if !object.get("layers").is_some_and(Value::is_array) {
        return Err("the image manifest is malformed: `layers` is missing or not a list".into());
    }
    Ok(())
}

fn index_platforms(object: &serde_json::Map<String, Value>) -> Result<Vec<String>, String> {
    let Some(entries) = object.get("manifests").and_then(Value::as_array) else {
        return Err("the index is malformed: `manifests` is missing or not a list".into());
    };
    let mut platforms = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let bad = |what: &str| format!("the index is malformed: entry {i} {what}");
        let Some(entry) = entry.as_object() else {
            return Err(bad("is not an object"));
        };
        // An entry may have no platform (attestations, artifacts): it lists none.
        let Some(platform) = entry.get("platform") else {
            continue;
        };
        let Some(platform) = platform.as_object() else {
            return Err(bad("has a `platform` that is not an object"));
        };
        let required = |name: &str| match platform.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
            _ => Err(bad(&format!("has no `platform.{name}` string"))),
        };
        let (os, arch) = (required("os")?, required("architecture")?);
        let variant = match platform.get("variant") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()).filter(|v| !v.is_empty()),
            Some(_) => return Err(bad("has a `platform.variant` that is not a string")),
        };
        platforms.push(match variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        });
    }
    Ok(platforms)
}

/// The digest of the entry of an index for `wanted` (`os/arch[/variant]`;
/// `linux/arm64` matches any variant of it).
pub(crate) fn index_entry(body: &[u8], wanted: &str) -> Result<String, String> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| format!("the index is not JSON ({e})"))?;
    let entries = json
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or("the index is malformed: `manifests` is missing or not a list")?;
    for entry in entries {
        let platform = entry.get("platform");
        let field = |name: &str| {
            platform
                .and_then(|p| p.get(name))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let have = match field("variant") {
            "" => format!("{}/{}", field("os"), field("architecture")),
            v => format!("{}/{}/{v}", field("os"), field("architecture")),
        };
        if platform_present(wanted, std::slice::from_ref(&have)) {
            return entry
                .get("digest")
                .and_then(Value::as_str)
                .filter(|d| valid_digest(d))
                .map(str::to_string)
                .ok_or_else(|| format!("the index's entry for {have} has no valid digest"));
        }
    }
    Err(format!("the index lists no image for {wanted}"))
}

/// The config blob an image manifest names: its digest and size.
pub(crate) fn config_of(body: &[u8]) -> Result<(String, u64), String> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| format!("the manifest is not JSON ({e})"))?;
    let config = json
        .get("config")
        .ok_or("the image manifest is malformed: `config` is missing")?;
    let digest = config
        .get("digest")
        .and_then(Value::as_str)
        .filter(|d| valid_digest(d))
        .ok_or("the image manifest's `config.digest` is missing or malformed")?;
    let size = config
        .get("size")
        .and_then(Value::as_u64)
        .ok_or("the image manifest's `config.size` is missing or not a number")?;
    Ok((digest.to_string(), size))
}

/// `algorithm:hex` with an algorithm the distribution spec names and a hex
/// part of its length: safe to put in a URL.
pub(crate) fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `body` has `digest`.
pub(crate) fn body_has_digest(body: &[u8], digest: &str) -> bool {
    match digest.split_once(':') {
        Some((algorithm, _)) => digest_of(algorithm, body).as_deref() == Some(digest),
        None => false,
    }
}

/// Whether `wanted` (`os/arch[/variant]`) is among `have`: `linux/arm64`
/// matches any variant of it.
pub(crate) fn platform_present(wanted: &str, have: &[String]) -> bool {
    have.iter().any(|h| {
        h == wanted || (wanted.matches('/').count() == 1 && h.starts_with(&format!("{wanted}/")))
    })
}

/// `algorithm:hex` of `body`, for an algorithm the distribution spec names.
fn digest_of(algorithm: &str, body: &[u8]) -> Option<String> {
    let hex = match algorithm {
        "sha256" => hex::encode(sha2::Sha256::digest(body)),
        "sha384" => hex::encode(sha2::Sha384::digest(body)),
        "sha512" => hex::encode(sha2::Sha512::digest(body)),
        _ => return None,
    };
    Some(format!("{algorithm}:{hex}"))
}

/// The digest of a fetched manifest `body`: the `Docker-Content-Digest`
/// header's (checked against the body), else the body's sha256. The
/// reference's own digest, if any, must match the body too.
pub(crate) fn checked_digest(
    body: &[u8],
    header: Option<&str>,
    reference: Option<&str>,
) -> Result<String, String> {
    for (claimed, whose) in [
        (header, "the registry's `Docker-Content-Digest`"),
        (reference, "the image reference's digest"),
    ] {
        let Some(claimed) = claimed else { continue };
        let algorithm = claimed.split_once(':').map_or("", |(a, _)| a);
        match digest_of(algorithm, body) {
            Some(actual) if actual == claimed => {}
            Some(actual) => {
                return Err(format!(
                    "{whose} `{claimed}` is not the digest of the manifest served (`{actual}`)"
                ))
            }
            None => return Err(format!("{whose} `{claimed}` has an unknown algorithm")),
        }
    }
    Ok(header.map_or_else(
        || digest_of("sha256", body).expect("sha256 is known"),
        str::to_string,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

    #[test]
    fn indexes_list_their_platforms() {
        let index = br#"{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
            {"platform":{"os":"linux","architecture":"amd64"}},
            {"digest":"sha256:attestation"},
            {"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;
        let Manifest::Index(have) = parse(index, None).unwrap() else {
            panic!("an index")
        };
        assert_eq!(have, ["linux/amd64", "linux/arm64/v8"]);
        assert!(platform_present("linux/arm64", &have));
        assert!(!platform_present("linux/s390x", &have));
        // Kind from the header, or from the shape.
        let bare = br#"{"manifests":[]}"#;
        assert_eq!(
            parse(bare, Some(DOCKER_LIST)).unwrap(),
            Manifest::Index(vec![])
        );
        assert_eq!(parse(bare, None).unwrap(), Manifest::Index(vec![]));
    }

    #[test]
    fn image_manifests() {
        let oci = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#;
        assert_eq!(parse(oci, None).unwrap(), Manifest::Image);
        let bare = br#"{"schemaVersion":2,"config":{},"layers":[]}"#;
        assert_eq!(
            parse(
                bare,
                Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8")
            )
            .unwrap(),
            Manifest::Image
        );
        assert_eq!(
            parse(bare, Some("application/json")).unwrap(),
            Manifest::Image
        );
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let cases: [(&[u8], Option<&str>, &str); 10] = [
            (b"<html>oops</html>", Some(DOCKER_LIST), "not JSON"),
            (b"[1, 2]", None, "not a JSON object"),
            (br#"{"mediaType": 7}"#, None, "`mediaType`"),
            (br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#, None, "`manifests`"),
            (br#"{"manifests":{"a":1}}"#, Some(DOCKER_LIST), "`manifests`"),
            (br#"{"manifests":[7]}"#, None, "entry 0 is not an object"),
            (br#"{"manifests":[{"platform":"linux/amd64"}]}"#, None, "entry 0 has a `platform`"),
            (br#"{"manifests":[{"platform":{"os":"linux","architecture":"amd64"}},{"platform":{"os":"linux"}}]}"#, None, "entry 1 has no `platform.architecture`"),
            (br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#, None, "`config`"),
            (br#"{"hello":"world"}"#, Some("application/json"), "neither"),
        ];
        for (body, content_type, want) in cases {
            let e = parse(body, content_type).expect_err(&String::from_utf8_lossy(body));
            assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(body));
        }
        let other = br#"{"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}"#;
        assert!(parse(other, None).unwrap_err().contains("prettyjws"));
    }

    #[test]
    fn a_body_has_its_digest_and_index_entries_are_found() {
        let body = b"{\"config\":{}}";
        let sha = digest_of("sha256", body).unwrap();
        assert!(body_has_digest(body, &sha));
        assert!(!body_has_digest(b"other", &sha));
        assert!(!body_has_digest(body, sha.trim_start_matches("sha256:")));
        let d = format!("sha256:{}", "a".repeat(64));
        let index = serde_json::json!({"manifests": [
            {"digest": format!("sha256:{}", "b".repeat(64)), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": d, "platform": {"os": "linux", "architecture": "amd64"}},
        ]})
        .to_string();
        assert_eq!(index_entry(index.as_bytes(), "linux/amd64").unwrap(), d);
        assert!(index_entry(index.as_bytes(), "linux/arm64").is_ok());
        assert!(index_entry(index.as_bytes(), "linux/s390x").is_err());
        let manifest = serde_json::json!({"config": {"digest": d, "size": 12}}).to_string();
        assert_eq!(config_of(manifest.as_bytes()).unwrap(), (d.clone(), 12));
        assert!(config_of(br#"{"config": {"digest": "sha256:../../x", "size": 1}}"#).is_err());
    }

    #[test]
    fn digests_are_checked_against_the_body() {
        let body = b"{}";
        let sha = digest_of("sha256", body).unwrap();
        assert_eq!(checked_digest(body, None, None).unwrap(), sha);
        assert_eq!(checked_digest(body, Some(&sha), Some(&sha)).unwrap(), sha);
        let sha512 = digest_of("sha512", body).unwrap();
        assert_eq!(checked_digest(body, Some(&sha512), None).unwrap(), sha512);
        let wrong = format!("sha256:{}", "0".repeat(64));
        assert!(checked_digest(body, Some(&wrong), None)
            .unwrap_err()
            .contains("Docker-Content-Digest"));
        assert!(checked_digest(body, None, Some(&wrong))
            .unwrap_err()
            .contains("reference"));
        assert!(checked_digest(body, Some("md5:x"), None)
            .unwrap_err()
            .contains("unknown algorithm"));
    }
}
