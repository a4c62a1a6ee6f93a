//! End-to-end: the `podman` builder makes the image the Docker builder
//! makes, from the same context.
//!
//! Each spec is built and pushed with Docker (BuildKit), then with Podman
//! (`--builder podman`) under the same name; both images are pulled into
//! the Docker engine and compared path by path (type, mode, owner, content
//! of the spec's files, link target) and by config (env, entrypoint, cmd,
//! working folder, user, labels). Cases: a plain spec with packages, source
//! and commands; a `uv.lock` project; pip secret mounts and index
//! credentials (masked, and in no layer or history); a nested base that
//! Podman builds and its child finds. And: a failing step is named with its
//! last lines, and a spec that names no builder gets Podman when no Docker
//! engine answers.
//!
//! Built only with the `e2e` feature (`cargo xtask ci`, `cargo xtask e2e
//! test`). Without podman or an engine these tests fail; they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

/// The index as it was on a fixed day, for the specs both builders build
/// and compare: two resolutions of unpinned requirements minutes apart can
/// differ (index pages of different ages).
const PINNED_INDEX_DATE: &str = "2026-11-01T00:00:00Z";

use common::{differences, e2e, E2e};

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn podman() -> String {
    std::env::var("IMAGESPEC_PODMAN").expect(
        "IMAGESPEC_PODMAN is not set: run these tests with `cargo xtask e2e test` (or `cargo xtask ci`)",
    )
}

/// `imagespec` with podman, the host's network for RUN steps and a cache
/// folder beside `spec`.
fn imagespec_for(spec: &Path) -> Command {
    // A private index in a test listens on the host's loopback.
    let mut c = common::imagespec();
    c.env("IMAGESPEC_BUILD_NETWORK", "host")
        .env("IMAGESPEC_PODMAN", podman())
        .env("IMAGESPEC_CACHE_DIR", spec.parent().unwrap().join("cache"));
    c
}

fn run(extra: &[&str], spec: &Path) -> Output {
    imagespec_for(spec)
        .args(["build", "--json"])
        .args(extra)
        .arg(spec)
        .output()
        .unwrap()
}

/// `imagespec build --json EXTRA SPEC`: the requested image's entry, and
/// what the build printed on stderr.
fn build(extra: &[&str], spec: &Path) -> (serde_json::Value, String) {
    common::build_entry(imagespec_for(spec), extra, spec)
}

/// What the two builders' images may differ in, with the reason
/// (docs/flytekit-compat.md, "Builds").
fn documented(line: &str) -> bool {
    // BuildKit leaves the empty folder a cache mount was mounted on (the
    // uv cache's /root/.cache/uv); buildah removes it.
    line.starts_with(r#"only in the second image: /root/.cache/uv ["drwxr-xr-x","#)
}

/// A config as the runtime reads it: buildah writes `Entrypoint: []` where
/// BuildKit writes `null`, and both mean none.
fn as_run(mut config: serde_json::Value) -> serde_json::Value {
    if config["entrypoint"] == serde_json::json!([]) {
        config["entrypoint"] = serde_json::Value::Null;
    }
    config
}

/// Builds `spec` with Docker and with Podman under the same name, pulls
/// both, and compares them. Returns the image name and the podman build's
/// stderr.
fn same_image_both_ways(e: &E2e, spec: &Path, label: &str) -> (String, String) {
    let (docker, _) = build(&["--builder", "default", "--force-push"], spec);
    assert_eq!(docker["builder"], "default", "{docker}");
    let image = docker["image_name"].as_str().unwrap().to_string();
    let docker_copy = format!("imagespec-e2e-podman-parity-{label}:docker");
    e.docker_ok(&["tag", &image, &docker_copy]);
    e.docker_ok(&["rmi", &image]);

    let (podman_entry, stderr) = build(&["--builder", "podman", "--force-push"], spec);
    assert_eq!(podman_entry["builder"], "podman", "{podman_entry}");
    assert_eq!(podman_entry["action"], "built", "{podman_entry}");
    assert_eq!(podman_entry["pushed"], true, "{podman_entry}");
    let digest = podman_entry["digest"].as_str().unwrap_or_default();
    assert!(
        digest.starts_with("sha256:"),
        "podman's push digest: {podman_entry}"
    );
    e.docker_ok(&["pull", &image]);

    let diff: Vec<String> = differences(&e.tree(&image), &e.tree(&docker_copy))
        .into_iter()
        .filter(|l| !documented(l))
        .collect();
    assert!(
        diff.is_empty(),
        "{label}: podman's image (first) and docker's (second) differ:\n{}",
        diff.join("\n")
    );
    assert_eq!(
        as_run(e.config(&image)),
        as_run(e.config(&docker_copy)),
        "{label}: the configs differ (podman's left, docker's right)"
    );
    e.docker_ok(&["rmi", &docker_copy]);
    (image, stderr)
}

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        Project {
            root: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    fn spec(&self) -> PathBuf {
        self.root.join("spec.yaml")
    }
}

fn nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn a_spec_with_packages_source_and_commands_is_the_same_image() {
    let e = e2e();
    let p = Project::new();
    write(&p.root, "src/app/main.py", "print('podman parity')\n");
    write(&p.root, "src/app/data/table.csv", "a,b\n1,2\n");
    write(&p.root, "requirements.txt", "six\n");
    write(
        &p.root,
        "spec.yaml",
        &format!(
            "name: e2e-podman-plain\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             requirements: requirements.txt\npackages: [idna]\nenv: {{RUN_NONCE: \"{}\", GREETING: hello world, UV_EXCLUDE_NEWER: \"{PINNED_INDEX_DATE}\"}}\n\
             source_root: src\nsource_copy_mode: all\ncommands: ['echo built-by-step > /opt/step.txt']\n{}",
            e.registry,
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    let (image, _) = same_image_both_ways(&e, &p.spec(), "plain");
    let out = e.docker_ok(&[
        "run",
        "--rm",
        &image,
        "python",
        "-c",
        "import six, idna; print(open('/opt/step.txt').read().strip())",
    ]);
    assert_eq!(out.trim(), "built-by-step");
}

#[test]
fn a_uv_lock_project_is_the_same_image() {
    let e = e2e();
    let p = Project::new();
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/e2e/uv-project");
    for f in ["pyproject.toml", "uv.lock"] {
        std::fs::copy(fixtures.join(f), p.root.join(f)).unwrap();
    }
    write(
        &p.root,
        "spec.yaml",
        &format!(
            "name: e2e-podman-uv-lock\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             requirements: uv.lock\nenv: {{RUN_NONCE: \"{}\"}}\n{}",
            e.registry,
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    let (image, _) = same_image_both_ways(&e, &p.spec(), "uv-lock");
    let out = e.docker_ok(&[
        "run",
        "--rm",
        &image,
        "python",
        "-c",
        "import sys, six; print(six.__version__, sys.prefix)",
    ]);
    assert_eq!(
        out.trim(),
        "1.16.0 /root/.venv",
        "the locked version, in the venv"
    );
}

#[test]
fn secrets_reach_the_build_and_stay_out_of_the_image_and_the_log() {
    let e = e2e();
    let p = Project::new();
    let marker = format!("PODMAN-SECRET-{}", nonce());
    let token = format!("pdm-T0KEN-{}", std::process::id());
    write(&p.root, "secret.txt", &format!("{marker}\n"));
    // A private index that wants the credentials the spec's URL carries.
    let index = imagespec_tests::pyindex::PrivateIndex::start(
        "imagespec-probe",
        imagespec_tests::pyindex::wheel(
            "imagespec-probe",
            "1.0",
            "imagespec_probe",
            "VALUE = 'from-the-private-index'\n",
        ),
        "deploy",
        &token,
    );
    write(
        &p.root,
        "spec.yaml",
        &format!(
            "name: e2e-podman-secret\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             packages: [imagespec-probe]\nenv: {{RUN_NONCE: \"{}\"}}\n\
             pip_extra_index_url: ['http://deploy:{token}@127.0.0.1:{}/simple/']\n\
             pip_secret_mounts: [[secret.txt, /etc/imagespec-secret]]\n\
             commands: ['test -s /etc/imagespec-secret && wc -c < /etc/imagespec-secret > /opt/secret-seen']\n{}",
            e.registry,
            e.python_image,
            nonce(),
            index.port,
            e.builder_config()
        ),
    );
    let (image, stderr) = same_image_both_ways(&e, &p.spec(), "secret");
    assert!(
        !stderr.contains(&token),
        "the index password is in podman's log"
    );
    assert!(!stderr.contains(&marker), "the secret is in podman's log");
    let out = e.docker_ok(&[
        "run",
        "--rm",
        &image,
        "sh",
        "-c",
        "python -c 'import imagespec_probe; print(imagespec_probe.VALUE)' && cat /opt/secret-seen \
         && ! test -e /etc/imagespec-secret",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        ["from-the-private-index", &(marker.len() + 1).to_string()],
        "the install used the credentials and the step read the secret"
    );
    e.assert_image_free_of(&image, &p.root, &[&token, &marker]);
}

#[test]
fn a_nested_base_built_by_podman_is_found_by_its_child() {
    let e = e2e();
    let p = Project::new();
    write(&p.root, "src/main.py", "print('child')\n");
    let n = nonce();
    write(
        &p.root,
        "spec.yaml",
        &format!(
            "name: e2e-podman-child\nregistry: {r}\n\
             base_image:\n  name: e2e-podman-base\n  registry: {r}\n  base_image: {py}\n  python_exec: /usr/bin/python3\n  packages: [six]\n  env: {{RUN_NONCE: \"{n}\", UV_EXCLUDE_NEWER: \"{PINNED_INDEX_DATE}\"}}\n  {bc}\
             python_exec: /usr/bin/python3\npackages: [idna]\nenv: {{RUN_NONCE: \"{n}\", UV_EXCLUDE_NEWER: \"{PINNED_INDEX_DATE}\"}}\nsource_root: src\nsource_copy_mode: all\n{bc}",
            r = e.registry,
            py = e.python_image,
            bc = e.builder_config()
        ),
    );
    let spec = p.spec();
    // Podman builds both levels; the child builds FROM the base podman pushed.
    let out = run(&["--builder", "podman"], &spec);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", common::said(&stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{report}");
    for i in images {
        assert_eq!(i["builder"], "podman", "{i}");
        assert_eq!(i["action"], "built", "{i}");
        assert_eq!(i["pushed"], true, "{i}");
    }
    // A rerun finds both in the registry and builds nothing.
    let again = run(&["--builder", "podman"], &spec);
    assert!(again.status.success());
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    for i in again["images"].as_array().unwrap() {
        assert_eq!(i["action"], "skipped", "{i}");
    }
    // And the child is the image Docker makes on the same base.
    let (image, _) = same_image_both_ways(&e, &spec, "nested");
    let out = e.docker_ok(&[
        "run",
        "--rm",
        &image,
        "python",
        "-c",
        "import six, idna, main",
    ]);
    assert_eq!(out.trim(), "child");
}

#[test]
fn a_failing_step_is_named_with_its_last_lines_and_nothing_is_pushed() {
    let e = e2e();
    let p = Project::new();
    write(
        &p.root,
        "spec.yaml",
        &format!(
            "name: e2e-podman-fails\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             env: {{RUN_NONCE: \"{}\"}}\ncommands: ['echo podman-said-this && false']\n{}",
            e.registry,
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    let out = run(&["--builder", "podman"], &p.spec());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", common::said(&stderr));
    assert!(
        stderr.contains("with podman failed at step") && stderr.contains("RUN "),
        "the step is named: {stderr}"
    );
    assert!(
        stderr.contains("| podman-said-this"),
        "its last lines are shown: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["images"][0]["pushed"], false, "{report}");
}

#[test]
fn without_a_docker_engine_a_spec_that_names_no_builder_gets_podman() {
    let e = e2e();
    let p = Project::new();
    write(
        &p.root,
        "spec.yaml",
        &format!(
            "name: e2e-podman-auto\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             env: {{RUN_NONCE: \"{}\"}}\n{}",
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    let out = common::imagespec()
        .env("IMAGESPEC_PODMAN", podman())
        .env("IMAGESPEC_CACHE_DIR", p.root.join("cache"))
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-engine.sock", p.root.display()),
        )
        .env_remove("IMAGESPEC_BUILDER")
        .args(["build", "--json", "--no-push", "-v"])
        .arg(p.spec())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", common::said(&stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = &report["images"][0];
    assert_eq!(entry["builder"], "podman", "{report}");
    assert!(
        stderr.contains("building with `podman`") && stderr.contains("no Docker engine"),
        "says why: {stderr}"
    );
    // Without a registry, existence is podman's local store.
    let name = entry["image_name"].as_str().unwrap();
    let exists = Command::new(podman())
        .args(["image", "exists", name])
        .status()
        .unwrap();
    assert!(exists.success(), "{name} is in podman's store");
    let out = common::imagespec()
        .env("IMAGESPEC_PODMAN", podman())
        .args(["exists", "--builder", "podman"])
        .arg(p.spec())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = Command::new(podman()).args(["rmi", name]).status();
}
