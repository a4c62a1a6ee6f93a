//! The README's quickstart, run as written: every line of its `sh` block
//! from `cd examples/hello` on, in a copy of the example, with this build's
//! `imagespec` first on PATH, against the environment `cargo xtask e2e up`
//! brought up. Built only with the `e2e` feature; without an engine it
//! fails, it never skips.

use std::path::Path;
use std::process::Command;

/// The lines of the README's quickstart block, from its `cd` line on.
fn quickstart_lines(readme: &str) -> Vec<String> {
    let section = readme
        .split("\n## Quickstart")
        .nth(1)
        .expect("the README has a `## Quickstart` section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the quickstart has a ```sh block");
    let lines: Vec<String> = block
        .lines()
        .skip_while(|l| !l.starts_with("cd "))
        .map(str::to_string)
        .collect();
    assert!(
        lines.len() > 3,
        "the quickstart block has commands after its `cd` line"
    );
    lines
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_readme_quickstart_runs_as_written() {
    let docker = std::env::var("IMAGESPEC_DOCKER").expect(
        "IMAGESPEC_DOCKER is not set: run this test with `cargo xtask e2e test` (or `cargo xtask ci`)",
    );
    let info = Command::new(&docker)
        .arg("info")
        .output()
        .expect("docker runs");
    assert!(
        info.status.success(),
        "no Docker engine answers: {}",
        String::from_utf8_lossy(&info.stderr)
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines = quickstart_lines(&readme);

    let work = tempfile::tempdir().unwrap();
    copy_tree(
        &root.join("examples/hello"),
        &work.path().join("examples/hello"),
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_imagespec")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("set -euo pipefail\n{}\n", lines.join("\n"));
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .env("PATH", path)
        .env("IMAGESPEC_CACHE_DIR", work.path().join(".cache"))
        // As a new user: no docker client named (the first on PATH may
        // have no buildx; imagespec finds one that builds).
        .env_remove("IMAGESPEC_DOCKER")
        .env_remove("IMAGESPEC_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the quickstart failed ({}):\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    // What each step promises, seen in what it printed.
    let registry = std::env::var("IMAGESPEC_E2E_REGISTRY").unwrap_or("localhost:5765".into());
    assert!(
        stdout.contains("lint exit 5"),
        "lint reports the example's findings:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("{registry}/hello:")),
        "tag and build print the name:\n{stdout}"
    );
    assert!(
        stdout.contains("docker"),
        "the dry run shows the command:\n{stdout}"
    );
    assert!(
        stdout.contains("\texists\t"),
        "exists says it exists:\n{stdout}"
    );
    assert!(
        stdout.contains("~ env.GREETING changed"),
        "explain names the changed env key (an image's label holds no value):\n{stdout}"
    );
    assert!(
        work.path().join("examples/hello/edited.yaml").is_file(),
        "the edit was made in the copy"
    );
}
