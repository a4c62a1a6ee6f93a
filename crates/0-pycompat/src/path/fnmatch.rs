//! CPython 3.11's `fnmatch.fnmatch` (`Lib/fnmatch.py`) on POSIX.

use regex::Regex;

use super::pattern::{class_end, compile, push_literal, py_class_to_rust};
use crate::error::Error;

/// Escape `&`, `~` and `|` (CPython's `re.sub(r'([&~|])', r'\\\1', stuff)`).
fn escape_set_ops(stuff: Vec<char>) -> Vec<char> {
    let mut out = Vec::with_capacity(stuff.len());
    for c in stuff {
        if matches!(c, '&' | '~' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn escape_chunk(chunk: &[char], out: &mut Vec<char>) {
    for &c in chunk {
        if c == '\\' || c == '-' {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The body CPython's `translate` puts inside `[...]` for `pat[i..j]`, or
/// `Err` where Python raises (an `IndexError` on degenerate chunks).
fn cpython_class_stuff(pat: &[char], i: usize, j: usize) -> Result<Vec<char>, String> {
    let body = &pat[i..j];
    if !body.contains(&'-') {
        let mut out = Vec::with_capacity(body.len());
        for &c in body {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        return Ok(out);
    }
    let mut chunks: Vec<Vec<char>> = Vec::new();
    let mut i = i;
    let mut k = if pat[i] == '!' { i + 2 } else { i + 1 };
    while let Some(found) = (k < j)
        .then(|| pat[k..j].iter().position(|&c| c == '-'))
        .flatten()
    {
        let dash = k + found;
        chunks.push(pat[i..dash].to_vec());
        i = dash + 1;
        k = dash + 3;
    }
    let chunk = &pat[i..j];
    if !chunk.is_empty() {
        chunks.push(chunk.to_vec());
    } else {
        chunks
            .last_mut()
            .ok_or_else(|| "IndexError: list index out of range".to_owned())?
            .push('-');
    }
    // Remove empty ranges -- invalid in RE.
    for k in (1..chunks.len()).rev() {
        let (Some(&last), Some(&first)) = (chunks[k - 1].last(), chunks[k].first()) else {
            return Err("IndexError: string index out of range".to_owned());
        };
        if last > first {
            let tail: Vec<char> = chunks[k][1..].to_vec();
            chunks[k - 1].pop();
            chunks[k - 1].extend(tail);
            chunks.remove(k);
        }
    }
    let mut out = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        if n > 0 {
            out.push('-');
        }
        escape_chunk(chunk, &mut out);
    }
    Ok(out)
}

/// CPython 3.11's `fnmatch.translate` as a Rust regex (see the module docs).
fn cpython_translate(pat: &[char]) -> Result<String, String> {
    let n = pat.len();
    let mut i = 0;
    let mut res = String::from(r"\A(?s:");
    let mut last_star = false;
    while i < n {
        let c = pat[i];
        i += 1;
        if c == '*' {
            // Runs of `*` collapse into one `.*`.
            if !last_star {
                res.push_str(".*");
            }
            last_star = true;
            continue;
        }
        last_star = false;
        match c {
            '?' => res.push('.'),
            '[' => match class_end(pat, i) {
                None => push_literal(&mut res, '['),
                Some(j) => {
                    let mut stuff = escape_set_ops(cpython_class_stuff(pat, i, j)?);
                    i = j + 1;
                    if stuff.is_empty() {
                        // `(?!)`: never matches.
                        res.push_str(r"[^\x{0}-\x{10FFFF}]");
                    } else if stuff == ['!'] {
                        res.push('.');
                    } else {
                        match stuff[0] {
                            '!' => stuff[0] = '^',
                            '^' | '[' => stuff.insert(0, '\\'),
                            _ => {}
                        }
                        res.push_str(&py_class_to_rust(&stuff)?);
                    }
                }
            },
            _ => push_literal(&mut res, c),
        }
    }
    res.push_str(r")\z");
    Ok(res)
}

/// `re.compile(fnmatch.translate(pat))`.
pub(super) fn cpython_compile(pat: &str) -> Result<Regex, String> {
    let chars: Vec<char> = pat.chars().collect();
    compile(&cpython_translate(&chars)?)
}

/// CPython 3.11's `fnmatch.fnmatch(name, pat)` on POSIX: case-sensitive, `*`
/// and `?` match `/` too. `false` for a pattern Python would raise on
/// ([`FnmatchPatterns::new`] reports those).
pub fn py_fnmatch(name: &str, pat: &str) -> bool {
    cpython_compile(pat).is_ok_and(|re| re.is_match(name))
}

/// Several patterns compiled once: `any(fnmatch.fnmatch(path, p) for p in patterns)`.
#[derive(Debug, Clone)]
pub struct FnmatchPatterns {
    patterns: Vec<Regex>,
}

impl FnmatchPatterns {
    /// Compiles each pattern as `re.compile(fnmatch.translate(p))`;
    /// [`Error::Pattern`] for one Python would raise on.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, Error> {
        let patterns = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                cpython_compile(p).map_err(|message| Error::Pattern {
                    pattern: p.to_owned(),
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// Whether any pattern [`py_fnmatch`]es `path`.
    pub fn matches(&self, path: &str) -> bool {
        self.patterns.iter().any(|re| re.is_match(path))
    }
}
