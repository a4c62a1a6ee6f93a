//! Inputs: everything a spec's image depends on outside the spec itself,
//! read once. This is the only code that touches the files a spec names:
//! its source tree, its `copy` entries, its requirements file, its secret
//! files, and the side files plugins ask about (a lock file's
//! `pyproject.toml`). What it reads is checked here too, so a missing file
//! is reported once, naming its field.
//!
//! [`Inputs::collect`] is the one entry point. Everything downstream (the
//! identity, the plan, the renderer) is a pure function of a spec and its
//! inputs.

mod cache_file;
mod copy;
mod digest;
mod file_hashes;
mod files;
mod source;
pub use source::list_source;
pub mod git;
mod stat_cache;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha1::{Digest as _, Sha1};

use imagespec_core::error::{Error, Result, SpecError};
use imagespec_core::redact::Secrets;
use imagespec_core::spec::{CopyMode, ImageSpec, SpecRef};

pub use cache_file::{read as read_cache_file, write as write_cache_file};
pub use copy::{copy_entry_rel, CopyContext, CopyEntry};
pub use digest::{digest, Digested};
pub use file_hashes::hash_files;
pub use file_hashes::{short_hash, SHORT_HASH_HEX};
pub use files::{pathlib_posix, SourceFile};
pub use stat_cache::KeptStat;
pub use stat_cache::Stat;

/// The folder under the cache folder that holds the stat cache.
pub const STAT_CACHE_DIR: &str = "digests";

/// The digest and per-file hashes of `files` (one read of each), through
/// the stat cache when the spec has one; `stats`: the files' metadata, when
/// the walk took it.
fn digest_of(
    spec: SpecRef<'_>,
    files: &[SourceFile],
    stats: Option<stat_cache::Walked>,
) -> Result<Digested> {
    match &spec.load_options().digest_cache {
        Some(dir) => stat_cache::StatCache::new(dir.clone()).digest(files, stats, digest::digest),
        None => digest::digest(files),
    }
}

/// Tells the spec's stat cache that this program hard-linked some of
/// `files` (a source or `copy` list): each `(path, stat before, stat after)`.
/// See [`stat_cache::StatCache::learn_links`].
pub fn learn_links(spec: SpecRef<'_>, files: &[SourceFile], linked: &[(PathBuf, Stat, Stat)]) {
    if let Some(dir) = &spec.load_options().digest_cache {
        stat_cache::StatCache::new(dir.clone()).learn_links(files, linked);
    }
}

/// The files under `source_root` that go into the image, and their digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInputs {
    /// In digest order; `rel` is the path below `src/` in the context.
    pub files: Vec<SourceFile>,
    /// flytekit's md5 over them (the tag's `source_root`).
    pub digest: String,
    /// Each file's short sha256, in `files`' order (from the same read).
    pub hashes: Vec<String>,
}

/// The `copy` entries: their digest, and what the build context holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInputs {
    /// flytekit's md5 over the digest's files (the tag's `copy`).
    pub digest: String,
    /// The files the digest covered, in its order.
    pub digested: Vec<SourceFile>,
    /// Each digested file's short sha256, in its order (from the same read).
    pub hashes: Vec<String>,
    /// What `shutil.copytree` would put in the context, or why it cannot
    /// (flytekit's tag works for such a spec; its context fails).
    pub context: std::result::Result<CopyContext, SpecError>,
}

/// The requirements file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    /// Where it is.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// sha1 of the bytes stripped of surrounding white space (the tag's `requirements`).
    pub sha1: String,
}

impl Requirements {
    /// Its lines as flytekit reads them (`line.strip()` of each of
    /// `readlines()`), numbered from 1, blank ones left out. A lock file
    /// (`*.lock`) has none: it is no list of requirements.
    pub fn lines(&self) -> Vec<(usize, String)> {
        if self.path.extension().is_some_and(|e| e == "lock") {
            return Vec::new();
        }
        String::from_utf8_lossy(&self.bytes)
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim().to_string()))
            .filter(|(_, l)| !l.is_empty())
            .collect()
    }
}

/// The base image, resolved: the name the image is built on, and the specs
/// it was built from (nearest first; empty for a plain image reference).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedBase {
    /// What `FROM` names, and the tag hashes.
    pub name: String,
    /// The nested spec the base image was built from, then that one's base's
    /// spec, and so on. Plugins read facts from it (a base built with
    /// `python_exec` has that spec's Python setup).
    pub built_from: Vec<ImageSpec>,
}

/// A `pip_secret_mounts` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFile {
    /// Resolved against the spec's folder.
    pub path: PathBuf,
    /// Whether it is a file.
    pub exists: bool,
}

/// What the caller knows before the files are read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputRequest {
    /// The resolved base, for a spec whose `base_image` is a nested spec
    /// (the caller builds or names the base first).
    pub base: Option<ResolvedBase>,
    /// Files whose existence plugins want to know (relative to the spec's folder
    /// or absolute), e.g. the `pyproject.toml` beside a lock file.
    pub side_files: Vec<PathBuf>,
}

/// Everything the image depends on outside the spec itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// `source_root`'s files, when the copy mode copies any.
    pub source: Option<SourceInputs>,
    /// The `copy` entries, when there are any.
    pub copy: Option<CopyInputs>,
    /// The requirements file, when the spec names one.
    pub requirements: Option<Requirements>,
    /// The base image, when the spec names one.
    pub base: Option<ResolvedBase>,
    /// Each `pip_secret_mounts` source, resolved, and whether it is a file
    /// (flytekit names and writes the context without it; the build needs it).
    pub secrets: Vec<SecretFile>,
    /// The side files asked about, and whether each is a file.
    pub side_files: BTreeMap<PathBuf, bool>,
    /// What the files read hold that output must not show: the content of
    /// the secret files, the credentials of URLs in the requirements file.
    pub masked: Secrets,
}

/// Python's `bytes.strip()`: ASCII white space at both ends.
fn py_strip(bytes: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = bytes.iter().position(|b| !ws(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ws(b)).map_or(start, |e| e + 1);
    &bytes[start..end]
}

const RELATIVE: &str = "paths in a spec file are relative to the spec file's folder";

/// The project a spec belongs to: [`LoadOptions::project_root`] when given,
/// else the top of the git work tree its folder (or `--base-dir`) is in
/// (found by its `.git`, without running git), else that folder itself.
///
/// [`LoadOptions::project_root`]: imagespec_core::spec::LoadOptions::project_root
pub fn project_root(spec: SpecRef<'_>) -> PathBuf {
    if let Some(root) = &spec.load_options().project_root {
        return root.clone();
    }
    let base = spec
        .base_dir()
        .canonicalize()
        .or_else(|_| std::path::absolute(spec.base_dir()))
        .unwrap_or_else(|_| spec.base_dir().to_path_buf());
    base.ancestors()
        .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        .map(Path::to_path_buf)
        .unwrap_or(base)
}

/// `path` made absolute and with `.` and `..` taken out as written (not
/// following links: a link out of the tree is the link fence's to judge).
fn lexical(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Where a path the spec names is, when that is outside the spec's project
/// ([`project_root`]) as written (`/etc/passwd`, `../../x`); `None` when it
/// is inside, or names nothing (nothing is read then). A link inside the
/// project that leads out is judged by the link rule (`--allow-outside-links`).
pub fn outside_project(spec: SpecRef<'_>, written: &str) -> Option<PathBuf> {
    let path = spec.resolve(written);
    std::fs::symlink_metadata(&path).ok()?;
    let at = lexical(&path);
    let root = project_root(spec);
    let inside = at.starts_with(lexical(&root))
        || root.canonicalize().is_ok_and(|r| {
            at.canonicalize().is_ok_and(|real| real.starts_with(r))
                && std::fs::symlink_metadata(&at).is_ok_and(|m| !m.file_type().is_symlink())
        });
    (!inside).then_some(at)
}

/// The paths a spec names that it reads (or mounts): field and path as written.
pub fn named_paths(spec: SpecRef<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(root) = spec.source_root() {
        out.push(("source_root".to_string(), root.to_string()));
    }
    if let Some(req) = spec.requirements().filter(|r| !r.is_empty()) {
        out.push(("requirements".to_string(), req.to_string()));
    }
    for (i, entry) in spec.copy().iter().enumerate() {
        out.push((format!("copy[{i}]"), entry.clone()));
    }
    for (i, m) in spec.pip_secret_mounts().iter().enumerate() {
        out.push((format!("pip_secret_mounts[{i}]"), m.src.clone()));
    }
    out
}

/// Refuses a path outside the spec's project, unless allowed.
fn check_inside_project(spec: SpecRef<'_>, side_files: &[PathBuf]) -> Result<()> {
    if spec.load_options().allow_outside_paths {
        return Ok(());
    }
    let side = side_files
        .iter()
        .map(|p| ("requirements".to_string(), p.to_string_lossy().into_owned()));
    for (field, written) in named_paths(spec).into_iter().chain(side) {
        if let Some(real) = outside_project(spec, &written) {
            // A `copy` entry that leaves the context no build takes either
            // (flytekit's words); `tag` names it with the flag, as flytekit does.
            let also = match copy::leaves_the_context(&written) && field.starts_with("copy[") {
                true => " (and no build takes it: Absolute paths or paths with '..' are not allowed in COPY command)",
                false => "",
            };
            return Err(Error::Spec(
                SpecError::field(
                    field,
                    format!(
                        "`{written}` is `{}`, outside the spec's project `{}`: a spec reads only files in its \
                         own project, so that one from elsewhere cannot put your files (`~/.ssh`, \
                         `/etc/passwd`) into an image{also}",
                        real.display(),
                        project_root(spec).display()
                    ),
                )
                .hint(
                    "move it into the project, or pass --allow-outside-paths (IMAGESPEC_ALLOW_OUTSIDE_PATHS=1) \
                     if you trust the spec",
                ),
            ));
        }
    }
    Ok(())
}

impl Inputs {
    /// Reads what `spec` names. Fails, naming the field, when a file the tag
    /// needs is missing (the requirements file, a `source_root` to copy, a
    /// secret file) or a source file cannot be read.
    pub fn collect(spec: SpecRef<'_>, request: InputRequest) -> Result<Inputs> {
        check_inside_project(spec, &request.side_files)?;
        let source = collect_source(spec)?;
        let copy = collect_copy(spec)?;
        let requirements = collect_requirements(spec)?;
        let base = match (spec.base_image(), request.base) {
            (_, Some(resolved)) => Some(resolved),
            (Some(imagespec_core::spec::BaseImage::Name(name)), None) => Some(ResolvedBase {
                name: name.clone(),
                built_from: Vec::new(),
            }),
            (Some(imagespec_core::spec::BaseImage::Spec(_)), None) => {
                return Err(Error::Other(
                    "internal: a nested base must be resolved before its child's inputs are read"
                        .into(),
                ))
            }
            (None, None) => None,
        };
        let mut masked = Secrets::new();
        if let Some(r) = &requirements {
            // `pkg @ https://user:token@host/...` lines.
            masked.add_urls_in(&String::from_utf8_lossy(&r.bytes));
        }
        let secrets = spec
            .pip_secret_mounts()
            .iter()
            .map(|m| {
                let path = spec.resolve(&m.src);
                let exists = path.is_file();
                if exists {
                    // A secret file too large to be one (over 1 MiB), or no
                    // regular file, is not read.
                    if let Ok(bytes) = imagespec_core::fsx::read_regular(&path, 1 << 20) {
                        masked.add_file_content(&bytes);
                    }
                }
                SecretFile { exists, path }
            })
            .collect();
        let side_files = request
            .side_files
            .into_iter()
            .map(|p| {
                let resolved = spec.resolve(&p.to_string_lossy());
                let exists = resolved.is_file();
                (p, exists)
            })
            .collect();
        Ok(Inputs {
            source,
            copy,
            requirements,
            base,
            secrets,
            side_files,
            masked,
        })
    }

    /// The secret files to hand to a build: fails, naming the entry, when one is missing.
    pub fn secret_files(&self) -> Result<Vec<PathBuf>> {
        self.secrets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if s.exists {
                    Ok(s.path.clone())
                } else {
                    Err(Error::Spec(
                        SpecError::field(
                            format!("pip_secret_mounts[{i}]"),
                            format!("the secret file `{}` does not exist", s.path.display()),
                        )
                        .hint(RELATIVE),
                    ))
                }
            })
            .collect()
    }

    /// Whether a side file asked for in the request is a file.
    pub fn side_file(&self, path: &Path) -> bool {
        self.side_files.get(path).copied().unwrap_or(false)
    }
}

fn collect_source(spec: SpecRef<'_>) -> Result<Option<SourceInputs>> {
    let Some(mode) = spec.source_copy_mode() else {
        return Ok(None);
    };
    if mode == CopyMode::NoCopy {
        return Ok(None);
    }
    let Some(root) = spec.source_root().filter(|r| !r.is_empty()) else {
        return Err(SpecError::field(
            "source_root",
            format!(
                "Field source_root for image spec {} must be set when copy is set",
                spec.name()
            ),
        )
        .hint("set source_root, or set source_copy_mode to no_copy")
        .into());
    };
    // `loaded_modules` reads no folder: it filters module files by path.
    if mode == CopyMode::All && !spec.resolve(root).is_dir() {
        return Err(SpecError::field(
            "source_root",
            format!("`{}` is not a folder", spec.resolve(root).display()),
        )
        .hint(RELATIVE)
        .into());
    }
    let (files, stats) = source::list_source(spec, root, mode)?;
    let Digested { digest, hashes } = digest_of(spec, &files, stats)?;
    Ok(Some(SourceInputs {
        files,
        digest,
        hashes,
    }))
}

fn collect_copy(spec: SpecRef<'_>) -> Result<Option<CopyInputs>> {
    if spec.copy().is_empty() {
        return Ok(None);
    }
    let digested = copy::copy_digest_files(spec)?;
    let Digested { digest, hashes } = digest_of(spec, &digested, None)?;
    let context = copy::copy_context(spec).map_err(|e| match e {
        Error::Spec(se) => se,
        other => SpecError::field("copy", other.to_string()),
    });
    Ok(Some(CopyInputs {
        digest,
        digested,
        hashes,
        context,
    }))
}

/// The largest requirements (or lock) file imagespec reads.
pub const MAX_REQUIREMENTS: u64 = 64 * 1024 * 1024;

fn collect_requirements(spec: SpecRef<'_>) -> Result<Option<Requirements>> {
    let Some(req) = spec.requirements().filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let path = spec.resolve(req);
    let bytes =
        imagespec_core::fsx::read_regular(&path, MAX_REQUIREMENTS).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Spec(
                SpecError::field(
                    "requirements",
                    format!("the requirements file `{}` does not exist", path.display()),
                )
                .hint(RELATIVE),
            ),
            std::io::ErrorKind::InvalidInput => Error::Spec(
                SpecError::field("requirements", e.to_string())
                    .hint("name a requirements or lock file (a regular file)"),
            ),
            _ => Error::io("read requirements file", &path, e),
        })?;
    let sha1 = hex::encode(Sha1::digest(py_strip(&bytes)));
    Ok(Some(Requirements { path, bytes, sha1 }))
}

#[cfg(test)]
mod tests {
    use super::py_strip;

    #[test]
    fn strip_is_pythons_bytes_strip() {
        assert_eq!(py_strip(b" \t\na b\r\n\x0b\x0c"), b"a b");
        assert_eq!(py_strip(b"   "), b"");
        assert_eq!(py_strip(b""), b"");
    }
}
