//! Short content hashes of single files, for [`crate::explain`]: which files
//! changed, where flytekit's digest only says that one did.
//!
//! The tag never uses them, so `tag` never computes them; `explain` and
//! `build` (its inputs label) do. They go through a cache of their own
//! beside the stat cache of digests, remembered file by file: an entry per
//! spec and list (source or copy) holds each file's path, stats and hash,
//! and a file whose stats are unchanged (and were not racy when stored)
//! keeps its hash. An edited, added or newly linked file is hashed again,
//! the others are not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::files::SourceFile;
use super::stat_cache::{now_ns, Stat, RACY_NS};
use crate::error::{Error, Result};

const MAGIC: &str = "imagespec-file-hashes 2";
/// The largest list of file hashes read (a line a file: some 80 bytes and the path).
const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;
/// Hex digits kept of a file's sha256.
pub const SHORT_HASH_HEX: usize = 16;

/// The first [`SHORT_HASH_HEX`] hex digits of the sha256 of `bytes`.
pub fn short_hash(bytes: &[u8]) -> String {
    let mut h = hex::encode(Sha256::digest(bytes));
    h.truncate(SHORT_HASH_HEX);
    h
}

fn hash_file(path: &Path) -> Result<String> {
    let mut f = crate::fsx::open_regular(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut f, &mut hasher).map_err(|e| Error::io("read", path, e))?;
    let mut h = hex::encode(hasher.finalize());
    h.truncate(SHORT_HASH_HEX);
    Ok(h)
}

/// Each file's short content hash, in the list's order, on a few threads.
pub(crate) fn hash_files(files: &[&SourceFile]) -> Result<Vec<String>> {
    let parts = crate::parallel::chunks(files, 64, |part| {
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

/// The per-file cache of one list (`kind`) of one spec (`owner`), in `dir`.
#[derive(Debug)]
pub(crate) struct FileHashCache {
    entry: PathBuf,
    dir: PathBuf,
}

impl FileHashCache {
    pub(crate) fn new(dir: PathBuf, owner: &Path, kind: &str) -> FileHashCache {
        let mut key = Sha256::new();
        key.update(MAGIC.as_bytes());
        key.update(owner.as_os_str().as_encoded_bytes());
        key.update([0]);
        key.update(kind.as_bytes());
        let entry = dir.join(format!("files-{}", hex::encode(&key.finalize()[..20])));
        FileHashCache { entry, dir }
    }

    /// The hashes of `files`: remembered ones where a file's stats are
    /// unchanged, the others computed (and remembered unless racy).
    pub(crate) fn hashes(&self, files: &[SourceFile]) -> Result<Vec<String>> {
        let stamp = now_ns();
        let stats: Vec<Option<Stat>> = files.iter().map(|f| Stat::of_path(&f.path)).collect();
        let known = self.read();
        let mut out: Vec<Option<String>> = files
            .iter()
            .zip(&stats)
            .map(|(f, s)| {
                let (st, hash) = known.get(&f.path)?;
                (Some(st) == s.as_ref()).then(|| hash.clone())
            })
            .collect();
        let todo: Vec<usize> = (0..files.len()).filter(|&i| out[i].is_none()).collect();
        let reused = files.len() - todo.len();
        let computed = hash_files(&todo.iter().map(|&i| &files[i]).collect::<Vec<_>>())?;
        for (i, h) in todo.iter().zip(computed) {
            out[*i] = Some(h);
        }
        let out: Vec<String> = out.into_iter().map(Option::unwrap_or_default).collect();
        tracing::debug!(
            files = files.len(),
            reused,
            "file hashes: unchanged files not read again"
        );
        if !todo.is_empty() || known.len() != files.len() {
            if let Err(e) = self.write(files, &stats, &out, stamp) {
                tracing::debug!(dir = %self.dir.display(), "file hashes: not stored: {e}");
            }
        }
        Ok(out)
    }

    fn read(&self) -> HashMap<PathBuf, (Stat, String)> {
        let Some(text) = super::cache_file::read(&self.entry, MAGIC, MAX_ENTRY_BYTES) else {
            return HashMap::new();
        };
        text.lines()
            .filter_map(|line| {
                let mut it = line.splitn(7, ' ');
                let mut nums = [0i128; 5];
                for n in &mut nums {
                    *n = it.next()?.parse().ok()?;
                }
                let hash = it.next()?.to_string();
                let path = PathBuf::from(it.next()?);
                let stat = Stat::from_parts(nums)?;
                Some((path, (stat, hash)))
            })
            .collect()
    }

    fn write(
        &self,
        files: &[SourceFile],
        stats: &[Option<Stat>],
        hashes: &[String],
        stamp: i128,
    ) -> std::io::Result<()> {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(32 + files.len() * 96);
        for ((f, s), h) in files.iter().zip(stats).zip(hashes) {
            let (Some(s), Some(path)) = (s, f.path.to_str()) else {
                continue;
            };
            // git's racy rule: a file changed this recently may change
            // again without its stats changing; it is hashed next time.
            if path.contains('\n') || s.is_racy(stamp, RACY_NS) {
                continue;
            }
            let [a, b, c, d, e] = s.parts();
            let _ = writeln!(text, "{a} {b} {c} {d} {e} {h} {path}");
        }
        super::cache_file::write(&self.entry, MAGIC, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_files_keep_their_hashes_and_changed_ones_are_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let files: Vec<SourceFile> = ["a", "b"]
            .iter()
            .map(|n| {
                let path = dir.path().join(n);
                std::fs::write(&path, n).unwrap();
                SourceFile {
                    path,
                    rel: n.to_string(),
                    hash_name: n.as_bytes().to_vec(),
                }
            })
            .collect();
        let c = FileHashCache::new(cache.path().into(), dir.path(), "source");
        let first = c.hashes(&files).unwrap();
        assert_eq!(first, vec![short_hash(b"a"), short_hash(b"b")]);
        std::fs::write(&files[1].path, "changed").unwrap();
        let second = c.hashes(&files).unwrap();
        assert_eq!(second, vec![short_hash(b"a"), short_hash(b"changed")]);
    }
}
