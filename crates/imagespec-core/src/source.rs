//! Listing the files a spec puts into its image, and digesting them, exactly
//! as flytekit 1.16 does.
//!
//! **source_root** (`flytekit/tools/script_mode.py`, `ls_files`):
//!
//! - `ALL` (and any `source_copy_mode` that is not an enum member, such as
//!   the string a YAML spec gives): `list_all_files` walks the root with
//!   `os.walk` (`.git` folders pruned, links to folders not followed), keeps
//!   files that exist (a broken link is skipped) and are not sockets, and
//!   asks flytekit's `IgnoreGroup` (git, `.dockerignore`, the standard
//!   patterns) about each path *as os.walk spells it*. flytekit's
//!   `Ignore.is_ignored` makes a path relative to the root only when it is
//!   absolute, so with a relative `source_root` (`src`) the path keeps its
//!   prefix (`src/pkg/a.py`): git's list (relative to the root) never matches
//!   it, and `.dockerignore` patterns are matched against the prefixed path.
//!   `--fix-flytekit-quirks` matches the path relative to the root instead.
//! - `LOADED_MODULES`: the module files the reading process imported from
//!   under the root (`list_imported_modules_as_files`). pyflyte reads a spec
//!   before it imports the user's workflow, so without a list from the
//!   caller this is nothing. flytekit tests "under the root" with
//!   `os.path.commonpath`, which fails (and so excludes the file) for a
//!   relative root.
//!
//! The files are sorted by path as a string; the digest is md5 over each
//! file's bytes and then its path relative to the root with the separators
//! removed.
//!
//! **copy** (`flytekit/tools/fast_registration.py`, `compute_digest`): a file
//! is hashed with its base name; a folder is walked with `os.walk` (files
//! sorted within a folder, sub-folders in the directory's own order, links to
//! folders not followed) and hashed with paths relative to it. The build
//! context copies a folder with `shutil.copytree`, which does follow links to
//! folders, so it can hold files the digest never saw; imagespec copies the
//! same files. `--fix-flytekit-quirks` walks sub-folders in sorted order, so
//! that the tag is the same on every machine.
//!
//! Files are streamed in 64 KiB chunks, and several are read ahead in
//! parallel while the hasher consumes them in order.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;

use md5::{Digest as _, Md5};

use crate::error::{Error, Result, SpecError};
use crate::pycompat_path as pp;
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

fn utf8<'a>(name: &'a std::ffi::OsStr, dir: &Path) -> Result<&'a str> {
    name.to_str().ok_or_else(|| {
        Error::Other(format!(
            "a file name in `{}` is not valid UTF-8 (`{}`); flytekit cannot hash it either. Rename it",
            dir.display(),
            name.to_string_lossy()
        ))
    })
}

fn hash_name(rel: &str) -> Vec<u8> {
    rel.replace('/', "").into_bytes()
}

/// What a directory entry is, with links resolved as `os.path.exists` and
/// `os.stat` resolve them.
enum EntryKind {
    /// A folder (or a link to one: `os.walk` lists it among the folders).
    Dir { link: bool },
    /// A regular file, or a link to one.
    File,
    /// A link to nothing: flytekit skips it.
    Broken,
    /// A socket (or a link to one): flytekit skips it.
    Socket,
    /// A FIFO or a device, which flytekit would block on or read forever.
    Special,
}

fn entry_kind(path: &Path, file_type: std::fs::FileType) -> Result<EntryKind> {
    if file_type.is_dir() {
        return Ok(EntryKind::Dir { link: false });
    }
    let ft = if file_type.is_symlink() {
        match std::fs::metadata(path) {
            Ok(m) => m.file_type(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(EntryKind::Broken),
            // A link loop or an unreadable target: `os.path.exists` says False.
            Err(_) => return Ok(EntryKind::Broken),
        }
    } else {
        file_type
    };
    Ok(if ft.is_dir() {
        EntryKind::Dir {
            link: file_type.is_symlink(),
        }
    } else if ft.is_file() {
        EntryKind::File
    } else if ft.is_socket() {
        EntryKind::Socket
    } else {
        EntryKind::Special
    })
}

fn special_file_error(path: &Path) -> Error {
    Error::Other(format!(
        "`{}` is a FIFO or device, not a regular file; flytekit would block reading it. \
         Remove it, or exclude it with .dockerignore",
        path.display()
    ))
}

/// A folder's entries in the order the file system gives them (`os.scandir`'s).
fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    std::fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("list", dir, e))
}

// ---------------------------------------------------------------------------
// flytekit's IgnoreGroup: GitIgnore, DockerIgnore, StandardIgnore
// ---------------------------------------------------------------------------

/// flytekit's `GitIgnore`: the output of `git ls-files -io --exclude-standard`
/// (and with `--directory`) run in the root, as sets of lines.
#[derive(Debug, Default)]
struct GitIgnored {
    files: HashSet<String>,
    dirs: HashSet<String>,
}

impl GitIgnored {
    fn load(root: &Path) -> GitIgnored {
        let run = |extra: &[&str]| -> HashSet<String> {
            let out = Command::new("git")
                .args(["ls-files", "-io", "--exclude-standard"])
                .args(extra)
                .current_dir(root)
                .output();
            match out {
                Ok(out) if out.status.success() => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    // Python's `split("\n")[:-1]`.
                    let mut lines: Vec<&str> = text.split('\n').collect();
                    lines.pop();
                    lines.into_iter().map(str::to_string).collect()
                }
                Ok(out) => {
                    tracing::debug!(
                        root = %root.display(),
                        "git ls-files failed, so no .gitignore applies (as in flytekit): {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                    HashSet::new()
                }
                Err(e) => {
                    tracing::debug!(
                        "no git to ask ({e}), so no .gitignore applies (as in flytekit)"
                    );
                    HashSet::new()
                }
            }
        };
        GitIgnored {
            files: run(&[]),
            dirs: run(&["--directory"]),
        }
    }

    /// `GitIgnore._is_ignored(path)`; `resolve` maps flytekit's
    /// `os.path.join(self.root, path)` to a real path.
    fn is_ignored(&self, path: &str, resolve: impl Fn(&str) -> PathBuf) -> bool {
        if self.files.is_empty() {
            return false;
        }
        let posix = pathlib_posix(path);
        if self.files.contains(&posix) {
            return true;
        }
        if !self.dirs.is_empty() && resolve(path).is_dir() {
            return self.dirs.contains(&format!("{posix}/"));
        }
        false
    }
}

/// flytekit's `IgnoreGroup(root, [GitIgnore, DockerIgnore, StandardIgnore])`.
#[derive(Debug)]
struct IgnoreGroup {
    root: PathBuf,
    git: GitIgnored,
    docker: pp::DockerIgnorePatterns,
}

impl IgnoreGroup {
    fn load(root: &Path) -> Result<IgnoreGroup> {
        let file = root.join(".dockerignore");
        let text = match std::fs::read(&file) {
            Ok(bytes) => Some(String::from_utf8(bytes).map_err(|_| {
                Error::Spec(
                    SpecError::field(
                        "source_root",
                        format!("`{}` is not valid UTF-8", file.display()),
                    )
                    .hint("save .dockerignore as UTF-8"),
                )
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            // flytekit tests `os.path.isfile`: a folder named .dockerignore is no file.
            Err(_) if file.is_dir() => None,
            Err(e) => return Err(Error::io("read", &file, e)),
        };
        let docker = pp::DockerIgnorePatterns::from_file_text(text.as_deref().unwrap_or(""))
            .map_err(|m| {
                Error::Spec(
                    SpecError::field("source_root", format!("{}: {m}", file.display()))
                        .hint("fix or remove the pattern in .dockerignore"),
                )
            })?;
        Ok(IgnoreGroup {
            root: root.to_path_buf(),
            git: GitIgnored::load(root),
            docker,
        })
    }

    /// `IgnoreGroup._is_ignored` for the path flytekit checks.
    fn is_ignored(&self, path: &str) -> bool {
        // GitIgnore's `os.path.join(self.root, path)`: the written root joined
        // with a relative path is the resolved root joined with it.
        let resolve = |p: &str| self.root.join(p);
        self.git.is_ignored(path, resolve)
            || self.docker.matches(path)
            || pp::standard_ignored(path)
    }
}

// ---------------------------------------------------------------------------
// source_root
// ---------------------------------------------------------------------------

/// Lists the source files of a spec whose copy mode is `mode`, sorted as
/// flytekit sorts them. `root_written` is `source_root` as the spec wrote it.
pub fn list_source(
    spec: &ImageSpec,
    root_written: &str,
    mode: CopyMode,
) -> Result<Vec<SourceFile>> {
    match mode {
        CopyMode::NoCopy => Ok(Vec::new()),
        CopyMode::All => list_all_files(spec, root_written),
        CopyMode::LoadedModules => list_loaded_modules(spec, root_written),
    }
}

/// flytekit's `list_all_files` with its `IgnoreGroup`.
fn list_all_files(spec: &ImageSpec, root_written: &str) -> Result<Vec<SourceFile>> {
    let root = spec.resolve(root_written);
    let fix = spec.load_options().fix_flytekit_quirks;
    let ignore = IgnoreGroup::load(&root)?;
    // `is_ignored` relativizes absolute paths only.
    let relative_checks = fix || pp::isabs(root_written);
    let mut files = Vec::new();
    // (real folder, its path relative to the root, its path as os.walk spells it)
    let mut stack = vec![(root.clone(), String::new(), root_written.to_string())];
    while let Some((dir, rel_dir, walked_dir)) = stack.pop() {
        let mut subdirs = Vec::new();
        for entry in read_dir(&dir)? {
            let name = entry.file_name();
            let name = utf8(&name, &dir)?;
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("inspect", &path, e))?;
            let rel = if rel_dir.is_empty() {
                name.to_string()
            } else {
                format!("{rel_dir}/{name}")
            };
            let walked = pp::join(&walked_dir, name);
            match entry_kind(&path, ft)? {
                EntryKind::Dir { link } => {
                    // os.walk prunes `.git` and, without followlinks, does not
                    // enter linked folders.
                    if name != ".git" && !link {
                        subdirs.push((path, rel, walked));
                    }
                }
                EntryKind::Broken => {
                    tracing::debug!(path = %path.display(), "skipping a broken link (as flytekit)")
                }
                EntryKind::Socket => {
                    tracing::debug!(path = %path.display(), "skipping a socket (as flytekit)")
                }
                EntryKind::Special => return Err(special_file_error(&path)),
                EntryKind::File => {
                    let checked = if relative_checks { &rel } else { &walked };
                    if ignore.is_ignored(checked) {
                        continue;
                    }
                    files.push(SourceFile {
                        path,
                        hash_name: hash_name(&rel),
                        rel,
                    });
                }
            }
        }
        stack.extend(subdirs);
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}

/// flytekit's `list_imported_modules_as_files`, for the module files the
/// caller says are loaded (`LoadOptions::loaded_modules`).
fn list_loaded_modules(spec: &ImageSpec, root_written: &str) -> Result<Vec<SourceFile>> {
    let Some(modules) = &spec.load_options().loaded_modules else {
        return Ok(Vec::new());
    };
    let fix = spec.load_options().fix_flytekit_quirks;
    let root = if fix {
        let resolved = spec.resolve(root_written);
        let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
        pp::normpath(&pp::join(
            &cwd.to_string_lossy(),
            &resolved.to_string_lossy(),
        ))
    } else {
        root_written.to_string()
    };
    let mut chosen: Vec<&String> = modules
        .iter()
        .filter(|m| pp::commonpath(&[m.as_str(), root.as_str()]).is_ok_and(|c| c == root))
        .collect();
    chosen.sort();
    let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
    let cwd = cwd.to_string_lossy();
    chosen
        .into_iter()
        .map(|m| {
            let rel = pp::relpath(m, &root, &cwd)
                .map_err(|e| Error::Other(format!("the loaded module `{m}`: {e}")))?;
            let path = PathBuf::from(m);
            if !path.is_file() {
                return Err(Error::Other(format!(
                    "the loaded module `{m}` is not a readable file"
                )));
            }
            Ok(SourceFile {
                path,
                hash_name: hash_name(&rel),
                rel,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// copy
// ---------------------------------------------------------------------------

/// What the build context holds for the spec's `copy` entries: what
/// `shutil.copytree` / `shutil.copy` put there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyContext {
    /// The files (`rel` is the context path).
    pub files: Vec<SourceFile>,
    /// The folders, empty ones included (context paths).
    pub dirs: Vec<String>,
}

/// pathlib's spelling of a `copy` entry (`./a//b/` is `a/b`), as flytekit
/// places it in the context.
pub fn copy_entry_rel(entry: &str) -> String {
    pathlib_posix(entry)
}

/// `pathlib.PurePosixPath(path).as_posix()`: empty and `.` parts dropped, a
/// root of `/` (or exactly `//`, which POSIX leaves implementation-defined)
/// kept; `.` for nothing.
pub fn pathlib_posix(path: &str) -> String {
    let root = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if root.is_empty() && parts.is_empty() {
        return ".".to_string();
    }
    format!("{root}{}", parts.join("/"))
}

/// The files the `copy` digest covers, in flytekit's order
/// (`compute_digest(self.copy)`): an entry that does not exist, a broken
/// link or a socket is skipped, as flytekit skips it (its build context then
/// fails on it; see [`copy_context`]).
pub fn copy_digest_files(spec: &ImageSpec) -> Result<Vec<SourceFile>> {
    let sorted = spec.load_options().fix_flytekit_quirks;
    let mut out = Vec::new();
    for entry in spec.copy() {
        let path = spec.resolve(entry);
        if path.is_dir() {
            digest_walk(&path, "", sorted, &mut |file, rel| {
                out.push(SourceFile {
                    path: file.to_path_buf(),
                    hash_name: hash_name(rel),
                    rel: rel.to_string(),
                });
            })?;
            continue;
        }
        let kind = match std::fs::symlink_metadata(&path) {
            Ok(m) => entry_kind(&path, m.file_type())?,
            Err(_) => EntryKind::Broken,
        };
        match kind {
            EntryKind::File => {}
            EntryKind::Broken | EntryKind::Socket => continue,
            EntryKind::Special => return Err(special_file_error(&path)),
            EntryKind::Dir { .. } => unreachable!("is_dir() was false"),
        }
        let base = path
            .file_name()
            .map(|n| utf8(n, &path))
            .transpose()?
            .unwrap_or_default()
            .to_string();
        out.push(SourceFile {
            rel: base.clone(),
            hash_name: base.into_bytes(),
            path,
        });
    }
    Ok(out)
}

/// What the build context holds for the spec's `copy` entries, placed as
/// flytekit places them (`tmp_dir / Path(src)`).
pub fn copy_context(spec: &ImageSpec) -> Result<CopyContext> {
    let mut out = CopyContext::default();
    for (i, entry) in spec.copy().iter().enumerate() {
        let path = spec.resolve(entry);
        let entry_rel = copy_entry_rel(entry);
        let field = || format!("copy[{i}]");
        if path.is_dir() {
            out.dirs.push(entry_rel.clone());
            copytree(&path, &entry_rel, &mut out, 0).map_err(|e| match e {
                Error::Other(m) => {
                    Error::Spec(SpecError::field(field(), m).hint(
                        "flytekit's shutil.copytree fails on this too; remove or fix the file",
                    ))
                }
                other => other,
            })?;
            continue;
        }
        let kind = match std::fs::symlink_metadata(&path) {
            Ok(m) => entry_kind(&path, m.file_type())?,
            Err(_) => EntryKind::Broken,
        };
        match kind {
            EntryKind::File => out.files.push(SourceFile {
                hash_name: Vec::new(),
                path,
                rel: entry_rel,
            }),
            EntryKind::Broken => {
                return Err(SpecError::field(
                    field(),
                    format!("`{}` does not exist", path.display()),
                )
                .hint("paths in a spec file are relative to the spec file's folder")
                .into())
            }
            _ => {
                return Err(SpecError::field(
                    field(),
                    format!("`{}` is not a regular file or folder", path.display()),
                )
                .hint("copy regular files and folders only")
                .into())
            }
        }
    }
    // The order files are copied in does not change the context.
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.dirs.sort();
    Ok(out)
}

fn join_rel(a: &str, b: &str) -> String {
    match (a.is_empty() || a == ".", b.is_empty()) {
        (true, _) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}/{b}"),
    }
}

/// `compute_digest_for_dir`: `os.walk` top-down without following links to
/// folders; each folder's files sorted, sub-folders in directory order
/// (sorted when `sorted`).
fn digest_walk(
    dir: &Path,
    rel_dir: &str,
    sorted: bool,
    visit: &mut dyn FnMut(&Path, &str),
) -> Result<()> {
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in read_dir(dir)? {
        let name = utf8(&entry.file_name(), dir)?.to_string();
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("inspect", &path, e))?;
        match entry_kind(&path, ft)? {
            EntryKind::Dir { link } => {
                if !link {
                    subdirs.push((name, path));
                }
            }
            EntryKind::File => files.push((name, path)),
            EntryKind::Broken | EntryKind::Socket => {}
            EntryKind::Special => return Err(special_file_error(&path)),
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, path) in files {
        visit(&path, &join_rel(rel_dir, &name));
    }
    if sorted {
        subdirs.sort_by(|a, b| a.0.cmp(&b.0));
    }
    for (name, path) in subdirs {
        digest_walk(&path, &join_rel(rel_dir, &name), sorted, visit)?;
    }
    Ok(())
}

/// How deep `shutil.copytree` may follow links to folders before imagespec
/// calls it a loop.
const MAX_COPY_DEPTH: usize = 64;

/// `shutil.copytree(src, dst, symlinks=False)`: every file (links followed),
/// every folder (links to folders followed too), broken links and special
/// files an error.
fn copytree(dir: &Path, rel_dir: &str, out: &mut CopyContext, depth: usize) -> Result<()> {
    if depth > MAX_COPY_DEPTH {
        return Err(Error::Other(format!(
            "`{}` nests folders (through links) more than {MAX_COPY_DEPTH} deep; is there a link loop?",
            dir.display()
        )));
    }
    for entry in read_dir(dir)? {
        let name = utf8(&entry.file_name(), dir)?.to_string();
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("inspect", &path, e))?;
        let rel = join_rel(rel_dir, &name);
        match entry_kind(&path, ft)? {
            EntryKind::Dir { .. } => {
                out.dirs.push(rel.clone());
                copytree(&path, &rel, out, depth + 1)?;
            }
            EntryKind::File => out.files.push(SourceFile {
                hash_name: hash_name(&rel),
                path,
                rel,
            }),
            EntryKind::Broken => {
                return Err(Error::Other(format!(
                    "`{}` is a broken link",
                    path.display()
                )))
            }
            EntryKind::Socket | EntryKind::Special => {
                return Err(Error::Other(format!(
                    "`{}` is a socket, FIFO or device, which cannot be copied",
                    path.display()
                )))
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// digest
// ---------------------------------------------------------------------------

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
