//! Listing the files a spec puts into its image, and digesting them as flytekit does.
//!
//! - `source_root` (copy mode `all`): every file below the root, `.git`
//!   folders skipped, minus what `.gitignore` (inside a git work tree),
//!   `.dockerignore` (docker-py's rules) and flytekit's standard patterns
//!   exclude, all matched against the path relative to the root. Sorted by
//!   the path as a string. `loaded_modules` takes the `.py` files of that list.
//! - `copy`: each entry; a folder is walked in sorted order (flytekit walks it
//!   in the file system's order, which differs between machines).
//!
//! The digest is md5 over, for each file in order, its bytes and then its
//! relative path with the separators removed. Files are streamed in 64 KiB
//! chunks, and several are read ahead in parallel while the hasher consumes
//! them in order.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::OnceLock;

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use md5::{Digest as _, Md5};

use crate::error::{Error, Result, SpecError};
use crate::spec::{CopyMode, ImageSpec};

/// One file that goes into the build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Where to read it.
    pub path: PathBuf,
    /// Where it goes, relative to its destination folder, with `/` separators.
    pub rel: String,
    /// What the digest hashes as its name: the path relative to the walked
    /// root with the separators removed.
    pub hash_name: Vec<u8>,
}

/// flytekit's `STANDARD_IGNORE_PATTERNS`, matched with Python's `fnmatch`
/// (where `*` also matches `/`).
const STANDARD_IGNORE_PATTERNS: [&str; 5] = [
    "*.pyc",
    ".cache",
    ".cache/*",
    "__pycache__/*",
    "**/__pycache__/*",
];

fn standard_ignore() -> &'static GlobSet {
    static SET: OnceLock<GlobSet> = OnceLock::new();
    SET.get_or_init(|| {
        let mut b = GlobSetBuilder::new();
        for p in STANDARD_IGNORE_PATTERNS {
            b.add(Glob::new(p).expect("valid standard pattern"));
        }
        b.build().expect("valid standard patterns")
    })
}

fn rel_string(rel: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        let part = c.as_os_str().to_str().ok_or_else(|| {
            Error::Other(format!(
                "the file name `{}` is not valid UTF-8; rename it or exclude it with .dockerignore",
                rel.display()
            ))
        })?;
        parts.push(part);
    }
    Ok(parts.join("/"))
}

fn hash_name(rel: &str) -> Vec<u8> {
    rel.replace('/', "").into_bytes()
}

/// `.dockerignore` rules as docker-py's `PatternMatcher` applies them.
#[derive(Debug)]
pub struct DockerIgnore {
    patterns: Vec<DockerPattern>,
}

#[derive(Debug)]
struct DockerPattern {
    exclusion: bool,
    depth: usize,
    matcher: GlobMatcher,
}

impl DockerIgnore {
    /// Reads `root/.dockerignore`, if there is one.
    pub fn load(root: &Path) -> Result<DockerIgnore> {
        let file = root.join(".dockerignore");
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("read", file, e)),
        };
        DockerIgnore::parse(&text).map_err(|m| {
            Error::Spec(
                SpecError::field("source_root", format!("{}: {m}", file.display()))
                    .hint("fix or remove the pattern in .dockerignore"),
            )
        })
    }

    /// Parses `.dockerignore` text: lines starting with `#` are comments.
    pub fn parse(text: &str) -> std::result::Result<DockerIgnore, String> {
        let mut patterns = Vec::new();
        let lines = text
            .split_inclusive('\n')
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.trim().to_string());
        for line in lines.chain(std::iter::once("!.dockerignore".to_string())) {
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, line.as_str()),
            };
            let dirs = normalize_pattern(body);
            if dirs.is_empty() {
                continue;
            }
            let cleaned = dirs.join("/");
            let glob = GlobBuilder::new(&escape_braces(&cleaned))
                .literal_separator(true)
                .case_insensitive(true)
                .backslash_escape(false)
                .build()
                .map_err(|e| format!("invalid pattern `{line}`: {e}"))?;
            patterns.push(DockerPattern {
                exclusion,
                depth: dirs.len(),
                matcher: glob.compile_matcher(),
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// True when `rel` (relative to the root, `/` separators) is excluded.
    pub fn matches(&self, rel: &str) -> bool {
        let parent_dirs: Vec<&str> = match rel.rfind('/') {
            Some(i) => rel[..i]
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            let mut hit = p.matcher.is_match(rel);
            if !hit && !parent_dirs.is_empty() && p.depth <= parent_dirs.len() {
                hit = p.matcher.is_match(parent_dirs[..p.depth].join("/"));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }
}

/// docker-py's `Pattern.normalize`: strip, split on `/`, drop `.` and empty
/// parts, and let `..` remove the part before it.
fn normalize_pattern(p: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in p.trim().split('/').filter(|x| !x.is_empty() && *x != ".") {
        if part == ".." {
            out.pop();
        } else {
            out.push(part.to_string());
        }
    }
    out
}

/// docker's patterns have no `{a,b}` alternation; globset's do.
fn escape_braces(p: &str) -> String {
    p.replace('{', "[{]").replace('}', "[}]")
}

/// True when `root` lies in a folder that git ignores (then every file under
/// it is ignored, as `git ls-files -io` reports). The walker below applies
/// the ignore rules only to what is under `root`, so the folders above it are
/// checked here: the global excludes, `.git/info/exclude`, then each
/// `.gitignore` from the work tree's top down, the later rule winning.
fn root_is_git_ignored(root: &Path) -> bool {
    use ignore::gitignore::{Gitignore, GitignoreBuilder};
    let Ok(root) = root.canonicalize() else {
        return false;
    };
    let Some(top) = root.ancestors().find(|d| d.join(".git").exists()) else {
        return false;
    };
    let matcher = |base: &Path, file: &Path| -> Option<Gitignore> {
        if !file.is_file() {
            return None;
        }
        let mut b = GitignoreBuilder::new(base);
        b.add(file);
        b.build().ok()
    };
    let mut rules: Vec<Gitignore> = Vec::new();
    let (global, _) = Gitignore::global();
    rules.push(global);
    rules.extend(matcher(top, &top.join(".git/info/exclude")));
    // Every folder from the top down to root's parent contributes its .gitignore;
    // every folder below the top down to root itself is tested.
    let rel = root.strip_prefix(top).unwrap_or(Path::new(""));
    let mut dir = top.to_path_buf();
    for part in rel.components() {
        rules.extend(matcher(&dir, &dir.join(".gitignore")));
        dir.push(part);
        let mut ignored = false;
        for r in &rules {
            let m = r.matched(&dir, true);
            if m.is_ignore() {
                ignored = true;
            } else if m.is_whitelist() {
                ignored = false;
            }
        }
        if ignored {
            return true;
        }
    }
    false
}

/// Lists the source files under `root` for a copy mode, sorted as flytekit sorts them.
pub fn list_source(root: &Path, mode: CopyMode) -> Result<Vec<SourceFile>> {
    if mode == CopyMode::NoCopy {
        return Ok(Vec::new());
    }
    if root_is_git_ignored(root) {
        tracing::warn!(
            "source_root `{}` is in a folder git ignores, so none of its files are copied (as in flytekit)",
            root.display()
        );
        return Ok(Vec::new());
    }
    let docker = DockerIgnore::load(root)?;
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .require_git(true)
        .parents(true)
        .follow_links(false)
        .filter_entry(|e| !(e.file_name() == ".git" && e.file_type().is_some_and(|t| t.is_dir())))
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry =
            entry.map_err(|e| Error::Other(format!("cannot list `{}`: {e}", root.display())))?;
        let Some(ft) = entry.file_type() else {
            continue;
        };
        if ft.is_dir() {
            continue;
        }
        let path = entry.path();
        // Like flytekit: a link counts when it points to a regular file; links
        // to folders are not followed; sockets and other special files are skipped.
        let is_file = if ft.is_symlink() {
            std::fs::metadata(path)
                .map(|m| m.is_file())
                .unwrap_or(false)
        } else {
            ft.is_file()
        };
        if !is_file {
            tracing::debug!(path = %path.display(), "skipping: not a regular file");
            continue;
        }
        let rel_path = path.strip_prefix(root).unwrap_or(path);
        let rel = rel_string(rel_path)?;
        if standard_ignore().is_match(&rel) || docker.matches(&rel) {
            continue;
        }
        if mode == CopyMode::LoadedModules && !rel.ends_with(".py") {
            continue;
        }
        files.push(SourceFile {
            path: path.to_path_buf(),
            hash_name: hash_name(&rel),
            rel,
        });
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}

/// Lists the files of the spec's `copy` entries, in flytekit's digest order.
/// `rel` is the path inside the build context (the entry as written).
pub fn list_copy(spec: &ImageSpec) -> Result<Vec<SourceFile>> {
    let mut out = Vec::new();
    for (i, entry) in spec.copy().iter().enumerate() {
        let path = spec.resolve(entry);
        let entry_rel = rel_string(Path::new(entry))?;
        let entry_rel = entry_rel.trim_start_matches("./").to_string();
        if path.is_dir() {
            walk_sorted(&path, &path, &mut |file, rel| {
                out.push(SourceFile {
                    path: file.to_path_buf(),
                    hash_name: hash_name(rel),
                    rel: if entry_rel.is_empty() {
                        rel.to_string()
                    } else {
                        format!("{entry_rel}/{rel}")
                    },
                });
            })?;
        } else if path.is_file() {
            let base = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            out.push(SourceFile {
                path,
                hash_name: base.into_bytes(),
                rel: entry_rel,
            });
        } else {
            return Err(SpecError::field(
                format!("copy[{i}]"),
                format!("`{}` does not exist", path.display()),
            )
            .hint("paths in a spec file are relative to the spec file's folder")
            .into());
        }
    }
    Ok(out)
}

/// `os.walk` top-down, with both files and folders in sorted order; links to
/// folders are not followed.
fn walk_sorted(root: &Path, dir: &Path, visit: &mut dyn FnMut(&Path, &str)) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("list", dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    let mut subdirs = Vec::new();
    for e in entries {
        let path = e.path();
        let ft = e
            .file_type()
            .map_err(|err| Error::io("inspect", &path, err))?;
        if ft.is_dir() {
            subdirs.push(path);
        } else if std::fs::metadata(&path)
            .map(|m| m.is_file())
            .unwrap_or(false)
        {
            let rel = rel_string(path.strip_prefix(root).unwrap_or(&path))?;
            visit(&path, &rel);
        }
    }
    for d in subdirs {
        walk_sorted(root, &d, visit)?;
    }
    Ok(())
}

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

    fn di(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap()
    }

    #[test]
    fn dockerignore_follows_docker_py() {
        let d = di("*.log\n# comment\n!keep.log\nbuild/\nsecret*\n**/tmp\n");
        assert!(d.matches("a.log"));
        assert!(!d.matches("sub/a.log"), "`*` does not cross `/`");
        assert!(!d.matches("keep.log"));
        assert!(
            d.matches("build/x/y.py"),
            "a folder pattern excludes its contents"
        );
        assert!(d.matches("secret.txt"));
        assert!(d.matches("a/b/tmp"));
        assert!(
            !d.matches("tmp/x"),
            "docker-py: `**/tmp` has two parts, deeper than `tmp/x`'s parent"
        );
        assert!(d.matches("a/tmp/x"));
        assert!(!d.matches("main.py"));
        assert!(d.matches("A.LOG"), "docker-py matches case-insensitively");
    }

    #[test]
    fn dockerignore_never_excludes_itself_and_normalizes() {
        let d = di("*\n");
        assert!(!d.matches(".dockerignore"));
        assert!(d.matches("x.py"));
        let d = di("./a/../b/c/\n  \n#x\n");
        assert!(d.matches("b/c"));
        assert!(d.matches("b/c/d.txt"));
        let d = di("{a,b}.txt\n");
        assert!(d.matches("{a,b}.txt"));
        assert!(!d.matches("a.txt"));
    }

    #[test]
    fn standard_patterns_use_fnmatch_star() {
        let s = standard_ignore();
        assert!(s.is_match("a/b/c.pyc"));
        assert!(s.is_match("__pycache__/x"));
        assert!(s.is_match("pkg/__pycache__/x.cpython-311.pyc"));
        assert!(s.is_match(".cache/a/b"));
        assert!(!s.is_match("a/.cache"));
        assert!(!s.is_match("main.py"));
    }

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
