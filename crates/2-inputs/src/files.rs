//! What imagespec needs to know of a file to treat it as flytekit does.

use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};

use imagespec_core::error::{Error, Result, SpecError};

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

pub fn utf8<'a>(name: &'a std::ffi::OsStr, dir: &Path) -> Result<&'a str> {
    name.to_str().ok_or_else(|| {
        Error::Other(format!(
            "a file name in `{}` is not valid UTF-8 (`{}`); flytekit cannot hash it either. Rename it",
            dir.display(),
            name.to_string_lossy()
        ))
    })
}

pub fn hash_name(rel: &str) -> Vec<u8> {
    rel.replace('/', "").into_bytes()
}

/// What a directory entry is, with links resolved as `os.path.exists` and
/// `os.stat` resolve them.
pub enum EntryKind {
    /// A folder (or a link to one: `os.walk` lists it among the folders).
    Dir { link: bool },
    /// A regular file, or (`link`) a link to one.
    File { link: bool },
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
        EntryKind::File {
            link: file_type.is_symlink(),
        }
    } else if ft.is_socket() {
        EntryKind::Socket
    } else {
        EntryKind::Special
    })
}

/// [`entry_kind`] of a path that may not exist (a missing path counts as a broken link).
pub fn path_kind(path: &Path) -> Result<EntryKind> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => entry_kind(path, m.file_type()),
        Err(_) => Ok(EntryKind::Broken),
    }
}

/// Where links may lead: inside `root` (canonical), unless the user allowed
/// links out of the tree (`--allow-outside-links`, flytekit's behaviour).
#[derive(Debug, Clone)]
pub struct LinkFence {
    /// The canonical folder links must stay in; `None`: anywhere.
    pub root: Option<PathBuf>,
    /// The field named in the error.
    pub field: String,
    /// What the folder is, for the error ("source_root", "the spec's folder").
    pub what: &'static str,
}

impl LinkFence {
    pub fn new(
        root: &Path,
        allow: bool,
        field: impl Into<String>,
        what: &'static str,
    ) -> Result<Self> {
        let root = if allow {
            None
        } else {
            Some(
                root.canonicalize()
                    .map_err(|e| Error::io("resolve", root, e))?,
            )
        };
        Ok(LinkFence {
            root,
            field: field.into(),
            what,
        })
    }

    /// Fails when `path` (a link, or a path through one) resolves outside the fence.
    pub fn check(&self, path: &Path) -> Result<()> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        let target = path
            .canonicalize()
            .map_err(|e| Error::io("resolve", path, e))?;
        if target.starts_with(root) {
            return Ok(());
        }
        Err(Error::Spec(
            SpecError::field(
                self.field.clone(),
                format!(
                    "`{}` is a link to `{}`, outside {}: its content would go into the image",
                    path.display(),
                    target.display(),
                    self.what
                ),
            )
            .hint("copy the file itself into the tree, or pass --allow-outside-links (flytekit's behaviour) if you mean it"),
        ))
    }
}

pub fn special_file_error(path: &Path) -> Error {
    Error::Other(format!(
        "`{}` is a FIFO or device, not a regular file; flytekit would block reading it. \
         Remove it, or exclude it with .dockerignore",
        path.display()
    ))
}

/// A folder's entries, in the order the file system gives them
/// (`os.scandir`'s): each name, path, and what it is.
pub fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, EntryKind)>> {
    Ok(entries_with_stats(dir, false)?
        .into_iter()
        .map(|(name, path, kind, _)| (name, path, kind))
        .collect())
}

/// A folder entry: name, path, kind, and (when asked for) metadata.
pub type Entry = (String, PathBuf, EntryKind, Option<std::fs::Metadata>);

/// [`entries`], with each file's metadata (a link's target's) when `stats`:
/// taken relative to the open folder, which is cheaper than by path.
pub fn entries_with_stats(dir: &Path, stats: bool) -> Result<Vec<Entry>> {
    let listed = std::fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("list", dir, e))?;
    listed
        .into_iter()
        .map(|entry| {
            let name = utf8(&entry.file_name(), dir)?.to_string();
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("inspect", &path, e))?;
            let kind = entry_kind(&path, ft)?;
            let meta = match (&kind, stats) {
                (EntryKind::File { link: false }, true) => entry.metadata().ok(),
                (EntryKind::File { link: true }, true) => std::fs::metadata(&path).ok(),
                _ => None,
            };
            Ok((name, path, kind, meta))
        })
        .collect()
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

/// `a/b`, where an empty or `.` side drops out.
pub fn join_rel(a: &str, b: &str) -> String {
    match (a.is_empty() || a == ".", b.is_empty()) {
        (true, _) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}/{b}"),
    }
}

/// False when git certainly sees no work tree at `dir`: no `.git` in it or
/// any folder above it, and no `GIT_DIR` or `GIT_WORK_TREE` to point git
/// elsewhere (the other variables only narrow its search). Then running git
/// (which would fail) can be skipped.
pub fn maybe_in_git(dir: &Path) -> bool {
    if ["GIT_DIR", "GIT_WORK_TREE"]
        .iter()
        .any(|k| std::env::var_os(k).is_some())
    {
        return true;
    }
    let Ok(abs) = std::path::absolute(dir) else {
        return true;
    };
    abs.ancestors()
        .any(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
}
