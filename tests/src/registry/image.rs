//! Tiny images to push: one gzipped tar layer holding one small text file, a
//! config naming it, a manifest naming both; and indexes naming images.

use std::io::Write as _;

use flate2::write::GzEncoder;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use super::common::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};

/// Which manifest schema [`TestRegistry::push_image`] and
/// [`TestRegistry::push_index`] write.
///
/// [`TestRegistry::push_image`]: super::TestRegistry::push_image
/// [`TestRegistry::push_index`]: super::TestRegistry::push_index
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OCI image manifest / OCI image index.
    Oci,
    /// Docker v2 schema 2 manifest / manifest list.
    Docker,
}

impl Format {
    /// The media type of this format's index (manifest list).
    pub(super) fn index_media_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_INDEX,
            Format::Docker => DOCKER_MANIFEST_LIST,
        }
    }
}

/// The blobs and manifest of one single-platform image.
pub(super) struct Image {
    pub config: Vec<u8>,
    pub layer: Vec<u8>,
    pub manifest: Vec<u8>,
    pub media_type: &'static str,
}

/// `("arm", Some("v7"))` for `"arm/v7"`, `("amd64", None)` for `"amd64"`.
fn split_arch(arch: &str) -> (&str, Option<&str>) {
    match arch.split_once('/') {
        Some((a, v)) => (a, Some(v)),
        None => (arch, None),
    }
}

/// An image for `os`/`arch` whose layer is unique to `repo:tag` and platform.
pub(super) fn build_image(repo: &str, tag: &str, os: &str, arch: &str, format: Format) -> Image {
    let content = format!("imagespec registry harness: {repo}:{tag} {os}/{arch}\n");
    let tar = tar_one_file("imagespec-test.txt", content.as_bytes());
    let layer = gzip(&tar);
    let (arch_name, variant) = split_arch(arch);
    let mut config = json!({
        "architecture": arch_name,
        "os": os,
        "config": {"Labels": {"org.imagespec.test.ref": format!("{repo}:{tag}")}},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&tar)]},
        "history": [{"created_by": "imagespec registry harness"}],
    });
    if let Some(v) = variant {
        config["variant"] = json!(v);
    }
    let config = serde_json::to_vec(&config).expect("config serializes");
    let (media_type, config_type, layer_type) = match format {
        Format::Oci => (
            OCI_MANIFEST,
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        ),
        Format::Docker => (
            DOCKER_MANIFEST,
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        ),
    };
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": sha256_digest(&config), "size": config.len()},
        "layers": [{"mediaType": layer_type, "digest": sha256_digest(&layer), "size": layer.len()}],
    }))
    .expect("manifest serializes");
    Image {
        config,
        layer,
        manifest,
        media_type,
    }
}

/// The index entry naming `image` (pushed as `digest`) for `os`/`arch`.
pub(super) fn index_entry(image: &Image, digest: &str, os: &str, arch: &str) -> Value {
    let (arch, variant) = split_arch(arch);
    let mut platform = json!({"architecture": arch, "os": os});
    if let Some(v) = variant {
        platform["variant"] = json!(v);
    }
    json!({
        "mediaType": image.media_type,
        "digest": digest,
        "size": image.manifest.len(),
        "platform": platform,
    })
}

/// An image index (OCI) or manifest list (Docker) of `entries`.
pub(super) fn index(format: Format, entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": format.index_media_type(),
        "manifests": entries,
    }))
    .expect("index serializes")
}

/// A ustar archive holding one regular file (mode 0644, owner 0:0, mtime 0).
fn tar_one_file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    let mut archive = tar::Builder::new(Vec::new());
    archive
        .append_data(&mut header, name, data)
        .expect("tar a file in memory");
    archive.into_inner().expect("finish a tar in memory")
}

/// `data` gzipped (the header carries no name and mtime 0, so equal input
/// gives equal bytes).
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).expect("gzip in memory");
    gz.finish().expect("gzip in memory")
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}
