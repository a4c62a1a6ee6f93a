//! A YAML loader that gives exactly what PyYAML's `yaml.safe_load` gives.
//!
//! pyflyte reads spec files with `yaml.safe_load`, which is YAML 1.1: `yes` is
//! `True`, `017` is 15, `3.10` is the float 3.1, `1e3` is a string. The
//! resulting Python values feed flytekit's hash, so imagespec resolves plain
//! scalars with PyYAML's implicit resolvers, not a YAML 1.2 parser's.
//!
//! Every node keeps its position, so spec errors can name the line.

use crate::pyvalue::PyValue;

/// A position in the YAML text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub line: usize,
    pub column: usize,
}

/// A loaded YAML node: a Python value with the position it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
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
}

/// A YAML syntax or construction error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}, column {}: {message}", mark.line, mark.column)]
pub struct YamlError {
    pub mark: Mark,
    pub message: String,
}

impl Node {
    /// The Python value this node constructs to.
    pub fn to_py(&self) -> PyValue {
        todo!()
    }
}

/// Loads a single YAML document as `yaml.safe_load` does. `Ok(None)` for an empty document.
pub fn load(text: &str) -> Result<Option<Node>, YamlError> {
    let _ = text;
    todo!()
}
