//! git, run so that nothing a repository holds can start a program.
//!
//! A source tree from elsewhere (a tarball, a fresh clone) carries its own
//! `.git/config`, which git obeys: `core.fsmonitor` names a program that
//! `git ls-files` runs, a partial clone fetches missing objects through a
//! remote helper, a hook runs on some commands. Every git command imagespec
//! runs goes through [`Git`], which overrides those settings on the command
//! line (where they win over every config file), turns off prompts, pagers
//! and lazy fetches, and bounds the run: it is killed past a time limit, and
//! its output is read up to a size limit. Only plumbing commands are run
//! (`ls-files`, `rev-parse`, `ls-tree`, `cat-file` without `--filters`),
//! none of which applies `.gitattributes` filters or runs hooks.
//!
//! [`Git::materialize`] writes a revision's tree into a folder from its blobs
//! as they are stored: no `export-subst`, no `export-ignore`, no filter,
//! which `git archive` would apply.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use imagespec_core::error::{Error, Result};

/// Configuration that could make a git command run a program, set to what
/// runs none. `-c` wins over the repository's, the user's and the system's
/// config files.
const HARDENING: &[&str] = &[
    "core.fsmonitor=false",
    "core.untrackedCache=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.sshCommand=false",
    "core.askPass=",
    "credential.helper=",
    "protocol.allow=never",
    "diff.external=",
    "uploadpack.packObjectsHook=",
];

/// How long one git command may take.
pub const TIMEOUT: Duration = Duration::from_secs(120);
/// The most output one git command may give (a file list of a huge tree
/// fits; an endless one does not).
pub const MAX_OUTPUT: u64 = 256 * 1024 * 1024;
/// The most a revision's tree may hold, in bytes of blobs.
pub const MAX_TREE_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// git in one folder.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

/// A git command that failed, or gave what cannot be read.
fn failed(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Environment(format!("git {what}: {detail}"))
}

impl Git {
    /// git run in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Git {
        Git { dir: dir.into() }
    }

    /// The hardened command for `args`, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("git");
        c.arg("--no-pager");
        for setting in HARDENING {
            c.arg("-c").arg(setting);
        }
        c.args(args)
            .current_dir(&self.dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_NO_LAZY_FETCH", "1")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_PAGER", "cat")
            .env_remove("GIT_EXTERNAL_DIFF")
            .env_remove("GIT_SSH")
            .env_remove("GIT_SSH_COMMAND")
            .env_remove("GIT_ASKPASS")
            .env_remove("GIT_EDITOR")
            .stdin(Stdio::null());
        c
    }

    /// Runs `args` and returns its stdout (at most [`MAX_OUTPUT`] bytes,
    /// within [`TIMEOUT`]); a failure says what git said.
    pub fn output(&self, args: &[&str]) -> Result<Vec<u8>> {
        let what = args.first().copied().unwrap_or("");
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(what, format!("cannot run git: {e}")))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || read_capped(stdout, MAX_OUTPUT));
        let errors = std::thread::spawn(move || read_capped(stderr, 64 * 1024));
        let status = wait_bounded(&mut child, TIMEOUT);
        let out = reader.join().unwrap_or(Ok((Vec::new(), false)));
        let err = errors.join().unwrap_or(Ok((Vec::new(), false)));
        let status = status.map_err(|e| failed(what, e))?;
        let (out, too_much) = out.map_err(|e| failed(what, e))?;
        if too_much {
            return Err(failed(
                what,
                format!("gave more than {MAX_OUTPUT} bytes; stopped"),
            ));
        }
        if !status.success() {
            let text = err.map(|(e, _)| e).unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let last = text.trim().lines().last().unwrap_or("").to_string();
            return Err(failed(
                what,
                format!(
                    "failed in `{}` ({status}): {}",
                    self.dir.display(),
                    imagespec_core::text::printable(&last)
                ),
            ));
        }
        Ok(out)
    }

    /// The top of the work tree `dir` is in.
    pub fn toplevel(&self) -> Result<PathBuf> {
        let out = self.output(&["rev-parse", "--show-toplevel"])?;
        let text =
            String::from_utf8(out).map_err(|_| failed("rev-parse", "a path that is not UTF-8"))?;
        Ok(PathBuf::from(text.trim_end_matches('\n')))
    }

    /// The commit `rev` names, or an error saying it names none.
    pub fn commit(&self, rev: &str) -> Result<String> {
        if rev.starts_with('-') || rev.contains(['\0', '\n']) {
            return Err(failed(
                "rev-parse",
                format!("`{}` is no revision", rev.escape_debug()),
            ));
        }
        let out = self
            .output(&[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &format!("{rev}^{{commit}}"),
            ])
            .map_err(|_| {
                Error::Other(format!(
                    "`{}` is not a commit of the repository at `{}`",
                    imagespec_core::text::printable(rev),
                    self.dir.display()
                ))
            })?;
        let id = String::from_utf8_lossy(&out).trim().to_string();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(failed(
                "rev-parse",
                format!(
                    "gave `{}` for a commit",
                    imagespec_core::text::printable(&id)
                ),
            ));
        }
        Ok(id)
    }

    /// Writes the tree of `commit` into `dest` (an empty folder), from its
    /// blobs as stored: regular files (executable ones with mode 0755),
    /// symbolic links as links; submodules are left out, as `git archive`
    /// leaves their content out. Bounded by [`MAX_TREE_BYTES`].
    pub fn materialize(&self, commit: &str, dest: &Path) -> Result<()> {
        let listing = self.output(&["ls-tree", "-r", "-z", "--full-tree", commit])?;
        let mut entries = Vec::new();
        for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let text = std::str::from_utf8(record)
                .map_err(|_| failed("ls-tree", "a path that is not UTF-8"))?;
            let (meta, path) = text
                .split_once('\t')
                .ok_or_else(|| failed("ls-tree", "an entry without a path"))?;
            let mut parts = meta.split(' ');
            let (mode, kind, id) = (parts.next(), parts.next(), parts.next());
            let (Some(mode), Some(kind), Some(id)) = (mode, kind, id) else {
                return Err(failed("ls-tree", "an entry without mode, type or id"));
            };
            if kind == "commit" {
                continue;
            }
            if kind != "blob" || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(failed(
                    "ls-tree",
                    format!(
                        "an entry of type `{}`",
                        imagespec_core::text::printable(kind)
                    ),
                ));
            }
            let rel = safe_relative(path)?;
            entries.push((mode.to_string(), id.to_string(), rel));
        }
        // One `cat-file --batch` for all blobs, fed from another thread.
        let mut child = self
            .command(&["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| failed("cat-file", format!("cannot run git: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped");
        let ids: Vec<String> = entries.iter().map(|(_, id, _)| id.clone()).collect();
        let feeder = std::thread::spawn(move || {
            for id in ids {
                if writeln!(stdin, "{id}").is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + TIMEOUT * 4;
        let result = (|| -> Result<()> {
            let mut out = BufReader::new(child.stdout.take().expect("piped"));
            let mut total = 0u64;
            for (mode, id, rel) in &entries {
                if Instant::now() > deadline {
                    return Err(failed("cat-file", "took too long; stopped"));
                }
                let mut header = String::new();
                out.read_line(&mut header)
                    .map_err(|e| failed("cat-file", e))?;
                let mut words = header.split_whitespace();
                let (got, kind, size) = (words.next(), words.next(), words.next());
                if got != Some(id.as_str()) || kind != Some("blob") {
                    return Err(failed("cat-file", format!("no blob `{id}`")));
                }
                let size: u64 = size
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| failed("cat-file", "a blob without a size"))?;
                total += size;
                if total > MAX_TREE_BYTES {
                    return Err(failed(
                        "cat-file",
                        format!(
                            "the revision's files hold more than {MAX_TREE_BYTES} bytes; stopped"
                        ),
                    ));
                }
                let path = dest.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
                }
                let mut blob = (&mut out).take(size);
                if mode == "120000" {
                    let mut target = Vec::new();
                    blob.read_to_end(&mut target)
                        .map_err(|e| failed("cat-file", e))?;
                    let target = String::from_utf8(target)
                        .map_err(|_| failed("cat-file", "a link target that is not UTF-8"))?;
                    std::os::unix::fs::symlink(&target, &path)
                        .map_err(|e| Error::io("create the link", &path, e))?;
                } else {
                    let mut file = std::fs::File::create_new(&path)
                        .map_err(|e| Error::io("create", &path, e))?;
                    let copied = std::io::copy(&mut blob, &mut file)
                        .map_err(|e| Error::io("write", &path, e))?;
                    if copied != size {
                        return Err(failed("cat-file", "a blob ended early"));
                    }
                    if mode == "100755" {
                        use std::os::unix::fs::PermissionsExt as _;
                        file.set_permissions(std::fs::Permissions::from_mode(0o755))
                            .map_err(|e| Error::io("set the mode of", &path, e))?;
                    }
                }
                let mut newline = [0u8; 1];
                out.read_exact(&mut newline)
                    .map_err(|e| failed("cat-file", e))?;
            }
            Ok(())
        })();
        let _ = child.kill();
        let _ = child.wait();
        let _ = feeder.join();
        result
    }
}

/// A path from a tree, as a relative path with no `..`, `.` or empty part.
fn safe_relative(path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    let plain = !path.is_empty()
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && !path.contains('\0');
    if !plain {
        return Err(failed(
            "ls-tree",
            format!(
                "the path `{}` leaves the tree",
                imagespec_core::text::printable(path)
            ),
        ));
    }
    Ok(p.to_path_buf())
}

/// Reads `from` to its end, at most `max` bytes (and says when there was more).
fn read_capped(from: impl std::io::Read, max: u64) -> std::io::Result<(Vec<u8>, bool)> {
    let mut buf = Vec::new();
    let mut limited = from.take(max + 1);
    limited.read_to_end(&mut buf)?;
    let over = buf.len() as u64 > max;
    if over {
        buf.truncate(max as usize);
        // Drain the rest so the child is not blocked writing; bounded by its kill.
        let mut rest = limited.into_inner();
        let _ = std::io::copy(&mut rest, &mut std::io::sink());
    }
    Ok((buf, over))
}

/// Waits for `child`, killing it past `timeout`.
fn wait_bounded(
    child: &mut Child,
    timeout: Duration,
) -> std::result::Result<std::process::ExitStatus, String> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("took more than {}s; stopped", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }

    #[test]
    fn a_repositorys_fsmonitor_runs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        let marker = d.join("ran");
        std::fs::write(
            d.join("hook.sh"),
            format!("#!/bin/sh\ntouch {}\n", marker.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(d.join("hook.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        git(
            d,
            &[
                "config",
                "core.fsmonitor",
                &d.join("hook.sh").display().to_string(),
            ],
        );
        std::fs::write(d.join("a.txt"), "a").unwrap();
        git(d, &["-c", "core.fsmonitor=false", "add", "a.txt"]);
        // Plain git would run the hook here.
        Git::new(d)
            .output(&["ls-files", "-io", "--exclude-standard"])
            .unwrap();
        Git::new(d)
            .output(&["ls-files", "-io", "--exclude-standard", "--directory"])
            .unwrap();
        assert!(!marker.exists(), "the repository's core.fsmonitor ran");
    }

    #[test]
    fn a_revision_is_read_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        std::fs::create_dir(d.join("src")).unwrap();
        std::fs::write(d.join("src/a.py"), "A = '$Format:%H$'\n").unwrap();
        std::fs::write(d.join("src/gone.py"), "x\n").unwrap();
        std::fs::write(d.join("run.sh"), "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(d.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("src/a.py", d.join("link.py")).unwrap();
        std::fs::write(
            d.join(".gitattributes"),
            "src/a.py export-subst\nsrc/gone.py export-ignore\n",
        )
        .unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "one"]);
        let repo = Git::new(d);
        let commit = repo.commit("HEAD").unwrap();
        let out = tempfile::tempdir().unwrap();
        repo.materialize(&commit, out.path()).unwrap();
        let o = out.path();
        assert_eq!(
            std::fs::read_to_string(o.join("src/a.py")).unwrap(),
            "A = '$Format:%H$'\n"
        );
        assert!(
            o.join("src/gone.py").is_file(),
            "export-ignore is git archive's, not the tree's"
        );
        assert_eq!(
            std::fs::read_link(o.join("link.py")).unwrap(),
            Path::new("src/a.py")
        );
        assert_eq!(
            std::fs::metadata(o.join("run.sh"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o755
        );
        assert!(repo.commit("--output=/tmp/x").is_err());
        assert!(repo.commit("no-such-rev").is_err());
    }

    #[test]
    fn tree_paths_that_leave_the_tree_are_refused() {
        for bad in ["../x", "/etc/x", "a/../../b", "", "a//b/.."] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
        assert!(safe_relative("a/b.py").is_ok());
    }
}
