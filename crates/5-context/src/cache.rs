//! The user's cache folder, and the locks in it that keep two imagespec
//! processes from building the same image at once.
//!
//! `IMAGESPEC_CACHE_DIR`, else `$XDG_CACHE_HOME/imagespec`, else
//! `~/.cache/imagespec`.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use imagespec_core::error::{Error, Result};

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

/// Opens a lock file for writing (made if `create` and missing), never
/// through a link.
fn open_lock(path: &Path, create: bool) -> std::io::Result<File> {
    File::options()
        .create(create)
        .truncate(false)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// Whether `path` still names the file `file` has open.
fn names(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Waits for, then takes, the lock on `image` in `dir` (created if needed).
/// Blocking: call it off the async threads.
pub fn lock_image(dir: &Path, image: &str) -> Result<ImageLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let name = hex::encode(&Sha256::digest(image.as_bytes())[..16]);
    let path = dir.join(format!("{name}.lock"));
    loop {
        let file = open_lock(&path, true).map_err(|e| Error::io("open", &path, e))?;
        file.lock().map_err(|e| Error::io("lock", &path, e))?;
        // `prune_locks` removes a lock file only while holding it: a lock
        // taken on a file it removed meanwhile guards nothing, so the file
        // the path names now is opened again.
        if names(&path, &file) {
            return Ok(ImageLock { _file: file });
        }
    }
}

/// Removes the image locks that no process holds, each while holding it
/// (a process waiting on it then finds it gone and takes a new one; see
/// [`lock_image`]). Returns how many it removed. A lock file is made again
/// by the next build of its image, so none is worth keeping.
pub fn prune_locks(cache: &Path) -> Result<usize> {
    let dir = lock_dir(cache);
    if !imagespec_core::fsx::is_private_dir(&dir) {
        return Ok(0);
    }
    let mut removed = 0;
    for entry in std::fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let is_lock = path.extension().is_some_and(|x| x == "lock")
            && entry.file_type().is_ok_and(|t| t.is_file());
        if !is_lock {
            continue;
        }
        let Ok(file) = open_lock(&path, false) else {
            continue;
        };
        if file.try_lock().is_ok() && names(&path, &file) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// The folder of the source-push records in a cache folder (what each
/// spec's last push held).
pub fn records_dir(cache: &Path) -> PathBuf {
    cache.join("pushed")
}

/// The SQLite file of the remembered existence answers in a cache folder.
pub fn existence_file(cache: &Path) -> PathBuf {
    cache.join("existence.sqlite")
}

/// The folder of the kept build contexts in a cache folder.
pub fn contexts_dir(cache: &Path) -> PathBuf {
    cache.join("contexts")
}

/// What a kept context is keyed on: the image's name, and the real
/// (canonical, absolute) paths of everything the spec reads (its folder,
/// source_root, requirements, each `copy` entry), so that two projects
/// whose specs look alike never share one.
fn context_key(job: &imagespec_identity::BuildJob) -> String {
    let spec = job.spec.view();
    let real = |p: PathBuf| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(&p))
            .unwrap_or(p)
    };
    let mut key = Sha256::new();
    key.update(b"imagespec-kept-context 2\0");
    key.update(spec.name().as_bytes());
    key.update([0]);
    let mut inputs = vec![real(spec.base_dir().to_path_buf())];
    inputs.extend(spec.source_root().map(|r| real(spec.resolve(r))));
    inputs.extend(spec.requirements().map(|r| real(spec.resolve(r))));
    inputs.extend(spec.copy().iter().map(|c| real(spec.resolve(c))));
    for p in inputs {
        key.update(p.as_os_str().as_encoded_bytes());
        key.update([0]);
    }
    hex::encode(&key.finalize()[..16])
}

/// The folder that keeps a job's build context between builds
/// (`<cache>/contexts/<key>/context`, see `context_key`), with the lock that
/// makes it this process's until dropped. `None` when it cannot be made
/// safely (a folder on the way that is a link, or not this user's), or
/// another process holds it: the build then uses a temporary context.
pub fn kept_context(cache: &Path, job: &imagespec_identity::BuildJob) -> Option<(PathBuf, File)> {
    let contexts = contexts_dir(cache);
    let root = contexts.join(context_key(job));
    let lock_path = root.join("lock");
    let made = imagespec_core::fsx::private_dir(cache)
        .and_then(|()| imagespec_core::fsx::private_dir(&contexts))
        .and_then(|()| imagespec_core::fsx::private_dir(&root));
    if let Err(e) = made {
        tracing::debug!(dir = %root.display(), "no kept build context: {e}");
        return None;
    }
    let lock = match open_lock(&lock_path, true) {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(dir = %root.display(), "no kept build context: {e}");
            return None;
        }
    };
    if let Err(e) = lock.try_lock() {
        tracing::debug!(dir = %root.display(), "the kept build context is busy ({e}); using a temporary one");
        return None;
    }
    // Last used now (pruning removes the least recently used).
    let _ = lock.set_modified(std::time::SystemTime::now());
    let context = root.join("context");
    // Never through a link: a link in its place is removed, not followed.
    if let Ok(meta) = std::fs::symlink_metadata(&context) {
        if !meta.is_dir() || !imagespec_core::fsx::is_private_dir(&context) {
            tracing::debug!(dir = %context.display(), "the kept context is no private folder; made anew");
            let removed = match meta.is_dir() {
                true => std::fs::remove_dir_all(&context),
                false => std::fs::remove_file(&context),
            };
            if removed.is_err() {
                return None;
            }
        }
    }
    Some((context, lock))
}

/// The bounds on the kept build contexts (`imagespec cache prune`, and
/// after every build).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// At most this many contexts.
    pub contexts: usize,
    /// At most this many bytes in all.
    pub bytes: u64,
    /// None unused for longer.
    pub age: std::time::Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            contexts: 32,
            bytes: 8 * 1024 * 1024 * 1024,
            age: std::time::Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What pruning removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// Contexts removed.
    pub contexts: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Contexts kept.
    pub kept: usize,
    /// Their bytes.
    pub kept_bytes: u64,
}

/// The file beside a kept context (`ROOT/context`) that records the bytes
/// of its root, so that pruning, which runs after every build, reads one
/// small file per context instead of walking every kept tree.
fn size_file(root: &Path) -> PathBuf {
    root.join("size")
}

const SIZE_MAGIC: &str = "imagespec-kept-size 1";

/// Records the bytes of the kept context `context` (`ROOT/context`) now,
/// after a build brought it up to date: one walk of this context, instead
/// of one of every kept context after every build.
pub(crate) fn record_size(context: &Path) {
    let Some(root) = context.parent() else { return };
    let bytes = size_of(root);
    if let Err(e) =
        imagespec_inputs::write_cache_file(&size_file(root), SIZE_MAGIC, &bytes.to_string())
    {
        tracing::debug!(root = %root.display(), "the kept context's size is not stored: {e}");
    }
}

/// The bytes of a kept context's root: as recorded when a build last
/// brought it up to date, or walked when there is no record to believe.
fn kept_size(root: &Path) -> u64 {
    imagespec_inputs::read_cache_file(&size_file(root), SIZE_MAGIC, 4096)
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| size_of(root))
}

/// The bytes of the files under `dir`, not following links.
fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

/// Removes kept contexts beyond `bounds`, least recently used first, and
/// those unused for longer than its age. A context in use (locked by a
/// build) is left alone; so is anything that is not a private folder.
pub fn prune_contexts(cache: &Path, bounds: Bounds) -> Result<Pruned> {
    let contexts = contexts_dir(cache);
    if !imagespec_core::fsx::is_private_dir(&contexts) {
        return Ok(Pruned::default());
    }
    let now = std::time::SystemTime::now();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&contexts).map_err(|e| Error::io("list", &contexts, e))? {
        let Ok(entry) = entry else { continue };
        let root = entry.path();
        if !imagespec_core::fsx::is_private_dir(&root) {
            continue;
        }
        let used = std::fs::metadata(root.join("lock"))
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        found.push((used, kept_size(&root), root));
    }
    // Newest first: what is kept is a prefix.
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let mut out = Pruned::default();
    for (used, bytes, root) in found {
        let age = now.duration_since(used).unwrap_or_default();
        let over = out.kept >= bounds.contexts
            || out.kept_bytes + bytes > bounds.bytes
            || age > bounds.age;
        if over {
            let lock = open_lock(&root.join("lock"), false);
            let free = lock.as_ref().map_or(true, |l| l.try_lock().is_ok());
            if free && std::fs::remove_dir_all(&root).is_ok() {
                out.contexts += 1;
                out.bytes += bytes;
                continue;
            }
        }
        out.kept += 1;
        out.kept_bytes += bytes;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_removes_only_the_locks_nobody_holds_and_a_late_opener_takes_a_fresh_one() {
        let cache = tempfile::tempdir().unwrap();
        let dir = lock_dir(cache.path());
        let held = lock_image(&dir, "r/held:1").unwrap();
        drop(lock_image(&dir, "r/free:1").unwrap());
        drop(lock_image(&dir, "r/free:2").unwrap());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
        assert_eq!(prune_locks(cache.path()).unwrap(), 2);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "the held one stays"
        );

        drop(held);

        // A process that opened a lock file just before a prune removed it
        // locks a file no path names: `names` tells, and `lock_image`
        // takes the file the path names now, which others then wait for.
        let path = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let opened = File::options().write(true).open(&path).unwrap();
        assert_eq!(prune_locks(cache.path()).unwrap(), 1);
        opened.lock().unwrap();
        assert!(
            !names(&path, &opened),
            "the opened file is gone from the folder"
        );
        let fresh = lock_image(&dir, "r/held:1").unwrap();
        let other = File::options().write(true).open(&path).unwrap();
        assert!(other.try_lock().is_err(), "the path's file is held");
        drop(fresh);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn pruning_reads_the_size_a_build_recorded_and_walks_without_one() {
        use std::os::unix::fs::DirBuilderExt as _;
        let cache = tempfile::tempdir().unwrap();
        let contexts = contexts_dir(cache.path());
        let private = |p: &Path| {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .recursive(true)
                .create(p)
                .unwrap()
        };
        private(&contexts);
        let root = contexts.join("k");
        private(&root.join("context"));
        std::fs::write(root.join("context/a.txt"), vec![b'a'; 1000]).unwrap();
        std::fs::write(root.join("lock"), "").unwrap();
        record_size(&root.join("context"));
        let recorded = kept_size(&root);
        assert!(recorded >= 1000, "{recorded}");
        assert_eq!(
            recorded,
            size_of(&root) - std::fs::metadata(size_file(&root)).unwrap().len()
        );

        // The record is believed: no walk sees a file added after it.
        std::fs::write(root.join("context/b.txt"), vec![b'b'; 5000]).unwrap();
        assert_eq!(kept_size(&root), recorded);
        // A bound below the recorded size prunes it.
        let pruned = prune_contexts(
            cache.path(),
            Bounds {
                contexts: 10,
                bytes: recorded - 1,
                age: std::time::Duration::from_secs(3600),
            },
        )
        .unwrap();
        assert_eq!((pruned.contexts, pruned.bytes), (1, recorded));

        // Without a record (or with one that fails its sum), the tree is walked.
        private(&root.join("context"));
        std::fs::write(root.join("context/a.txt"), vec![b'a'; 1000]).unwrap();
        assert_eq!(kept_size(&root), size_of(&root));
        record_size(&root.join("context"));
        let text = std::fs::read_to_string(size_file(&root)).unwrap();
        std::fs::write(size_file(&root), text.replace(&recorded.to_string(), "1")).unwrap();
        assert_eq!(kept_size(&root), size_of(&root));
    }

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
