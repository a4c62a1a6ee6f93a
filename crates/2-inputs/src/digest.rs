//! flytekit's digest of a file list: md5 over each file's bytes, then its
//! name with the separators removed; and, from the same read, each file's
//! short sha256 ([`super::short_hash`]), which the image's inputs label and
//! the kept build context use. No file is read twice for the two.
//!
//! md5 is one stream and cannot be split across cores, so the hasher is the
//! limit. Everything else is kept off its thread: reader threads open and
//! read the next files ahead, in large chunks, into buffers the hasher hands
//! back when it is done with them, while the hasher consumes the files
//! strictly in order. A small file is one read of its whole length.

use std::io::Read;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::files::SourceFile;
use imagespec_core::error::{Error, Result};

/// What one read of a file list gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// flytekit's md5 digest of the list, hex.
    pub digest: String,
    /// Each file's short sha256, in the list's order.
    pub hashes: Vec<String>,
}

/// A reader's message to the hasher about one file.
enum Piece {
    /// The next bytes.
    Chunk(Vec<u8>),
    /// The file's short sha256: it was read to its end.
    Done(String),
    /// It could not be read.
    Failed(std::io::Error),
}

/// Bytes per read, and the size of each pooled buffer.
const CHUNK: usize = 1024 * 1024;
/// Chunks buffered per file being read ahead.
const CHUNKS_AHEAD: usize = 4;
/// Files in flight (being read, or read and waiting for the hasher).
const FILES_AHEAD: usize = 32;

/// md5 over each file's bytes then its hash name, in order (hex), and each
/// file's short sha256, in one read of each file.
pub fn digest(files: &[SourceFile]) -> Result<Digested> {
    let mut hasher = Md5::new();
    let mut hashes = Vec::with_capacity(files.len());
    if files.len() <= 1 {
        let pool = Pool::default();
        for f in files {
            let short = stream_file(&f.path, &pool, &mut |chunk| {
                hasher.update(&chunk);
                pool.give(chunk);
                true
            })?;
            hasher.update(&f.hash_name);
            hashes.push(short);
        }
        return Ok(Digested {
            digest: hex::encode(hasher.finalize()),
            hashes,
        });
    }
    // Reading is memory copies (or waits on the disk); more readers than
    // cores only help a cold disk, so keep a few.
    let readers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    let pool = Pool::default();
    std::thread::scope(|scope| -> Result<()> {
        let (job_tx, job_rx) = mpsc::channel::<(usize, mpsc::SyncSender<Piece>)>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        for _ in 0..readers {
            let job_rx = job_rx.clone();
            let pool = &pool;
            scope.spawn(move || loop {
                let job = job_rx.lock().map(|rx| rx.recv());
                let Ok(Ok((index, tx))) = job else { break };
                let result = stream_file(&files[index].path, pool, &mut |chunk| {
                    tx.send(Piece::Chunk(chunk)).is_ok()
                });
                let _ = match result {
                    Ok(short) => tx.send(Piece::Done(short)),
                    Err(Error::Io { source, .. }) => tx.send(Piece::Failed(source)),
                    Err(other) => tx.send(Piece::Failed(std::io::Error::other(other.to_string()))),
                };
            });
        }
        let mut pending = std::collections::VecDeque::new();
        let mut next = 0;
        let result = (|| -> Result<()> {
            for (i, file) in files.iter().enumerate() {
                while next < files.len() && next < i + FILES_AHEAD {
                    let (tx, rx) = mpsc::sync_channel(CHUNKS_AHEAD);
                    job_tx
                        .send((next, tx))
                        .map_err(|_| Error::Other("digest readers stopped".into()))?;
                    pending.push_back(rx);
                    next += 1;
                }
                let rx = pending.pop_front().expect("a receiver per file");
                let mut short = None;
                for piece in rx {
                    match piece {
                        Piece::Chunk(chunk) => {
                            hasher.update(&chunk);
                            pool.give(chunk);
                        }
                        Piece::Done(h) => short = Some(h),
                        Piece::Failed(e) => return Err(Error::io("read", &file.path, e)),
                    }
                }
                let short = short.ok_or_else(|| {
                    Error::Other(format!("`{}` was not read to its end", file.path.display()))
                })?;
                hasher.update(&file.hash_name);
                hashes.push(short);
            }
            Ok(())
        })();
        drop(pending);
        drop(job_tx);
        result
    })?;
    Ok(Digested {
        digest: hex::encode(hasher.finalize()),
        hashes,
    })
}

/// Buffers handed back by the hasher, so reading allocates (and faults in)
/// a bounded set of pages once rather than per chunk.
#[derive(Default)]
struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    const KEEP: usize = 64;

    fn take(&self, len: usize) -> Vec<u8> {
        let mut buf = match len >= CHUNK / 2 {
            true => self.0.lock().ok().and_then(|mut p| p.pop()),
            false => None,
        }
        .unwrap_or_else(|| Vec::with_capacity(len.min(CHUNK)));
        buf.clear();
        buf
    }

    fn give(&self, buf: Vec<u8>) {
        if buf.capacity() >= CHUNK {
            if let Ok(mut p) = self.0.lock() {
                if p.len() < Self::KEEP {
                    p.push(buf);
                }
            }
        }
    }
}

/// Reads a file in chunks of up to [`CHUNK`] bytes, hashing them with
/// sha256 on the way; `sink` returns false to stop early. A file no larger
/// than a chunk is one read of its length. Returns the file's short sha256.
fn stream_file(path: &Path, pool: &Pool, sink: &mut dyn FnMut(Vec<u8>) -> bool) -> Result<String> {
    let f = imagespec_core::fsx::open_regular(path).map_err(|e| Error::io("read", path, e))?;
    let mut sha = Sha256::new();
    let short = |sha: Sha256| {
        let mut h = hex::encode(sha.finalize());
        h.truncate(super::file_hashes::SHORT_HASH_HEX);
        h
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(CHUNK as u64);
    // One more byte than the length, so a file that grew is read to its end
    // without a second allocation.
    let want = (len as usize).saturating_add(1).min(CHUNK);
    let mut f = f;
    loop {
        let mut buf = pool.take(want);
        let read = (&mut f)
            .take(want as u64)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("read", path, e))?;
        if read == 0 {
            return Ok(short(sha));
        }
        sha.update(&buf);
        if !sink(buf) || read < want {
            return Ok(short(sha));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, i: usize, len: usize) -> (SourceFile, Vec<u8>) {
        let p = dir.join(format!("f{i}"));
        let body: Vec<u8> = (0..len).map(|b| (b * 7 + i) as u8).collect();
        std::fs::write(&p, &body).unwrap();
        (
            SourceFile {
                path: p,
                rel: format!("d/{i}"),
                hash_name: format!("d{i}").into_bytes(),
            },
            body,
        )
    }

    #[test]
    fn digest_matches_sequential_md5() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut expect = Md5::new();
        // Empty, small, exactly a chunk, a chunk and a byte, several chunks.
        let sizes =
            (0..40)
                .map(|i| i * 9_000)
                .chain([0, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]);
        for (i, len) in sizes.enumerate() {
            let (f, body) = file(dir.path(), i, len);
            expect.update(&body);
            expect.update(&f.hash_name);
            files.push(f);
        }
        let got = digest(&files).unwrap();
        assert_eq!(got.digest, hex::encode(expect.finalize()));
        let each: Vec<String> = files
            .iter()
            .map(|f| crate::file_hashes::short_hash(&std::fs::read(&f.path).unwrap()))
            .collect();
        assert_eq!(got.hashes, each, "each file's sha256, from the same read");
        let one = &files[41..42];
        let mut expect = Md5::new();
        expect.update(std::fs::read(&one[0].path).unwrap());
        expect.update(&one[0].hash_name);
        assert_eq!(digest(one).unwrap().digest, hex::encode(expect.finalize()));
        assert_eq!(digest(one).unwrap().hashes, each[41..42]);
        assert_eq!(
            digest(&[]).unwrap().digest,
            hex::encode(Md5::new().finalize())
        );
    }

    #[test]
    fn digest_reports_missing_file() {
        let files = vec![
            SourceFile {
                path: "/nonexistent/a".into(),
                rel: "a".into(),
                hash_name: b"a".to_vec(),
            },
            SourceFile {
                path: "/nonexistent/b".into(),
                rel: "b".into(),
                hash_name: b"b".to_vec(),
            },
        ];
        let e = digest(&files).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/a"), "{e}");
    }
}
