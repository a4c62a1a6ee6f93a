//! docker-py's `fnmatch` (`docker/utils/fnmatch.py`) and `PatternMatcher`
//! (`docker/utils/build.py`) on POSIX.

use regex::Regex;

use super::pattern::{class_end, compile, push_literal, py_class_to_rust};
use super::posix::dirname;
use crate::error::Error;
use crate::value::{py_lower, py_strip};

/// docker-py's `translate` as a Rust regex (see the module docs).
fn docker_translate(pat: &[char]) -> Result<String, String> {
    let n = pat.len();
    let mut i = 0;
    let mut res = String::from(r"\A");
    while i < n {
        let c = pat[i];
        i += 1;
        match c {
            '*' if i < n && pat[i] == '*' => {
                i += 1;
                if i < n && pat[i] == '/' {
                    i += 1;
                }
                // `.*` / `(.*/)?` without re.S: `.` does not match `\n`.
                res.push_str(if i >= n { r"[^\n]*" } else { r"(?:[^\n]*/)?" });
            }
            '*' => res.push_str("[^/]*"),
            '?' => res.push_str("[^/]"),
            '[' => match class_end(pat, i) {
                None => push_literal(&mut res, '['),
                Some(j) => {
                    let mut stuff: Vec<char> = Vec::with_capacity(j - i);
                    for &ch in &pat[i..j] {
                        if ch == '\\' {
                            stuff.push('\\');
                        }
                        stuff.push(ch);
                    }
                    i = j + 1;
                    match stuff.first() {
                        Some('!') => stuff[0] = '^',
                        Some('^') => stuff.insert(0, '\\'),
                        _ => {}
                    }
                    res.push_str(&py_class_to_rust(&stuff)?);
                }
            },
            _ => push_literal(&mut res, c),
        }
    }
    // Python's `$`: end of string, or just before a final newline.
    res.push_str(r"\n?\z");
    Ok(res)
}

/// docker-py's compiled pattern: `re.compile(translate(pat.lower()))`.
pub(super) fn docker_compile(pat: &str) -> Result<Regex, String> {
    let lowered: Vec<char> = py_lower(pat).chars().collect();
    compile(&docker_translate(&lowered)?)
}

/// docker-py's `fnmatch.fnmatch(name, pat)`: case-insensitive (Python
/// `str.lower()` on both), `*`/`?` stop at `/`, `**` crosses directories.
/// [`Error::Pattern`] where Python's `re` raises (e.g. a class range like `[z-a]`).
pub fn docker_fnmatch(name: &str, pat: &str) -> Result<bool, Error> {
    let regex = docker_compile(pat).map_err(|message| pattern_error(pat, message))?;
    Ok(regex.is_match(&py_lower(name)))
}

pub(super) fn pattern_error(pattern: &str, message: String) -> Error {
    Error::Pattern {
        pattern: pattern.to_owned(),
        message,
    }
}

/// docker-py's `split_path` on POSIX: split on `/`, dropping empty and `.` parts.
pub fn split_path(p: &str) -> Vec<&str> {
    p.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

/// docker-py's `Pattern.normalize`.
fn normalize_pattern(p: &str) -> Vec<String> {
    let mut split: Vec<String> = split_path(py_strip(p))
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut i = 0;
    while i < split.len() {
        if split[i] == ".." {
            split.remove(i);
            if i > 0 {
                split.remove(i - 1);
                i -= 1;
            }
        } else {
            i += 1;
        }
    }
    split
}

/// How one pattern matches: a pattern without wildcards is its (lower-cased)
/// text, compared as it is; the others are docker-py's regex.
#[derive(Debug, Clone)]
enum Matcher {
    /// `\A<text>\n?\z`: the text, or the text and a final newline.
    Literal(String),
    Regex(Regex),
}

impl Matcher {
    fn is_match(&self, lowered: &str) -> bool {
        match self {
            Matcher::Literal(text) => {
                lowered == text || lowered.strip_suffix('\n') == Some(text.as_str())
            }
            Matcher::Regex(re) => re.is_match(lowered),
        }
    }
}

/// One docker-py `Pattern`.
#[derive(Debug, Clone)]
pub(super) struct DockerPattern {
    pub(super) exclusion: bool,
    pub(super) dirs: usize,
    pub(super) cleaned: String,
    matcher: Matcher,
}

impl DockerPattern {
    /// `Pattern(pattern_str)`; `None` when it has no parts (filtered out by
    /// `PatternMatcher`).
    fn new(pattern: &str) -> Result<Option<Self>, Error> {
        let (exclusion, rest) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let dirs = normalize_pattern(rest);
        if dirs.is_empty() {
            return Ok(None);
        }
        let cleaned = dirs.join("/");
        let matcher = match cleaned.contains(['*', '?', '[', '\\']) {
            false => Matcher::Literal(py_lower(&cleaned)),
            true => Matcher::Regex(
                docker_compile(&cleaned).map_err(|message| pattern_error(pattern, message))?,
            ),
        };
        Ok(Some(Self {
            exclusion,
            dirs: dirs.len(),
            cleaned,
            matcher,
        }))
    }
}

/// Python's `[l.strip() for l in f.readlines() if l and not l.startswith("#")]`
/// (how `.dockerignore` files are commonly read) for a file read in text mode: universal newlines (`\r\n`, `\r` and `\n` each
/// end a line), the `#` test on the raw line, then Python's `str.strip()`.
pub fn ignore_file_patterns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match rest.find(['\r', '\n']) {
            Some(k) => {
                let eol = if rest[k..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..k], &rest[k + eol..])
            }
            None => (rest, ""),
        };
        if !line.starts_with('#') {
            out.push(py_strip(line).to_owned());
        }
        rest = next;
    }
    out
}

/// The most patterns an ignore file may hold: each is checked against every
/// file, so a file of a hundred thousand would make a walk crawl.
pub const MAX_PATTERNS: usize = 10_000;

/// docker-py's `PatternMatcher`.
#[derive(Debug, Clone)]
pub struct DockerIgnorePatterns {
    pub(super) patterns: Vec<DockerPattern>,
}

impl DockerIgnorePatterns {
    /// `PatternMatcher(patterns)` for the [`ignore_file_patterns`] of a
    /// `.dockerignore` with this text.
    ///
    /// [`Error::Pattern`] when a pattern is one Python's `re` rejects. (Python
    /// raises on the first `PatternMatcher.matches` call instead, which
    /// compiles every pattern on every call.)
    pub fn from_file_text(text: &str) -> Result<Self, Error> {
        let patterns = ignore_file_patterns(text);
        if patterns.len() > MAX_PATTERNS {
            return Err(Error::Pattern {
                pattern: String::new(),
                message: format!(
                    "the file holds {} patterns; imagespec reads at most {MAX_PATTERNS}",
                    patterns.len()
                ),
            });
        }
        Self::new(patterns)
    }

    /// docker-py's `PatternMatcher(patterns)`: patterns with no parts are dropped
    /// and `!.dockerignore` is appended last.
    pub fn new<I, S>(patterns: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for p in patterns {
            out.extend(DockerPattern::new(p.as_ref())?);
        }
        out.extend(DockerPattern::new("!.dockerignore")?);
        Ok(Self { patterns: out })
    }

    /// The kept patterns in order, as `(exclusion, cleaned_pattern)`.
    pub fn patterns(&self) -> impl Iterator<Item = (bool, &str)> + '_ {
        self.patterns
            .iter()
            .map(|p| (p.exclusion, p.cleaned.as_str()))
    }

    /// docker-py's `PatternMatcher.matches(filepath)` on POSIX: a pattern matches
    /// the path itself or, if the path has a parent, the path's first
    /// `len(pattern.dirs)` parent directories; the last matching pattern wins.
    pub fn matches(&self, filepath: &str) -> bool {
        let lowered = py_lower(filepath);
        let parent = dirname(filepath);
        let parent_dirs = split_path(parent);
        // The parent's first k folders, lower-cased, made once per k.
        let mut prefixes: Vec<Option<String>> = vec![None; parent_dirs.len() + 1];
        // The last matching pattern decides: look from the end.
        for pattern in self.patterns.iter().rev() {
            let mut hit = pattern.matcher.is_match(&lowered);
            if !hit && !parent.is_empty() && pattern.dirs <= parent_dirs.len() {
                let prefix = prefixes[pattern.dirs]
                    .get_or_insert_with(|| py_lower(&parent_dirs[..pattern.dirs].join("/")));
                hit = pattern.matcher.is_match(prefix);
            }
            if hit {
                return !pattern.exclusion;
            }
        }
        false
    }
}
