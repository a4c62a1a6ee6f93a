//! Remembered existence: a registry's "it exists" answers, kept for a while
//! in an SQLite file in the cache folder, so that repeated `build` and
//! `exists` runs over many specs ask the registry once per time to live.
//!
//! Only positive answers are kept (an image that exists, with its digest,
//! for a set of platforms): a missing or unknown answer is always asked
//! again, so nothing remembered can turn "missing" into "exists". An answer
//! goes stale after its time to live; `--refresh` asks the registry anyway
//! (and remembers its answer). Several processes share the file: SQLite
//! locks it, and a writer waits for another.
//!
//! A file that is not this user's, is a link, or is writable by others is
//! not opened: the cache then says nothing and the registry is asked.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The default time to live of an answer.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// How existence answers are remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberOptions {
    /// The SQLite file.
    pub path: PathBuf,
    /// How long an answer is believed.
    pub ttl: Duration,
    /// Ask the registry even when an answer is remembered (`--refresh`).
    pub refresh: bool,
}

/// The open cache (opened on first use; `None` inside when it cannot be).
#[derive(Debug)]
pub struct Remembered {
    options: RememberOptions,
    db: Mutex<Option<Option<rusqlite::Connection>>>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The platforms as one key part: sorted, comma-joined.
fn platform_key(platforms: &[String]) -> String {
    let mut p: Vec<&str> = platforms.iter().map(|s| s.trim()).collect();
    p.sort_unstable();
    p.dedup();
    p.join(",")
}

/// Whether `path` may be opened: absent, or a regular file of this user
/// that no one else can write, not a link.
fn trusted(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(m) if !m.file_type().is_file() => Err("not a regular file".into()),
        Ok(m) if m.uid() != imagespec_core::fsx::me() => Err("owned by another user".into()),
        Ok(m) if m.mode() & 0o022 != 0 => Err("writable by others".into()),
        Ok(_) => Ok(()),
    }
}

fn open(path: &Path) -> Result<rusqlite::Connection, String> {
    if let Some(dir) = path.parent() {
        imagespec_core::fsx::private_dir(dir).map_err(|e| e.to_string())?;
    }
    trusted(path)?;
    let db = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
            | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .map_err(|e| e.to_string())?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    db.busy_timeout(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    db.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE IF NOT EXISTS existence (
             image TEXT NOT NULL,
             platforms TEXT NOT NULL,
             digest TEXT NOT NULL,
             seen INTEGER NOT NULL,
             PRIMARY KEY (image, platforms)
         );",
    )
    .map_err(|e| e.to_string())?;
    Ok(db)
}

impl Remembered {
    /// A cache with these options, opened when first used.
    pub fn new(options: RememberOptions) -> Remembered {
        Remembered {
            options,
            db: Mutex::new(None),
        }
    }

    fn with_db<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let mut guard = self.db.lock().ok()?;
        if guard.is_none() {
            *guard = Some(match open(&self.options.path) {
                Ok(db) => Some(db),
                Err(e) => {
                    tracing::warn!(
                        "remembered existence is off: {}: {e}",
                        self.options.path.display()
                    );
                    None
                }
            });
        }
        let db = guard.as_ref()?.as_ref()?;
        match f(db) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!("remembered existence: {e}");
                None
            }
        }
    }

    /// The digest of `image` for `platforms`, when it was seen to exist
    /// within the time to live (and `--refresh` is not given).
    pub fn get(&self, image: &str, platforms: &[String]) -> Option<String> {
        if self.options.refresh {
            return None;
        }
        let oldest = now() - self.options.ttl.as_secs() as i64;
        self.with_db(|db| {
            db.query_row(
                "SELECT digest FROM existence WHERE image = ?1 AND platforms = ?2 AND seen >= ?3",
                rusqlite::params![image, platform_key(platforms), oldest],
                |row| row.get::<_, String>(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
        })
        .flatten()
    }

    /// Remembers that `image` exists for `platforms`, with `digest`.
    pub fn put(&self, image: &str, platforms: &[String], digest: &str) {
        self.with_db(|db| {
            db.execute(
                "INSERT INTO existence (image, platforms, digest, seen) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (image, platforms) DO UPDATE SET digest = ?3, seen = ?4",
                rusqlite::params![image, platform_key(platforms), digest, now()],
            )
        });
    }

    /// Forgets `image` (a registry said it is missing, or it was rebuilt).
    pub fn forget(&self, image: &str) {
        self.with_db(|db| db.execute("DELETE FROM existence WHERE image = ?1", [image]));
    }

    /// Forgets every image (`imagespec cache clean`); how many answers
    /// were remembered, or `None` when the cache can't be opened.
    pub fn forget_all(&self) -> Option<usize> {
        self.with_db(|db| db.execute("DELETE FROM existence", []))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path, ttl: u64, refresh: bool) -> Remembered {
        Remembered::new(RememberOptions {
            path: dir.join("existence.sqlite"),
            ttl: Duration::from_secs(ttl),
            refresh,
        })
    }

    #[test]
    fn remembers_positive_answers_per_platform_set_until_they_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), 600, false);
        let amd = vec!["linux/amd64".to_string()];
        let both = vec!["linux/arm64".to_string(), "linux/amd64".to_string()];
        assert_eq!(c.get("r/x:1", &amd), None);
        c.put("r/x:1", &amd, "sha256:aa");
        assert_eq!(c.get("r/x:1", &amd).as_deref(), Some("sha256:aa"));
        assert_eq!(c.get("r/x:1", &both), None, "another platform set");
        c.put("r/x:1", &both, "sha256:bb");
        let swapped = vec!["linux/amd64".to_string(), "linux/arm64".to_string()];
        assert_eq!(c.get("r/x:1", &swapped).as_deref(), Some("sha256:bb"));
        // Another process sees it.
        let other = cache(dir.path(), 600, false);
        assert_eq!(other.get("r/x:1", &amd).as_deref(), Some("sha256:aa"));
        // --refresh asks anyway; a zero time to live believes nothing.
        assert_eq!(cache(dir.path(), 600, true).get("r/x:1", &amd), None);
        let stale = cache(dir.path(), 0, false);
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(stale.get("r/x:1", &amd), None);
        c.forget("r/x:1");
        assert_eq!(other.get("r/x:1", &amd), None);
        // `cache clean` forgets them all, for every process.
        c.put("r/x:1", &amd, "sha256:aa");
        c.put("r/y:1", &amd, "sha256:cc");
        assert_eq!(other.forget_all(), Some(2));
        assert_eq!(c.get("r/y:1", &amd), None);
    }

    #[test]
    fn a_file_others_can_write_or_a_link_is_not_believed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), 600, false);
        let amd = vec!["linux/amd64".to_string()];
        c.put("r/x:1", &amd, "sha256:aa");
        drop(c);
        let path = dir.path().join("existence.sqlite");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(cache(dir.path(), 600, false).get("r/x:1", &amd), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let linked = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&path, linked.path().join("existence.sqlite")).unwrap();
        assert_eq!(cache(linked.path(), 600, false).get("r/x:1", &amd), None);
    }
}
