//! Constructing: PyYAML's SafeConstructor over the composed graph, in its
//! order (collections filled breadth-first, one object per node), plus the
//! `!!python/` tags the caller accepts; then the graph unfolded into [`Node`]s.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::compose::{ident, Raw, RawKind, RawPair};
use super::merge::flatten_mapping;
use super::node::{Node, NodeValue, PyEnum, PythonTags};
use super::scalar::{
    construct_bool, construct_float, construct_int, construct_scalar, construct_timestamp,
};
use super::tags::{
    py_repr_str, MAX_DEPTH, TAG_BINARY, TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_MAP, TAG_NULL, TAG_OMAP,
    TAG_PAIRS, TAG_PREFIX, TAG_PYTHON, TAG_PY_APPLY, TAG_PY_OBJECT, TAG_PY_TUPLE, TAG_SEQ, TAG_SET,
    TAG_STR, TAG_TIMESTAMP,
};
use crate::error::Error;
use crate::error::Mark;
use crate::value::PyValue;

/// What a node constructed to: one Python object per node, as PyYAML's
/// `constructed_objects`.
#[derive(Debug)]
enum Built {
    /// A scalar value (or an enum member).
    Scalar(PyValue),
    /// A `list` of the constructed children.
    Seq(Vec<Rc<Raw>>),
    /// A `dict`: flattened, deduplicated pairs.
    Map(Vec<RawPair>),
    /// A `!!python/tuple` of the constructed children.
    Tuple(Vec<Rc<Raw>>),
    /// The state of an accepted `!!python/object:` class: flattened,
    /// deduplicated pairs.
    Object(&'static str, Vec<RawPair>),
}

/// A collection whose contents PyYAML fills in later (a constructor generator).
#[derive(Debug, Clone, Copy)]
enum Pending {
    Seq,
    Map,
    Object(&'static str),
}

#[derive(Debug)]
pub(super) struct Constructor<'t> {
    tags: &'t PythonTags,
    built: HashMap<usize, Built>,
    pending: VecDeque<(Rc<Raw>, Pending)>,
}

impl<'t> Constructor<'t> {
    pub(super) fn new(tags: &'t PythonTags) -> Self {
        Constructor {
            tags,
            built: HashMap::new(),
            pending: VecDeque::new(),
        }
    }

    /// PyYAML's `construct_document`: construct the root, then run the pending
    /// collection constructors in order until none is left.
    pub(super) fn construct_document(&mut self, root: &Rc<Raw>) -> Result<(), Error> {
        self.construct_object(root)?;
        while let Some((raw, kind)) = self.pending.pop_front() {
            let built = match kind {
                Pending::Seq => self.fill_seq(&raw)?,
                Pending::Map => Built::Map(self.fill_map(&raw)?),
                Pending::Object(class) => Built::Object(class, self.fill_map(&raw)?),
            };
            self.built.insert(ident(&raw), built);
        }
        Ok(())
    }

    /// PyYAML's `construct_object` with `deep=False`.
    fn construct_object(&mut self, raw: &Rc<Raw>) -> Result<(), Error> {
        let id = ident(raw);
        if self.built.contains_key(&id) {
            return Ok(());
        }
        let tag = raw.tag.borrow().clone();
        let value = match tag.as_str() {
            TAG_NULL => {
                construct_scalar(raw)?;
                PyValue::None
            }
            TAG_BOOL => construct_bool(raw)?,
            TAG_INT => PyValue::Int(construct_int(&construct_scalar(raw)?, raw.mark)?),
            TAG_FLOAT => PyValue::Float(construct_float(&construct_scalar(raw)?, raw.mark)?),
            TAG_TIMESTAMP => construct_timestamp(raw)?,
            TAG_STR => PyValue::Str(construct_scalar(raw)?),
            TAG_SEQ => return self.defer(raw, Built::Seq(Vec::new()), Pending::Seq),
            TAG_MAP => return self.defer(raw, Built::Map(Vec::new()), Pending::Map),
            TAG_BINARY => return Err(refused(raw, "`!!binary`", BUILDS_BYTES)),
            TAG_OMAP => return Err(refused(raw, "`!!omap`", BUILDS_PAIRS)),
            TAG_PAIRS => return Err(refused(raw, "`!!pairs`", BUILDS_PAIRS)),
            TAG_SET => return Err(refused(raw, "`!!set`", SET_HAS_NO_ORDER)),
            TAG_PY_TUPLE => {
                // FullConstructor.construct_python_tuple: built at once, its
                // items constructed (not filled) now.
                let RawKind::Seq(items) = &raw.kind else {
                    return Err(Error::yaml(
                        raw.mark,
                        format!("expected a sequence node, but found {}", raw.id()),
                    ));
                };
                for item in items {
                    self.construct_object(item)?;
                }
                self.built.insert(id, Built::Tuple(items.clone()));
                return Ok(());
            }
            other if other.starts_with(TAG_PYTHON) => {
                if let Some(class) = self.accepted_object(other) {
                    if !matches!(raw.kind, RawKind::Map(_)) {
                        return Err(Error::yaml(
                            raw.mark,
                            format!("expected a mapping node, but found {}", raw.id()),
                        ));
                    }
                    let pending = Pending::Object(class);
                    return self.defer(raw, Built::Object(class, Vec::new()), pending);
                }
                match self.accepted_enum(other) {
                    Some(e) => self.construct_enum(raw, e)?,
                    None => return Err(self.refused_python_tag(raw, other)),
                }
            }
            other => {
                return Err(Error::yaml(
                    raw.mark,
                    format!(
                        "could not determine a constructor for the tag {}",
                        py_repr_str(other)
                    ),
                ))
            }
        };
        self.built.insert(id, Built::Scalar(value));
        Ok(())
    }

    /// The listed class of a `!!python/object:<path>` tag.
    fn accepted_object(&self, tag: &str) -> Option<&'static str> {
        let path = tag.strip_prefix(TAG_PY_OBJECT)?;
        self.tags.objects.iter().copied().find(|&o| o == path)
    }

    /// The listed enum of a `!!python/object/apply:<path>` tag.
    fn accepted_enum(&self, tag: &str) -> Option<&'t PyEnum> {
        let path = tag.strip_prefix(TAG_PY_APPLY)?;
        self.tags.enums.iter().find(|e| e.path == path)
    }

    fn refused_python_tag(&self, raw: &Raw, tag: &str) -> Error {
        let mut accepted = vec!["`!!python/tuple`".to_owned()];
        accepted.extend(
            self.tags
                .objects
                .iter()
                .map(|o| format!("`!!python/object:{o}`")),
        );
        accepted.extend(
            self.tags
                .enums
                .iter()
                .map(|e| format!("`!!python/object/apply:{}`", e.path)),
        );
        let accepted = match accepted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        Error::yaml_unsupported(
            raw.mark,
            format!(
                "the tag `!!{}` is not accepted: this loader reads only {accepted}, and \
                 nothing is ever instantiated from a tag",
                tag.strip_prefix(TAG_PREFIX).unwrap_or(tag)
            ),
        )
    }

    /// Registers an empty collection now and fills it later, in PyYAML's order.
    fn defer(&mut self, raw: &Rc<Raw>, empty: Built, kind: Pending) -> Result<(), Error> {
        self.built.insert(ident(raw), empty);
        self.pending.push_back((Rc::clone(raw), kind));
        Ok(())
    }

    fn fill_seq(&mut self, raw: &Rc<Raw>) -> Result<Built, Error> {
        let RawKind::Seq(items) = &raw.kind else {
            return Err(Error::yaml(
                raw.mark,
                format!("expected a sequence node, but found {}", raw.id()),
            ));
        };
        for item in items {
            self.construct_object(item)?;
        }
        Ok(Built::Seq(items.clone()))
    }

    /// SafeConstructor's `construct_mapping`: flatten the merge keys, then
    /// insert each pair into a `dict` (a repeated key keeps its first position
    /// and takes the last value).
    fn fill_map(&mut self, raw: &Rc<Raw>) -> Result<Vec<RawPair>, Error> {
        let RawKind::Map(pairs) = &raw.kind else {
            return Err(Error::yaml(
                raw.mark,
                format!("expected a mapping node, but found {}", raw.id()),
            ));
        };
        flatten_mapping(raw, 0)?;
        let pairs = pairs.borrow().clone();
        let mut entries: Vec<RawPair> = Vec::with_capacity(pairs.len());
        let mut str_keys: HashMap<String, usize> = HashMap::new();
        let mut other_keys: Vec<usize> = Vec::new();
        for (key, value) in pairs {
            self.construct_object(&key)?;
            let key_value = match self.built.get(&ident(&key)) {
                Some(Built::Scalar(v)) => v,
                Some(Built::Seq(_) | Built::Map(_)) | None => {
                    return Err(Error::yaml(
                        key.mark,
                        format!(
                        "while constructing a mapping (line {}, column {}): found unhashable key",
                        raw.mark.line, raw.mark.column
                    ),
                    ))
                }
                Some(Built::Tuple(_)) => {
                    return Err(Error::yaml_unsupported(
                        key.mark,
                        "a tuple as a mapping key is not supported",
                    ))
                }
                Some(Built::Object(class, _)) => {
                    return Err(Error::yaml_unsupported(
                        key.mark,
                        format!("a `{class}` object as a mapping key is not supported"),
                    ))
                }
            };
            if matches!(key_value, PyValue::Float(f) if f.is_nan()) {
                return Err(Error::yaml_unsupported(
                    key.mark,
                    "a NaN mapping key is not supported: a Python dict finds a NaN key only \
                     by object identity, which this loader does not emulate",
                ));
            }
            let existing = match key_value {
                PyValue::Str(s) => str_keys.get(s).copied(),
                _ => other_keys.iter().copied().find(|&i| {
                    matches!(self.built.get(&ident(&entries[i].0)),
                        Some(Built::Scalar(other)) if key_value.py_eq(other))
                }),
            };
            let key_str = key_value.as_str().map(str::to_owned);
            self.construct_object(&value)?;
            match existing {
                Some(i) => entries[i].1 = value,
                None => {
                    match key_str {
                        Some(s) => {
                            str_keys.insert(s, entries.len());
                        }
                        None => other_keys.push(entries.len()),
                    }
                    entries.push((key, value));
                }
            }
        }
        Ok(entries)
    }

    /// `!!python/object/apply:<enum> [value]` (or `{args: [value]}`):
    /// `Enum(value)`, which looks the value up as a dict key would (`True`
    /// and `1.0` find the member 1).
    fn construct_enum(&mut self, raw: &Rc<Raw>, e: &PyEnum) -> Result<PyValue, Error> {
        let values: Vec<String> = e.members.iter().map(|(_, v)| v.to_string()).collect();
        let fail = |mark: Mark, what: String| {
            Error::yaml(
                mark,
                format!(
                    "{} takes one value, one of {} ({what})",
                    e.class,
                    values.join(", ")
                ),
            )
        };
        let args: Vec<Rc<Raw>> = match &raw.kind {
            RawKind::Seq(items) => items.clone(),
            RawKind::Map(pairs) => {
                let pairs = pairs.borrow();
                let mut args = None;
                for (k, v) in pairs.iter() {
                    match (&k.kind, &v.kind) {
                        (RawKind::Scalar(name), RawKind::Seq(items)) if name == "args" => {
                            args = Some(items.clone())
                        }
                        (RawKind::Scalar(name), _) => {
                            return Err(fail(k.mark, format!("`{name}` is not accepted")))
                        }
                        _ => return Err(fail(k.mark, "unexpected key".into())),
                    }
                }
                args.unwrap_or_default()
            }
            RawKind::Scalar(_) => return Err(fail(raw.mark, "found a scalar".into())),
        };
        let [arg] = args.as_slice() else {
            return Err(fail(raw.mark, format!("found {} values", args.len())));
        };
        self.construct_object(arg)?;
        let value = match self.built.get(&ident(arg)) {
            Some(Built::Scalar(value)) => value.clone(),
            _ => return Err(fail(arg.mark, "found a collection".into())),
        };
        e.members
            .iter()
            .find(|(_, v)| value.py_eq(&PyValue::from(*v)))
            .map(|&(member, value)| PyValue::Enum {
                class: e.class,
                member,
                value,
            })
            .ok_or_else(|| {
                Error::yaml(
                    arg.mark,
                    format!("{} is not a valid {}", value.repr(), e.class),
                )
            })
    }

    fn assemble_pairs(
        &self,
        pairs: &[RawPair],
        depth: usize,
        budget: &mut usize,
    ) -> Result<Vec<(Node, Node)>, Error> {
        pairs
            .iter()
            .map(|(k, v)| {
                Ok((
                    self.assemble(k, depth + 1, budget)?,
                    self.assemble(v, depth + 1, budget)?,
                ))
            })
            .collect()
    }

    fn assemble_items(
        &self,
        items: &[Rc<Raw>],
        depth: usize,
        budget: &mut usize,
    ) -> Result<Vec<Node>, Error> {
        items
            .iter()
            .map(|item| self.assemble(item, depth + 1, budget))
            .collect()
    }

    /// Unfolds the constructed graph into a [`Node`] tree.
    pub(super) fn assemble(
        &self,
        raw: &Rc<Raw>,
        depth: usize,
        budget: &mut usize,
    ) -> Result<Node, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::yaml(raw.mark, "the document is nested too deeply"));
        }
        if *budget == 0 {
            return Err(Error::yaml_unsupported(
                raw.mark,
                "the document expands to too many nodes (aliases)",
            ));
        }
        *budget -= 1;
        let value = match self.built.get(&ident(raw)) {
            Some(Built::Scalar(value)) => NodeValue::Scalar(value.clone()),
            Some(Built::Seq(items)) => NodeValue::Seq(self.assemble_items(items, depth, budget)?),
            Some(Built::Map(pairs)) => NodeValue::Map(self.assemble_pairs(pairs, depth, budget)?),
            Some(Built::Tuple(items)) => {
                NodeValue::Tuple(self.assemble_items(items, depth, budget)?)
            }
            Some(Built::Object(class, pairs)) => NodeValue::Object {
                class,
                state: self.assemble_pairs(pairs, depth, budget)?,
            },
            None => {
                return Err(Error::yaml(
                    raw.mark,
                    "internal error: node was not constructed",
                ))
            }
        };
        Ok(Node {
            value,
            mark: raw.mark,
            plain: raw.plain,
        })
    }
}

const BUILDS_BYTES: &str = "PyYAML would build `bytes`, which this loader does not emulate";
const BUILDS_PAIRS: &str =
    "PyYAML would build a list of `(key, value)` tuples, which this loader does not emulate";
const SET_HAS_NO_ORDER: &str =
    "a Python set has no stable order, so its repr() cannot be reproduced";

/// The error for a standard tag this loader refuses on purpose.
fn refused(raw: &Raw, what: &str, why: &str) -> Error {
    Error::yaml_unsupported(raw.mark, format!("{what} is not supported: {why}"))
}
