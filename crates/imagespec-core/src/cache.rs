//! The user's cache folder, and the locks in it that keep two imagespec
//! processes from building the same image at once.
//!
//! `IMAGESPEC_CACHE_DIR`, else `$XDG_CACHE_HOME/imagespec`, else
//! `~/.cache/imagespec`.

use std::fs::File;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// Environment variable: imagespec's cache folder.
pub const ENV_CACHE_DIR: &str = "IMAGESPEC_CACHE_DIR";

/// imagespec's cache folder (not created).
pub fn cache_dir() -> Result<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var(ENV_CACHE_DIR) {
        return Ok(dir);
    }
    if let Some(xdg) = var("XDG_CACHE_HOME") {
        return Ok(xdg.join("imagespec"));
    }
    match var("HOME") {
        Some(home) => Ok(home.join(".cache").join("imagespec")),
        None => Err(Error::Environment(format!(
            "no cache folder: set {ENV_CACHE_DIR} (or HOME)"
        ))),
    }
}

/// The folder of the image locks in a cache folder.
pub fn lock_dir(cache: &Path) -> PathBuf {
    cache.join("locks")
}

/// An exclusive lock on one image name, held until dropped.
#[derive(Debug)]
pub struct ImageLock {
    _file: File,
}

/// Waits for, then takes, the lock on `image` in `dir` (created if needed).
/// Blocking: call it off the async threads.
pub fn lock_image(dir: &Path, image: &str) -> Result<ImageLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let name = hex::encode(&Sha256::digest(image.as_bytes())[..16]);
    let path = dir.join(format!("{name}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    file.lock().map_err(|e| Error::io("lock", &path, e))?;
    Ok(ImageLock { _file: file })
}

/// The folder that keeps a spec's build context between builds
/// (`<cache>/contexts/<key>/context`, keyed on the spec's folder and name),
/// with the lock that makes it this process's until dropped. `None` when it
/// cannot be made, or another process holds it.
pub fn kept_context(cache: &Path, spec: &crate::ImageSpec) -> Option<(PathBuf, File)> {
    let mut key = Sha256::new();
    key.update(spec.base_dir().as_os_str().as_encoded_bytes());
    key.update([0]);
    key.update(spec.name().as_bytes());
    let root = cache
        .join("contexts")
        .join(hex::encode(&key.finalize()[..12]));
    let opened = std::fs::create_dir_all(&root).and_then(|()| {
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("lock"))
    });
    let lock = match opened {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(dir = %root.display(), "no kept build context: {e}");
            return None;
        }
    };
    match lock.try_lock() {
        Ok(()) => Some((root.join("context"), lock)),
        Err(e) => {
            tracing::debug!(dir = %root.display(), "the kept build context is busy ({e}); using a temporary one");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_image_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_image(dir.path(), "x:1").unwrap();
        let other = lock_image(dir.path(), "y:1");
        assert!(other.is_ok(), "another image is another lock");
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let _second = lock_image(&d, "x:1").unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "still held"
        );
        drop(first);
        rx.recv().unwrap();
        waiter.join().unwrap();
    }
}
