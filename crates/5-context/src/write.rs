//! Writing a build context: the Dockerfile and every file it needs, into a
//! fresh folder, atomically.
//!
//! Source files are not copied byte by byte where that can be avoided: by
//! default each is hard-linked into the context (no data is written), else
//! reflinked (a copy-on-write clone, on file systems that have them), else
//! copied, in parallel. [`Materialize::Copy`] never hard-links, so the
//! context's files are independent of the tree. Copies keep the source's
//! modification time, so BuildKit's incremental context transfer, which
//! compares size and mtime, resends only what changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use imagespec_core::error::{Error, Result, SpecError};
use imagespec_core::knobs::PythonDefaults;
use imagespec_identity::identity::Identity;
use imagespec_identity::job::BuildJob;
use imagespec_inputs::Stat;
use imagespec_plan::installer::Installers;
use imagespec_plan::render;
use imagespec_plan::{self, BuildPlan, FileContent};

/// A written build context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenContext {
    /// The folder.
    pub dir: PathBuf,
    /// Its files, relative and sorted, the Dockerfile included.
    pub files: Vec<String>,
    /// The image's identity, checked again after writing.
    pub identity: Identity,
    /// Warnings made while planning.
    pub warnings: Vec<String>,
}

/// How a context gets the bytes of the files it copies from the tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Materialize {
    /// Hard links where the context is on the tree's file system (a file
    /// edited in place then changes in the context too), else reflinks,
    /// else copies.
    #[default]
    Link,
    /// Independent files: reflinks where the file system has them, else copies.
    Copy,
}

/// Plans, renders and writes the build context of a job into `output`,
/// which must not exist yet (or be an empty folder). Everything is written
/// into a temporary folder beside it first, and renamed into place only when
/// complete: a failure leaves nothing behind.
pub fn write_context(
    job: &BuildJob,
    installers: &Installers<'_>,
    defaults: &PythonDefaults,
    output: &Path,
) -> Result<WrittenContext> {
    write_context_with(job, installers, defaults, output, Materialize::Link)
}

/// [`write_context`], getting the files' bytes as `how` says.
pub fn write_context_with(
    job: &BuildJob,
    installers: &Installers<'_>,
    defaults: &PythonDefaults,
    output: &Path,
    how: Materialize,
) -> Result<WrittenContext> {
    let plan = imagespec_plan::plan(job, installers, defaults)?;
    write_plan_with(job, &plan, output, how)
}

/// Writes a plan made from `job` into `output` (see [`write_context`]), and
/// fails with [`Error::TagChanged`] if the job's inputs no longer give its
/// tag once everything is written (flytekit's guard: the one time the
/// inputs are read again).
pub fn write_plan(job: &BuildJob, plan: &BuildPlan, output: &Path) -> Result<WrittenContext> {
    write_plan_with(job, plan, output, Materialize::Link)
}

/// [`write_plan`], getting the files' bytes as `how` says.
pub fn write_plan_with(
    job: &BuildJob,
    plan: &BuildPlan,
    output: &Path,
    how: Materialize,
) -> Result<WrittenContext> {
    let dockerfile = render::render(plan)?;
    if output.exists() {
        let empty = output.is_dir()
            && std::fs::read_dir(output)
                .map_err(|e| Error::io("read", output, e))?
                .next()
                .is_none();
        if !empty {
            return Err(Error::Other(format!(
                "`{}` already exists and is not an empty folder; choose a new output folder",
                output.display()
            )));
        }
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".imagespec-context-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
    let in_progress = imagespec_core::cleanup::register(tmp.path());
    let (files, linked) = populate(tmp.path(), plan, &dockerfile, how)?;
    // Hard links move the linked files' ctimes: the stat cache learns of
    // this program's own change (for files unchanged since they were
    // hashed), so the re-check and the next `tag` read none of them again.
    if !linked.is_empty() {
        let spec = job.spec.view();
        if let Some(source) = &job.inputs.source {
            imagespec_inputs::learn_links(spec, &source.files, &linked);
        }
        if let Some(copy) = &job.inputs.copy {
            imagespec_inputs::learn_links(spec, &copy.digested, &linked);
        }
    }
    job.recheck()?;

    if output.exists() {
        std::fs::remove_dir(output)
            .map_err(|e| Error::io("replace the empty folder", output, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, output).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        Error::io("move the context into", output, e)
    })?;
    drop(in_progress);
    Ok(WrittenContext {
        dir: output.to_path_buf(),
        files,
        identity: job.identity.clone(),
        warnings: plan.warnings.clone(),
    })
}

/// A source file this program hard-linked: its path, and its stat right
/// before and right after the link.
pub type Linked = (PathBuf, Stat, Stat);

/// Writes the Dockerfile and the plan's files into `dir`; returns the paths
/// of the files (not folders), sorted, and the files it hard-linked.
pub fn populate(
    dir: &Path,
    plan: &BuildPlan,
    dockerfile: &str,
    how: Materialize,
) -> Result<(Vec<String>, Vec<Linked>)> {
    let dockerfile = FileContent::Text(dockerfile.to_string());
    let layout = Layout::of(plan, &dockerfile)?;
    let copies = layout.write_folders_and_texts(dir)?;
    let linked = materialize_all(&copies, how)?;
    Ok((layout.written(), linked))
}

/// What a context holds: each path's content (the last a plan gives for a
/// path, as writing in order would leave it) and the folders to make.
struct Layout<'a> {
    files: BTreeMap<&'a str, &'a FileContent>,
    /// Parents before children.
    folders: BTreeSet<PathBuf>,
}

impl<'a> Layout<'a> {
    fn of(plan: &'a BuildPlan, dockerfile: &'a FileContent) -> Result<Layout<'a>> {
        let mut files: BTreeMap<&str, &FileContent> = plan
            .files
            .iter()
            .map(|f| (f.path.as_str(), &f.content))
            .collect();
        if files.insert("Dockerfile", dockerfile).is_some() {
            return Err(Error::Spec(
                SpecError::field(
                    "copy",
                    "a file named `Dockerfile` at the top of the build context would be replaced \
                     by the generated Dockerfile, so the image would not hold it",
                )
                .hint("rename the file, or copy the folder that holds it"),
            ));
        }
        let mut folders = BTreeSet::new();
        for (path, content) in &files {
            let p = Path::new(path);
            if matches!(content, FileContent::Folder) {
                folders.insert(p.to_path_buf());
            }
            folders.extend(
                p.ancestors()
                    .skip(1)
                    .filter(|a| !a.as_os_str().is_empty())
                    .map(Path::to_path_buf),
            );
        }
        Ok(Layout { files, folders })
    }

    /// Makes the folders and writes the texts (a text already there as it
    /// should be is left alone); returns the files to copy, with their
    /// destinations.
    fn write_folders_and_texts(&self, dir: &Path) -> Result<Vec<(&'a Path, PathBuf)>> {
        for folder in &self.folders {
            let dst = dir.join(folder);
            match std::fs::create_dir(&dst) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dst.is_dir() => {}
                Err(e) => return Err(Error::io("create", &dst, e)),
            }
            // The folder's mode goes into the image: the same whatever the
            // umask (and what an engine-free layer writes).
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(
                &dst,
                std::fs::Permissions::from_mode(crate::layer::DIR_MODE),
            )
            .map_err(|e| Error::io("create", &dst, e))?;
        }
        let mut copies = Vec::new();
        for (path, content) in &self.files {
            let dst = dir.join(path);
            match content {
                FileContent::Folder => {}
                FileContent::Text(text) => {
                    let now = imagespec_core::fsx::read_regular(&dst, text.len() as u64 + 1).ok();
                    if now.as_deref() != Some(text.as_bytes()) {
                        std::fs::write(&dst, text).map_err(|e| Error::io("write", &dst, e))?;
                    }
                }
                FileContent::Copy(src) => copies.push((src.as_path(), dst)),
            }
        }
        Ok(copies)
    }

    /// The paths of the files (not folders), sorted.
    fn written(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|(_, c)| !matches!(c, FileContent::Folder))
            .map(|(p, _)| p.to_string())
            .collect()
    }
}

/// Gets every `(source, destination)` file's bytes into place, in
/// parallel; returns the files it hard-linked.
fn materialize_all(copies: &[(&Path, PathBuf)], how: Materialize) -> Result<Vec<Linked>> {
    let links = std::sync::atomic::AtomicBool::new(how == Materialize::Link);
    let done = imagespec_core::parallel::chunks(copies, 256, |part| -> Result<Vec<Linked>> {
        let mut linked = Vec::new();
        for (src, dst) in part {
            if imagespec_core::cleanup::interrupted() {
                return Err(Error::Other("interrupted".into()));
            }
            linked.extend(materialize(src, dst, &links)?);
        }
        Ok(linked)
    })
    .ok_or_else(|| Error::Other("a copying thread panicked".into()))?;
    let mut all = Vec::new();
    for part in done {
        all.extend(part?);
    }
    Ok(all)
}

/// One file: a hard link while `links` holds (it is cleared at the first
/// link across file systems), else a reflink or a copy with the source's
/// modification time. The source is opened once (a link opens it not at
/// all). Returns the link made, with the source's stats around it.
fn materialize(
    src: &Path,
    dst: &Path,
    links: &std::sync::atomic::AtomicBool,
) -> Result<Option<Linked>> {
    use std::sync::atomic::Ordering;
    if links.load(Ordering::Relaxed) {
        // `link` does not follow a symbolic link: link its target, whose
        // content is what goes into the context.
        let is_link = std::fs::symlink_metadata(src)
            .map_err(|e| Error::io("read", src, e))?
            .file_type()
            .is_symlink();
        let target = match is_link {
            true => std::fs::canonicalize(src).map_err(|e| Error::io("resolve", src, e))?,
            false => src.to_path_buf(),
        };
        let before = Stat::of_path(src);
        match std::fs::hard_link(&target, dst) {
            Ok(()) => {
                return Ok(before
                    .zip(Stat::of_path(src))
                    .map(|(b, a)| (src.to_path_buf(), b, a)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                tracing::debug!("the context is on another file system: copying");
                links.store(false, Ordering::Relaxed);
            }
            Err(e) => tracing::debug!(src = %src.display(), "cannot hard-link ({e}): copying"),
        }
    }
    copy_file(src, dst)?;
    Ok(None)
}

/// Whether a kept copy has its source's mode (a `chmod` of the source
/// changes no content, and must reach the image all the same).
fn same_mode(src: &Path, dst: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(src), std::fs::symlink_metadata(dst)) {
        (Ok(a), Ok(b)) => a.mode() & 0o7777 == b.mode() & 0o7777,
        _ => false,
    }
}

/// Copies a regular file (a FIFO put in place of one since the walk would
/// block: refused) through one open of it: a reflink where the file system
/// clones, else the kernel's copy; the copy keeps the source's mode and
/// modification time.
fn copy_file(src: &Path, dst: &Path) -> Result<()> {
    let mut from = imagespec_core::fsx::open_regular(src).map_err(|e| Error::io("copy", src, e))?;
    // A new file: never one a link put in its place.
    let mut to = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(dst)
        .map_err(|e| Error::io("write", dst, e))?;
    if rustix::fs::ioctl_ficlone(&to, &from).is_err() {
        std::io::copy(&mut from, &mut to).map_err(|e| Error::io("copy", src, e))?;
    }
    let meta = from.metadata().map_err(|e| Error::io("read", src, e))?;
    // The mode goes into the image (an executable stays one).
    to.set_permissions(meta.permissions())
        .map_err(|e| Error::io("write", dst, e))?;
    if let Err(e) = meta.modified().and_then(|t| to.set_modified(t)) {
        tracing::debug!(dst = %dst.display(), "cannot keep the modification time: {e}");
    }
    Ok(())
}

/// Brings `dir`, a build context kept between builds of one spec, up to
/// date with a plan made from `job`: a kept file is reused only when the
/// manifest beside the folder says it was copied from content with the
/// hash its source has now (hashes of unchanged files come from the stat
/// cache, so they are not read again) and the kept file is as it was left;
/// changed ones are copied again, and anything the plan no longer names is
/// removed. Nothing is followed through a link: a link in the folder is
/// removed, not its target. The next build's context then costs a stat of
/// each file, and BuildKit resends only what changed. Ends with the same
/// re-check of the inputs as [`write_plan`].
pub fn sync_plan(job: &BuildJob, plan: &BuildPlan, dir: &Path) -> Result<WrittenContext> {
    let dockerfile = FileContent::Text(render::render(plan)?);
    imagespec_core::fsx::private_dir(dir).map_err(|e| Error::io("use the kept context", dir, e))?;
    let layout = Layout::of(plan, &dockerfile)?;
    // Remove what the plan does not name (or names as something else):
    // links, FIFOs and the like included, never what they point to.
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        for entry in std::fs::read_dir(&here).map_err(|e| Error::io("list", &here, e))? {
            let entry = entry.map_err(|e| Error::io("list", &here, e))?;
            let rel = rel.join(entry.file_name());
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("inspect", &path, e))?;
            let wanted_file = rel
                .to_str()
                .and_then(|r| layout.files.get(r))
                .is_some_and(|c| !matches!(c, FileContent::Folder));
            if ft.is_dir() && layout.folders.contains(&rel) {
                stack.push(rel);
            } else if ft.is_file() && wanted_file {
            } else if ft.is_dir() {
                std::fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
            } else {
                std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            }
        }
    }
    let copies = layout.write_folders_and_texts(dir)?;
    let manifest = KeptManifest::path_for(dir);
    let kept = KeptManifest::read(&manifest);
    let hashes = source_hashes(job, &copies)?;
    let mut now = KeptManifest::default();
    let mut stale = Vec::new();
    for (src, dst) in &copies {
        let rel = dst
            .strip_prefix(dir)
            .unwrap_or(dst)
            .to_string_lossy()
            .into_owned();
        let hash = hashes.get(*src).cloned().unwrap_or_default();
        let fresh = !hash.is_empty()
            && kept.files.get(&rel).is_some_and(|(h, st)| {
                *h == hash && imagespec_inputs::KeptStat::of_path(dst).as_ref() == Some(st)
            })
            && same_mode(src, dst);
        if fresh {
            let entry = kept.files[&rel].clone();
            now.files.insert(rel, entry);
        } else {
            let _ = std::fs::remove_file(dst);
            stale.push((*src, dst.clone(), rel, hash));
        }
    }
    tracing::debug!(
        files = copies.len(),
        copied = stale.len(),
        dir = %dir.display(),
        "build context brought up to date"
    );
    // Copies, never links: a hard link would change the tree's ctimes and
    // so defeat the stat cache.
    let pairs: Vec<(&Path, PathBuf)> = stale.iter().map(|(s, d, _, _)| (*s, d.clone())).collect();
    materialize_all(&pairs, Materialize::Copy)?;
    for (_, dst, rel, hash) in stale {
        // A copy made while its source changed holds other content than
        // `hash` says: the next build finds the source's hash changed and
        // copies it again (and the re-check below fails this one).
        if let (false, Some(st)) = (hash.is_empty(), imagespec_inputs::KeptStat::of_path(&dst)) {
            now.files.insert(rel, (hash, st));
        }
    }
    if let Err(e) = now.write(&manifest) {
        tracing::debug!(dir = %dir.display(), "the kept context's manifest is not stored: {e}");
    }
    job.recheck()?;
    Ok(WrittenContext {
        dir: dir.to_path_buf(),
        files: layout.written(),
        identity: job.identity.clone(),
        warnings: plan.warnings.clone(),
    })
}

/// The content hash of every file copied into a context: the source and
/// `copy` files' from the spec's stat-keyed cache (unchanged files are not
/// read), the others' (lock files, files a `copy` folder's links lead to)
/// read now.
fn source_hashes<'a>(
    job: &BuildJob,
    copies: &[(&'a Path, PathBuf)],
) -> Result<HashMap<&'a Path, String>> {
    let mut known: HashMap<PathBuf, String> = HashMap::new();
    if let Some(source) = &job.inputs.source {
        known.extend(
            source
                .files
                .iter()
                .map(|f| f.path.clone())
                .zip(source.hashes.iter().cloned()),
        );
    }
    if let Some(copy) = &job.inputs.copy {
        known.extend(
            copy.digested
                .iter()
                .map(|f| f.path.clone())
                .zip(copy.hashes.iter().cloned()),
        );
    }
    let mut out = HashMap::new();
    let mut rest = Vec::new();
    for (src, _) in copies {
        match known.get(*src) {
            Some(h) => {
                out.insert(*src, h.clone());
            }
            None => rest.push(*src),
        }
    }
    let files: Vec<imagespec_inputs::SourceFile> = rest
        .iter()
        .map(|p| imagespec_inputs::SourceFile {
            path: p.to_path_buf(),
            rel: String::new(),
            hash_name: Vec::new(),
        })
        .collect();
    let hashes = imagespec_inputs::hash_files(&files.iter().collect::<Vec<_>>())?;
    out.extend(rest.into_iter().zip(hashes));
    Ok(out)
}

/// What a kept context's files were copied from: for each file (its path in
/// the context), the content hash of its source then and its own stat
/// after the copy. Kept beside the context folder, in the caches' format.
#[derive(Debug, Default)]
struct KeptManifest {
    files: BTreeMap<String, (String, imagespec_inputs::KeptStat)>,
}

impl KeptManifest {
    const MAGIC: &'static str = "imagespec-kept-context 1";

    fn path_for(dir: &Path) -> PathBuf {
        dir.with_file_name("manifest")
    }

    fn read(path: &Path) -> KeptManifest {
        let mut out = KeptManifest::default();
        let Some(text) = imagespec_inputs::read_cache_file(path, Self::MAGIC, 1 << 30) else {
            return out;
        };
        for line in text.lines() {
            let mut it = line.splitn(6, ' ');
            let (Some(hash), Some(a), Some(b), Some(c), Some(d), Some(rel)) = (
                it.next(),
                it.next(),
                it.next(),
                it.next(),
                it.next(),
                it.next(),
            ) else {
                continue;
            };
            let parsed = (a.parse(), b.parse(), c.parse(), d.parse());
            if let (Ok(size), Ok(mtime_ns), Ok(ino), Ok(dev)) = parsed {
                out.files.insert(
                    rel.to_string(),
                    (
                        hash.to_string(),
                        imagespec_inputs::KeptStat {
                            size,
                            mtime_ns,
                            ino,
                            dev,
                        },
                    ),
                );
            }
        }
        out
    }

    fn write(&self, path: &Path) -> std::io::Result<()> {
        use std::fmt::Write as _;
        let mut text = String::new();
        for (rel, (hash, s)) in &self.files {
            if rel.contains('\n') {
                continue;
            }
            let _ = writeln!(
                text,
                "{hash} {} {} {} {} {rel}",
                s.size, s.mtime_ns, s.ino, s.dev
            );
        }
        imagespec_inputs::write_cache_file(path, Self::MAGIC, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;
    use std::sync::atomic::AtomicBool;

    fn ino(p: &Path) -> u64 {
        std::fs::metadata(p).unwrap().ino()
    }

    #[test]
    fn a_copy_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("run.sh");
        std::fs::write(&src, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o750)).unwrap();
        let dst = dir.path().join("copied.sh");
        copy_file(&src, &dst).unwrap();
        let mode = std::fs::metadata(&dst).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750, "an executable stays one");
    }

    #[test]
    fn link_mode_hard_links_and_copy_mode_copies_with_the_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.py");
        std::fs::write(&src, "x = 1\n").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(&src)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let linked = dir.path().join("linked");
        materialize(&src, &linked, &AtomicBool::new(true)).unwrap();
        assert_eq!(ino(&linked), ino(&src));
        let copied = dir.path().join("copied");
        materialize(&src, &copied, &AtomicBool::new(false)).unwrap();
        assert_ne!(ino(&copied), ino(&src));
        assert_eq!(std::fs::read(&copied).unwrap(), b"x = 1\n");
        assert_eq!(std::fs::metadata(&copied).unwrap().modified().unwrap(), old);
    }

    #[test]
    fn a_linked_source_file_gives_its_content_not_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.py");
        std::fs::write(&target, "y = 2\n").unwrap();
        let link = dir.path().join("link.py");
        std::os::unix::fs::symlink("real.py", &link).unwrap();
        let out = tempfile::tempdir().unwrap();
        let dst = out.path().join("in-context.py");
        materialize(&link, &dst, &AtomicBool::new(true)).unwrap();
        let m = std::fs::symlink_metadata(&dst).unwrap();
        assert!(m.file_type().is_file(), "a regular file, not a link");
        assert_eq!(std::fs::read(&dst).unwrap(), b"y = 2\n");
    }
}
