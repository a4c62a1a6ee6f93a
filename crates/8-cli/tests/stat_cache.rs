//! The stat cache notices every change to a source tree: each test settles
//! a tree, checks that an unchanged tree's digest comes from the cache, makes
//! one change, and checks that the next tag is computed again and equals the
//! tag `--no-cache` computes from the bytes.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

struct Tree {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

const REUSED: &str = "stat cache: unchanged, digest reused";

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("spec.yaml"),
            "name: sc\npython_version: \"3.12\"\nsource_root: src\nsource_copy_mode: all\n\
             copy: [extra]\n",
        )
        .unwrap();
        for (path, body) in [
            ("src/a.py", "a = 1\n"),
            ("src/b.py", "b = 2\n"),
            ("src/sub/c.py", "c = 3\n"),
            ("src/.dockerignore", "**/*.tmp\n"),
            ("extra/data.txt", "data\n"),
        ] {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        Tree {
            dir,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `tag`, with this tree's cache (or none): the image name, and how
    /// many of its two digests (source_root, copy) came from the cache.
    fn tag(&self, cache: bool) -> (String, usize) {
        let mut cmd = common::imagespec();
        cmd.env("IMAGESPEC_CACHE_DIR", self.cache.path())
            .env("IMAGESPEC_LOG", "imagespec_inputs=debug");
        cmd.arg("tag");
        if !cache {
            cmd.arg("--no-cache");
        }
        let out = cmd.arg(self.dir.path().join("spec.yaml")).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        (
            String::from_utf8(out.stdout).unwrap().trim().to_string(),
            stderr.matches(REUSED).count(),
        )
    }

    /// Waits until every file is older than the racy window, runs `tag`
    /// (which stores the digests) and checks that a second run reuses them.
    fn settle(&self) -> String {
        std::thread::sleep(Duration::from_millis(2_100));
        let (first, reused) = self.tag(true);
        assert_eq!(reused, 0, "a fresh cache has nothing to reuse");
        let (again, reused) = self.tag(true);
        assert_eq!(reused, 2, "an unchanged tree's digests come from the cache");
        assert_eq!(first, again);
        first
    }

    /// After a change to one of the two inputs: its digest is computed (the
    /// other's is reused), and the tag equals the uncached one.
    fn assert_recomputed(&self) -> String {
        let (cached, reused) = self.tag(true);
        assert_eq!(
            reused, 1,
            "a changed tree's digest was taken from the cache"
        );
        let (uncached, reused) = self.tag(false);
        assert_eq!(reused, 0, "--no-cache used the cache");
        assert_eq!(cached, uncached);
        cached
    }
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn a_touched_file_is_hashed_again() {
    let t = Tree::new();
    let before = t.settle();
    set_mtime(&t.path("src/a.py"), SystemTime::now());
    assert_eq!(t.assert_recomputed(), before, "same bytes, same tag");
}

#[test]
fn an_edit_of_the_same_size_with_its_mtime_put_back_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    let p = t.path("src/sub/c.py");
    let old = mtime(&p);
    std::fs::write(&p, "c = 4\n").unwrap();
    set_mtime(&p, old);
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn an_edit_of_a_copy_entry_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    std::fs::write(t.path("extra/data.txt"), "DATA\n").unwrap();
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn a_renamed_file_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    std::fs::rename(t.path("src/b.py"), t.path("src/b2.py")).unwrap();
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn a_deleted_file_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    std::fs::remove_file(t.path("src/sub/c.py")).unwrap();
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn a_new_file_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    std::fs::write(t.path("src/sub/d.py"), "d = 5\n").unwrap();
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn a_changed_ignore_file_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    std::fs::write(t.path("src/.dockerignore"), "**/*.tmp\n**/b.py\n").unwrap();
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn a_file_replaced_by_another_with_the_same_size_and_mtime_is_seen() {
    let t = Tree::new();
    let before = t.settle();
    let p = t.path("src/a.py");
    let other = t.path("a.new");
    std::fs::write(&other, "a = 9\n").unwrap();
    set_mtime(&other, mtime(&p));
    std::fs::rename(&other, &p).unwrap();
    assert_ne!(t.assert_recomputed(), before);
}

#[test]
fn files_changed_moments_ago_are_not_trusted() {
    // git's racy rule: just-written files could change again within the
    // timestamp granularity without their stats changing, so nothing is
    // stored for them and the next run hashes again.
    let t = Tree::new();
    let (first, _) = t.tag(true);
    let (second, reused) = t.tag(true);
    assert_eq!(reused, 0, "a digest of just-written files was reused");
    assert_eq!(first, second);
}

#[test]
fn no_cache_neither_reads_nor_writes_the_cache() {
    let t = Tree::new();
    std::thread::sleep(Duration::from_millis(2_100));
    let (uncached, reused) = t.tag(false);
    assert_eq!(reused, 0);
    assert!(
        std::fs::read_dir(t.cache.path()).unwrap().next().is_none(),
        "--no-cache wrote to the cache folder"
    );
    t.tag(true);
    let (cached, reused) = t.tag(true);
    assert_eq!(reused, 2);
    assert_eq!(cached, uncached);
    let (again, reused) = t.tag(false);
    assert_eq!(reused, 0, "--no-cache read the cache");
    assert_eq!(again, uncached);
}
