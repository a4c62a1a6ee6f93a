//! `cargo xtask flytekit`: the virtualenv with the real flytekit that the
//! differential test (`tests/tests/flytekit_differential.rs`) runs against.
//!
//! It also holds what flytekit's own image_spec unit tests need
//! (`tests/tests/flytekit_unit_tests.rs`): pytest, mock and hypothesis, at the
//! versions flytekit's `dev-requirements.txt` locks.
//!
//! The venv lives in `target/flytekit-venv`. It is made once: when it exists
//! and its Python imports flytekit 1.16.31, PyYAML, the BuildKit parser and
//! the pinned test packages, nothing is done. It is
//! built in a temporary folder beside it and renamed into place only once the
//! install and the import check passed, so a broken half-install is never
//! reused. Logs go to stderr; `run` prints the venv's python on stdout.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The flytekit release imagespec is a drop-in for.
pub const FLYTEKIT_VERSION: &str = "1.16.31";

/// The interpreter the venv is made from (`python3` on PATH unless set).
pub const BASE_PYTHON_ENV: &str = "IMAGESPEC_FLYTEKIT_BASE_PYTHON";

fn log(msg: &str) {
    eprintln!("xtask flytekit: {msg}");
}

/// The venv's folder.
pub fn venv_dir(root: &Path) -> PathBuf {
    root.join("target").join("flytekit-venv")
}

fn python_in(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// BuildKit's own Dockerfile parser (the Go one, in a wheel), which the
/// property tests check rendered Dockerfiles with.
pub const DOCKERFILE_PARSER: &str = "dockerfile==3.4.0";

/// What flytekit's own image_spec unit tests and their conftests import
/// beyond flytekit (joblib and msgpack come with flytekit), pinned as
/// flytekit's `dev-requirements.txt` pins them.
pub const UNIT_TEST_PACKAGES: &[&str] = &["pytest==8.2.1", "mock==5.1.0", "hypothesis==6.103.0"];

/// True when `venv`'s python imports flytekit at the pinned version, PyYAML,
/// the pinned BuildKit parser and the pinned test packages.
fn is_ready(venv: &Path) -> bool {
    let python = python_in(venv);
    if !python.exists() {
        return false;
    }
    let pinned: Vec<(&str, &str)> = std::iter::once(DOCKERFILE_PARSER)
        .chain(UNIT_TEST_PACKAGES.iter().copied())
        .map(|p| p.split_once("==").expect("a pinned requirement"))
        .collect();
    let check = format!(
        "import sys, yaml, flytekit, dockerfile, pytest, mock, hypothesis, joblib, msgpack, \
         importlib.metadata as m; \
         sys.exit(0 if flytekit.__version__ == {FLYTEKIT_VERSION:?} \
         and all(m.version(n) == v for n, v in {pinned:?}) else 3)",
    );
    Command::new(&python)
        .args(["-c", &check])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs `cmd`, its output sent to our stderr (stdout carries only the result).
pub fn run_logged(cmd: &mut Command, what: &str) -> Result<()> {
    log(what);
    let status = cmd
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .status()
        .with_context(|| format!("cannot start: {what}"))?;
    if !status.success() {
        bail!("failed ({status}): {what}");
    }
    Ok(())
}

/// Makes sure `target/flytekit-venv` holds flytekit 1.16.31, PyYAML, the
/// BuildKit parser and the unit tests' packages from PyPI, and returns its
/// python. Idempotent, and atomic: the venv is built beside its final place
/// and renamed there when complete.
pub fn ensure_venv(root: &Path) -> Result<PathBuf> {
    let venv = venv_dir(root);
    if is_ready(&venv) {
        log(&format!("{} is ready", venv.display()));
        return Ok(python_in(&venv));
    }
    let parent = venv.parent().expect("target folder").to_path_buf();
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    // Leftovers of an interrupted earlier run.
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".flytekit-venv-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = parent.join(format!(".flytekit-venv-{}", std::process::id()));
    let base = std::env::var(BASE_PYTHON_ENV).unwrap_or_else(|_| "python3".into());
    let result = (|| -> Result<()> {
        run_logged(
            Command::new(&base).args(["-m", "venv"]).arg(&tmp),
            &format!("{base} -m venv {}", tmp.display()),
        )?;
        let pip = |args: &[&str]| {
            let mut cmd = Command::new(python_in(&tmp));
            cmd.args(["-m", "pip", "install", "--disable-pip-version-check"])
                .args(args);
            cmd
        };
        let flytekit = format!("flytekit=={FLYTEKIT_VERSION}");
        let mut packages = vec![flytekit.as_str(), "pyyaml", DOCKERFILE_PARSER];
        packages.extend_from_slice(UNIT_TEST_PACKAGES);
        run_logged(
            &mut pip(&packages),
            &format!("pip install {} (this takes a minute)", packages.join(" ")),
        )?;
        relocate_scripts(&tmp, &venv)?;
        if !is_ready(&tmp) {
            bail!(
                "the new venv in {} does not import flytekit {FLYTEKIT_VERSION}, yaml and the pinned packages",
                tmp.display()
            );
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // Replace a broken venv; if another run put a good one in place meanwhile, keep it.
    if venv.exists() {
        if is_ready(&venv) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Ok(python_in(&venv));
        }
        let old = parent.join(format!(".flytekit-venv-old-{}", std::process::id()));
        std::fs::rename(&venv, &old)
            .with_context(|| format!("cannot move the broken {} aside", venv.display()))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    if let Err(e) = std::fs::rename(&tmp, &venv) {
        let _ = std::fs::remove_dir_all(&tmp);
        if is_ready(&venv) {
            return Ok(python_in(&venv));
        }
        return Err(e).with_context(|| format!("cannot move the venv to {}", venv.display()));
    }
    if !is_ready(&venv) {
        bail!("{} does not import flytekit after the move", venv.display());
    }
    log(&format!("made {}", venv.display()));
    Ok(python_in(&venv))
}

/// A venv's scripts name its folder in their `#!` line (and `activate` sets
/// it): point them at the final place before the rename. The interpreter
/// itself finds its venv through `pyvenv.cfg` beside it, wherever it is.
fn relocate_scripts(tmp: &Path, fin: &Path) -> Result<()> {
    let from = tmp.to_string_lossy().into_owned();
    let to = fin.to_string_lossy().into_owned();
    let bin = tmp.join("bin");
    for entry in std::fs::read_dir(&bin).with_context(|| format!("read {}", bin.display()))? {
        let path = entry?.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if !meta.file_type().is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not text
        };
        if text.contains(&from) {
            std::fs::write(&path, text.replace(&from, &to))
                .with_context(|| format!("rewrite {}", path.display()))?;
        }
    }
    Ok(())
}

/// `cargo xtask flytekit`: makes the venv (if needed) and prints its python.
#[allow(clippy::print_stdout)] // the python path is what was asked for; logs go to stderr
pub fn run(root: &Path) -> Result<()> {
    let python = ensure_venv(root)?;
    println!("{}", python.display());
    Ok(())
}
