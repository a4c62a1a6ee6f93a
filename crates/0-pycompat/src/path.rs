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
mod posix;
#[cfg(test)]
mod tests;

pub use docker::{docker_fnmatch, ignore_file_patterns, split_path, DockerIgnorePatterns};
pub use fnmatch::{py_fnmatch, FnmatchPatterns};
pub use posix::{abspath, commonpath, dirname, isabs, join, normpath, relpath};
