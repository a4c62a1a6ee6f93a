//! A stat cache for digests of unchanged trees.
//!
//! A digest is one md5 stream over a list of files, so it is remembered as a
//! whole: an entry is keyed on the list (each file's path and hash name, in
//! order) and holds every file's size, mtime_ns, ctime_ns, inode and device
//! as they were when the digest was computed, and the file's short sha256
//! (taken in the same read). A lookup stats the files again; the digest and
//! the hashes are reused only when every stat is the same. Anything
//! that changes a file (an edit, a touch, a rename, `chmod`, a replaced file)
//! changes its ctime or inode; a new, deleted, renamed or newly ignored file
//! changes the list, and so the key.
//!
//! git's "racy" rule: a file modified within the timestamp granularity of the
//! moment its stats were taken could change again without its stats
//! changing. An entry holding such a file is not written, so the next run
//! hashes the files again (and writes the entry once they have settled).
//!
//! The cache is an optimisation: a read or write that fails is logged at
//! debug level and the digest is computed.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use super::digest::Digested;
use super::files::SourceFile;

/// File system timestamps are coarser than the clock (a kernel tick; whole
/// seconds on some file systems, two on FAT): files modified this close to
/// the stat walk count as racy.
pub const RACY_NS: i128 = 2_000_000_000;
/// Entries kept; the oldest beyond this are removed.
const KEEP: usize = 256;
const MAGIC: &str = "imagespec-stat-cache 3";

/// What a kept copy's stat says (its ctime left out: the copy is this
/// program's own, and only its content and these matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptStat {
    pub size: u64,
    pub mtime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

impl KeptStat {
    /// A regular file's (not following a link); `None` for anything else.
    pub fn of_path(path: &Path) -> Option<KeptStat> {
        let m = std::fs::symlink_metadata(path).ok()?;
        m.is_file().then(|| KeptStat {
            size: m.size(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ino: m.ino(),
            dev: m.dev(),
        })
    }
}

/// What a file's stat says, as the cache compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    dev: u64,
}

fn ns(secs: i64, nsec: i64) -> i128 {
    secs as i128 * 1_000_000_000 + nsec as i128
}

/// A file's ctime in nanoseconds since the epoch.
pub fn ctime_ns(m: &std::fs::Metadata) -> i128 {
    ns(m.ctime(), m.ctime_nsec())
}

fn stat(path: &Path) -> Option<Stat> {
    Some(Stat::of(&std::fs::metadata(path).ok()?))
}

impl Stat {
    /// A path's stat (a link's target's); `None` when it cannot be taken.
    pub fn of_path(path: &Path) -> Option<Stat> {
        stat(path)
    }

    /// The stat of size, mtime_ns, ctime_ns, inode and device, as stored.
    pub fn from_parts([size, mtime_ns, ctime_ns, ino, dev]: [i128; 5]) -> Option<Stat> {
        Some(Stat {
            size: size.try_into().ok()?,
            mtime_ns,
            ctime_ns,
            ino: ino.try_into().ok()?,
            dev: dev.try_into().ok()?,
        })
    }

    /// Modified (or its inode changed) within `window` of `stamp`.
    pub fn is_racy(&self, stamp: i128, window: i128) -> bool {
        self.mtime_ns >= stamp - window || self.ctime_ns >= stamp - window
    }

    fn of(m: &std::fs::Metadata) -> Stat {
        Stat {
            size: m.size(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ctime_ns(m),
            ino: m.ino(),
            dev: m.dev(),
        }
    }
}

/// Stats every file (in parallel for long lists); `None` if one cannot be.
fn stat_all(files: &[SourceFile]) -> Option<Vec<Stat>> {
    let parts = imagespec_core::parallel::chunks(files, 2048, |part| {
        part.iter()
            .map(|f| stat(&f.path))
            .collect::<Option<Vec<_>>>()
    })?;
    parts
        .into_iter()
        .try_fold(Vec::with_capacity(files.len()), |mut all, part| {
            all.extend(part?);
            Some(all)
        })
}

/// Metadata a walk took of the files it listed, and when it started.
#[derive(Debug)]
pub struct Walked {
    /// [`now_ns`] before the walk's first stat.
    pub stamp: i128,
    /// Each file's, in the list's order.
    pub metadata: Vec<std::fs::Metadata>,
}

pub fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// The digest cache in one folder (`<cache folder>/digests`).
#[derive(Debug, Clone)]
pub struct StatCache {
    dir: PathBuf,
}

impl StatCache {
    pub fn new(dir: PathBuf) -> StatCache {
        StatCache { dir }
    }

    fn entry(&self, files: &[SourceFile]) -> PathBuf {
        let mut key = Sha256::new();
        key.update(MAGIC.as_bytes());
        for f in files {
            key.update(f.path.as_os_str().as_encoded_bytes());
            key.update([0]);
            key.update(&f.hash_name);
            key.update([0]);
        }
        self.dir.join(hex::encode(&key.finalize()[..20]))
    }

    /// The digest and hashes of `files`, from the cache when none has
    /// changed since they were stored, else from `compute` (then stored
    /// unless a file is racy).
    pub fn digest(
        &self,
        files: &[SourceFile],
        walked: Option<Walked>,
        compute: impl FnOnce(&[SourceFile]) -> imagespec_core::error::Result<Digested>,
    ) -> imagespec_core::error::Result<Digested> {
        let entry = self.entry(files);
        // The racy window is measured from before the first stat.
        let (stamp, before) = match walked {
            Some(w) if w.metadata.len() == files.len() => {
                (w.stamp, Some(w.metadata.iter().map(Stat::of).collect()))
            }
            _ => (now_ns(), stat_all(files)),
        };
        if let Some(stats) = &before {
            if let Some(digested) = read_entry(&entry, Some(stats)).map(|(d, _)| d) {
                tracing::debug!(files = files.len(), "stat cache: unchanged, digest reused");
                return Ok(digested);
            }
        }
        let digest = compute(files)?;
        let Some(stats) = before else {
            return Ok(digest);
        };
        let racy = stats.iter().any(|s| s.is_racy(stamp, RACY_NS));
        if racy {
            tracing::debug!("stat cache: a file changed moments ago; not stored");
            return Ok(digest);
        }
        // A file that changed while it was hashed: its stats now differ from
        // those taken before, so the digest may be of neither version.
        if stat_all(files).as_ref() != Some(&stats) {
            tracing::debug!("stat cache: files changed while hashed; not stored");
            return Ok(digest);
        }
        if let Err(e) = self.write_entry(&entry, &digest, &stats) {
            tracing::debug!(dir = %self.dir.display(), "stat cache: not stored: {e}");
        }
        Ok(digest)
    }

    /// After this program hard-linked some of `files` (which moves their
    /// ctimes, and only that): where each linked file's stat right before
    /// its link was the one stored (it had not changed since it was
    /// hashed), the stored stat becomes its stat after the link, so the
    /// re-check after writing a context reads none of them again. A file
    /// that changed before its link keeps the old stat (and is read again).
    pub fn learn_links(&self, files: &[SourceFile], linked: &[(PathBuf, Stat, Stat)]) {
        let entry = self.entry(files);
        let Some((digested, mut stats)) = read_entry(&entry, None) else {
            return;
        };
        let by_path: std::collections::HashMap<&Path, (&Stat, &Stat)> = linked
            .iter()
            .map(|(p, before, after)| (p.as_path(), (before, after)))
            .collect();
        let mut changed = false;
        for (f, stored) in files.iter().zip(stats.iter_mut()) {
            if let Some((before, after)) = by_path.get(f.path.as_path()) {
                let only_ctime = Stat {
                    ctime_ns: after.ctime_ns,
                    ..**before
                } == **after;
                if *before == stored && only_ctime {
                    *stored = **after;
                    changed = true;
                }
            }
        }
        if changed {
            if let Err(e) = self.write_entry(&entry, &digested, &stats) {
                tracing::debug!(dir = %self.dir.display(), "stat cache: links not noted: {e}");
            }
        }
    }

    fn write_entry(
        &self,
        entry: &Path,
        digested: &Digested,
        stats: &[Stat],
    ) -> std::io::Result<()> {
        let mut text = String::with_capacity(64 + stats.len() * 64);
        text.push_str(&digested.digest);
        text.push('\n');
        for (s, h) in stats.iter().zip(&digested.hashes) {
            use std::fmt::Write as _;
            let _ = writeln!(
                text,
                "{} {} {} {} {} {h}",
                s.size, s.mtime_ns, s.ctime_ns, s.ino, s.dev
            );
        }
        super::cache_file::write(entry, MAGIC, &text)?;
        self.prune();
        Ok(())
    }

    /// Keeps the newest [`KEEP`] entries.
    fn prune(&self) {
        let Ok(listed) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(SystemTime, PathBuf)> = listed
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= KEEP {
            return;
        }
        entries.sort();
        for (_, path) in &entries[..entries.len() - KEEP] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The most bytes one file's line of an entry takes (five numbers and a hash).
const MAX_LINE_BYTES: u64 = 5 * 40 + 6 + super::file_hashes::SHORT_HASH_HEX as u64;

/// An entry's digest, hashes and stats; with `expect`, only when every
/// stored stat is the expected one.
fn read_entry(entry: &Path, expect: Option<&[Stat]>) -> Option<(Digested, Vec<Stat>)> {
    let bound = 4096 + expect.map_or(1 << 26, |e| e.len() as u64) * MAX_LINE_BYTES;
    let text = super::cache_file::read(entry, MAGIC, bound)?;
    let mut lines = text.lines();
    let digest = lines.next()?;
    if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut stats = Vec::new();
    let mut hashes = Vec::new();
    for line in lines {
        let mut it = line.split(' ');
        let mut nums = [0i128; 5];
        for n in &mut nums {
            *n = it.next()?.parse().ok()?;
        }
        let stat = Stat::from_parts(nums)?;
        let hash = it.next()?;
        if hash.len() != super::file_hashes::SHORT_HASH_HEX
            || !hash.bytes().all(|b| b.is_ascii_hexdigit())
            || it.next().is_some()
        {
            return None;
        }
        if let Some(expect) = expect {
            if expect.get(stats.len()) != Some(&stat) {
                return None;
            }
        }
        stats.push(stat);
        hashes.push(hash.to_string());
    }
    if expect.is_some_and(|e| e.len() != stats.len()) {
        return None;
    }
    Some((
        Digested {
            digest: digest.to_string(),
            hashes,
        },
        stats,
    ))
}
