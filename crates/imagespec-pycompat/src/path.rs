//! Exact ports of the Python path and pattern helpers that decide which files
//! a Python tool picks. Every function is pure: no file system access, no
//! process state (the working directory is a parameter).
//!
//! * [`join`], [`dirname`], [`normpath`], [`isabs`], [`abspath`], [`relpath`]
//!   and [`commonpath`] mirror CPython 3.11's `Lib/posixpath.py` (`normpath`
//!   ports the pure-Python fallback; the golden tests check it against the C
//!   `posix._path_normpath` that CPython 3.11 runs).
//! * [`py_fnmatch`] and [`FnmatchPatterns`] mirror CPython 3.11's
//!   `fnmatch.fnmatch` (`Lib/fnmatch.py`: `fnmatch`, `translate`;
//!   `os.path.normcase` is the identity on POSIX).
//! * [`DockerIgnorePatterns`] and [`docker_fnmatch`] mirror docker-py's
//!   `PatternMatcher` (`docker/utils/build.py`: `PatternMatcher`, `Pattern`,
//!   `split_path`) and its own `fnmatch` (`docker/utils/fnmatch.py`);
//!   [`ignore_file_patterns`] is Python's
//!   `[l.strip() for l in f.readlines() if l and not l.startswith("#")]`
//!   for a file opened in text mode (universal newlines).
//!
//! Python's `re` is emulated with the `regex` crate by translating every shell
//! pattern directly into a regex made only of `\x{..}` escapes, a few fixed
//! constructs and character classes rebuilt from a faithful re-parse of the
//! class text Python's `re` would have seen (`re/_parser.py`, the `[` branch
//! of `_parse`). Rust-only class syntax (`&&`, `--`, `~~`, nested `[`,
//! `[:alpha:]`) can therefore never be triggered, and class ranges Python
//! rejects (`bad character range`) are [`Error::Pattern`]s. Details that
//! matter:
//!
//! * docker-py's regex ends in `$`, which (without `re.M`) matches at the end
//!   *or* before a final `\n`; it is emitted as `\n?\z`.
//! * docker-py's `.` (from `**`) does not match `\n` (no `re.S`), while
//!   `[^/]` does; CPython's `fnmatch` wraps everything in `(?s:...)\Z`.
//! * CPython's `(?>.*?fixed)` atomic groups are emitted as plain `.*`: every
//!   fixed piece has a fixed width and is followed by a star or the end, so
//!   whether a match exists does not change.

mod docker;
mod fnmatch;
mod pattern;
#[cfg(test)]
mod tests;

pub use docker::{docker_fnmatch, ignore_file_patterns, split_path, DockerIgnorePatterns};
pub use fnmatch::{py_fnmatch, FnmatchPatterns};

use crate::error::Error;

fn path_error(function: &'static str, message: &str) -> Error {
    Error::Path {
        function,
        message: message.to_owned(),
    }
}

/// `posixpath.isabs`.
pub fn isabs(s: &str) -> bool {
    s.starts_with('/')
}

/// `posixpath.join(a, b)` (two parts).
pub fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.to_owned()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `posixpath.dirname`.
pub fn dirname(p: &str) -> &str {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let head = &p[..i];
    if !head.is_empty() && !head.bytes().all(|b| b == b'/') {
        head.trim_end_matches('/')
    } else {
        head
    }
}

/// `posixpath.normpath`.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    // One or two initial slashes are kept, three or more become one.
    let initial_slashes = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else {
        usize::from(path.starts_with('/'))
    };
    let mut comps: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial_slashes == 0 && comps.is_empty()) || comps.last() == Some(&"..")
        {
            comps.push(comp);
        } else {
            comps.pop();
        }
    }
    let out = format!("{}{}", "/".repeat(initial_slashes), comps.join("/"));
    if out.is_empty() {
        ".".to_owned()
    } else {
        out
    }
}

/// `posixpath.abspath`, with `os.getcwd()` passed in as `cwd`.
pub fn abspath(path: &str, cwd: &str) -> String {
    if isabs(path) {
        normpath(path)
    } else {
        normpath(&join(cwd, path))
    }
}

/// `posixpath.relpath(path, start)`, with `os.getcwd()` passed in as `cwd`
/// (used by `abspath` for relative inputs). [`Error::Path`] where Python
/// raises `ValueError` (an empty `path`).
pub fn relpath(path: &str, start: &str, cwd: &str) -> Result<String, Error> {
    if path.is_empty() {
        return Err(path_error("relpath", "no path specified"));
    }
    let start_abs = abspath(start, cwd);
    let path_abs = abspath(path, cwd);
    let start_list: Vec<&str> = start_abs.split('/').filter(|x| !x.is_empty()).collect();
    let path_list: Vec<&str> = path_abs.split('/').filter(|x| !x.is_empty()).collect();
    let common = start_list
        .iter()
        .zip(&path_list)
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel: Vec<&str> = vec![".."; start_list.len() - common];
    rel.extend_from_slice(&path_list[common..]);
    if rel.is_empty() {
        Ok(".".to_owned())
    } else {
        Ok(rel.join("/"))
    }
}

/// `posixpath.commonpath(paths)`. [`Error::Path`] where Python raises
/// `ValueError` (no paths, or absolute and relative paths mixed).
pub fn commonpath(paths: &[&str]) -> Result<String, Error> {
    const EMPTY: &str = "commonpath() arg is an empty sequence";
    let Some(first) = paths.first() else {
        return Err(path_error("commonpath", EMPTY));
    };
    let abs = isabs(first);
    if paths.iter().any(|p| isabs(p) != abs) {
        return Err(path_error(
            "commonpath",
            "Can't mix absolute and relative paths",
        ));
    }
    let split: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect()
        })
        .collect();
    // Python compares lists of str lexicographically by code point; Rust's
    // `Vec<&str>` order (bytes of UTF-8) is the same order.
    let (Some(s1), Some(s2)) = (split.iter().min(), split.iter().max()) else {
        return Err(path_error("commonpath", EMPTY));
    };
    let common = s1.iter().zip(s2).take_while(|(a, b)| a == b).count();
    let prefix = if abs { "/" } else { "" };
    Ok(format!("{prefix}{}", s1[..common].join("/")))
}
