//! The files of the digest caches (stat cache entries, per-file hash
//! lists), and when one is believed.
//!
//! A cache file is read only when it is a regular file (not a link, a FIFO
//! or a device), this user's, writable by no one else, in a folder that is
//! the same, and no larger than its caller's bound. Its first line names
//! its format; its second holds the sha256 of the format, its own file name
//! and the rest, so an entry that was edited, truncated or copied under
//! another name is not believed. Anything else is logged at debug level and
//! treated as absent: the cache is an optimisation, and the digest is then
//! computed from the files.

use std::io::Write as _;
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// The sum line of an entry: over its format, its name and its body.
fn sum(magic: &str, path: &Path, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(magic.as_bytes());
    h.update([0]);
    h.update(
        path.file_name()
            .map(|n| n.as_encoded_bytes())
            .unwrap_or_default(),
    );
    h.update([0]);
    h.update(body.as_bytes());
    format!("sum {}", hex::encode(h.finalize()))
}

/// The body of the cache file `path` in format `magic`, when it can be
/// believed (see the module docs); `None` otherwise.
pub fn read(path: &Path, magic: &str, max: u64) -> Option<String> {
    let dir = path.parent()?;
    if !imagespec_core::fsx::is_private_dir(dir) {
        tracing::debug!(dir = %dir.display(), "cache: the folder is not private to this user; not read");
        return None;
    }
    let bytes = match imagespec_core::fsx::read_private(path, max) {
        Ok(Some(b)) => b,
        Ok(None) => return None,
        Err(e) => {
            tracing::debug!("cache: entry not read: {e}");
            return None;
        }
    };
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(magic)?.strip_prefix('\n')?;
    let (line, body) = rest.split_once('\n')?;
    if line != sum(magic, path, body) {
        tracing::debug!(entry = %path.display(), "cache: entry does not match its sum; not believed");
        return None;
    }
    Some(body.to_string())
}

/// Writes the cache file `path` in format `magic` with `body`, atomically,
/// in a folder made private to this user.
pub fn write(path: &Path, magic: &str, body: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("a cache entry has a folder"))?;
    imagespec_core::fsx::private_dir(dir)?;
    let mut text = String::with_capacity(body.len() + 100);
    text.push_str(magic);
    text.push('\n');
    text.push_str(&sum(magic, path, body));
    text.push('\n');
    text.push_str(body);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::fs::PermissionsExt as _;

    /// Cases per property: `IMAGESPEC_PROPTEST_CASES` (CI sets it), else 256.
    fn cases() -> u32 {
        std::env::var("IMAGESPEC_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

        /// Whatever bytes an entry holds (an edit, a truncation, garbage,
        /// a good entry with bytes flipped), it is believed only when it is
        /// exactly what was written, and reading it never panics.
        #[test]
        fn an_entry_is_believed_only_when_intact(
            body in "[0-9a-f \n]{0,200}",
            garbage in proptest::collection::vec(any::<u8>(), 0..300),
            flip in 0usize..400,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let entry = dir.path().join("cache").join("e");
            write(&entry, "m 1", &body).unwrap();
            prop_assert_eq!(read(&entry, "m 1", 1 << 20), Some(body.clone()));
            let mut bytes = std::fs::read(&entry).unwrap();
            if flip < bytes.len() {
                bytes[flip] ^= 0x20;
                std::fs::write(&entry, &bytes).unwrap();
                prop_assert_eq!(read(&entry, "m 1", 1 << 20), None);
            }
            std::fs::write(&entry, &garbage).unwrap();
            let got = read(&entry, "m 1", 1 << 20);
            prop_assert!(got.is_none() || garbage.starts_with(b"m 1\nsum "));
        }
    }

    #[test]
    fn an_entry_is_believed_only_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("cache").join("e1");
        write(&entry, "m 1", "digest\n1 2 3\n").unwrap();
        assert_eq!(
            read(&entry, "m 1", 1000).as_deref(),
            Some("digest\n1 2 3\n")
        );
        assert_eq!(read(&entry, "m 2", 1000), None, "another format");
        assert_eq!(read(&entry, "m 1", 10), None, "over the bound");
        // An edited line.
        let text = std::fs::read_to_string(&entry)
            .unwrap()
            .replace("digest", "digesT");
        std::fs::write(&entry, text).unwrap();
        assert_eq!(read(&entry, "m 1", 1000), None);
        // Copied under another name.
        write(&entry, "m 1", "digest\n").unwrap();
        let other = dir.path().join("cache").join("e2");
        std::fs::copy(&entry, &other).unwrap();
        assert_eq!(read(&other, "m 1", 1000), None);
        // Writable by others.
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read(&entry, "m 1", 1000), None);
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&entry, "m 1", 1000).is_some());
        // In a folder others may write.
        std::fs::set_permissions(
            entry.parent().unwrap(),
            std::fs::Permissions::from_mode(0o777),
        )
        .unwrap();
        assert_eq!(read(&entry, "m 1", 1000), None);
    }
}
