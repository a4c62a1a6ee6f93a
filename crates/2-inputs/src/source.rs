//! The files under `source_root`, as flytekit 1.16 chooses them
//! (`flytekit/tools/script_mode.py`, `ls_files`):
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
//! The files are sorted by path as a string (flytekit sorts the full paths,
//! which share the root's prefix).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::files::{
    entries_with_stats, hash_name, pathlib_posix, special_file_error, EntryKind, LinkFence,
    SourceFile,
};
use imagespec_core::error::{Error, Result, SpecError};
use imagespec_core::spec::{CopyMode, SpecRef};
use imagespec_pycompat::path as pp;

/// flytekit's `STANDARD_IGNORE_PATTERNS`, matched with Python's `fnmatch`
/// (where `*` also matches `/`).
const STANDARD_IGNORE_PATTERNS: [&str; 5] = [
    "*.pyc",
    ".cache",
    ".cache/*",
    "__pycache__/*",
    "**/__pycache__/*",
];

fn standard_ignore() -> &'static pp::FnmatchPatterns {
    static SET: std::sync::OnceLock<pp::FnmatchPatterns> = std::sync::OnceLock::new();
    SET.get_or_init(|| pp::FnmatchPatterns::new(&STANDARD_IGNORE_PATTERNS).expect("valid patterns"))
}

/// flytekit's `GitIgnore`: the output of `git ls-files -io --exclude-standard`
/// (and with `--directory`) run in the root, as sets of lines.
#[derive(Debug, Default)]
struct GitIgnored {
    files: HashSet<String>,
    dirs: HashSet<String>,
}

impl GitIgnored {
    fn load(root: &Path) -> GitIgnored {
        // git, run so that the tree's own config can start no program.
        let git = crate::git::Git::new(root);
        let run = |extra: &[&str]| -> HashSet<String> {
            let mut args = vec!["ls-files", "-io", "--exclude-standard"];
            args.extend(extra);
            match git.output(&args) {
                Ok(out) => {
                    let text = String::from_utf8_lossy(&out);
                    // Python's `split("\n")[:-1]`.
                    let mut lines: Vec<&str> = text.split('\n').collect();
                    lines.pop();
                    lines.into_iter().map(str::to_string).collect()
                }
                Err(e) => {
                    tracing::debug!(
                        root = %root.display(),
                        "no .gitignore applies (as in flytekit when git fails): {e}"
                    );
                    HashSet::new()
                }
            }
        };
        if !super::files::maybe_in_git(root) {
            tracing::debug!(root = %root.display(), "not in a git work tree, so no .gitignore applies (as in flytekit)");
            return GitIgnored::default();
        }
        let (files, dirs) = std::thread::scope(|s| {
            let dirs = s.spawn(|| run(&["--directory"]));
            (run(&[]), dirs.join().unwrap_or_default())
        });
        GitIgnored { files, dirs }
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

/// The largest `.dockerignore` imagespec reads.
pub const MAX_IGNORE_FILE: u64 = 1024 * 1024;

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
        // flytekit reads it when `os.path.isfile` says it is a regular file
        // (a FIFO, a device or a folder is no .dockerignore); imagespec reads
        // at most MAX_IGNORE_FILE bytes of it.
        let read = match imagespec_core::fsx::is_regular(&file) {
            true => imagespec_core::fsx::read_regular(&file, MAX_IGNORE_FILE),
            false => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        };
        let text = match read {
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
            Err(e) => {
                return Err(Error::Spec(
                    SpecError::field(
                        "source_root",
                        format!("cannot read `{}`: {e}", file.display()),
                    )
                    .hint("a .dockerignore is a short text file; shorten or remove this one"),
                ))
            }
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
            || standard_ignore().matches(path)
    }
}

/// Lists the source files of a spec whose copy mode is `mode`, sorted as
/// flytekit sorts them, with each file's metadata when the walk took it (for
/// the stat cache). `root_written` is `source_root` as the spec wrote it.
pub fn list_source(
    spec: SpecRef<'_>,
    root_written: &str,
    mode: CopyMode,
) -> Result<(Vec<SourceFile>, Option<super::stat_cache::Walked>)> {
    let listed = match mode {
        CopyMode::NoCopy => (Vec::new(), None),
        CopyMode::All => list_all_files(spec, root_written)?,
        CopyMode::LoadedModules => (list_loaded_modules(spec, root_written)?, None),
    };
    tracing::debug!(files = listed.0.len(), "source listed");
    Ok(listed)
}

/// flytekit's `list_all_files` with its `IgnoreGroup`.
fn list_all_files(
    spec: SpecRef<'_>,
    root_written: &str,
) -> Result<(Vec<SourceFile>, Option<super::stat_cache::Walked>)> {
    let want_stats = spec.load_options().digest_cache.is_some();
    let stamp = super::stat_cache::now_ns();
    let root = spec.resolve(root_written);
    let fix = spec.load_options().fix_flytekit_quirks;
    let ignore = IgnoreGroup::load(&root)?;
    let fence = LinkFence::new(
        &root,
        spec.load_options().allow_outside_links,
        "source_root",
        "source_root",
    )?;
    // `is_ignored` relativizes absolute paths only.
    let relative_checks = fix || pp::isabs(root_written);
    // (real folder, its path relative to the root, its path as os.walk spells it)
    type Dir = (PathBuf, String, String);
    type Found = (SourceFile, Option<std::fs::Metadata>);
    // One folder: its files that are kept, and its subfolders to walk.
    let visit = |(dir, rel_dir, walked_dir): Dir| -> Result<(Vec<Found>, Vec<Dir>)> {
        let mut found = Vec::new();
        let mut subdirs = Vec::new();
        for (name, path, kind, meta) in entries_with_stats(&dir, want_stats)? {
            let rel = if rel_dir.is_empty() {
                name.to_string()
            } else {
                format!("{rel_dir}/{name}")
            };
            let walked = pp::join(&walked_dir, &name);
            match kind {
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
                EntryKind::File { link } => {
                    let checked = if relative_checks { &rel } else { &walked };
                    if ignore.is_ignored(checked) {
                        continue;
                    }
                    if link {
                        fence.check(&path)?;
                    }
                    found.push((
                        SourceFile {
                            path,
                            hash_name: hash_name(&rel),
                            rel,
                        },
                        meta,
                    ));
                }
            }
        }
        Ok((found, subdirs))
    };
    let start: Dir = (root.clone(), String::new(), root_written.to_string());
    let (files, mut stats): (Vec<SourceFile>, Vec<Option<std::fs::Metadata>>) =
        walk_parallel(start, &visit)?.into_iter().unzip();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].rel.cmp(&files[b].rel));
    let stats = match want_stats {
        true => order
            .iter()
            .map(|&i| stats[i].take())
            .collect::<Option<Vec<_>>>()
            .map(|metadata| super::stat_cache::Walked { stamp, metadata }),
        false => None,
    };
    let mut files: Vec<Option<SourceFile>> = files.into_iter().map(Some).collect();
    let files = order
        .iter()
        .map(|&i| files[i].take().expect("each once"))
        .collect();
    Ok((files, stats))
}

/// Walks folders from `start` on a few threads: `visit` lists one folder,
/// giving what it found there and the folders to walk next. The results come
/// in no particular order; the first error stops the walk.
fn walk_parallel<D: Send, F: Send>(
    start: D,
    visit: &(dyn Fn(D) -> Result<(Vec<F>, Vec<D>)> + Sync),
) -> Result<Vec<F>> {
    use std::sync::{Condvar, Mutex};
    struct Queue<D> {
        dirs: Vec<D>,
        busy: usize,
        failed: Option<Error>,
    }
    let queue = Mutex::new(Queue {
        dirs: vec![start],
        busy: 0,
        failed: None,
    });
    let wake = Condvar::new();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let found: Option<Vec<Vec<F>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    let mut q = queue.lock().expect("walk queue");
                    loop {
                        if q.failed.is_some() {
                            break;
                        }
                        let Some(dir) = q.dirs.pop() else {
                            if q.busy == 0 {
                                break;
                            }
                            q = wake.wait(q).expect("walk queue");
                            continue;
                        };
                        q.busy += 1;
                        drop(q);
                        let result = visit(dir);
                        q = queue.lock().expect("walk queue");
                        q.busy -= 1;
                        match result {
                            Ok((found, subdirs)) => {
                                mine.extend(found);
                                q.dirs.extend(subdirs);
                            }
                            Err(e) => {
                                q.failed.get_or_insert(e);
                            }
                        }
                        wake.notify_all();
                    }
                    wake.notify_all();
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().ok()).collect()
    });
    let failed = queue.into_inner().map(|q| q.failed);
    match (found, failed) {
        (Some(found), Ok(None)) => Ok(found.into_iter().flatten().collect()),
        (_, Ok(Some(e))) => Err(e),
        _ => Err(Error::Other("a thread walking source_root panicked".into())),
    }
}

/// The current folder of the process flytekit runs in: `--base-dir` when
/// given (the flytekit plugin passes its process's), else this process's.
fn process_folder(spec: SpecRef<'_>) -> Result<PathBuf> {
    match &spec.load_options().base_dir {
        Some(dir) => Ok(dir.clone()),
        None => std::env::current_dir().map_err(|e| Error::io("read", ".", e)),
    }
}

/// flytekit's `list_imported_modules_as_files`, for the module files the
/// caller says are loaded (`LoadOptions::loaded_modules`).
fn list_loaded_modules(spec: SpecRef<'_>, root_written: &str) -> Result<Vec<SourceFile>> {
    let Some(modules) = &spec.load_options().loaded_modules else {
        return Ok(Vec::new());
    };
    let fix = spec.load_options().fix_flytekit_quirks;
    let root = if fix {
        let resolved = spec.resolve(root_written);
        let cwd = process_folder(spec)?;
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
    let fence = match chosen.is_empty() {
        true => None,
        false => Some(LinkFence::new(
            &spec.resolve(root_written),
            spec.load_options().allow_outside_links,
            "source_root",
            "source_root",
        )?),
    };
    let cwd = process_folder(spec)?;
    let cwd = cwd.to_string_lossy();
    chosen
        .into_iter()
        .map(|m| {
            let rel = pp::relpath(m, &root, &cwd)
                .map_err(|e| Error::Other(format!("the loaded module `{m}`: {e}")))?;
            let path = PathBuf::from(m);
            if let Some(fence) = &fence {
                fence.check(&path)?;
            }
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
