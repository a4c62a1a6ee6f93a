//! Composing: yaml-rust2's events to a graph of [`Raw`] nodes, each with its
//! resolved tag and PyYAML's mark, as PyYAML's `Composer` builds it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, Scanner, TScalarStyle, TokenType};

use super::resolve::resolve_scalar;
use super::tags::{py_repr_str, MAX_DEPTH, TAG_MAP, TAG_NON_SPECIFIC, TAG_SEQ, TAG_STR};
use crate::error::Error;
use crate::error::Mark;

/// A composed node, as PyYAML's `ScalarNode` / `SequenceNode` / `MappingNode`.
/// Shared (through `Rc`) by every alias of its anchor.
#[derive(Debug)]
pub(super) struct Raw {
    pub(super) kind: RawKind,
    /// The resolved tag. Mutable because PyYAML's `flatten_mapping` retags `=` keys as `str`.
    pub(super) tag: RefCell<String>,
    pub(super) mark: Mark,
    pub(super) plain: bool,
}

#[derive(Debug)]
pub(super) enum RawKind {
    Scalar(String),
    Seq(Vec<Rc<Raw>>),
    /// Mutable because PyYAML's `flatten_mapping` rewrites the pair list in place.
    Map(RefCell<Vec<RawPair>>),
}

pub(super) type RawPair = (Rc<Raw>, Rc<Raw>);

impl Raw {
    /// PyYAML's `node.id`.
    pub(super) fn id(&self) -> &'static str {
        match self.kind {
            RawKind::Scalar(_) => "scalar",
            RawKind::Seq(_) => "sequence",
            RawKind::Map(_) => "mapping",
        }
    }

    pub(super) fn has_tag(&self, tag: &str) -> bool {
        *self.tag.borrow() == tag
    }
}

/// Node identity, as PyYAML's `constructed_objects` dict keys on the node object.
pub(super) fn ident(raw: &Rc<Raw>) -> usize {
    Rc::as_ptr(raw) as usize
}

fn mark_of(m: &Marker) -> Mark {
    Mark {
        line: m.line(),
        column: m.col() + 1,
    }
}

fn scan_error(e: &ScanError) -> Error {
    Error::yaml(mark_of(e.marker()), e.info())
}

fn full_tag(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

pub(super) struct Composer<'a> {
    parser: Parser<std::str::Chars<'a>>,
    /// Anchor names in definition order; yaml-rust2 numbers anchors 1, 2, ... in that order.
    anchor_names: Vec<String>,
    /// Every token's character index and mark, and whether it is a node
    /// property (anchor or tag), in text order.
    tokens: Vec<(usize, Mark, bool)>,
    /// Completed anchored nodes, by yaml-rust2 anchor id.
    anchors: HashMap<usize, Rc<Raw>>,
    /// Anchors whose node is still being composed (an alias to one is recursive).
    open_anchors: HashSet<usize>,
    /// First definition of each anchor name in this document.
    defined_names: HashMap<String, Mark>,
    /// A `%YAML` directive PyYAML refuses (major version other than 1).
    version_error: Option<Error>,
}

impl<'a> Composer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        // yaml-rust2 reports anchors by number only, and marks a node at its
        // content rather than at its anchor or tag as PyYAML does, so read the
        // anchor names and property positions from a separate scan.
        let mut anchor_names = Vec::new();
        let mut tokens = Vec::new();
        let mut version_error = None;
        for token in Scanner::new(text.chars()) {
            let property = matches!(token.1, TokenType::Anchor(_) | TokenType::Tag(..));
            tokens.push((token.0.index(), mark_of(&token.0), property));
            match token.1 {
                TokenType::Anchor(name) => anchor_names.push(name),
                TokenType::VersionDirective(major, _) if major != 1 => {
                    version_error.get_or_insert_with(|| {
                        Error::yaml(
                            mark_of(&token.0),
                            "found incompatible YAML document (version 1.* is required)",
                        )
                    });
                }
                _ => {}
            }
        }
        Composer {
            parser: Parser::new_from_str(text),
            anchor_names,
            tokens,
            anchors: HashMap::new(),
            open_anchors: HashSet::new(),
            defined_names: HashMap::new(),
            version_error,
        }
    }

    fn next(&mut self) -> Result<(Event, Mark), Error> {
        let (ev, marker) = self.parser.next_token().map_err(|e| scan_error(&e))?;
        let has_properties = match &ev {
            Event::Scalar(_, _, anchor, tag)
            | Event::SequenceStart(anchor, tag)
            | Event::MappingStart(anchor, tag) => *anchor != 0 || tag.is_some(),
            _ => false,
        };
        let mark = if has_properties {
            self.start_of_properties(marker.index())
                .unwrap_or_else(|| mark_of(&marker))
        } else {
            mark_of(&marker)
        };
        Ok((ev, mark))
    }

    /// The mark of the first anchor or tag right before the token at `index`.
    fn start_of_properties(&self, index: usize) -> Option<Mark> {
        let at = self.tokens.partition_point(|&(i, _, _)| i < index);
        let mut first = None;
        for &(_, mark, property) in self.tokens[..at].iter().rev() {
            if !property {
                break;
            }
            first = Some(mark);
        }
        first
    }

    /// PyYAML's `get_single_node`.
    pub(super) fn compose_single(&mut self) -> Result<Option<Rc<Raw>>, Error> {
        if let Some(e) = self.version_error.take() {
            return Err(e);
        }
        let (ev, mark) = self.next()?;
        if ev != Event::StreamStart {
            return Err(Error::yaml(mark, "expected the start of the stream"));
        }
        let (ev, mark) = self.next()?;
        let root = match ev {
            Event::StreamEnd => return Ok(None),
            Event::DocumentStart => {
                let (ev, mark) = self.next()?;
                let root = self.compose_node(ev, mark, 0)?;
                let (ev, mark) = self.next()?;
                if ev != Event::DocumentEnd {
                    return Err(Error::yaml(mark, "expected the end of the document"));
                }
                root
            }
            _ => return Err(Error::yaml(mark, "expected a document")),
        };
        let (ev, mark) = self.next()?;
        match ev {
            Event::StreamEnd => Ok(Some(root)),
            _ => Err(Error::yaml(
                mark,
                format!(
                    "expected a single document in the stream (the document starts at line {}, \
                     column {}), but found another document",
                    root.mark.line, root.mark.column
                ),
            )),
        }
    }

    fn begin_anchor(&mut self, id: usize, mark: Mark) -> Result<(), Error> {
        if id == 0 {
            return Ok(());
        }
        if let Some(name) = self.anchor_names.get(id - 1) {
            if let Some(first) = self.defined_names.get(name) {
                return Err(Error::yaml(
                    mark,
                    format!(
                        "found duplicate anchor {}; first occurrence at line {}, column {}",
                        py_repr_str(name),
                        first.line,
                        first.column
                    ),
                ));
            }
            self.defined_names.insert(name.clone(), mark);
        }
        self.open_anchors.insert(id);
        Ok(())
    }

    fn end_anchor(&mut self, id: usize, node: &Rc<Raw>) {
        if id != 0 {
            self.open_anchors.remove(&id);
            self.anchors.insert(id, Rc::clone(node));
        }
    }

    fn compose_node(&mut self, ev: Event, mark: Mark, depth: usize) -> Result<Rc<Raw>, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::yaml(mark, "the document is nested too deeply"));
        }
        match ev {
            Event::Alias(id) => {
                if self.open_anchors.contains(&id) {
                    // PyYAML builds a self-containing object here; a Node tree cannot hold one.
                    return Err(Error::yaml_unsupported(
                        mark,
                        "found a recursive alias (an alias inside its own anchor), which is not supported",
                    ));
                }
                self.anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| Error::yaml(mark, "found undefined alias"))
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.begin_anchor(anchor, mark)?;
                let plain = style == TScalarStyle::Plain;
                let tag = tag.as_ref().map(full_tag);
                let resolved = match tag.as_deref() {
                    None if plain => resolve_scalar(&value).to_owned(),
                    None => TAG_STR.to_owned(),
                    Some(TAG_NON_SPECIFIC) => resolve_scalar(&value).to_owned(),
                    Some(t) => t.to_owned(),
                };
                let node = Rc::new(Raw {
                    kind: RawKind::Scalar(value),
                    tag: RefCell::new(resolved),
                    mark,
                    plain: plain && tag.is_none(),
                });
                self.end_anchor(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(anchor, tag) => {
                self.begin_anchor(anchor, mark)?;
                let mut items = Vec::new();
                loop {
                    let (ev, m) = self.next().map_err(|e| e.inside("a list", mark, None))?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    items.push(
                        self.compose_node(ev, m, depth + 1)
                            .map_err(|e| e.inside("a list", mark, None))?,
                    );
                }
                let node = Rc::new(Raw {
                    kind: RawKind::Seq(items),
                    tag: RefCell::new(collection_tag(tag.as_ref(), TAG_SEQ)),
                    mark,
                    plain: false,
                });
                self.end_anchor(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(anchor, tag) => {
                self.begin_anchor(anchor, mark)?;
                let mut pairs = Vec::new();
                loop {
                    let (ev, m) = self.next().map_err(|e| e.inside("a mapping", mark, None))?;
                    if ev == Event::MappingEnd {
                        break;
                    }
                    let key = self
                        .compose_node(ev, m, depth + 1)
                        .map_err(|e| e.inside("a mapping", mark, None))?;
                    let key_text = match &key.kind {
                        RawKind::Scalar(text) => Some(text.clone()),
                        _ => None,
                    };
                    let under = |e: Error| e.inside("a mapping", mark, key_text.as_deref());
                    let (ev, m) = self.next().map_err(under)?;
                    let value = self.compose_node(ev, m, depth + 1).map_err(under)?;
                    pairs.push((key, value));
                }
                // yaml-rust2 marks a block mapping just after its first key; PyYAML
                // marks it at the first key.
                let mark = match pairs.first() {
                    Some((k, _)) if (k.mark.line, k.mark.column) < (mark.line, mark.column) => {
                        k.mark
                    }
                    _ => mark,
                };
                let node = Rc::new(Raw {
                    kind: RawKind::Map(RefCell::new(pairs)),
                    tag: RefCell::new(collection_tag(tag.as_ref(), TAG_MAP)),
                    mark,
                    plain: false,
                });
                self.end_anchor(anchor, &node);
                Ok(node)
            }
            other => Err(Error::yaml(
                mark,
                format!("unexpected parser event {other:?}"),
            )),
        }
    }
}

fn collection_tag(tag: Option<&Tag>, default: &str) -> String {
    match tag.map(full_tag) {
        None => default.to_owned(),
        Some(t) if t == TAG_NON_SPECIFIC => default.to_owned(),
        Some(t) => t,
    }
}
