//! How often a build opens each source file, counted by the kernel
//! (inotify's `IN_OPEN` on every folder of the tree) on the real builder
//! path: `imagespec build` runs the Docker builder, whose docker client is a
//! fake that answers the preflight, says no image exists, and builds
//! nothing (so it reads no context).
//!
//! - a cold build opens each source file at most twice: its hash (the tag's
//!   md5 and the label's sha256 come from that one read) and its copy into
//!   the kept build context;
//! - `imagespec context` (hard links) opens each once: the link opens nothing,
//!   and the re-check after writing finds every file as it was hashed;
//! - a build of an unchanged tree opens none.
//!
//! Files changed within two seconds before a walk count as "racy" (git's
//! rule: their stats cannot prove them unchanged), so the tree is written
//! that long before the first count.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::imagespec;
use inotify::{Inotify, WatchDescriptor, WatchMask};

/// A docker client that builds nothing: `version` and `buildx version` for
/// the preflight, "no such image" for the local existence check, success
/// for `buildx build`. It logs each call, to show the builder ran.
const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls.log"
case "$1" in
  version) echo "27.0.0 27.0.0" ;;
  buildx)
    case "$2" in
      version) echo "github.com/docker/buildx v0.16.0" ;;
      build) exit 0 ;;
      *) exit 1 ;;
    esac ;;
  image) echo "Error response from daemon: No such image: $4" >&2; exit 1 ;;
  *) exit 1 ;;
esac
"#;

fn write(root: &Path, rel: &str, body: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// Counts `IN_OPEN` of the files (not folders) under a tree.
struct Opens {
    inotify: Inotify,
    dirs: BTreeMap<WatchDescriptor, PathBuf>,
}

impl Opens {
    fn watch(root: &Path) -> Opens {
        let inotify = Inotify::init().unwrap();
        let mut dirs = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let wd = inotify.watches().add(&dir, WatchMask::OPEN).unwrap();
            dirs.insert(wd, dir.clone());
            for entry in std::fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    stack.push(entry.path());
                }
            }
        }
        Opens { inotify, dirs }
    }

    /// The opens of each file since the last call (every event is queued
    /// by the time the command that caused it has exited).
    fn take(&mut self) -> BTreeMap<PathBuf, usize> {
        let mut counts = BTreeMap::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let events = match self.inotify.read_events(&mut buffer) {
                Ok(events) => events,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("inotify: {e}"),
            };
            let mut any = false;
            for event in events {
                any = true;
                if event.mask.contains(inotify::EventMask::ISDIR) {
                    continue;
                }
                if let (Some(dir), Some(name)) = (self.dirs.get(&event.wd), event.name) {
                    *counts.entry(dir.join(name)).or_insert(0) += 1;
                }
            }
            if !any {
                break;
            }
        }
        counts
    }
}

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    spec: PathBuf,
    docker: PathBuf,
    files: Vec<PathBuf>,
}

fn project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let mut files = Vec::new();
    for i in 0..30 {
        let rel = format!("src/pkg{}/mod{i}.py", i % 4);
        write(
            &root,
            &rel,
            format!("VALUE = {i}\n").repeat(i * 40 + 1).as_bytes(),
        );
        files.push(root.join(rel));
    }
    write(&root, "src/app.py", b"import pkg0\n");
    files.push(root.join("src/app.py"));
    write(&root, "src/data/blob.bin", &vec![7u8; 3 << 20]);
    files.push(root.join("src/data/blob.bin"));
    let spec = root.join("spec.yaml");
    write(
        &root,
        "spec.yaml",
        b"name: opens\npython_version: '3.12'\npackages: [six]\nsource_root: src\nsource_copy_mode: all\n",
    );
    let docker = root.join("bin/docker");
    write(&root, "bin/docker", FAKE_DOCKER.as_bytes());
    std::fs::set_permissions(&docker, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Past the racy window of the stat cache (see the module docs).
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    Project {
        _dir: dir,
        root,
        spec,
        docker,
        files,
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn build(p: &Project, cache: &Path) -> Output {
    imagespec()
        .env("IMAGESPEC_CACHE_DIR", cache)
        // The Docker builder with a client that builds nothing, whatever
        // builder this machine would choose.
        .args(["build", "--json", "--builder", "default", "--docker"])
        .arg(&p.docker)
        .arg(&p.spec)
        .output()
        .unwrap()
}

fn assert_each(
    counts: &BTreeMap<PathBuf, usize>,
    files: &[PathBuf],
    range: (usize, usize),
    what: &str,
) {
    for f in files {
        let n = counts.get(f).copied().unwrap_or(0);
        assert!(
            (range.0..=range.1).contains(&n),
            "{what}: `{}` opened {n} times, not {}..={} (all: {counts:?})",
            f.display(),
            range.0,
            range.1
        );
    }
}

#[test]
fn a_cold_build_opens_each_source_file_at_most_twice_and_an_unchanged_one_none() {
    let p = project();
    let cache = tempfile::tempdir().unwrap();
    let mut opens = Opens::watch(&p.root.join("src"));

    let out = build(&p, cache.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["images"][0]["action"], "built", "{report}");
    let calls = std::fs::read_to_string(p.root.join("bin/calls.log")).unwrap();
    assert!(
        calls.lines().any(|l| l.starts_with("buildx build")),
        "the real builder ran the engine: {calls}"
    );
    let cold = opens.take();
    assert_each(&cold, &p.files, (1, 2), "a cold build");

    // The image is still missing (the fake builds nothing): built again,
    // from an unchanged tree.
    let out = build(&p, cache.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let again = opens.take();
    assert_each(&again, &p.files, (0, 0), "a build of an unchanged tree");
}

#[test]
fn a_context_with_hard_links_opens_each_source_file_once() {
    let p = project();
    let cache = tempfile::tempdir().unwrap();
    let mut opens = Opens::watch(&p.root.join("src"));
    let out = imagespec()
        .env("IMAGESPEC_CACHE_DIR", cache.path())
        .args(["context", "-o"])
        .arg(p.root.join("ctx"))
        .arg(&p.spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let counts = opens.take();
    assert_each(&counts, &p.files, (1, 1), "a context with hard links");
    // The links are real: the context's file is the tree's.
    let linked = p.root.join("ctx/src/app.py");
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&linked).unwrap()),
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p.root.join("src/app.py")).unwrap())
    );
    // And `tag` afterwards reads nothing either: the stat cache knows of
    // the links this program made.
    let out = imagespec()
        .env("IMAGESPEC_CACHE_DIR", cache.path())
        .arg("tag")
        .arg(&p.spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_each(&opens.take(), &p.files, (0, 0), "`tag` after the context");
}
