//! The files of `copy` entries (`flytekit/tools/fast_registration.py`,
//! `compute_digest`): a file is hashed with its base name; a folder is walked
//! with `os.walk` (files sorted within a folder, sub-folders in the
//! directory's own order, links to folders not followed) and hashed with
//! paths relative to it. The build context copies a folder with
//! `shutil.copytree`, which does follow links to folders, so it can hold
//! files the digest never saw; imagespec copies the same files.
//! `--fix-flytekit-quirks` walks sub-folders in sorted order, so that the tag
//! is the same on every machine.

use std::path::Path;

use super::files::{
    entries, hash_name, join_rel, path_kind, pathlib_posix, special_file_error, utf8, EntryKind,
    LinkFence, SourceFile,
};
use imagespec_core::error::{Error, Result, SpecError};
use imagespec_core::spec::SpecRef;

/// What the build context holds for the spec's `copy` entries: what
/// `shutil.copytree` / `shutil.copy` put there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyContext {
    /// One `COPY` per entry, in the spec's order.
    pub entries: Vec<CopyEntry>,
    /// The files (`rel` is the context path).
    pub files: Vec<SourceFile>,
    /// The folders, empty ones included (context paths).
    pub dirs: Vec<String>,
}

/// The `COPY` of one entry: `src` in the context, to `dst` in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyEntry {
    /// flytekit: `Path(src).as_posix()`.
    pub src: String,
    /// `/root/<src>/` for a folder, `/root/<its parent>/` for a file.
    pub dst: String,
}

/// flytekit's `src_path.is_absolute() or ".." in src_path.parts`.
pub fn leaves_the_context(entry: &str) -> bool {
    entry.starts_with('/') || entry.split('/').any(|part| part == "..")
}

/// flytekit's refusal of an entry that leaves the context.
fn refuse_leaving(i: usize, entry: &str) -> Result<()> {
    if !leaves_the_context(entry) {
        return Ok(());
    }
    Err(SpecError::field(
        format!("copy[{i}]"),
        format!("`{entry}`: Absolute paths or paths with '..' are not allowed in COPY command."),
    )
    .hint("copy only paths inside the spec file's folder, written relative to it")
    .into())
}

/// pathlib's spelling of a `copy` entry (`./a//b/` is `a/b`), as flytekit
/// places it in the context.
pub fn copy_entry_rel(entry: &str) -> String {
    pathlib_posix(entry)
}

/// The files the `copy` digest covers, in flytekit's order
/// (`compute_digest(self.copy)`): an entry that does not exist, a broken
/// link or a socket is skipped, as flytekit skips it (its build context then
/// fails on it; see [`copy_context`]).
pub fn copy_digest_files(spec: SpecRef<'_>) -> Result<Vec<SourceFile>> {
    let sorted = spec.load_options().fix_flytekit_quirks;
    let mut out = Vec::new();
    for (i, entry) in spec.copy().iter().enumerate() {
        let path = spec.resolve(entry);
        // An entry outside the context (absolute, or through `..`) is hashed
        // as flytekit hashes it, so that `tag` names the spec as flytekit
        // does; its build context is refused ([`copy_context`]). Links under
        // it must stay under it.
        let fence = match leaves_the_context(entry) {
            false => {
                let fence = spec_fence(spec, i)?;
                if path.exists() {
                    fence.check(&path)?;
                }
                fence
            }
            true if !path.exists() => continue,
            true => {
                let own = match path.is_dir() {
                    true => path.clone(),
                    false => path.parent().map(Path::to_path_buf).unwrap_or_default(),
                };
                LinkFence::new(
                    &own,
                    spec.load_options().allow_outside_links,
                    format!("copy[{i}]"),
                    "the copied folder",
                )?
            }
        };
        if path.is_dir() {
            digest_walk(&path, "", sorted, &fence, &mut |file, rel| {
                out.push(SourceFile {
                    path: file.to_path_buf(),
                    hash_name: hash_name(rel),
                    rel: rel.to_string(),
                });
            })?;
            continue;
        }
        match path_kind(&path)? {
            EntryKind::File { .. } => {}
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

/// Links in `copy[i]` must stay inside the spec's folder.
fn spec_fence(spec: SpecRef<'_>, i: usize) -> Result<LinkFence> {
    LinkFence::new(
        spec.base_dir(),
        spec.load_options().allow_outside_links,
        format!("copy[{i}]"),
        "the spec's folder",
    )
}

/// What the build context holds for the spec's `copy` entries, placed as
/// flytekit places them (`tmp_dir / Path(src)`).
pub fn copy_context(spec: SpecRef<'_>) -> Result<CopyContext> {
    let mut out = CopyContext::default();
    for (i, entry) in spec.copy().iter().enumerate() {
        let field = || format!("copy[{i}]");
        refuse_leaving(i, entry)?;
        let path = spec.resolve(entry);
        let entry_rel = copy_entry_rel(entry);
        let is_dir = path.is_dir();
        out.entries.push(CopyEntry {
            dst: if is_dir {
                format!("/root/{entry_rel}/")
            } else {
                match entry_rel.rfind('/') {
                    Some(i) => format!("/root/{}/", &entry_rel[..i]),
                    None => "/root/./".to_string(),
                }
            },
            src: entry_rel.clone(),
        });
        if is_dir {
            out.dirs.push(entry_rel.clone());
            let fence = spec_fence(spec, i)?;
            fence.check(&path)?;
            let mut reached = std::collections::HashMap::new();
            let walk = CopyWalk {
                fence: &fence,
                reached: &mut reached,
            };
            walk.copytree(&path, &entry_rel, &mut out, 0)
                .map_err(|e| match e {
                    Error::Other(m) => Error::Spec(SpecError::field(field(), m).hint(
                        "flytekit's shutil.copytree fails on this too; remove or fix the file",
                    )),
                    other => other,
                })?;
            continue;
        }
        match path_kind(&path)? {
            EntryKind::File { .. } => out.files.push(SourceFile {
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

/// `compute_digest_for_dir`: `os.walk` top-down without following links to
/// folders; each folder's files sorted, sub-folders in directory order
/// (sorted when `sorted`).
fn digest_walk(
    dir: &Path,
    rel_dir: &str,
    sorted: bool,
    fence: &LinkFence,
    visit: &mut dyn FnMut(&Path, &str),
) -> Result<()> {
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for (name, path, kind) in entries(dir)? {
        match kind {
            EntryKind::Dir { link } => {
                if !link {
                    subdirs.push((name, path));
                }
            }
            EntryKind::File { link } => {
                if link {
                    fence.check(&path)?;
                }
                files.push((name, path))
            }
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
        digest_walk(&path, &join_rel(rel_dir, &name), sorted, fence, visit)?;
    }
    Ok(())
}

/// How deep `shutil.copytree` may follow links to folders before imagespec
/// calls it a loop.
const MAX_COPY_DEPTH: usize = 64;

/// One `copy` entry's folder walk, as `shutil.copytree` makes it.
struct CopyWalk<'a> {
    fence: &'a LinkFence,
    /// Each folder reached through a link (its real path), and where.
    reached: &'a mut std::collections::HashMap<std::path::PathBuf, String>,
}

impl CopyWalk<'_> {
    /// `shutil.copytree(src, dst, symlinks=False)`: every file (links followed),
    /// every folder (links to folders followed too), broken links and special
    /// files an error. A folder reached twice through links is refused: links
    /// that each lead to the next level twice would make the walk (and
    /// flytekit's copy) exponential.
    fn copytree(
        mut self,
        dir: &Path,
        rel_dir: &str,
        out: &mut CopyContext,
        depth: usize,
    ) -> Result<()> {
        self.walk(dir, rel_dir, out, depth)
    }

    fn walk(
        &mut self,
        dir: &Path,
        rel_dir: &str,
        out: &mut CopyContext,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_COPY_DEPTH {
            return Err(Error::Other(format!(
                "`{}` nests folders (through links) more than {MAX_COPY_DEPTH} deep; is there a link loop?",
                dir.display()
            )));
        }
        for (name, path, kind) in entries(dir)? {
            let rel = join_rel(rel_dir, &name);
            match kind {
                EntryKind::Dir { link } => {
                    if link {
                        self.fence.check(&path)?;
                        let real = path
                            .canonicalize()
                            .map_err(|e| Error::io("resolve", &path, e))?;
                        if let Some(first) = self.reached.insert(real.clone(), rel.clone()) {
                            return Err(Error::Other(format!(
                                "the folder `{}` is reached twice through links (as `{first}` and `{rel}`); \
                                 flytekit's copytree would copy it once for each way in. Copy the folder \
                                 once, or remove a link",
                                real.display()
                            )));
                        }
                    }
                    out.dirs.push(rel.clone());
                    self.walk(&path, &rel, out, depth + 1)?;
                }
                EntryKind::File { link } => {
                    if link {
                        self.fence.check(&path)?;
                    }
                    out.files.push(SourceFile {
                        hash_name: hash_name(&rel),
                        path,
                        rel,
                    })
                }
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
}
