//! Short content hashes of single files, for `explain` and the image's
//! inputs label: which files changed, where flytekit's digest only says
//! that one did. Source and `copy` files get theirs from the digest's own
//! read ([`super::digest`]); [`hash_files`] hashes others (the files a
//! context copies that the tag does not digest, such as a lock file).

use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::files::SourceFile;
use imagespec_core::error::{Error, Result};

/// Hex digits kept of a file's sha256.
pub const SHORT_HASH_HEX: usize = 16;

/// The first [`SHORT_HASH_HEX`] hex digits of the sha256 of `bytes`.
pub fn short_hash(bytes: &[u8]) -> String {
    let mut h = hex::encode(Sha256::digest(bytes));
    h.truncate(SHORT_HASH_HEX);
    h
}

fn hash_file(path: &Path) -> Result<String> {
    let mut f = imagespec_core::fsx::open_regular(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut f, &mut hasher).map_err(|e| Error::io("read", path, e))?;
    let mut h = hex::encode(hasher.finalize());
    h.truncate(SHORT_HASH_HEX);
    Ok(h)
}

/// Each file's short content hash, in the list's order, on a few threads.
pub fn hash_files(files: &[&SourceFile]) -> Result<Vec<String>> {
    let parts = imagespec_core::parallel::chunks(files, 64, |part| {
        part.iter()
            .map(|f| hash_file(&f.path))
            .collect::<Result<Vec<_>>>()
    })
    .ok_or_else(|| Error::Other("a file-hashing thread panicked".into()))?;
    let mut all = Vec::with_capacity(files.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}
