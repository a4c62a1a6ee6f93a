//! imagespec-pycompat: Python's behaviour, byte for byte, where a result must
//! match what a CPython 3.11 process computes.
//!
//! | module | mirrors |
//! |---|---|
//! | [`value`] | Python values after `yaml.safe_load` and CPython 3.11's `repr()`, `str()`, `ascii()`, `==`, `bool()`; `repr(float)` (shortest digits by `ryu`, CPython's layout); `str.isprintable`, `isspace`, `strip`, `lower` under Unicode 14.0 |
//! | [`yaml`] | PyYAML 6.0.4's `yaml.safe_load` (YAML 1.1 resolvers, SafeConstructor's order, merge keys), on yaml-rust2's parser, with every node's line and column; typed `yaml.dump` output for the classes the caller names |
//! | [`format`](mod@format) | `str.format` (`Objects/stringlib/unicode_format.h`, `Python/formatter_unicode.c`) for a template with one keyword argument of type `str` |
//! | [`path`] | `posixpath` (`join`, `dirname`, `normpath`, `abspath`, `relpath`, `commonpath`), `fnmatch.fnmatch`, and docker-py's `fnmatch` and `PatternMatcher` (`docker/utils/build.py`) |
//!
//! It knows nothing of images, specs or the programs that use it: a caller
//! says which Python classes a typed YAML document may name
//! ([`yaml::PythonTags`]) and which names a template may use.
//!
//! ```
//! use imagespec_pycompat::{format::format, path, yaml};
//!
//! let node = yaml::load("python_version: 3.10\nflag: yes\n").unwrap().unwrap();
//! assert_eq!(node.to_py().repr(), "{'python_version': 3.1, 'flag': True}");
//! assert_eq!(format("{h:.3}-dev", "h", "abcdef").unwrap(), "abc-dev");
//! assert_eq!(path::normpath("a//b/../c/"), "a/c");
//! ```
//!
//! Inputs that no caller needs, or whose Python answer cannot be reproduced
//! faithfully, are refused with [`Error::YamlUnsupported`] or
//! [`Error::FormatUnsupported`] rather than emulated or approximated:
//!
//! - YAML `!!binary` (Python `bytes`), `!!omap` and `!!pairs` (lists of
//!   tuples), `!!set` (no stable order);
//! - a NaN mapping key (`.nan`, `!!float nan`: a dict finds it only by object
//!   identity), a tuple or object as a mapping key;
//! - a recursive alias, U+2028/U+2029 in YAML text, alias expansion past a
//!   million nodes, an integer of more than 4300 digits that Python reads but
//!   cannot print;
//! - every `!!python/` tag but `!!python/tuple` and the caller's classes
//!   (nothing is ever instantiated from a tag);
//! - in a format template, attribute lookups (`{name.upper}`) and widths
//!   above [`format::MAX_WIDTH`].
//!
//! Every other error is a failure Python has too, with Python's message
//! where the port has one (yaml-rust2 words YAML syntax errors its own way).
//! All of them are the one [`Error`] type. The golden data under
//! `tests/data/` comes from real CPython 3.11, PyYAML 6.0.4 and docker-py;
//! each `*_gen.py` there regenerates its `*_golden.json`.

pub mod error;
pub mod format;
pub mod path;
pub mod value;
pub mod yaml;

pub use error::Error;
pub use value::PyValue;
