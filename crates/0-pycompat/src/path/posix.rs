//! Python's `posixpath`: the path arithmetic flytekit's file handling relies on.

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
