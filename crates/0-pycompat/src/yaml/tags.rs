//! The tags and limits every stage of the loader keeps.

use crate::value::PyValue;

/// Deepest nesting accepted (PyYAML itself gives up near 500 levels, on Python's
/// recursion limit).
pub(super) const MAX_DEPTH: usize = 1000;

/// The most nodes an alias-expanded document may unfold to ("billion laughs").
pub(super) const MAX_ASSEMBLED_NODES: usize = 1_000_000;

/// `repr(s)` of a Python `str`, for messages.
pub(super) fn py_repr_str(s: &str) -> String {
    PyValue::Str(s.to_owned()).repr()
}

// The standard tags (`tag:yaml.org,2002:...`, written `!!...`).
pub(super) const TAG_PREFIX: &str = "tag:yaml.org,2002:";
pub(super) const TAG_NULL: &str = "tag:yaml.org,2002:null";
pub(super) const TAG_BOOL: &str = "tag:yaml.org,2002:bool";
pub(super) const TAG_INT: &str = "tag:yaml.org,2002:int";
pub(super) const TAG_FLOAT: &str = "tag:yaml.org,2002:float";
pub(super) const TAG_BINARY: &str = "tag:yaml.org,2002:binary";
pub(super) const TAG_TIMESTAMP: &str = "tag:yaml.org,2002:timestamp";
pub(super) const TAG_OMAP: &str = "tag:yaml.org,2002:omap";
pub(super) const TAG_PAIRS: &str = "tag:yaml.org,2002:pairs";
pub(super) const TAG_SET: &str = "tag:yaml.org,2002:set";
pub(super) const TAG_STR: &str = "tag:yaml.org,2002:str";
pub(super) const TAG_SEQ: &str = "tag:yaml.org,2002:seq";
pub(super) const TAG_MAP: &str = "tag:yaml.org,2002:map";
pub(super) const TAG_MERGE: &str = "tag:yaml.org,2002:merge";
pub(super) const TAG_VALUE: &str = "tag:yaml.org,2002:value";
pub(super) const TAG_YAML: &str = "tag:yaml.org,2002:yaml";
/// Every `!!python/...` tag starts so.
pub(super) const TAG_PYTHON: &str = "tag:yaml.org,2002:python/";
pub(super) const TAG_PY_TUPLE: &str = "tag:yaml.org,2002:python/tuple";
/// Followed by a class path.
pub(super) const TAG_PY_OBJECT: &str = "tag:yaml.org,2002:python/object:";
/// Followed by a callable's path.
pub(super) const TAG_PY_APPLY: &str = "tag:yaml.org,2002:python/object/apply:";
/// The non-specific tag `!`: resolved as if the node were plain.
pub(super) const TAG_NON_SPECIFIC: &str = "!";
