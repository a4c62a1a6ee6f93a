//! End to end with real flytekit on a real project layout: the project
//! `tests/fixtures/projects/flyte-app` (requirements.txt, a `copy` entry, a
//! relative `source_root`, a spec.yaml with relative paths) is copied into
//! the folder that holds the virtualenv `cargo xtask` made
//! (`target/e2e-project/.venv`: flytekit 1.16.31 and the plugin's wheel;
//! `IMAGESPEC_PLUGIN_PYTHON` is its python), and `pyflyte package`,
//! `pyflyte build` and `pyflyte run --image spec.yaml` run from there as a
//! user runs them. The steps and checks are in `tests/flytekit/project_e2e.py`.
//!
//! Built only with the `e2e` feature; without the environment it fails, it
//! never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn var(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| {
        panic!("{k} is not set: run with `cargo xtask e2e test` (or `cargo xtask ci`)")
    })
}

/// The project folder: the python must be `PROJECT/.venv/bin/python`. Its
/// path is not resolved, since `bin/python` is a link out of the venv.
fn project_of(python: &Path) -> PathBuf {
    let venv = python.parent().and_then(Path::parent);
    match venv {
        Some(venv) if venv.file_name().is_some_and(|n| n == ".venv") => venv
            .parent()
            .expect("a .venv has a parent folder")
            .to_path_buf(),
        _ => panic!(
            "IMAGESPEC_PLUGIN_PYTHON ({}) is not PROJECT/.venv/bin/python: \
             `cargo xtask e2e test` makes target/e2e-project/.venv",
            python.display()
        ),
    }
}

#[test]
fn pyflyte_builds_a_project_through_the_plugin_and_flytekit_finds_every_image() {
    let python = PathBuf::from(var("IMAGESPEC_PLUGIN_PYTHON"));
    for k in [
        "IMAGESPEC_DOCKER",
        "IMAGESPEC_E2E_REGISTRY",
        "IMAGESPEC_E2E_PYTHON_IMAGE",
        "IMAGESPEC_E2E_UV_IMAGE",
    ] {
        var(k);
    }
    let project = project_of(&python);
    assert!(
        project.join(".venv/bin/pyflyte").is_file(),
        "{} has no pyflyte: make the venv with `cargo xtask e2e test`",
        project.display()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tests/flytekit/project_e2e.py");
    let template = root.join("tests/fixtures/projects/flyte-app");
    let work = tempfile::tempdir().unwrap();
    // A marker of this run in every image's env, so the first run really
    // builds, and the second finds what the first pushed.
    let marker = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let out = Command::new(&python)
        .arg(&script)
        .arg(&project)
        .arg(&template)
        .arg(work.path())
        .env("FLYTE_APP_MARKER", &marker)
        .env("IMAGESPEC_CACHE_DIR", work.path().join("cache"))
        // The plugin's own binary, from the wheel: not this build's.
        .env_remove("IMAGESPEC_BIN")
        .env_remove("IMAGESPEC_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Every check and the commands' output (libtest shows it when the test fails).
    eprintln!("{stdout}{stderr}");
    let failed = stdout
        .find("check(s) failed:")
        .map_or("", |at| &stdout[at..]);
    assert!(
        out.status.success(),
        "the project e2e failed ({}); its output is above. {failed}",
        out.status
    );
    assert!(
        stdout.contains("all checks passed"),
        "the project e2e did not finish; its output is above"
    );
}
