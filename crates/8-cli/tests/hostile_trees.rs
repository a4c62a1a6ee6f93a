//! Trees, caches and servers from elsewhere (the hardening issue, round 3):
//! each test is one way a downloaded project or a shared cache folder could
//! make imagespec run a program, lie, hang, read without bound, or read a
//! file of the user's, tried as a user runs imagespec.

mod common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::imagespec;

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.fsmonitor=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd`, killing it after `limit`: a hang is a failure, not a stuck test.
fn within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
/// stderr with the diagnostic's margins and line breaks taken out.
fn flat(o: &Output) -> String {
    stderr(o)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A spec whose source_root is `src` of `dir`, copying every file.
fn project(dir: &Path) -> PathBuf {
    write(
        dir,
        "spec.yaml",
        &format!(
            "name: p\npython_version: '3.12'\npackages: [flytekit==1.16.31]\nsource_root: {}\nsource_copy_mode: all\n",
            dir.join("src").display()
        ),
    );
    write(dir, "src/a.py", "A = 1\n");
    dir.join("spec.yaml")
}

/// Finding 1: A repository's own config starts no program: `core.fsmonitor` set in
/// the tree's `.git/config` is not run by `tag` (which asks git what is ignored).
#[test]
fn a_trees_git_config_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = project(dir.path());
    git(dir.path(), &["init", "-q"]);
    let marker = dir.path().join("pwned");
    write(
        dir.path(),
        "hook.sh",
        &format!("#!/bin/sh\ntouch {}\n", marker.display()),
    );
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        dir.path().join("hook.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &[
            "config",
            "core.fsmonitor",
            &dir.path().join("hook.sh").display().to_string(),
        ],
    );
    let out = imagespec().arg("tag").arg(&spec).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!marker.exists(), "the tree's core.fsmonitor ran");
}

/// Finding 3: Two projects whose specs look alike (same name, same file names, a
/// file of the same size and mtime) do not share a kept build context; and
/// a kept file is reused only when its source's content is what was copied.
#[test]
fn kept_contexts_are_per_project_and_checked_by_content() {
    imagespec_tests::link_plugins();
    let cache = tempfile::tempdir().unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mtime = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    for (dir, body) in [(a.path(), "A = 'a'\n"), (b.path(), "A = 'b'\n")] {
        let spec = "name: same\npython_version: '3.12'\npackages: [flytekit==1.16.31]\nsource_root: src\nsource_copy_mode: all\nbuilder: noop\nbase_image: x:1\n";
        write(dir, "spec.yaml", spec);
        write(dir, "src/app.py", body);
        std::fs::File::options()
            .write(true)
            .open(dir.join("src/app.py"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
    let dir_of = |spec: &Path| {
        let out = imagespec()
            .env("IMAGESPEC_CACHE_DIR", cache.path())
            .args(["context", "--copy", "--json", "-o"])
            .arg(spec.with_file_name("ctx"))
            .arg(spec)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    // The keys: through the library, as the builder calls it.
    dir_of(&a.path().join("spec.yaml"));
    dir_of(&b.path().join("spec.yaml"));
    let key = |dir: &Path| {
        let spec = imagespec_core::spec::load_file(&dir.join("spec.yaml")).unwrap();
        let job = imagespec_engine::Engine::new(
            &imagespec_engine::Plugins::registered().unwrap(),
            Default::default(),
            1,
        )
        .prepare(spec.view())
        .unwrap();
        let (kept, _lock) = imagespec_context::cache::kept_context(cache.path(), &job).unwrap();
        (kept, job)
    };
    let (ka, job_a) = key(a.path());
    let (kb, job_b) = key(b.path());
    assert_ne!(ka, kb, "two projects share a kept context");
    // Even synced into one folder, B's content replaces A's.
    let defaults = imagespec_core::knobs::PythonDefaults {
        default_python: "3.12".into(),
        flytekit_requirement: "flytekit==1.16.31".into(),
    };
    let shared = cache.path().join("shared-context");
    let plan_a = imagespec_plan::plan(
        &job_a,
        &imagespec_engine::Plugins::registered().unwrap().installers,
        &defaults,
    )
    .unwrap();
    imagespec_context::sync_plan(&job_a, &plan_a, &shared).unwrap();
    let plan_b = imagespec_plan::plan(
        &job_b,
        &imagespec_engine::Plugins::registered().unwrap().installers,
        &defaults,
    )
    .unwrap();
    imagespec_context::sync_plan(&job_b, &plan_b, &shared).unwrap();
    assert_eq!(
        std::fs::read_to_string(shared.join("src/app.py")).unwrap(),
        "A = 'b'\n"
    );
}

/// Finding 3: Kept contexts have bounds, and a command to apply them or empty the cache.
#[test]
fn the_cache_is_pruned_and_cleaned() {
    let cache = tempfile::tempdir().unwrap();
    let contexts = cache.path().join("contexts");
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&contexts)
        .unwrap();
    for i in 0..5 {
        let root = contexts.join(format!("k{i}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&root)
            .unwrap();
        write(&root, "context/Dockerfile", &"x".repeat(1000));
        write(&root, "lock", "");
        let used = std::time::SystemTime::now() - Duration::from_secs(3600 * (i + 1));
        std::fs::File::options()
            .write(true)
            .open(root.join("lock"))
            .unwrap()
            .set_modified(used)
            .unwrap();
    }
    let run = |args: &[&str]| {
        let out = imagespec()
            .env("IMAGESPEC_CACHE_DIR", cache.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let doc = run(&["cache", "prune", "--max-contexts", "2", "--json"]);
    assert_eq!(doc["removed"]["contexts"], 3, "{doc}");
    assert_eq!(doc["kept"]["contexts"], 2, "{doc}");
    assert!(contexts.join("k0").is_dir() && contexts.join("k1").is_dir());
    assert!(
        !contexts.join("k4").exists(),
        "the least recently used goes first"
    );
    // Locks no build holds go with a prune; a held one stays.
    let locks = imagespec_context::cache::lock_dir(cache.path());
    let held = imagespec_context::cache::lock_image(&locks, "r/held:1").unwrap();
    drop(imagespec_context::cache::lock_image(&locks, "r/done:1").unwrap());
    let doc = run(&["cache", "prune", "--json"]);
    assert_eq!(doc["removed"]["locks"], 1, "{doc}");
    assert_eq!(std::fs::read_dir(&locks).unwrap().count(), 1);
    drop(held);

    // `clean` empties the rest: remembered existence answers and the
    // source-push records too.
    let amd = vec!["linux/amd64".to_string()];
    let remembered = imagespec_engine::Remembered::new(imagespec_engine::RememberOptions {
        path: imagespec_context::cache::existence_file(cache.path()),
        ttl: Duration::from_secs(600),
        refresh: false,
    });
    remembered.put("r/x:1", &amd, "sha256:aa");
    let records = imagespec_context::cache::records_dir(cache.path());
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&records)
        .unwrap();
    write(&records, "0123abcd", "record");
    let doc = run(&["cache", "clean", "--json"]);
    assert_eq!(doc["kept"]["contexts"], 0, "{doc}");
    assert_eq!(doc["removed"]["remembered"], 1, "{doc}");
    assert_eq!(doc["removed"]["push_records"], 1, "{doc}");
    assert_eq!(doc["removed"]["locks"], 1, "{doc}");
    assert_eq!(remembered.get("r/x:1", &amd), None, "forgotten");
    assert_eq!(std::fs::read_dir(&records).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&locks).unwrap().count(), 0);
}

/// Finding 4: A kept context folder that is a link is never followed: what it
/// points to keeps its files.
#[test]
fn deletes_never_go_through_a_link_in_the_cache() {
    imagespec_tests::link_plugins();
    let cache = tempfile::tempdir().unwrap();
    let victim = tempfile::tempdir().unwrap();
    write(victim.path(), "precious.txt", "keep me");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "name: x\npython_version: '3.12'\npackages: [flytekit==1.16.31]\n",
    );
    let spec = imagespec_core::spec::load_file(&dir.path().join("spec.yaml")).unwrap();
    let job = imagespec_engine::Engine::new(
        &imagespec_engine::Plugins::registered().unwrap(),
        Default::default(),
        1,
    )
    .prepare(spec.view())
    .unwrap();
    let (kept, lock) = imagespec_context::cache::kept_context(cache.path(), &job).unwrap();
    drop(lock);
    std::os::unix::fs::symlink(victim.path(), &kept).unwrap();
    let (kept, _lock) = imagespec_context::cache::kept_context(cache.path(), &job).unwrap();
    let defaults = imagespec_core::knobs::PythonDefaults {
        default_python: "3.12".into(),
        flytekit_requirement: "flytekit==1.16.31".into(),
    };
    let plan = imagespec_plan::plan(
        &job,
        &imagespec_engine::Plugins::registered().unwrap().installers,
        &defaults,
    )
    .unwrap();
    imagespec_context::sync_plan(&job, &plan, &kept).unwrap();
    assert_eq!(
        std::fs::read_to_string(victim.path().join("precious.txt")).unwrap(),
        "keep me"
    );
    assert!(!std::fs::symlink_metadata(&kept)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// The digest cache's entries of `cache`.
fn entries(cache: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(cache.join("digests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("files-")
        })
        .collect()
}

/// Finding 5: The stat cache is checked: a FIFO in place of an entry does not hang
/// `tag`, and an entry whose digest was edited does not change the tag.
#[test]
fn a_tampered_stat_cache_changes_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = project(dir.path());
    write(dir.path(), "src/b.py", "B = 2\n");
    // Old enough that the entry is written (git's racy rule).
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    for f in ["src/a.py", "src/b.py"] {
        std::fs::File::options()
            .write(true)
            .open(dir.path().join(f))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(2_100));
    let tag = || {
        let mut c = imagespec();
        c.env("IMAGESPEC_CACHE_DIR", cache.path())
            .arg("tag")
            .arg(&spec);
        let out = within(c, Duration::from_secs(60));
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let truth = tag();
    let written = entries(cache.path());
    assert!(!written.is_empty(), "the stat cache wrote an entry");
    for e in &written {
        let text = std::fs::read_to_string(e).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let edited: Vec<String> = lines
            .iter()
            .map(
                |l| match l.len() == 32 && l.bytes().all(|b| b.is_ascii_hexdigit()) {
                    true => "0".repeat(32),
                    false => l.to_string(),
                },
            )
            .collect();
        std::fs::write(e, edited.join("\n") + "\n").unwrap();
    }
    assert_eq!(tag(), truth, "an edited digest changed the tag");
    for e in entries(cache.path()) {
        std::fs::remove_file(&e).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, &e, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
    }
    assert_eq!(tag(), truth, "a FIFO entry");
}

/// Finding 6: Every read has a bound and a kind check: a `.dockerignore` that is a
/// FIFO or a link to `/dev/zero` (which flytekit reads, or hashes as a
/// source file, forever) is refused at once, naming it; a hundred thousand
/// patterns are refused at once; a `copy` folder whose links lead twice into
/// the next level is refused instead of walked exponentially.
#[test]
fn hostile_ignore_files_and_link_graphs_end_quickly() {
    let limit = Duration::from_secs(20);
    for kind in ["fifo", "zero"] {
        let dir = tempfile::tempdir().unwrap();
        let spec = project(dir.path());
        let ignore = dir.path().join("src/.dockerignore");
        match kind {
            "fifo" => rustix::fs::mkfifoat(
                rustix::fs::CWD,
                &ignore,
                rustix::fs::Mode::from_raw_mode(0o600),
            )
            .unwrap(),
            _ => std::os::unix::fs::symlink("/dev/zero", &ignore).unwrap(),
        }
        let mut c = imagespec();
        c.arg("tag").arg(&spec);
        let out = within(c, limit);
        assert!(!out.status.success(), "{kind}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(".dockerignore"),
            "{kind}: {}",
            stderr(&out)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = project(dir.path());
    let patterns: String = (0..100_000).map(|i| format!("p{i}*\n")).collect();
    write(dir.path(), "src/.dockerignore", &patterns);
    let mut c = imagespec();
    c.arg("tag").arg(&spec);
    let out = within(c, limit);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(flat(&out).contains("at most 10000"), "{}", stderr(&out));

    // 18 levels, each holding two links to the next: 2^18 ways down.
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("data");
    for level in 0..18 {
        let here = tree.join(format!("l{level}"));
        std::fs::create_dir_all(&here).unwrap();
        write(&here, "f.txt", "x");
        if level < 17 {
            for link in ["a", "b"] {
                std::os::unix::fs::symlink(format!("../l{}", level + 1), here.join(link)).unwrap();
            }
        }
    }
    write(
        dir.path(),
        "spec.yaml",
        "name: d\npython_version: '3.12'\npackages: [flytekit==1.16.31]\ncopy: [data/l0]\n",
    );
    let mut c = imagespec();
    c.args(["context", "-o"])
        .arg(dir.path().join("ctx"))
        .arg(dir.path().join("spec.yaml"));
    let out = within(c, limit);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        flat(&out).contains("reached twice through links"),
        "{}",
        stderr(&out)
    );
}

/// Finding 7: `explain --against git:REV` reads the revision's blobs as stored: no
/// `export-subst` (a clean tree is unchanged), and an absolute path into the
/// repository is read from the revision, not the work tree.
#[test]
fn explain_against_a_revision_reads_it_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "req.txt", "six  # $Format:%H$\n");
    write(
        d,
        ".gitattributes",
        "req.txt export-subst\nsrc/b.py export-ignore\n",
    );
    write(d, "src/a.py", "A = 1\n");
    write(d, "src/b.py", "B = 1\n");
    write(
        d,
        "spec.yaml",
        &format!(
            "name: e\npython_version: '3.12'\nrequirements: {}\nsource_root: src\nsource_copy_mode: all\n",
            d.join("req.txt").display()
        ),
    );
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "one"]);
    let explain = || {
        let out = imagespec()
            .args(["explain", "--json", "--against", "git:HEAD"])
            .arg(d.join("spec.yaml"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let clean = explain();
    assert_eq!(clean["changed"], false, "a clean tree changed: {clean}");
    // The requirements file (an absolute path inside the repository) changes
    // in the work tree only.
    write(d, "req.txt", "six\nnumpy\n");
    let doc = explain();
    assert_eq!(doc["changed"], true, "{doc}");
    let text = doc["changes"].to_string();
    assert!(text.contains("numpy"), "{doc}");
}

/// Finding 8: `--json` prints its envelope whatever the paths are (not UTF-8 included).
#[test]
fn json_holds_paths_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"sp\xffec.yaml");
    let spec = dir.path().join(name);
    std::fs::write(&spec, "name: x\npython_version: '3.12'\n").unwrap();
    for args in [
        vec!["tag", "--json"],
        vec!["lint", "--json"],
        vec!["exists", "--json"],
        vec!["explain", "--json", "--against"],
    ] {
        let mut c = imagespec();
        c.args(&args);
        if args[0] == "explain" {
            c.arg(&spec);
        }
        c.arg(&spec);
        let out = c.output().unwrap();
        assert_ne!(
            out.status.code(),
            Some(101),
            "{args:?} panicked: {}",
            stderr(&out)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {}", stderr(&out)));
        assert!(doc.get("ok").is_some(), "{args:?}: {doc}");
    }
    let out = imagespec()
        .args(["context", "--json", "-o"])
        .arg(dir.path().join(std::ffi::OsStr::from_bytes(b"ct\xffx")))
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["context"].as_str().unwrap().contains('\u{fffd}'),
        "{doc}"
    );
}

/// Finding 9: A registry's credentials in `registry` never reach a message.
#[test]
fn a_password_in_the_registry_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "name: x\nregistry: 'alice:hunter2-s3cret@registry.example'\n",
    );
    let out = imagespec()
        .args(["tag"])
        .arg(dir.path().join("spec.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
    assert!(stderr(&out).contains("registry"), "{}", stderr(&out));
}

/// Finding 10: A spec reads only files in its own project: a host file named in
/// `requirements`, `source_root` or `pip_secret_mounts` is refused, naming
/// the field, unless `--allow-outside-paths` (then a lint says so).
#[test]
fn a_spec_reads_no_host_file_unless_allowed() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "id_rsa", "-----BEGIN KEY-----\n");
    write(outside.path(), "requirements.txt", "six\n");
    let cases = [
        (
            "requirements",
            format!(
                "requirements: {}\n",
                outside.path().join("requirements.txt").display()
            ),
        ),
        (
            "source_root",
            format!(
                "source_root: {}\nsource_copy_mode: all\n",
                outside.path().display()
            ),
        ),
        (
            "pip_secret_mounts[0]",
            format!(
                "pip_secret_mounts: [[{}, /root/.ssh/id_rsa]]\n",
                outside.path().join("id_rsa").display()
            ),
        ),
        ("copy[0]", "copy: [../../etc/hostname]\n".to_string()),
    ];
    for (field, extra) in cases {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("spec.yaml");
        write(
            dir.path(),
            "spec.yaml",
            &format!("name: x\npython_version: '3.12'\npackages: [flytekit==1.16.31]\n{extra}"),
        );
        let out = imagespec().arg("tag").arg(&spec).output().unwrap();
        if field == "copy[0]" && !Path::new("/etc/hostname").exists() {
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{field}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("`{field}`")),
            "{field}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("--allow-outside-paths"),
            "{field}: {}",
            stderr(&out)
        );
        let out = imagespec()
            .args(["tag", "--allow-outside-paths"])
            .arg(&spec)
            .output()
            .unwrap();
        assert!(out.status.success(), "{field}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("[path-outside-project]"),
            "{field}: {}",
            stderr(&out)
        );
    }
}
