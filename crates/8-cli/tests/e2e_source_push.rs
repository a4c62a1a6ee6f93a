//! End-to-end: the engine-free source push makes the image the engine
//! builds.
//!
//! A spec is built and pushed with docker; its source files are changed,
//! added, deleted and re-moded; the change is shipped both ways: pushed
//! without an engine (`imagespec build`, with a docker client that only
//! records being called), and built by the engine (`--engine`). The two
//! images are compared path by path (type, mode, owner, content, link
//! target) and by config (env, entrypoint, cmd, working folder, user,
//! labels). The pushed image runs, flytekit finds it by its name, and
//! `imagespec exists` says it exists. The same change shipped twice is the
//! same layer and manifest.
//!
//! Built only with the `e2e` feature (`cargo xtask ci`, `cargo xtask e2e
//! test`). Without an engine these tests fail; they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{differences, e2e, E2e};

/// A docker client that builds nothing and records every call: the
/// engine-free path must not call it.
const RECORDING_DOCKER: &str =
    "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls.log\"\nexit 1\n";

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn stderr(out: &Output) -> String {
    common::said(&String::from_utf8_lossy(&out.stderr))
}

/// `imagespec build --json EXTRA SPEC` with `cache` as the cache folder:
/// the requested image's entry.
fn build(spec: &Path, cache: &Path, extra: &[&str]) -> serde_json::Value {
    let mut c = common::imagespec();
    c.env("IMAGESPEC_CACHE_DIR", cache);
    common::build_entry(c, extra, spec).0
}

/// [`build`] with the project's recording docker client: the change is
/// pushed without an engine, and the client is never called.
fn ship_without_engine(p: &Project, cache: &Path, extra: &[&str]) -> serde_json::Value {
    let docker = p.docker.to_str().unwrap();
    let args: Vec<&str> = extra.iter().copied().chain(["--docker", docker]).collect();
    let pushed = build(&p.spec, cache, &args);
    assert_eq!(pushed["action"], "built", "{pushed}");
    assert_eq!(pushed["path"], "source_push", "{pushed}");
    assert!(
        !p.root.join("bin/calls.log").exists(),
        "no engine is contacted: {}",
        std::fs::read_to_string(p.root.join("bin/calls.log")).unwrap_or_default()
    );
    pushed
}

/// A `--dry-run` entry that goes to the engine, saying `why`.
fn assert_engine_because(dry: &serde_json::Value, why: &str) {
    assert_eq!(dry["path"], "engine", "{dry}");
    assert!(dry["reason"].as_str().unwrap().contains(why), "{dry}");
}

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    spec: PathBuf,
    cache: PathBuf,
    docker: PathBuf,
}

/// A spec with a source tree, under a name of its own; `nested`: on a
/// nested base spec.
fn project(e: &E2e, name: &str, nested: bool) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = match nested {
        false => format!("base_image: {}\n", e.python_image),
        true => format!(
            "base_image:\n  name: {name}-base\n  registry: {}\n  base_image: {}\n  python_exec: /usr/bin/python3\n  packages: [six]\n  env: {{RUN_NONCE: \"{nonce}\"}}\n  {}",
            e.registry,
            e.python_image,
            e.builder_config()
        ),
    };
    write(
        &root,
        "spec.yaml",
        &format!(
            "name: {name}\nregistry: {}\n{base}python_exec: /usr/bin/python3\nrequirements: requirements.txt\nenv: {{RUN_NONCE: \"{nonce}\"}}\nsource_root: src\nsource_copy_mode: all\n{}",
            e.registry,
            e.builder_config()
        ),
    );
    write(&root, "requirements.txt", "six\n");
    write(&root, "src/app/main.py", "print('main v1')\n");
    write(&root, "src/app/util.py", "X = 1\n");
    write(&root, "src/app/run.sh", "#!/bin/sh\necho run\n");
    chmod(&root.join("src/app/run.sh"), 0o755);
    write(&root, "src/data/keep.txt", "keep\n");
    write(&root, "src/gone/old.py", "old\n");
    write(&root, "src/gone/deeper/x.py", "x\n");
    write(&root, "src/becomes_dir", "a file for now\n");
    let docker = root.join("bin/docker");
    write(&root, "bin/docker", RECORDING_DOCKER);
    chmod(&docker, 0o755);
    Project {
        spec: root.join("spec.yaml"),
        cache: root.join("cache"),
        docker,
        _dir: dir,
        root,
    }
}

/// The change: edited, added, deleted (a file, a whole folder), re-moded,
/// a file that becomes a folder.
fn change_the_source(root: &Path) {
    write(root, "src/app/main.py", "print('main v2')\n");
    write(root, "src/app/new.py", "NEW = True\n");
    std::fs::remove_file(root.join("src/app/util.py")).unwrap();
    std::fs::remove_dir_all(root.join("src/gone")).unwrap();
    chmod(&root.join("src/data/keep.txt"), 0o600);
    std::fs::remove_file(root.join("src/becomes_dir")).unwrap();
    write(root, "src/becomes_dir/inside.txt", "now a folder\n");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dst = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dst);
        } else {
            std::fs::copy(entry.path(), &dst).unwrap();
        }
    }
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(from).unwrap().permissions().mode();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn ship_both_ways_and_compare(e: &E2e, name: &str, nested: bool) {
    let p = project(e, name, nested);
    let first = build(&p.spec, &p.cache, &[]);
    assert_eq!(first["action"], "built", "{first}");
    assert_eq!(
        first["path"], "engine",
        "no earlier image: the engine builds"
    );

    change_the_source(&p.root);
    // The cache as it is now, to ship the same change a second time.
    let cache_again = p.root.join("cache-again");
    copy_dir(&p.cache, &cache_again);

    // Without an engine: the docker client may not be called.
    let pushed = ship_without_engine(&p, &p.cache, &[]);
    let uploaded = pushed["uploaded"].as_u64().unwrap();
    assert!(uploaded > 0 && uploaded < 64 * 1024, "{pushed}");
    assert!(pushed["layers_reused"].as_u64().unwrap() > 1, "{pushed}");
    let image = pushed["image_name"].as_str().unwrap().to_string();
    let digest = pushed["digest"].as_str().unwrap().to_string();

    // The same change, shipped again from the same earlier image: the same
    // layer and manifest. (Forced, since the image exists now: with a
    // nested base, the base is rebuilt by the engine too.)
    let again = build(&p.spec, &cache_again, &["--force-push"]);
    assert_eq!(again["path"], "source_push", "{again}");
    assert_eq!(again["digest"], pushed["digest"], "reproducible: {again}");

    // `imagespec exists`, and flytekit, find it by its name.
    let out = common::imagespec()
        .env("IMAGESPEC_CACHE_DIR", &p.cache)
        .arg("exists")
        .arg(&p.spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // flytekit reads a spec file's nested base as a plain mapping, which it
    // cannot build on: it is asked about the plain spec.
    if !nested {
        let python = std::env::var("IMAGESPEC_FLYTEKIT_PYTHON").expect(
            "IMAGESPEC_FLYTEKIT_PYTHON is not set: run with `cargo xtask e2e test` (or `cargo xtask ci`)",
        );
        let out = Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/flytekit/exists.py"))
            .arg(&p.spec)
            .env(
                "DOCKER_HOST",
                std::env::var("DOCKER_HOST").unwrap_or_default(),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "flytekit: {}", stderr(&out));
        let said = String::from_utf8_lossy(&out.stdout);
        let mut lines = said.lines();
        assert_eq!(lines.next(), Some(image.as_str()), "flytekit's name");
        assert_eq!(lines.next(), Some("True"), "flytekit finds it: {said}");
    }

    assert_it_is_the_engines_image(
        e,
        &p,
        &image,
        &format!("{name}:{}", digest.replace(':', "-")),
    );
}

/// The engine's image of the project's tree (not pushed: loaded, then kept
/// under another name) against `image`, pulled: path by path and by config;
/// and `image` runs, with the change.
fn assert_it_is_the_engines_image(e: &E2e, p: &Project, image: &str, copy_tag: &str) {
    let engine = build(
        &p.spec,
        &p.cache,
        &["--engine", "--no-push", "--force-push"],
    );
    assert_eq!(engine["path"], "engine", "{engine}");
    let engine_copy = format!("imagespec-e2e-engine-{copy_tag}");
    e.docker_ok(&["tag", image, &engine_copy]);
    e.docker_ok(&["rmi", image]);
    e.docker_ok(&["pull", image]);

    let (ours, theirs) = (e.tree(image), e.tree(&engine_copy));
    let diff = differences(&ours, &theirs);
    assert!(diff.is_empty(), "the images differ:\n{}", diff.join("\n"));
    assert!(ours.get("/root/app/new.py").is_some() && ours.get("/root/gone").is_none());
    assert_eq!(
        e.config(image),
        e.config(&engine_copy),
        "the configs differ"
    );

    // It runs, with the change.
    let out = e.docker_ok(&[
        "run",
        "--rm",
        "--entrypoint",
        "python3",
        image,
        "/root/app/main.py",
    ]);
    assert_eq!(out.trim(), "main v2");
    e.docker_ok(&["rmi", &engine_copy]);
}

#[test]
fn a_source_change_pushed_without_an_engine_is_the_image_the_engine_builds() {
    let e = e2e();
    ship_both_ways_and_compare(&e, "e2e-source-push", false);
}

#[test]
fn a_source_change_on_a_nested_base_is_pushed_without_an_engine_too() {
    let e = e2e();
    ship_both_ways_and_compare(&e, "e2e-source-push-nested", true);
}

/// After `--max-source-layers` change layers, one full layer replaces
/// them, and the image is still the engine's.
#[test]
fn layers_stay_bounded_and_a_full_layer_is_the_same_image() {
    let e = e2e();
    let p = project(&e, "e2e-source-push-full", false);
    let docker = p.docker.to_str().unwrap();
    assert_eq!(build(&p.spec, &p.cache, &[])["path"], "engine");
    let layers = |image: &str| -> usize {
        let out = e.docker_ok(&["image", "inspect", image]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v[0]["RootFS"]["Layers"].as_array().unwrap().len()
    };
    let mut counts = Vec::new();
    let mut last = String::new();
    for round in 0..3 {
        write(
            &p.root,
            "src/app/main.py",
            &format!("print('round {round}')\n"),
        );
        let r = build(
            &p.spec,
            &p.cache,
            &["--docker", docker, "--max-source-layers", "1"],
        );
        assert_eq!(r["path"], "source_push", "{r}");
        last = r["image_name"].as_str().unwrap().to_string();
        e.docker_ok(&["pull", &last]);
        counts.push(layers(&last));
    }
    // One change layer, then a full layer in place of both, then a change layer.
    assert_eq!(counts[1], counts[0] - 1, "{counts:?}");
    assert_eq!(counts[2], counts[0], "{counts:?}");
    let engine = build(
        &p.spec,
        &p.cache,
        &["--engine", "--no-push", "--force-push"],
    );
    assert_eq!(engine["path"], "engine");
    let engine_copy = "imagespec-e2e-engine-full:latest";
    e.docker_ok(&["tag", &last, engine_copy]);
    e.docker_ok(&["rmi", &last]);
    e.docker_ok(&["pull", &last]);
    let diff = differences(&e.tree(&last), &e.tree(engine_copy));
    assert!(diff.is_empty(), "the images differ:\n{}", diff.join("\n"));
    e.docker_ok(&["rmi", engine_copy]);

    // An image `--engine` pushes is remembered: the next change goes on it
    // (one change layer on the engine's), not on the older pushed chain
    // (which, at its bound, would get a full layer in place of two).
    write(&p.root, "src/app/main.py", "print('round 3')\n");
    let pushed = build(&p.spec, &p.cache, &["--engine"]);
    assert_eq!(pushed["path"], "engine", "{pushed}");
    write(&p.root, "src/app/main.py", "print('round 4')\n");
    let r = build(
        &p.spec,
        &p.cache,
        &["--docker", docker, "--max-source-layers", "1"],
    );
    assert_eq!(r["path"], "source_push", "{r}");
    let name = r["image_name"].as_str().unwrap();
    e.docker_ok(&["pull", name]);
    assert_eq!(layers(name), counts[0], "on the engine's image: {r}");
}

/// A change beside the source (here the requirements' content, which keeps
/// the spec's `id`) is the engine's, said in one line; `--dry-run` says
/// which way it would go.
#[test]
fn a_changed_field_is_built_by_the_engine_and_a_dry_run_says_so() {
    let e = e2e();
    let p = project(&e, "e2e-source-push-fields", false);
    assert_eq!(build(&p.spec, &p.cache, &[])["path"], "engine");
    write(&p.root, "src/app/main.py", "print('v2')\n");
    let dry = build(&p.spec, &p.cache, &["--dry-run"]);
    assert_eq!(dry["path"], "source_push", "{dry}");
    assert!(
        dry["reason"]
            .as_str()
            .unwrap()
            .contains("without an engine"),
        "{dry}"
    );
    let dry = build(&p.spec, &p.cache, &["--dry-run", "--engine"]);
    assert_engine_because(&dry, "`--engine`");
    write(&p.root, "requirements.txt", "six==1.16.0\n");
    let dry = build(&p.spec, &p.cache, &["--dry-run"]);
    assert_engine_because(&dry, "`requirements` changed");
}

/// A runner that never pushed the spec (a fresh CI runner: an empty cache
/// folder) ships a source-only change without an engine when
/// `--registry-cache` shares the repository's newest build: the shared
/// build's source layer is replaced whole, and the image is the one the
/// engine builds. Without the shared build, or for another spec of the
/// same name, the engine builds.
#[test]
fn a_fresh_runner_ships_a_source_change_from_the_registrys_shared_build() {
    let e = e2e();
    let p = project(&e, "e2e-shared-base", false);
    let first = build(&p.spec, &p.cache, &["--registry-cache"]);
    assert_eq!(first["path"], "engine", "{first}");
    change_the_source(&p.root);

    // Without the shared build a fresh runner has nothing to start from.
    let fresh = p.root.join("cache-fresh");
    let dry = build(&p.spec, &fresh, &["--dry-run"]);
    assert_engine_because(&dry, "has pushed no image of this spec from here");

    // With it: no engine is contacted.
    let pushed = ship_without_engine(&p, &fresh, &["--registry-cache"]);
    let image = pushed["image_name"].as_str().unwrap().to_string();
    assert_ne!(pushed["image_name"], first["image_name"]);

    assert_it_is_the_engines_image(&e, &p, &image, "shared-base:latest");

    // The next change on that runner is a delta on its own push.
    write(&p.root, "src/app/main.py", "print('main v3')\n");
    let next = ship_without_engine(&p, &fresh, &["--registry-cache"]);
    assert!(next["uploaded"].as_u64().unwrap() < 64 * 1024, "{next}");

    // Another spec of the same name (other requirements) does not start
    // from it.
    write(&p.root, "requirements.txt", "six==1.16.0\n");
    let dry = build(
        &p.spec,
        &p.root.join("cache-fresh-2"),
        &["--dry-run", "--registry-cache"],
    );
    assert_engine_because(&dry, "`requirements` changed");
}
