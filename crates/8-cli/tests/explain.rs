//! `imagespec explain SPEC --against OTHER`, run as a user runs it: each
//! test writes a spec and its files as they were (`old/`) and as they are
//! (`new/`), or commits them to a git repository and changes them, and
//! snapshots what `explain` prints. Tags are stable: no temporary path
//! enters a tag, and the Python defaults are fixed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const SPEC: &str = "name: explain-demo\npython_version: \"3.12\"\nregistry: localhost:5000\n\
    env: {MODE: one, TOKEN: s3cr3t-value}\npackages: [requests]\nrequirements: requirements.txt\n\
    source_root: src\nsource_copy_mode: all\ncopy: [data]\n";

/// The files of the demo spec, as (path, content).
fn files() -> Vec<(&'static str, String)> {
    vec![
        ("spec.yaml", SPEC.to_string()),
        ("requirements.txt", "numpy==2.0\npandas\n".to_string()),
        ("src/main.py", "print('main')\n".to_string()),
        ("src/pkg/a.py", "a = 1\n".to_string()),
        ("src/pkg/b.py", "b = 1\n".to_string()),
        ("data/table.csv", "1,2\n".to_string()),
        ("data/readme.txt", "data\n".to_string()),
    ]
}

struct Case {
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
}

fn write(dir: &Path, rel: &str, body: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

impl Case {
    /// `old/` and `new/` with the demo files; `change` edits `new/`.
    fn pair(change: impl FnOnce(&Path)) -> Case {
        let case = Case {
            root: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        for side in ["old", "new"] {
            for (rel, body) in files() {
                write(&case.path(side), rel, &body);
            }
        }
        change(&case.path("new"));
        case
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// `imagespec explain SPEC --against AGAINST EXTRA` in the root: exit
    /// code, stdout and stderr, with the root's path written `[ROOT]`.
    fn explain(&self, spec: &str, against: &str, extra: &[&str]) -> (i32, String, String) {
        let out = common::imagespec()
            .current_dir(self.root.path())
            .env("IMAGESPEC_CACHE_DIR", self.cache.path())
            .args(["-q", "explain", spec, "--against", against])
            .args(extra)
            .output()
            .unwrap();
        let root = self.root.path().to_string_lossy().into_owned();
        let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root, "[ROOT]");
        (
            out.status.code().unwrap_or(-1),
            clean(&out.stdout),
            clean(&out.stderr),
        )
    }

    /// `explain new/spec.yaml --against old/spec.yaml`; must succeed.
    fn new_against_old(&self, extra: &[&str]) -> String {
        let (code, stdout, stderr) = self.explain("new/spec.yaml", "old/spec.yaml", extra);
        assert_eq!(code, 0, "{stderr}");
        stdout
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A changed dict field names the key that changed; its values are shown
/// when the key names no secret (`TOKEN`'s never are), and list fields
/// (packages) are named as fields.
#[test]
fn a_field_change_names_the_keys_and_never_a_secret() {
    let case = Case::pair(|new| {
        let spec = SPEC
            .replace("MODE: one", "MODE: two")
            .replace("TOKEN: s3cr3t-value", "TOKEN: other-s3cr3t")
            .replace("[requests]", "[requests, rich]");
        write(new, "spec.yaml", &spec);
    });
    let out = case.new_against_old(&[]);
    for value in ["s3cr3t", "rich"] {
        assert!(!out.contains(value), "{value} printed: {out}");
    }
    for shown in ["env.MODE changed: 'one' -> 'two'", "env.TOKEN changed\n"] {
        assert!(out.contains(shown), "{shown} not printed: {out}");
    }
    insta::assert_snapshot!("field_change", out);
}

#[test]
fn requirement_lines_added_and_removed() {
    let case = Case::pair(|new| {
        write(
            new,
            "requirements.txt",
            "numpy==2.1\npandas\nscipy>=1.13\n\
             private @ https://deploy:tok3n-s3cret@pypi.example/private-1.0.whl\n",
        );
    });
    let out = case.new_against_old(&[]);
    assert!(!out.contains("tok3n-s3cret"), "{out}");
    insta::assert_snapshot!("requirements_change", out);
}

#[test]
fn source_files_added_removed_and_changed() {
    let case = Case::pair(|new| {
        write(new, "src/pkg/a.py", "a = 2\n");
        write(new, "src/pkg/sub/c.py", "c = 1\n");
        std::fs::remove_file(new.join("src/main.py")).unwrap();
    });
    insta::assert_snapshot!("source_change", case.new_against_old(&[]));
}

#[test]
fn a_copy_file_changed() {
    let case = Case::pair(|new| write(new, "data/table.csv", "1,2\n3,4\n"));
    insta::assert_snapshot!("copy_change", case.new_against_old(&[]));
}

#[test]
fn unchanged() {
    let case = Case::pair(|_| {});
    insta::assert_snapshot!("unchanged", case.new_against_old(&[]));
}

#[test]
fn the_json_shape() {
    let case = Case::pair(|new| {
        write(new, "spec.yaml", &SPEC.replace("MODE: one", "MODE: two"));
        write(new, "requirements.txt", "numpy==2.0\n");
        write(new, "src/pkg/b.py", "b = 2\n");
    });
    let out = case.new_against_old(&["--json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["changed"], true);
    insta::assert_snapshot!("json", out);
}

#[test]
fn against_a_git_revision() {
    let root = tempfile::tempdir().unwrap();
    let case = Case {
        root,
        cache: tempfile::tempdir().unwrap(),
    };
    let repo = case.path("repo");
    for (rel, body) in files() {
        write(&repo, &format!("specs/{rel}"), &body);
    }
    write(&repo, "README.md", "not part of the spec\n");
    git(&repo, &["init", "-q", "."]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    // Committed again unchanged, then changed in the work tree only.
    let (code, out, err) = case.explain("repo/specs/spec.yaml", "git:HEAD", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("tag unchanged: "), "{out}");
    write(
        &repo,
        "specs/spec.yaml",
        &SPEC.replace("[requests]", "[requests, rich]"),
    );
    write(
        &repo,
        "specs/requirements.txt",
        "numpy==2.0\npandas\npolars\n",
    );
    write(&repo, "specs/src/pkg/b.py", "b = 2\n");
    write(&repo, "specs/data/new.bin", "new\n");
    write(&repo, "README.md", "changed, and no input of the spec\n");
    let (code, out, err) = case.explain("repo/specs/spec.yaml", "git:HEAD", &[]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("git_head", out);
    // The exported tree is removed afterwards.
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("imagespec-explain-")
        })
        .filter(|e| e.path().join("tree/specs/src/pkg/b.py").is_file())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let (code, _, err) = case.explain("repo/specs/spec.yaml", "git:no-such-rev", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("git_bad_revision", err);
}

#[test]
fn a_spec_file_against_that_is_missing_is_an_error() {
    let case = Case::pair(|_| {});
    let (code, _, err) = case.explain("new/spec.yaml", "old/nothere.yaml", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("old/nothere.yaml"), "{err}");
}
