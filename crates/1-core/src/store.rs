//! Reading and writing images in their registry, without an engine: what
//! the engine-free source push needs (the earlier image's manifest and
//! config, a new layer, a new config and manifest). The registry plugin
//! implements it; the stages name none.

use async_trait::async_trait;

use crate::error::Result;
use crate::plugin::{Plugin, Registration, Registry};

/// `registry/repository` of an image name: without its tag or digest.
pub fn repository(image: &str) -> &str {
    let name = image.split_once('@').map_or(image, |(n, _)| n);
    match name.rsplit_once(':') {
        // A colon after the last slash starts the tag (not a registry port).
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    }
}

/// A manifest (or index) as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    /// Its media type (the `Content-Type` it was served with, else its own
    /// `mediaType`).
    pub media_type: String,
    /// `sha256:…` of its bytes.
    pub digest: String,
    /// Its bytes, as served.
    pub bytes: Vec<u8>,
}

/// What uploading a blob did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// The repository had it: nothing was sent.
    Present,
    /// Mounted from another repository of the registry: nothing was sent.
    Mounted,
    /// Sent, this many bytes.
    Sent(u64),
}

impl Upload {
    /// The bytes it sent.
    pub fn bytes(self) -> u64 {
        match self {
            Upload::Sent(n) => n,
            _ => 0,
        }
    }
}

/// A registry an image can be read from and written to. `image` is a full
/// reference (`registry/repository:tag` or `…@sha256:…`); blob operations
/// act on its repository.
#[async_trait]
pub trait ImageStore: Plugin {
    /// The manifest or index `image` names.
    async fn manifest(&self, image: &str) -> Result<StoredManifest>;

    /// A blob of `image`'s repository, checked against its digest; at most
    /// `max` bytes.
    async fn blob(&self, image: &str, digest: &str, max: u64) -> Result<Vec<u8>>;

    /// The first bytes of a blob (up to `len`; fewer when it is shorter),
    /// unchecked: enough to read the first entries of a layer.
    async fn blob_start(&self, image: &str, digest: &str, len: u64) -> Result<Vec<u8>>;

    /// Uploads `bytes` as the blob `digest` to `image`'s repository, unless
    /// it is there; `from`: another repository of the same registry that
    /// has it, to mount it from instead.
    async fn push_blob(
        &self,
        image: &str,
        digest: &str,
        bytes: &[u8],
        from: Option<&str>,
    ) -> Result<Upload>;

    /// Puts a manifest (or index) under `image`'s tag or digest; returns its
    /// digest.
    async fn push_manifest(&self, image: &str, media_type: &str, bytes: &[u8]) -> Result<String>;
}

/// A store's entry in the registry.
pub type StoreRegistration = Registration<'static, dyn ImageStore>;

inventory::collect!(StoreRegistration);

/// A set of stores (the registered ones, or an embedder's own); the one
/// with the highest priority is used.
pub type Stores<'a> = Registry<'a, dyn ImageStore>;

/// The stores registered in this program, built once.
pub fn registry() -> Result<&'static Stores<'static>> {
    crate::collected!(dyn ImageStore, "image stores")
}

#[cfg(test)]
mod tests {
    use super::repository;

    #[test]
    fn a_repository_is_the_name_without_tag_or_digest() {
        for (image, repo) in [
            ("localhost:5765/app:abc", "localhost:5765/app"),
            ("localhost:5765/team/app", "localhost:5765/team/app"),
            ("localhost:5000/x", "localhost:5000/x"),
            ("app:1", "app"),
            ("r.io/x:t@sha256:ab", "r.io/x"),
            ("r.io/x@sha256:ab", "r.io/x"),
        ] {
            assert_eq!(repository(image), repo, "{image}");
        }
    }
}
