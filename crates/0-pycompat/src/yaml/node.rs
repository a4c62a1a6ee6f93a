//! What the loader gives: nodes with their marks, and the Python classes a
//! typed dump may name.

use crate::error::Mark;
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
