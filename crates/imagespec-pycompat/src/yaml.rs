//! A YAML loader that gives exactly what PyYAML 6.0.4's `yaml.safe_load` gives.
//!
//! PyYAML is YAML 1.1: `yes` is `True`, `017` is 15, `3.10` is the float 3.1,
//! `1e3` is a string. Plain scalars are resolved with PyYAML's implicit
//! resolvers, not a YAML 1.2 parser's, and every node keeps its position.
//!
//! Loading mirrors PyYAML in three steps:
//!
//! 1. *compose* (`compose`): yaml-rust2's event parser builds a node graph
//!    (aliases share the anchored node), and every node gets its tag, plain
//!    scalars through the implicit resolvers (`resolve`);
//! 2. *construct* (`construct`, scalars in `scalar`): nodes are built in
//!    the order SafeConstructor builds them (collections filled breadth-first,
//!    one object per node), with the in-place rewrites PyYAML does while
//!    flattening merge keys (`<<`, in `merge`);
//! 3. *assemble*: the constructed graph is unfolded into a [`Node`] tree.
//!
//! Typed YAML (`yaml.dump` of Python objects) is read only as far as the
//! caller allows with [`PythonTags`]: `!!python/tuple` always, and the
//! `!!python/object:` classes and `!!python/object/apply:` enums it lists.
//! Nothing is ever instantiated from a tag.
//!
//! Refused rather than emulated ([`Error::YamlUnsupported`]): `!!binary`,
//! `!!omap`, `!!pairs`, `!!set`, a NaN, tuple or object mapping key, a
//! recursive alias, U+2028/U+2029 in the text, an integer of more than 4300
//! digits that PyYAML reads but Python 3.11 cannot print, and alias expansion
//! past a million nodes. Nesting deeper than 1000 fails (PyYAML fails near 500).

mod compose;
mod construct;
mod merge;
mod resolve;
mod scalar;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use crate::error::Error;
pub use crate::error::Mark;
use crate::value::PyValue;

/// A loaded YAML node: a Python value with the position it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: NodeValue,
    /// Where the node starts.
    pub mark: Mark,
    /// True for a plain (unquoted, untagged) scalar: the implicit resolvers decided its type.
    pub plain: bool,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar, already resolved to its Python type.
    Scalar(PyValue),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in insertion order, duplicate keys already merged as PyYAML does
    /// (the last value wins, the first key's position stays), merge keys (`<<`) applied.
    Map(Vec<(Node, Node)>),
    /// `!!python/tuple`: a tuple.
    Tuple(Vec<Node>),
    /// `!!python/object:<class>` for a class the caller accepts: the state
    /// PyYAML would set on the instance (its `__dict__`, restored without
    /// running `__init__` or `__post_init__`), merged like a mapping.
    Object {
        /// The class path as listed in [`PythonTags::objects`].
        class: &'static str,
        /// The state mapping.
        state: Vec<(Node, Node)>,
    },
}

/// The `!!python/...` tags a caller accepts, beyond `!!python/tuple`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythonTags {
    /// Class paths read from `!!python/object:<path>` mappings, e.g.
    /// `"package.module.Class"`.
    pub objects: &'static [&'static str],
    /// Enums read from `!!python/object/apply:<path> [value]`.
    pub enums: &'static [PyEnum],
}

impl PythonTags {
    /// No object or enum: only `!!python/tuple`.
    pub const NONE: PythonTags = PythonTags {
        objects: &[],
        enums: &[],
    };
}

/// A Python `enum.Enum` class whose members typed YAML may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyEnum {
    /// The tag suffix, e.g. `"package.constants.Mode"`.
    pub path: &'static str,
    /// The class name, e.g. `"Mode"`.
    pub class: &'static str,
    /// The members in definition order, as `(name, value)`.
    pub members: &'static [(&'static str, i64)],
}

impl Node {
    /// The Python value this node constructs to (an object's state as a `dict`).
    pub fn to_py(&self) -> PyValue {
        match &self.value {
            NodeValue::Scalar(v) => v.clone(),
            NodeValue::Seq(items) => PyValue::List(items.iter().map(Node::to_py).collect()),
            NodeValue::Map(pairs) | NodeValue::Object { state: pairs, .. } => {
                PyValue::Dict(pairs.iter().map(|(k, v)| (k.to_py(), v.to_py())).collect())
            }
            NodeValue::Tuple(items) => PyValue::Tuple(items.iter().map(Node::to_py).collect()),
        }
    }

    /// True when this node or one inside it is a [`NodeValue::Object`].
    pub fn holds_object(&self) -> bool {
        match &self.value {
            NodeValue::Object { .. } => true,
            NodeValue::Scalar(_) => false,
            NodeValue::Seq(items) | NodeValue::Tuple(items) => items.iter().any(Node::holds_object),
            NodeValue::Map(pairs) => pairs
                .iter()
                .any(|(k, v)| k.holds_object() || v.holds_object()),
        }
    }
}

/// Loads a single YAML document as `yaml.safe_load` does, accepting no
/// `!!python/` tag but `!!python/tuple`. `Ok(None)` for an empty document.
pub fn load(text: &str) -> Result<Option<Node>, Error> {
    load_with(text, &PythonTags::NONE)
}

/// [`load`], also accepting the `!!python/object:` classes and
/// `!!python/object/apply:` enums that `tags` lists.
pub fn load_with(text: &str, tags: &PythonTags) -> Result<Option<Node>, Error> {
    let text = yaml11_text(text)?;
    let Some(root) = compose::Composer::new(&text).compose_single()? else {
        return Ok(None);
    };
    let mut constructor = construct::Constructor::new(tags);
    constructor.construct_document(&root)?;
    let mut budget = MAX_ASSEMBLED_NODES;
    constructor.assemble(&root, 0, &mut budget).map(Some)
}

/// Checks the characters as PyYAML's `Reader` does, drops a leading byte
/// order mark, and rewrites YAML 1.1's extra line break NEL (U+0085) as `\n`,
/// which is exactly how PyYAML's scanner reads it everywhere (a YAML 1.2
/// parser reads NEL as an ordinary character).
///
/// YAML 1.1 also breaks lines at U+2028 and U+2029 but keeps the character in
/// the scalar; yaml-rust2 cannot be made to do that, so such text is refused
/// rather than loaded differently.
fn yaml11_text(text: &str) -> Result<Cow<'_, str>, Error> {
    // PyYAML skips a byte order mark at the start of the stream (and does not
    // count it as a column).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut line = 1;
    let mut column = 1;
    let mut has_nel = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let acceptable = matches!(c,
            '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}'
            | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}');
        let mark = Mark { line, column };
        if !acceptable {
            return Err(Error::yaml(
                mark,
                format!(
                    "unacceptable character #x{:04x}: special characters are not allowed",
                    u32::from(c)
                ),
            ));
        }
        if c == '\u{2028}' || c == '\u{2029}' {
            return Err(Error::yaml_unsupported(
                mark,
                format!(
                    "the text holds U+{:04X}, a line break in YAML 1.1 that this loader cannot \
                     read the way PyYAML does; write it as an escape in a double-quoted string",
                    u32::from(c)
                ),
            ));
        }
        has_nel |= c == '\u{85}';
        let breaks = match c {
            '\n' | '\u{85}' => true,
            '\r' => chars.peek() != Some(&'\n'),
            _ => false,
        };
        if breaks {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    if !has_nel {
        return Ok(Cow::Borrowed(text));
    }
    // "\r\u{85}" is two line breaks for PyYAML, and "\r\n" would be one.
    Ok(Cow::Owned(
        text.replace("\r\u{85}", "\n\n").replace('\u{85}', "\n"),
    ))
}

/// Deepest nesting accepted (PyYAML itself gives up near 500 levels, on Python's
/// recursion limit).
const MAX_DEPTH: usize = 1000;

/// The most nodes an alias-expanded document may unfold to ("billion laughs").
const MAX_ASSEMBLED_NODES: usize = 1_000_000;

/// `repr(s)` of a Python `str`, for messages.
fn py_repr_str(s: &str) -> String {
    PyValue::Str(s.to_owned()).repr()
}

// The standard tags (`tag:yaml.org,2002:...`, written `!!...`).
const TAG_PREFIX: &str = "tag:yaml.org,2002:";
const TAG_NULL: &str = "tag:yaml.org,2002:null";
const TAG_BOOL: &str = "tag:yaml.org,2002:bool";
const TAG_INT: &str = "tag:yaml.org,2002:int";
const TAG_FLOAT: &str = "tag:yaml.org,2002:float";
const TAG_BINARY: &str = "tag:yaml.org,2002:binary";
const TAG_TIMESTAMP: &str = "tag:yaml.org,2002:timestamp";
const TAG_OMAP: &str = "tag:yaml.org,2002:omap";
const TAG_PAIRS: &str = "tag:yaml.org,2002:pairs";
const TAG_SET: &str = "tag:yaml.org,2002:set";
const TAG_STR: &str = "tag:yaml.org,2002:str";
const TAG_SEQ: &str = "tag:yaml.org,2002:seq";
const TAG_MAP: &str = "tag:yaml.org,2002:map";
const TAG_MERGE: &str = "tag:yaml.org,2002:merge";
const TAG_VALUE: &str = "tag:yaml.org,2002:value";
const TAG_YAML: &str = "tag:yaml.org,2002:yaml";
/// Every `!!python/...` tag starts so.
const TAG_PYTHON: &str = "tag:yaml.org,2002:python/";
const TAG_PY_TUPLE: &str = "tag:yaml.org,2002:python/tuple";
/// Followed by a class path.
const TAG_PY_OBJECT: &str = "tag:yaml.org,2002:python/object:";
/// Followed by a callable's path.
const TAG_PY_APPLY: &str = "tag:yaml.org,2002:python/object/apply:";
/// The non-specific tag `!`: resolved as if the node were plain.
const TAG_NON_SPECIFIC: &str = "!";
