//! flytekit's digest of a file list: md5 over each file's bytes, then its
//! name with the separators removed. Files are streamed in 64 KiB chunks, and
//! several are read ahead in parallel while the hasher consumes them in order.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use md5::{Digest as _, Md5};

use super::files::SourceFile;
use crate::error::{Error, Result};

const CHUNK: usize = 64 * 1024;
/// Chunks buffered per file being read ahead.
const CHUNKS_AHEAD: usize = 16;

/// md5 over each file's bytes then its hash name, in order; hex.
pub fn digest(files: &[SourceFile]) -> Result<String> {
    let mut hasher = Md5::new();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    if files.len() <= 1 {
        for f in files {
            stream_file(&f.path, &mut |chunk| {
                hasher.update(chunk);
                true
            })?;
            hasher.update(&f.hash_name);
        }
        return Ok(hex::encode(hasher.finalize()));
    }
    std::thread::scope(|scope| -> Result<()> {
        type Chunk = std::result::Result<Vec<u8>, std::io::Error>;
        let (job_tx, job_rx) = mpsc::channel::<(usize, mpsc::SyncSender<Chunk>)>();
        let job_rx = std::sync::Arc::new(std::sync::Mutex::new(job_rx));
        for _ in 0..workers {
            let job_rx = job_rx.clone();
            scope.spawn(move || loop {
                let job = job_rx.lock().map(|rx| rx.recv());
                let Ok(Ok((index, tx))) = job else { break };
                let result = stream_file(&files[index].path, &mut |chunk| {
                    tx.send(Ok(chunk.to_vec())).is_ok()
                });
                if let Err(Error::Io { source, .. }) = result {
                    let _ = tx.send(Err(source));
                }
            });
        }
        // Keep a window of files in flight; consume them strictly in order.
        let window = workers * 2;
        let mut pending = std::collections::VecDeque::new();
        let mut next = 0;
        let result = (|| -> Result<()> {
            for (i, file) in files.iter().enumerate() {
                while next < files.len() && next < i + window {
                    let (tx, rx) = mpsc::sync_channel(CHUNKS_AHEAD);
                    job_tx
                        .send((next, tx))
                        .map_err(|_| Error::Other("digest workers stopped".into()))?;
                    pending.push_back(rx);
                    next += 1;
                }
                let rx = pending.pop_front().expect("a receiver per file");
                for chunk in rx {
                    hasher.update(chunk.map_err(|e| Error::io("read", &file.path, e))?);
                }
                hasher.update(&file.hash_name);
            }
            Ok(())
        })();
        drop(pending);
        drop(job_tx);
        result
    })?;
    Ok(hex::encode(hasher.finalize()))
}

/// Reads a file in chunks; `sink` returns false to stop early.
fn stream_file(path: &Path, sink: &mut dyn FnMut(&[u8]) -> bool) -> Result<()> {
    let mut f = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("read", path, e)),
        };
        if !sink(&buf[..n]) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_sequential_md5() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut expect = Md5::new();
        for i in 0..40 {
            let p = dir.path().join(format!("f{i}"));
            let body = vec![i as u8; i * 9_000];
            std::fs::write(&p, &body).unwrap();
            expect.update(&body);
            expect.update(format!("d{i}").as_bytes());
            files.push(SourceFile {
                path: p,
                rel: format!("d/{i}"),
                hash_name: format!("d{i}").into_bytes(),
            });
        }
        assert_eq!(digest(&files).unwrap(), hex::encode(expect.finalize()));
        assert_eq!(digest(&[]).unwrap(), hex::encode(Md5::new().finalize()));
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
