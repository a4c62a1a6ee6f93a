//! Golden tests against real CPython 3.11 and docker-py.
//!
//! `tests/data/pycompat_path_golden.json` is produced by
//! `tests/data/pycompat_path_gen.py`; regenerate it (from the crate directory,
//! with a virtualenv holding flytekit==1.16.31, which brings docker-py) with
//!
//! ```text
//! /tmp/fk/bin/python tests/data/pycompat_path_gen.py > tests/data/pycompat_path_golden.json
//! ```
use super::docker::docker_compile;
use super::fnmatch::cpython_compile;
use super::*;
use crate::error::Error;
use crate::value::{py_isspace, py_lower, py_strip};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

/// The patterns whose matches the golden `standard` section records
/// (`std_ignored` in the generator).
const STANDARD_PATTERNS: [&str; 5] = [
    "*.pyc",
    ".cache",
    ".cache/*",
    "__pycache__/*",
    "**/__pycache__/*",
];

fn standard_ignored(path: &str) -> bool {
    static STANDARD: LazyLock<FnmatchPatterns> =
        LazyLock::new(|| FnmatchPatterns::new(&STANDARD_PATTERNS).expect("valid patterns"));
    STANDARD.matches(path)
}

static GOLDEN: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../tests/data/pycompat_path_golden.json"))
        .expect("golden file is valid JSON")
});

fn cases(key: &str) -> &'static [Value] {
    GOLDEN[key].as_array().expect("golden section is an array")
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string in golden")
}

fn opt_s(v: &Value) -> Option<&str> {
    v.as_str()
}

/// Collects mismatches so one run reports all of them.
#[derive(Debug, Default)]
struct Failures {
    count: usize,
    text: String,
}

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.count += 1;
            if self.count <= 40 {
                let _ = writeln!(self.text, "{}", what());
            }
        }
    }

    fn assert(self, section: &str) {
        assert!(
            self.count == 0,
            "{section}: {} mismatches\n{}",
            self.count,
            self.text
        );
    }
}

fn all_chars() -> impl Iterator<Item = char> {
    (0..=0x10FFFFu32).filter_map(char::from_u32)
}

#[test]
fn golden_isspace_every_code_point() {
    let set: HashSet<u32> = cases("isspace")
        .iter()
        .map(|v| v.as_u64().expect("code point") as u32)
        .collect();
    let mut f = Failures::default();
    for c in all_chars() {
        let want = set.contains(&u32::from(c));
        f.check(py_isspace(c) == want, || format!("{c:?}: want {want}"));
    }
    f.assert("isspace");
}

#[test]
fn golden_lower_every_code_point() {
    let map: HashMap<u32, &str> = cases("lower")
        .iter()
        .map(|v| (v[0].as_u64().expect("code point") as u32, s(&v[1])))
        .collect();
    let mut f = Failures::default();
    for c in all_chars() {
        let own = c.to_string();
        let want = map.get(&u32::from(c)).copied().unwrap_or(&own);
        let got = py_lower(&own);
        f.check(got == want, || {
            format!("U+{:04X}: got {got:?} want {want:?}", u32::from(c))
        });
    }
    f.assert("lower");
}

#[test]
fn golden_lower_strings_and_strip() {
    let mut f = Failures::default();
    for v in cases("lower_strings") {
        let got = py_lower(s(&v[0]));
        f.check(got == s(&v[1]), || {
            format!("lower {:?}: got {got:?} want {:?}", v[0], v[1])
        });
    }
    for v in cases("strip") {
        let got = py_strip(s(&v[0]));
        f.check(got == s(&v[1]), || {
            format!("strip {:?}: got {got:?} want {:?}", v[0], v[1])
        });
    }
    f.assert("lower_strings/strip");
}

#[test]
fn golden_dockerignore_files() {
    let mut f = Failures::default();
    for case in cases("ignore_files") {
        let text = s(&case["text"]);
        let want_pats: Vec<&str> = case["pats"]
            .as_array()
            .expect("pats")
            .iter()
            .map(s)
            .collect();
        let got_pats = ignore_file_patterns(text);
        f.check(got_pats == want_pats, || {
            format!("{text:?}: patterns {got_pats:?} want {want_pats:?}")
        });
        let matcher = DockerIgnorePatterns::from_file_text(text);
        let Some(want_res) = opt_s(&case["res"]) else {
            f.check(matcher.is_err(), || format!("{text:?}: want Err"));
            continue;
        };
        check_matcher(&mut f, text, matcher, case, want_res);
    }
    f.assert("ignore_files");
}

/// `PatternMatcher(patterns)` with raw (unstripped, `!`-prefixed) patterns.
#[test]
fn golden_pattern_matcher() {
    let mut f = Failures::default();
    for case in cases("matcher") {
        let pats: Vec<&str> = case["pats"]
            .as_array()
            .expect("pats")
            .iter()
            .map(s)
            .collect();
        let label = format!("{pats:?}");
        let matcher = DockerIgnorePatterns::new(&pats);
        match opt_s(&case["res"]) {
            Some(want_res) => check_matcher(&mut f, &label, matcher, case, want_res),
            None => f.check(matcher.is_err(), || format!("{label}: want Err")),
        }
    }
    f.assert("matcher");
}

fn check_matcher(
    f: &mut Failures,
    label: &str,
    matcher: Result<DockerIgnorePatterns, Error>,
    case: &Value,
    want_res: &str,
) {
    let matcher = match matcher {
        Ok(m) => m,
        Err(e) => return f.check(false, || format!("{label}: unexpected Err {e}")),
    };
    let want_dirs: Vec<(bool, &str, usize)> = case["dirs"]
        .as_array()
        .expect("dirs")
        .iter()
        .map(|d| (d[0] == 1, s(&d[1]), d[2].as_u64().expect("len") as usize))
        .collect();
    let got_dirs: Vec<(bool, &str, usize)> = matcher
        .patterns
        .iter()
        .map(|p| (p.exclusion, p.cleaned.as_str(), p.dirs))
        .collect();
    f.check(got_dirs == want_dirs, || {
        format!("{label}: dirs {got_dirs:?} want {want_dirs:?}")
    });
    let paths = case["paths"].as_array().expect("paths");
    f.check(paths.len() == want_res.len(), || {
        format!("{label}: result count")
    });
    for (path, want) in paths.iter().map(s).zip(want_res.chars()) {
        let got = matcher.matches(path);
        f.check(got == (want == '1'), || {
            format!("{label} matches {path:?}: got {got} want {want}")
        });
    }
}

#[test]
fn golden_docker_fnmatch() {
    let mut f = Failures::default();
    for v in cases("docker_fnmatch") {
        let (name, pat) = (s(&v[0]), s(&v[1]));
        let want = v[2].as_u64().map(|r| r == 1);
        let got = docker_fnmatch(name, pat).ok();
        f.check(got == want, || {
            format!("fnmatch({name:?}, {pat:?}): got {got:?} want {want:?}")
        });
    }
    f.assert("docker_fnmatch");
}

#[test]
fn golden_cpython_fnmatch() {
    let mut f = Failures::default();
    for v in cases("fnmatch") {
        let (name, pat) = (s(&v[0]), s(&v[1]));
        let want = v[2].as_u64().map(|r| r == 1);
        let got = cpython_compile(pat).ok().map(|re| re.is_match(name));
        f.check(got == want, || {
            format!("fnmatch({name:?}, {pat:?}): got {got:?} want {want:?}")
        });
        f.check(py_fnmatch(name, pat) == want.unwrap_or(false), || {
            format!("py_fnmatch({name:?}, {pat:?})")
        });
    }
    for v in cases("standard") {
        let path = s(&v[0]);
        let want = v[1] == 1;
        f.check(standard_ignored(path) == want, || {
            format!("standard {path:?}: want {want}")
        });
    }
    f.assert("fnmatch");
}

/// Every class `[xyz]` over a small alphabet, against a fixed list of names.
#[test]
fn golden_class_tables() {
    let names: Vec<&str> = cases("class_names").iter().map(s).collect();
    let mut f = Failures::default();
    for (key, docker) in [
        ("docker_classes", true),
        ("fnmatch_classes", false),
        ("fnmatch_classes4", false),
    ] {
        for v in cases(key) {
            let pat = s(&v[0]);
            let compiled = if docker {
                docker_compile(pat)
            } else {
                cpython_compile(pat)
            };
            let got: Option<String> = compiled.ok().map(|re| {
                names
                    .iter()
                    .map(|n| {
                        let n = if docker { py_lower(n) } else { (*n).to_owned() };
                        if re.is_match(&n) {
                            '1'
                        } else {
                            '0'
                        }
                    })
                    .collect()
            });
            let want = opt_s(&v[1]);
            f.check(got.as_deref() == want, || {
                format!("{key} {pat:?}: got {got:?} want {want:?}")
            });
        }
    }
    f.assert("class tables");
}

#[test]
fn golden_posixpath() {
    let mut f = Failures::default();
    for v in cases("normpath") {
        let got = normpath(s(&v[0]));
        f.check(got == s(&v[1]), || {
            format!("normpath {:?}: got {got:?} want {:?}", v[0], v[1])
        });
    }
    for v in cases("dirname") {
        let got = dirname(s(&v[0]));
        f.check(got == s(&v[1]), || {
            format!("dirname {:?}: got {got:?} want {:?}", v[0], v[1])
        });
    }
    for v in cases("isabs") {
        let got = isabs(s(&v[0]));
        f.check(got == (v[1] == 1), || format!("isabs {:?}", v[0]));
    }
    for v in cases("join") {
        let got = join(s(&v[0]), s(&v[1]));
        f.check(got == s(&v[2]), || {
            format!("join {:?} {:?}: got {got:?} want {:?}", v[0], v[1], v[2])
        });
    }
    for v in cases("relpath") {
        let got = relpath(s(&v[0]), s(&v[1]), s(&v[2])).ok();
        let want = opt_s(&v[3]);
        f.check(got.as_deref() == want, || {
            format!(
                "relpath {:?} {:?} cwd {:?}: got {got:?} want {want:?}",
                v[0], v[1], v[2]
            )
        });
    }
    for v in cases("commonpath") {
        let paths: Vec<&str> = v[0].as_array().expect("paths").iter().map(s).collect();
        let got = commonpath(&paths).ok();
        let want = opt_s(&v[1]);
        f.check(got.as_deref() == want, || {
            format!("commonpath {paths:?}: got {got:?} want {want:?}")
        });
    }
    f.assert("posixpath");
}

#[test]
fn hand_picked() {
    assert!(!'\u{1c}'.is_whitespace() && py_isspace('\u{1c}'));
    assert_eq!(py_strip("\u{1f} a \u{85}"), "a");
    assert_eq!(py_lower("İ"), "i\u{307}");
    assert_eq!(py_lower("ΑΣ"), "ας");
    assert_eq!(
        ignore_file_patterns("a\r\nb\rc\n #d\n#e\r\n"),
        ["a", "b", "c", "#d"]
    );
    assert_eq!(
        docker_fnmatch("a", "[z-a]").unwrap_err(),
        Error::Pattern {
            pattern: "[z-a]".to_owned(),
            message: "bad character range z-a".to_owned()
        }
    );
    assert!(DockerIgnorePatterns::from_file_text("[z-a]\n").is_err());
    // CPython's fnmatch drops an empty range rather than raise.
    let any = FnmatchPatterns::new(&["b", "[z-a]"]).expect("valid");
    assert!(any.matches("b") && !any.matches("a"));
    assert!(docker_fnmatch("a\n", "a").unwrap_or(false));
    assert!(!docker_fnmatch("a\nb", "**").unwrap_or(true));
    assert!(docker_fnmatch("a\nb", "*").unwrap_or(false));
    assert!(docker_fnmatch("&", "[&&]").unwrap_or(false));
    assert!(docker_fnmatch(":", "[[:alpha:]]").is_ok());
    let m = DockerIgnorePatterns::from_file_text("src/**\n!src/keep.py\n").expect("valid");
    assert!(m.matches("src/a/b.py"));
    assert!(!m.matches("src/keep.py"));
    assert!(!m.matches(".dockerignore"));
    assert!(standard_ignored("a/__pycache__/x.pyc"));
    assert!(standard_ignored(".cache/a/b"));
    assert!(!standard_ignored("a.py"));
    assert!(!py_fnmatch("a", "[z-a]"));
    assert_eq!(
        commonpath(&["/a", "b"]).unwrap_err().to_string(),
        "commonpath: Can't mix absolute and relative paths"
    );
    assert_eq!(
        relpath("", "/", "/").unwrap_err().message(),
        "no path specified"
    );
    assert_eq!(relpath("/a/b", "/a/c", "/").unwrap(), "../b");
    assert_eq!(relpath("x", ".", "/w").unwrap(), "x");
}
