//! A YAML loader that gives exactly what PyYAML's `yaml.safe_load` gives.
//!
//! pyflyte reads spec files with `yaml.safe_load`, which is YAML 1.1: `yes` is
//! `True`, `017` is 15, `3.10` is the float 3.1, `1e3` is a string. The
//! resulting Python values feed flytekit's hash, so imagespec resolves plain
//! scalars with PyYAML's implicit resolvers, not a YAML 1.2 parser's.
//!
//! Every node keeps its position, so spec errors can name the line.
//!
//! Loading happens in three steps, mirroring PyYAML:
//!
//! 1. *compose*: yaml-rust2's event parser builds a node graph (aliases share
//!    the anchored node) and every node gets its tag, plain scalars through
//!    PyYAML's implicit resolvers;
//! 2. *construct*: the nodes are constructed in the order SafeConstructor
//!    constructs them (collections are filled breadth-first, one object per
//!    node), including the in-place rewrites PyYAML does while flattening merge
//!    keys;
//! 3. *assemble*: the constructed graph is unfolded into a [`Node`] tree.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::OnceLock;

use num_bigint::BigInt;
use regex::Regex;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, Scanner, TScalarStyle, TokenType};

use crate::pyvalue::{days_in_month, PyDate, PyDateTime, PyValue};

/// A position in the YAML text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

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
    ///
    /// `!!omap` and `!!pairs` items also land here: PyYAML builds a list of
    /// `(key, value)` tuples, so such a node is a [`NodeValue::Seq`] whose items
    /// are scalars holding a [`PyValue::Tuple`].
    Scalar(PyValue),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in insertion order, duplicate keys already merged as PyYAML does
    /// (the last value wins, the first key's position stays), merge keys (`<<`) applied.
    Map(Vec<(Node, Node)>),
    /// `!!python/tuple`: a tuple (a typed spec's `pip_secret_mounts` pairs).
    Tuple(Vec<Node>),
    /// `!!python/object:flytekit.image_spec.image_spec.ImageSpec`: the state
    /// of an ImageSpec written by `yaml.dump(image_spec)` (its `__dict__`,
    /// which PyYAML restores without running `__post_init__`).
    ImageSpec(Vec<(Node, Node)>),
}

/// A YAML syntax or construction error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}, column {}: {message}", mark.line, mark.column)]
pub struct YamlError {
    /// Where the offending node or token starts.
    pub mark: Mark,
    /// What went wrong, worded after PyYAML's message where there is one.
    pub message: String,
}

impl YamlError {
    fn new(mark: Mark, message: impl Into<String>) -> Self {
        YamlError {
            mark,
            message: message.into(),
        }
    }
}

impl Node {
    /// The Python value this node constructs to.
    pub fn to_py(&self) -> PyValue {
        match &self.value {
            NodeValue::Scalar(v) => v.clone(),
            NodeValue::Seq(items) => PyValue::List(items.iter().map(Node::to_py).collect()),
            NodeValue::Map(pairs) | NodeValue::ImageSpec(pairs) => {
                PyValue::Dict(pairs.iter().map(|(k, v)| (k.to_py(), v.to_py())).collect())
            }
            NodeValue::Tuple(items) => PyValue::Tuple(items.iter().map(Node::to_py).collect()),
        }
    }

    /// True when this node or one inside it is a typed ImageSpec.
    pub fn holds_image_spec(&self) -> bool {
        match &self.value {
            NodeValue::ImageSpec(_) => true,
            NodeValue::Scalar(_) => false,
            NodeValue::Seq(items) | NodeValue::Tuple(items) => {
                items.iter().any(Node::holds_image_spec)
            }
            NodeValue::Map(pairs) => pairs
                .iter()
                .any(|(k, v)| k.holds_image_spec() || v.holds_image_spec()),
        }
    }
}

/// Loads a single YAML document as `yaml.safe_load` does. `Ok(None)` for an empty document.
pub fn load(text: &str) -> Result<Option<Node>, YamlError> {
    let text = yaml11_text(text)?;
    let Some(root) = Composer::new(&text).compose_single()? else {
        return Ok(None);
    };
    let mut constructor = Constructor::default();
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
fn yaml11_text(text: &str) -> Result<std::borrow::Cow<'_, str>, YamlError> {
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
            return Err(YamlError::new(
                mark,
                format!(
                    "unacceptable character #x{:04x}: special characters are not allowed",
                    c as u32
                ),
            ));
        }
        if c == '\u{2028}' || c == '\u{2029}' {
            return Err(YamlError::new(
                mark,
                format!(
                    "the text holds U+{:04X}, a line break in YAML 1.1 that imagespec cannot \
                     read the way PyYAML does; write it as an escape in a double-quoted string",
                    c as u32
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
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    // "\r\u{85}" is two line breaks for PyYAML, and "\r\n" would be one.
    Ok(std::borrow::Cow::Owned(
        text.replace("\r\u{85}", "\n\n").replace('\u{85}', "\n"),
    ))
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/// Deepest nesting accepted (PyYAML itself gives up near 500 levels, on Python's
/// recursion limit).
const MAX_DEPTH: usize = 1000;

/// The most nodes an alias-expanded document may unfold to ("billion laughs").
const MAX_ASSEMBLED_NODES: usize = 1_000_000;

// ---------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------

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

/// The tags of a typed spec (`yaml.dump(image_spec)`), the only `!!python/`
/// tags imagespec reads. Nothing is ever instantiated from a tag: each is
/// read into a plain value.
const TAG_PY_PREFIX: &str = "tag:yaml.org,2002:python/";
const TAG_PY_TUPLE: &str = "tag:yaml.org,2002:python/tuple";
const TAG_PY_IMAGE_SPEC: &str =
    "tag:yaml.org,2002:python/object:flytekit.image_spec.image_spec.ImageSpec";
const TAG_PY_COPY_MODE: &str =
    "tag:yaml.org,2002:python/object/apply:flytekit.constants.CopyFileDetection";

/// The non-specific tag `!`: resolved as if the node were plain.
const TAG_NON_SPECIFIC: &str = "!";

// ---------------------------------------------------------------------------
// Composed nodes
// ---------------------------------------------------------------------------

/// A composed node, as PyYAML's `ScalarNode` / `SequenceNode` / `MappingNode`.
/// Shared (through `Rc`) by every alias of its anchor.
#[derive(Debug)]
struct Raw {
    kind: RawKind,
    /// The resolved tag. Mutable because PyYAML's `flatten_mapping` retags `=` keys as `str`.
    tag: RefCell<String>,
    mark: Mark,
    plain: bool,
}

#[derive(Debug)]
enum RawKind {
    Scalar(String),
    Seq(Vec<Rc<Raw>>),
    /// Mutable because PyYAML's `flatten_mapping` rewrites the pair list in place.
    Map(RefCell<Vec<RawPair>>),
}

type RawPair = (Rc<Raw>, Rc<Raw>);

impl Raw {
    /// PyYAML's `node.id`.
    fn id(&self) -> &'static str {
        match self.kind {
            RawKind::Scalar(_) => "scalar",
            RawKind::Seq(_) => "sequence",
            RawKind::Map(_) => "mapping",
        }
    }

    fn has_tag(&self, tag: &str) -> bool {
        *self.tag.borrow() == tag
    }
}

/// Node identity, as PyYAML's `constructed_objects` dict keys on the node object.
fn ident(raw: &Rc<Raw>) -> usize {
    Rc::as_ptr(raw) as usize
}

fn mark_of(m: &Marker) -> Mark {
    Mark {
        line: m.line(),
        column: m.col() + 1,
    }
}

fn scan_error(e: &ScanError) -> YamlError {
    YamlError::new(mark_of(e.marker()), e.info())
}

fn full_tag(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

fn py_repr_str(s: &str) -> String {
    PyValue::Str(s.to_owned()).repr()
}

// ---------------------------------------------------------------------------
// Composer
// ---------------------------------------------------------------------------

struct Composer<'a> {
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
    version_error: Option<YamlError>,
}

impl<'a> Composer<'a> {
    fn new(text: &'a str) -> Self {
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
                        YamlError::new(
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

    fn next(&mut self) -> Result<(Event, Mark), YamlError> {
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
    fn compose_single(&mut self) -> Result<Option<Rc<Raw>>, YamlError> {
        if let Some(e) = self.version_error.take() {
            return Err(e);
        }
        let (ev, mark) = self.next()?;
        if ev != Event::StreamStart {
            return Err(YamlError::new(mark, "expected the start of the stream"));
        }
        let (ev, mark) = self.next()?;
        let root = match ev {
            Event::StreamEnd => return Ok(None),
            Event::DocumentStart => {
                let (ev, mark) = self.next()?;
                let root = self.compose_node(ev, mark, 0)?;
                let (ev, mark) = self.next()?;
                if ev != Event::DocumentEnd {
                    return Err(YamlError::new(mark, "expected the end of the document"));
                }
                root
            }
            _ => return Err(YamlError::new(mark, "expected a document")),
        };
        let (ev, mark) = self.next()?;
        match ev {
            Event::StreamEnd => Ok(Some(root)),
            _ => Err(YamlError::new(
                mark,
                format!(
                    "expected a single document in the stream (the document starts at line {}, \
                     column {}), but found another document",
                    root.mark.line, root.mark.column
                ),
            )),
        }
    }

    fn begin_anchor(&mut self, id: usize, mark: Mark) -> Result<(), YamlError> {
        if id == 0 {
            return Ok(());
        }
        if let Some(name) = self.anchor_names.get(id - 1) {
            if let Some(first) = self.defined_names.get(name) {
                return Err(YamlError::new(
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

    fn compose_node(&mut self, ev: Event, mark: Mark, depth: usize) -> Result<Rc<Raw>, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::new(mark, "the document is nested too deeply"));
        }
        match ev {
            Event::Alias(id) => {
                if self.open_anchors.contains(&id) {
                    // PyYAML builds a self-containing object here; a Node tree cannot hold one.
                    return Err(YamlError::new(
                        mark,
                        "found a recursive alias (an alias inside its own anchor), which is not supported",
                    ));
                }
                self.anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| YamlError::new(mark, "found undefined alias"))
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
                    let (ev, m) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.compose_node(ev, m, depth + 1)?);
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
                    let (ev, m) = self.next()?;
                    if ev == Event::MappingEnd {
                        break;
                    }
                    let key = self.compose_node(ev, m, depth + 1)?;
                    let (ev, m) = self.next()?;
                    let value = self.compose_node(ev, m, depth + 1)?;
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
            other => Err(YamlError::new(
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

// ---------------------------------------------------------------------------
// Implicit resolvers (PyYAML's Resolver, YAML 1.1)
// ---------------------------------------------------------------------------

/// Python's `re.match(r'^(?:...)$', s)`: `$` also matches before a final newline.
fn anchored(body: &str) -> Regex {
    Regex::new(&format!(r"\A(?:{body})\n?\z")).expect("valid resolver regex")
}

struct Resolvers {
    bool_: Regex,
    float: Regex,
    int: Regex,
    merge: Regex,
    null: Regex,
    timestamp: Regex,
    value: Regex,
    yaml: Regex,
}

fn resolvers() -> &'static Resolvers {
    static RESOLVERS: OnceLock<Resolvers> = OnceLock::new();
    RESOLVERS.get_or_init(|| Resolvers {
        bool_: anchored(
            "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
        ),
        float: anchored(concat!(
            r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
            r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
            r"|[-+]?\.(?:inf|Inf|INF)",
            r"|\.(?:nan|NaN|NAN)",
        )),
        int: anchored(concat!(
            r"[-+]?0b[0-1_]+",
            r"|[-+]?0[0-7_]+",
            r"|[-+]?(?:0|[1-9][0-9_]*)",
            r"|[-+]?0x[0-9a-fA-F_]+",
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
        )),
        merge: anchored("<<"),
        null: anchored("~|null|Null|NULL|"),
        timestamp: anchored(concat!(
            r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?",
            r"(?:[Tt]|[ \t]+)[0-9][0-9]?",
            r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?",
            r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
        )),
        value: anchored("="),
        yaml: anchored(r"!|&|\*"),
    })
}

/// The tag PyYAML's SafeLoader resolves a plain scalar to. The resolvers are
/// picked by the first character and tried in PyYAML's registration order.
fn resolve_scalar(value: &str) -> &'static str {
    let r = resolvers();
    let candidates: &[(&Regex, &'static str)] = match value.chars().next() {
        None => &[(&r.null, TAG_NULL)],
        Some('y' | 'Y' | 't' | 'T' | 'f' | 'F' | 'o' | 'O') => &[(&r.bool_, TAG_BOOL)],
        Some('n' | 'N') => &[(&r.bool_, TAG_BOOL), (&r.null, TAG_NULL)],
        Some('-' | '+') => &[(&r.float, TAG_FLOAT), (&r.int, TAG_INT)],
        Some('0'..='9') => &[
            (&r.float, TAG_FLOAT),
            (&r.int, TAG_INT),
            (&r.timestamp, TAG_TIMESTAMP),
        ],
        Some('.') => &[(&r.float, TAG_FLOAT)],
        Some('<') => &[(&r.merge, TAG_MERGE)],
        Some('~') => &[(&r.null, TAG_NULL)],
        Some('=') => &[(&r.value, TAG_VALUE)],
        Some('!' | '&' | '*') => &[(&r.yaml, TAG_YAML)],
        Some(_) => &[],
    };
    candidates
        .iter()
        .find(|(re, _)| re.is_match(value))
        .map_or(TAG_STR, |&(_, tag)| tag)
}

// ---------------------------------------------------------------------------
// Constructor (PyYAML's SafeConstructor)
// ---------------------------------------------------------------------------

/// What a node constructed to: one Python object per node, as PyYAML's
/// `constructed_objects`.
#[derive(Debug)]
enum Built {
    /// A scalar value. `nan_identity` is set for a NaN float: Python's dict
    /// finds a NaN key only by identity (`.nan` is always PyYAML's one
    /// `nan_value` object; `float('nan')` is a new object per node).
    Scalar {
        value: PyValue,
        nan_identity: Option<usize>,
    },
    /// A `list` of the constructed children.
    Seq(Vec<Rc<Raw>>),
    /// A `dict`: flattened, deduplicated pairs.
    Map(Vec<RawPair>),
    /// An `!!omap` / `!!pairs` list of tuples, with each item's mark.
    Pairs(Vec<(Rc<Raw>, Rc<Raw>, Mark)>),
    /// A `!!python/tuple` of the constructed children.
    Tuple(Vec<Rc<Raw>>),
    /// The state of a typed ImageSpec: flattened, deduplicated pairs.
    ImageSpec(Vec<RawPair>),
}

/// A collection whose contents PyYAML fills in later (a constructor generator).
#[derive(Debug, Clone, Copy)]
enum Pending {
    Seq,
    Map,
    ImageSpec,
    Pairs(&'static str),
}

#[derive(Debug, Default)]
struct Constructor {
    built: HashMap<usize, Built>,
    pending: VecDeque<(Rc<Raw>, Pending)>,
}

/// The identity PyYAML's `nan_value` class attribute stands for.
const NAN_SINGLETON: usize = 0;

impl Constructor {
    /// PyYAML's `construct_document`: construct the root, then run the pending
    /// collection constructors in order until none is left.
    fn construct_document(&mut self, root: &Rc<Raw>) -> Result<(), YamlError> {
        self.construct_object(root)?;
        while let Some((raw, kind)) = self.pending.pop_front() {
            let built = match kind {
                Pending::Seq => self.fill_seq(&raw)?,
                Pending::Map => self.fill_map(&raw)?,
                Pending::ImageSpec => match self.fill_map(&raw)? {
                    Built::Map(pairs) => Built::ImageSpec(pairs),
                    other => other,
                },
                Pending::Pairs(what) => self.fill_pairs(&raw, what)?,
            };
            self.built.insert(ident(&raw), built);
        }
        Ok(())
    }

    /// PyYAML's `construct_object` with `deep=False`.
    fn construct_object(&mut self, raw: &Rc<Raw>) -> Result<(), YamlError> {
        let id = ident(raw);
        if self.built.contains_key(&id) {
            return Ok(());
        }
        let tag = raw.tag.borrow().clone();
        let mut nan_identity = None;
        let value = match tag.as_str() {
            TAG_NULL => {
                construct_scalar(raw)?;
                PyValue::None
            }
            TAG_BOOL => construct_bool(raw)?,
            TAG_INT => PyValue::Int(construct_int(&construct_scalar(raw)?, raw.mark)?),
            TAG_FLOAT => {
                let (f, singleton) = construct_float(&construct_scalar(raw)?, raw.mark)?;
                if f.is_nan() {
                    nan_identity = Some(if singleton { NAN_SINGLETON } else { id });
                }
                PyValue::Float(f)
            }
            TAG_BINARY => PyValue::Bytes(construct_binary(&construct_scalar(raw)?, raw.mark)?),
            TAG_TIMESTAMP => construct_timestamp(raw)?,
            TAG_STR => PyValue::Str(construct_scalar(raw)?),
            TAG_SEQ => return self.defer(raw, Built::Seq(Vec::new()), Pending::Seq),
            TAG_MAP => return self.defer(raw, Built::Map(Vec::new()), Pending::Map),
            TAG_OMAP => {
                let pending = Pending::Pairs("an ordered map");
                return self.defer(raw, Built::Pairs(Vec::new()), pending);
            }
            TAG_PAIRS => {
                let pending = Pending::Pairs("pairs");
                return self.defer(raw, Built::Pairs(Vec::new()), pending);
            }
            TAG_SET => {
                return Err(YamlError::new(
                    raw.mark,
                    "!!set is not supported: a Python set has no stable order to hash",
                ))
            }
            TAG_PY_TUPLE => {
                // FullConstructor.construct_python_tuple: built at once, its
                // items constructed (not filled) now.
                let RawKind::Seq(items) = &raw.kind else {
                    return Err(YamlError::new(
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
            TAG_PY_IMAGE_SPEC => {
                if !matches!(raw.kind, RawKind::Map(_)) {
                    return Err(YamlError::new(
                        raw.mark,
                        format!("expected a mapping node, but found {}", raw.id()),
                    ));
                }
                return self.defer(raw, Built::ImageSpec(Vec::new()), Pending::ImageSpec);
            }
            TAG_PY_COPY_MODE => self.construct_copy_mode(raw)?,
            other if other.starts_with(TAG_PY_PREFIX) => {
                return Err(YamlError::new(
                    raw.mark,
                    format!(
                        "the tag `!!{}` is not accepted: a typed spec may use only \
                         `!!python/object:flytekit.image_spec.image_spec.ImageSpec`, \
                         `!!python/object/apply:flytekit.constants.CopyFileDetection` and \
                         `!!python/tuple`, and imagespec never instantiates anything from a tag",
                        &other["tag:yaml.org,2002:".len()..]
                    ),
                ))
            }
            other => {
                return Err(YamlError::new(
                    raw.mark,
                    format!(
                        "could not determine a constructor for the tag {}",
                        py_repr_str(other)
                    ),
                ))
            }
        };
        self.built.insert(
            id,
            Built::Scalar {
                value,
                nan_identity,
            },
        );
        Ok(())
    }

    /// Registers an empty collection now and fills it later, in PyYAML's order.
    fn defer(&mut self, raw: &Rc<Raw>, empty: Built, kind: Pending) -> Result<(), YamlError> {
        self.built.insert(ident(raw), empty);
        self.pending.push_back((Rc::clone(raw), kind));
        Ok(())
    }

    fn fill_seq(&mut self, raw: &Rc<Raw>) -> Result<Built, YamlError> {
        let RawKind::Seq(items) = &raw.kind else {
            return Err(YamlError::new(
                raw.mark,
                format!("expected a sequence node, but found {}", raw.id()),
            ));
        };
        for item in items {
            self.construct_object(item)?;
        }
        Ok(Built::Seq(items.clone()))
    }

    fn fill_map(&mut self, raw: &Rc<Raw>) -> Result<Built, YamlError> {
        let RawKind::Map(pairs) = &raw.kind else {
            return Err(YamlError::new(
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
            let Some(Built::Scalar {
                value: key_value,
                nan_identity,
            }) = self.built.get(&ident(&key))
            else {
                return Err(YamlError::new(
                    key.mark,
                    format!(
                        "while constructing a mapping (line {}, column {}): found unhashable key",
                        raw.mark.line, raw.mark.column
                    ),
                ));
            };
            let existing = match key_value {
                PyValue::Str(s) => str_keys.get(s).copied(),
                _ => other_keys.iter().copied().find(|&i| {
                    let Some(Built::Scalar {
                        value: other,
                        nan_identity: other_nan,
                    }) = self.built.get(&ident(&entries[i].0))
                    else {
                        return false;
                    };
                    match (nan_identity, other_nan) {
                        (Some(a), Some(b)) => a == b,
                        _ => key_value.py_eq(other),
                    }
                }),
            };
            let key_str = match key_value {
                PyValue::Str(s) => Some(s.clone()),
                _ => None,
            };
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
        Ok(Built::Map(entries))
    }

    fn fill_pairs(&mut self, raw: &Rc<Raw>, what: &str) -> Result<Built, YamlError> {
        let context = format!(
            "while constructing {what} (line {}, column {})",
            raw.mark.line, raw.mark.column
        );
        let RawKind::Seq(items) = &raw.kind else {
            return Err(YamlError::new(
                raw.mark,
                format!("{context}: expected a sequence, but found {}", raw.id()),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let RawKind::Map(pairs) = &item.kind else {
                return Err(YamlError::new(
                    item.mark,
                    format!(
                        "{context}: expected a mapping of length 1, but found {}",
                        item.id()
                    ),
                ));
            };
            let pair = {
                let pairs = pairs.borrow();
                if pairs.len() != 1 {
                    return Err(YamlError::new(
                        item.mark,
                        format!(
                            "{context}: expected a single mapping item, but found {} items",
                            pairs.len()
                        ),
                    ));
                }
                pairs[0].clone()
            };
            self.construct_object(&pair.0)?;
            self.construct_object(&pair.1)?;
            out.push((pair.0, pair.1, item.mark));
        }
        Ok(Built::Pairs(out))
    }

    fn assemble_pairs(
        &self,
        pairs: &[RawPair],
        depth: usize,
        budget: &mut usize,
    ) -> Result<Vec<(Node, Node)>, YamlError> {
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

    /// `!!python/object/apply:flytekit.constants.CopyFileDetection [value]`
    /// (or `{args: [value]}`): `CopyFileDetection(value)`, which looks the
    /// value up as a dict key would (`True` and `1.0` find the member 1).
    fn construct_copy_mode(&mut self, raw: &Rc<Raw>) -> Result<PyValue, YamlError> {
        let fail = |mark: Mark, what: String| {
            YamlError::new(
                mark,
                format!("CopyFileDetection takes one value, 1, 2 or 3 ({what})"),
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
            Some(Built::Scalar { value, .. }) => value.clone(),
            _ => return Err(fail(arg.mark, "found a collection".into())),
        };
        const MEMBERS: [(&str, i64); 3] = [("LOADED_MODULES", 1), ("ALL", 2), ("NO_COPY", 3)];
        MEMBERS
            .iter()
            .find(|(_, v)| value.py_eq(&PyValue::Int((*v).into())))
            .map(|&(member, value)| PyValue::Enum {
                class: "CopyFileDetection",
                member,
                value,
            })
            .ok_or_else(|| {
                YamlError::new(
                    arg.mark,
                    format!("{} is not a valid CopyFileDetection", value.repr()),
                )
            })
    }

    /// Unfolds the constructed graph into a [`Node`] tree.
    fn assemble(&self, raw: &Rc<Raw>, depth: usize, budget: &mut usize) -> Result<Node, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::new(
                raw.mark,
                "the document is nested too deeply",
            ));
        }
        if *budget == 0 {
            return Err(YamlError::new(
                raw.mark,
                "the document expands to too many nodes (aliases)",
            ));
        }
        *budget -= 1;
        let value = match self.built.get(&ident(raw)) {
            Some(Built::Scalar { value, .. }) => NodeValue::Scalar(value.clone()),
            Some(Built::Seq(items)) => NodeValue::Seq(
                items
                    .iter()
                    .map(|item| self.assemble(item, depth + 1, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Some(Built::Map(pairs)) => NodeValue::Map(self.assemble_pairs(pairs, depth, budget)?),
            Some(Built::ImageSpec(pairs)) => {
                NodeValue::ImageSpec(self.assemble_pairs(pairs, depth, budget)?)
            }
            Some(Built::Tuple(items)) => NodeValue::Tuple(
                items
                    .iter()
                    .map(|item| self.assemble(item, depth + 1, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Some(Built::Pairs(items)) => NodeValue::Seq(
                items
                    .iter()
                    .map(|(k, v, mark)| {
                        let k = self.assemble(k, depth + 2, budget)?.to_py();
                        let v = self.assemble(v, depth + 2, budget)?.to_py();
                        Ok(Node {
                            value: NodeValue::Scalar(PyValue::Tuple(vec![k, v])),
                            mark: *mark,
                            plain: false,
                        })
                    })
                    .collect::<Result<_, YamlError>>()?,
            ),
            None => {
                return Err(YamlError::new(
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

/// PyYAML 6.0.4 merges the mappings of `<<` in order and keeps the first pair
/// of a key, where "the same key" means the same Python object
/// (`id(key_node.value)`): a key node reached twice through an alias, or a
/// one-character key, since CPython shares one string object per Latin-1
/// character. Other repeated keys are all kept and the dict keeps the last
/// value, as PyYAML 6.0.4 does.
#[derive(Default)]
struct MergedKeys {
    nodes: Vec<*const Raw>,
    chars: Vec<String>,
}

impl MergedKeys {
    /// True the first time a key is seen.
    fn first(&mut self, key: &Rc<Raw>) -> bool {
        let ptr = Rc::as_ptr(key);
        if self.nodes.contains(&ptr) {
            return false;
        }
        self.nodes.push(ptr);
        if let RawKind::Scalar(text) = &key.kind {
            let shared = text.chars().count() <= 1 && text.chars().all(|c| (c as u32) < 256);
            if shared {
                if self.chars.contains(text) {
                    return false;
                }
                self.chars.push(text.clone());
            }
        }
        true
    }
}

/// PyYAML's `SafeConstructor.flatten_mapping`: moves the pairs of merged
/// mappings (`<<`) in front of the node's own pairs, in place, and retags
/// `=` keys as `str`.
fn flatten_mapping(raw: &Rc<Raw>, depth: usize) -> Result<(), YamlError> {
    if depth > MAX_DEPTH {
        return Err(YamlError::new(raw.mark, "merge keys are nested too deeply"));
    }
    let RawKind::Map(cell) = &raw.kind else {
        return Ok(());
    };
    let pairs = cell.borrow().clone();
    let context = || {
        format!(
            "while constructing a mapping (line {}, column {})",
            raw.mark.line, raw.mark.column
        )
    };
    let mut merged: Vec<RawPair> = Vec::new();
    let mut merged_keys = MergedKeys::default();
    let mut own: Vec<RawPair> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        if key.has_tag(TAG_MERGE) {
            match &value.kind {
                RawKind::Map(sub) => {
                    flatten_mapping(&value, depth + 1)?;
                    for pair in sub.borrow().iter() {
                        if merged_keys.first(&pair.0) {
                            merged.push(pair.clone());
                        }
                    }
                }
                RawKind::Seq(subnodes) => {
                    for sub in subnodes {
                        let RawKind::Map(sub_pairs) = &sub.kind else {
                            return Err(YamlError::new(
                                sub.mark,
                                format!(
                                    "{}: expected a mapping for merging, but found {}",
                                    context(),
                                    sub.id()
                                ),
                            ));
                        };
                        flatten_mapping(sub, depth + 1)?;
                        for pair in sub_pairs.borrow().iter() {
                            if merged_keys.first(&pair.0) {
                                merged.push(pair.clone());
                            }
                        }
                    }
                }
                RawKind::Scalar(_) => {
                    return Err(YamlError::new(
                        value.mark,
                        format!(
                            "{}: expected a mapping or list of mappings for merging, but found {}",
                            context(),
                            value.id()
                        ),
                    ))
                }
            }
        } else {
            if key.has_tag(TAG_VALUE) {
                *key.tag.borrow_mut() = TAG_STR.to_owned();
            }
            own.push((key, value));
        }
    }
    merged.extend(own);
    *cell.borrow_mut() = merged;
    Ok(())
}

/// SafeConstructor's `construct_scalar`: a scalar's text, or for a mapping the
/// scalar under its `=` key.
fn construct_scalar(raw: &Rc<Raw>) -> Result<String, YamlError> {
    match &raw.kind {
        RawKind::Scalar(s) => Ok(s.clone()),
        RawKind::Map(pairs) => {
            let value_node = pairs
                .borrow()
                .iter()
                .find(|(k, _)| k.has_tag(TAG_VALUE))
                .map(|(_, v)| Rc::clone(v));
            match value_node {
                Some(v) => construct_scalar(&v),
                None => Err(YamlError::new(
                    raw.mark,
                    format!("expected a scalar node, but found {}", raw.id()),
                )),
            }
        }
        RawKind::Seq(_) => Err(YamlError::new(
            raw.mark,
            format!("expected a scalar node, but found {}", raw.id()),
        )),
    }
}

fn construct_bool(raw: &Rc<Raw>) -> Result<PyValue, YamlError> {
    let text = construct_scalar(raw)?;
    match text.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(PyValue::Bool(true)),
        "no" | "false" | "off" => Ok(PyValue::Bool(false)),
        _ => Err(YamlError::new(
            raw.mark,
            format!("invalid boolean {}", py_repr_str(&text)),
        )),
    }
}

/// Splits a leading `+` / `-` as PyYAML does: `(sign, rest)`.
fn split_sign(value: &str) -> (i32, &str) {
    match value.as_bytes().first() {
        Some(b'-') => (-1, &value[1..]),
        Some(b'+') => (1, &value[1..]),
        _ => (1, value),
    }
}

/// SafeConstructor's `construct_yaml_int`.
fn construct_int(text: &str, mark: Mark) -> Result<BigInt, YamlError> {
    let invalid = || {
        YamlError::new(
            mark,
            format!("invalid literal for int(): {}", py_repr_str(text)),
        )
    };
    let cleaned = text.replace('_', "");
    if cleaned.is_empty() {
        return Err(invalid());
    }
    let (sign, value) = split_sign(&cleaned);
    let magnitude = if value == "0" {
        BigInt::from(0)
    } else if let Some(bin) = value.strip_prefix("0b") {
        python_int(bin, 2).ok_or_else(invalid)?
    } else if let Some(hex) = value.strip_prefix("0x") {
        python_int(hex, 16).ok_or_else(invalid)?
    } else if value.starts_with('0') {
        python_int(value, 8).ok_or_else(invalid)?
    } else if value.is_empty() {
        return Err(invalid());
    } else if value.contains(':') {
        let mut total = BigInt::from(0);
        let mut base = BigInt::from(1);
        for part in value.split(':').rev() {
            total += python_int(part, 10).ok_or_else(invalid)? * &base;
            base *= 60;
        }
        total
    } else {
        python_int(value, 10).ok_or_else(invalid)?
    };
    Ok(magnitude * sign)
}

/// Python's whitespace for `int()` / `float()` stripping.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `int(text, base)` for text without underscores (PyYAML strips them
/// first). ASCII digits only.
fn python_int(text: &str, base: u32) -> Option<BigInt> {
    let s = text.trim_matches(is_py_space);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let prefix = match base {
        16 => Some("0x"),
        8 => Some("0o"),
        2 => Some("0b"),
        _ => None,
    };
    let digits = match prefix {
        Some(p) if s.len() >= 2 && s[..2].eq_ignore_ascii_case(p) => &s[2..],
        _ => s,
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let magnitude = BigInt::parse_bytes(digits.as_bytes(), base)?;
    Some(if negative { -magnitude } else { magnitude })
}

/// SafeConstructor's `construct_yaml_float`. The flag is true when the value
/// is PyYAML's shared `nan_value` object.
fn construct_float(text: &str, mark: Mark) -> Result<(f64, bool), YamlError> {
    let invalid = || {
        YamlError::new(
            mark,
            format!("could not convert string to float: {}", py_repr_str(text)),
        )
    };
    let cleaned = text.replace('_', "").to_lowercase();
    if cleaned.is_empty() {
        return Err(invalid());
    }
    let (sign, value) = split_sign(&cleaned);
    let sign = f64::from(sign);
    if value == ".inf" {
        return Ok((sign * f64::INFINITY, false));
    }
    if value == ".nan" {
        return Ok((f64::NAN, true));
    }
    if value.contains(':') {
        let mut total = 0.0_f64;
        let mut base = BigInt::from(1);
        for part in value.split(':').rev() {
            let digit = python_float(part).ok_or_else(invalid)?;
            let base_f: f64 = base.to_string().parse().map_err(|_| invalid())?;
            if base_f.is_infinite() {
                return Err(YamlError::new(mark, "int too large to convert to float"));
            }
            total += digit * base_f;
            base *= 60;
        }
        return Ok((sign * total, false));
    }
    let parsed = python_float(value).ok_or_else(invalid)?;
    Ok((sign * parsed, false))
}

/// Python's `float(text)` for text without underscores. ASCII digits only.
fn python_float(text: &str) -> Option<f64> {
    let s = text.trim_matches(is_py_space);
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    if !special && !is_decimal_float(body) {
        return None;
    }
    s.parse().ok()
}

/// `digits [. [digits]] [exponent]` or `. digits [exponent]`.
fn is_decimal_float(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == bytes.len()
}

/// SafeConstructor's `construct_yaml_binary`: `base64.decodebytes`, which
/// skips characters outside the alphabet and stops at completed padding.
fn construct_binary(text: &str, mark: Mark) -> Result<Vec<u8>, YamlError> {
    if !text.is_ascii() {
        return Err(YamlError::new(
            mark,
            "failed to convert base64 data into ascii: the data is not ASCII",
        ));
    }
    let sextet = |c: u8| -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let mut quad_pos = 0u32;
    let mut left = 0u8;
    let mut pads = 0u32;
    for c in text.bytes() {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    return Ok(out);
                }
            }
            continue;
        }
        let Some(v) = sextet(c) else {
            continue;
        };
        pads = 0;
        match quad_pos {
            0 => {
                quad_pos = 1;
                left = v;
            }
            1 => {
                quad_pos = 2;
                out.push((left << 2) | (v >> 4));
                left = v & 0x0f;
            }
            2 => {
                quad_pos = 3;
                out.push((left << 4) | (v >> 2));
                left = v & 0x03;
            }
            _ => {
                quad_pos = 0;
                out.push((left << 6) | v);
                left = 0;
            }
        }
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err(YamlError::new(
            mark,
            format!(
                "failed to decode base64 data: Invalid base64-encoded string: number of data \
                 characters ({}) cannot be 1 more than a multiple of 4",
                out.len() / 3 * 4 + 1
            ),
        )),
        _ => Err(YamlError::new(
            mark,
            "failed to decode base64 data: Incorrect padding",
        )),
    }
}

fn timestamp_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\A(?P<year>[0-9][0-9][0-9][0-9])",
            r"-(?P<month>[0-9][0-9]?)",
            r"-(?P<day>[0-9][0-9]?)",
            r"(?:(?:[Tt]|[ \t]+)",
            r"(?P<hour>[0-9][0-9]?)",
            r":(?P<minute>[0-9][0-9])",
            r":(?P<second>[0-9][0-9])",
            r"(?:\.(?P<fraction>[0-9]*))?",
            r"(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)",
            r"(?::(?P<tz_minute>[0-9][0-9]))?))?)?\n?\z",
        ))
        .expect("valid timestamp regex")
    })
}

/// SafeConstructor's `construct_yaml_timestamp`.
fn construct_timestamp(raw: &Rc<Raw>) -> Result<PyValue, YamlError> {
    construct_scalar(raw)?;
    let RawKind::Scalar(text) = &raw.kind else {
        return Err(YamlError::new(
            raw.mark,
            "a timestamp must be a scalar (PyYAML fails on this with a TypeError)",
        ));
    };
    let caps = timestamp_regex().captures(text).ok_or_else(|| {
        YamlError::new(
            raw.mark,
            format!("{} is not a timestamp", py_repr_str(text)),
        )
    })?;
    let num = |name: &str| -> u32 {
        caps.name(name)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0)
    };
    let bad = |msg: String| YamlError::new(raw.mark, msg);
    let (year, month, day) = (num("year"), num("month"), num("day"));
    if !(1..=9999).contains(&year) {
        return Err(bad(format!("year {year} is out of range")));
    }
    let year = year as i32;
    if !(1..=12).contains(&month) {
        return Err(bad("month must be in 1..12".to_owned()));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(bad("day is out of range for month".to_owned()));
    }
    let date = PyDate { year, month, day };
    if caps.name("hour").is_none() {
        return Ok(PyValue::Date(date));
    }
    let (hour, minute, second) = (num("hour"), num("minute"), num("second"));
    if hour > 23 {
        return Err(bad("hour must be in 0..23".to_owned()));
    }
    if minute > 59 {
        return Err(bad("minute must be in 0..59".to_owned()));
    }
    if second > 59 {
        return Err(bad("second must be in 0..59".to_owned()));
    }
    let microsecond = match caps.name("fraction").map(|m| m.as_str()) {
        Some(f) if !f.is_empty() => {
            let mut digits: String = f.chars().take(6).collect();
            while digits.len() < 6 {
                digits.push('0');
            }
            digits.parse().unwrap_or(0)
        }
        _ => 0,
    };
    let utc_offset_seconds = if let Some(sign) = caps.name("tz_sign") {
        let offset = i64::from(num("tz_hour")) * 3600 + i64::from(num("tz_minute")) * 60;
        let offset = if sign.as_str() == "-" {
            -offset
        } else {
            offset
        };
        if offset.abs() >= 86_400 {
            return Err(bad(
                "offset must be a timedelta strictly between -timedelta(hours=24) and \
                 timedelta(hours=24)"
                    .to_owned(),
            ));
        }
        Some(offset as i32)
    } else if caps.name("tz").is_some() {
        Some(0)
    } else {
        None
    };
    Ok(PyValue::DateTime(PyDateTime {
        date,
        hour,
        minute,
        second,
        microsecond,
        utc_offset_seconds,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below are `repr(yaml.safe_load(doc))` from PyYAML 6.0.3, and 6.0.4 for the merge-key order (6.0.4 merges `<<: [a, b]` front to back).
    // on CPython 3.11.7.

    const OK: &[(&str, &str)] = &[
        ("python_version: 3.10", "{'python_version': 3.1}"),
        ("017", "15"),
        ("0x1A", "26"),
        ("1:30", "90"),
        ("190:20:30.15", "685230.15"),
        ("1_000", "1000"),
        ("1e3", "'1e3'"),
        (".5", "0.5"),
        ("~", "None"),
        ("[yes, No, on, OFF, y, n, True, FALSE, tRUE]", "[True, False, True, False, 'y', 'n', True, False, 'tRUE']"),
        ("09", "'09'"),
        ("0o17", "'0o17'"),
        ("-0", "0"),
        ("+12", "12"),
        ("[.inf, -.Inf, +.INF, .NaN, -.nan]", "[inf, -inf, inf, nan, '-.nan']"),
        ("123456789012345678901234567890123456789012345678901234567890", "123456789012345678901234567890123456789012345678901234567890"),
        ("-123456789012345678901234567890123456789012345678901234567890", "-123456789012345678901234567890123456789012345678901234567890"),
        ("[0b1010_1010, -0b11, -0x_FF_ff, 0_7, 00, +0, -0777, 0x0]", "[170, -3, -65535, 7, 0, 0, -511, 0]"),
        ("[08, 0_8, 1__2, 1_, _1, 0x, 0b, 0xg, 1:60, 1:30.5, -1:30, +1:30:59]", "['08', '0_8', 12, 1, '_1', '0x', '0b', '0xg', '1:60', 90.5, -90, 5459]"),
        ("[0., -0.0, 1.5e+3, 1.5e3, 1.5E-3, 685.230_15e+03, 685_230.15, 3., +.5, -.5, ., 1.2.3, 1.e+3, 12.e+3]", "[0.0, -0.0, 1500.0, '1.5e3', 0.0015, 685230.15, 685230.15, 3.0, '+.5', '-.5', '.', '1.2.3', 1000.0, 12000.0]"),
        ("[1e+400, -1e+400, 1.0e-400, 0.0e+0, 0.1_0, 1_2.3_4, 1_2:3_0, -1_2:3_0]", "['1e+400', '-1e+400', 0.0, 0.0, 0.1, 12.34, '1_2:3_0', '-1_2:3_0']"),
        ("[2024-01-05, 2024-1-5, 2024-01-05T10:20:30Z, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5]", "[datetime.date(2024, 1, 5), '2024-1-5', datetime.datetime(2024, 1, 5, 10, 20, 30, tzinfo=datetime.timezone.utc), datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400))), datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))]"),
        ("[2001-12-14 21:59:43.10, 2001-12-15 2:59:43.10, 2001-12-15T02:59:43.1234567Z, 2001-12-15T02:59:43.Z]", "[datetime.datetime(2001, 12, 14, 21, 59, 43, 100000), datetime.datetime(2001, 12, 15, 2, 59, 43, 100000), datetime.datetime(2001, 12, 15, 2, 59, 43, 123456, tzinfo=datetime.timezone.utc), datetime.datetime(2001, 12, 15, 2, 59, 43, tzinfo=datetime.timezone.utc)]"),
        ("[2001-12-15T02:59:43.000000, 2001-12-15T02:59:00, 2001-12-15T02:00:00+05:30, 2001-12-15T02:00:00-00:00]", "[datetime.datetime(2001, 12, 15, 2, 59, 43), datetime.datetime(2001, 12, 15, 2, 59), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800))), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone.utc)]"),
        ("[2001-12-15T02:00:00 +5, 2001-12-15T02:00:00+23:59, 2001-12-15T02:00:00-23:59, 2024-02-29]", "[datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=18000))), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=86340))), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=60))), datetime.date(2024, 2, 29)]"),
        ("[\"2024-01-05\", '017', \"yes\", '3.10', \"~\", \"null\", '0x1A', \"1:30\", '.inf', \"\"]", "['2024-01-05', '017', 'yes', '3.10', '~', 'null', '0x1A', '1:30', '.inf', '']"),
        ("[!!str 3.10, !!str yes, !!int \"017\", !!int '0x1A', !!float \"1e3\", !!float 1, !!bool \"TRUE\", !!null \"abc\"]", "['3.10', 'yes', 15, 26, 1000.0, 1.0, True, None]"),
        ("[!!int \"0o17\", !!int \"--5\", !!int \" 12 \", !!int \"1:-30\", !!float \"nan\", !!float \"-inf\", !!float \" 1.5 \"]", "[15, 5, 12, 30, nan, -inf, 1.5]"),
        ("[!!timestamp \"2024-01-05\", !!timestamp 2024-1-5, !!timestamp \"2024-01-05\\n\", ! \"12\\n\", !!int \"12\\n\"]", "[datetime.date(2024, 1, 5), datetime.date(2024, 1, 5), datetime.date(2024, 1, 5), 12, 12]"),
        ("[!!binary \"aGVsbG8=\", !!binary \"aGVsbG8=x\", !!binary \"aGVs=bG8=\", !!binary \"aGk=aGk=\", !!binary \"AAA=A\", !!binary \"====\"]", "[b'hello', b'hello', b'hello', b'hi', b'\\x00\\x00', b'']"),
        ("!!binary |\n  aGVs\n  bG8gd29y\n  bGQ=\n", "b'hello world'"),
        ("[!!str , !!seq [a, 1], !!map {a: 1}, !<tag:yaml.org,2002:int> 12, !<tag:yaml.org,2002:str> 12, ! 12, ! [1], ! {a: 1}]", "['', ['a', 1], {'a': 1}, 12, '12', 12, [1], {'a': 1}]"),
        ("!!omap [a: 1, b: 2]", "[('a', 1), ('b', 2)]"),
        ("!!pairs\n- a: 1\n- a: [1, 2]", "[('a', 1), ('a', [1, 2])]"),
        ("a: 1\nb:\n  - x\n  - y: [1, 2, {c: d}]", "{'a': 1, 'b': ['x', {'y': [1, 2, {'c': 'd'}]}]}"),
        ("[1, [2, [3, {a: [4]}]]]", "[1, [2, [3, {'a': [4]}]]]"),
        ("{a: 1, b: 2, a: 3}", "{'a': 3, 'b': 2}"),
        ("{1: a, 1.0: b, true: c}", "{1: 'c'}"),
        ("{0: a, false: b, 0.0: c, -0.0: d}", "{0: 'd'}"),
        ("{.nan: 1, .NaN: 2}", "{nan: 2}"),
        ("{!!float nan: 1, !!float nan: 2}", "{nan: 1, nan: 2}"),
        ("{&x !!float nan: 1, *x : 2}", "{nan: 2}"),
        ("{~: 1, null: 2, ? : 3}", "{None: 3}"),
        ("{2024-01-01: a, 2024-01-01 00:00:00: b}", "{datetime.date(2024, 1, 1): 'a', datetime.datetime(2024, 1, 1, 0, 0): 'b'}"),
        ("{2001-12-14t21:59:43-05:00: a, 2001-12-15t02:59:43Z: b}", "{datetime.datetime(2001, 12, 14, 21, 59, 43, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400))): 'b'}"),
        ("{2024-01-01 00:00:00: a, 2024-01-01 00:00:00Z: b}", "{datetime.datetime(2024, 1, 1, 0, 0): 'a', datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc): 'b'}"),
        ("{!!binary aGk=: 1, !!binary aGk= : 2}", "{b'hi': 2}"),
        ("{\"a\": 1, a: 2, 'a': 3}", "{'a': 3}"),
        ("{1: a, \"1\": b}", "{1: 'a', '1': 'b'}"),
        ("{9007199254740993: a, 9007199254740992.0: b}", "{9007199254740993: 'a', 9007199254740992.0: 'b'}"),
        ("{9007199254740992: a, 9007199254740992.0: b}", "{9007199254740992: 'b'}"),
        ("base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  b: 3\n  c: 4", "{'base': {'a': 1, 'b': 2}, 'derived': {'a': 1, 'b': 3, 'c': 4}}"),
        ("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  w: 0", "{'a': {'x': 1, 'y': 2}, 'b': {'y': 3, 'z': 4}, 'c': {'x': 1, 'y': 2, 'z': 4, 'w': 0}}"),
        ("c:\n  x: 0\n  <<: [{x: 1, q: 1}, {x: 2, r: 2}]\n  <<: {s: 3, x: 4}", "{'c': {'x': 0, 'q': 1, 'r': 2, 's': 3}}"),
        ("c: {<<: {<<: {a: 1}, b: 2}, c: 3}", "{'c': {'a': 1, 'b': 2, 'c': 3}}"),
        ("c: {!!merge x: {a: 1}, <<: {}}", "{'c': {'a': 1}}"),
        ("c: {\"<<\": {a: 1}}", "{'c': {'<<': {'a': 1}}}"),
        ("base: &b\n  k: 1\nlist:\n  - <<: *b\n    j: 2\n  - <<: *b", "{'base': {'k': 1}, 'list': [{'k': 1, 'j': 2}, {'k': 1}]}"),
        ("x: &x {<<: {a: 1}, b: 2}\ny: {<<: *x, c: 3}\nz: *x", "{'x': {'a': 1, 'b': 2}, 'y': {'a': 1, 'b': 2, 'c': 3}, 'z': {'a': 1, 'b': 2}}"),
        ("{=: 1}", "{'=': 1}"),
        ("x: !!int {=: 12, b: 1}", "{'x': 12}"),
        ("{&v =: 1, x: *v}", "{'=': 1, 'x': '='}"),
        ("[{&v =: 1}, [*v]]", "[{'=': 1}, ['=']]"),
        ("{a: &m !!int {=: 12}, b: {<<: *m}}", "{'a': 12, 'b': {'=': 12}}"),
        ("[&a 1, *a, &b [x], *b]", "[1, 1, ['x'], ['x']]"),
        ("a\n...\n", "'a'"),
        ("--- a\n...\n", "'a'"),
        ("---", "None"),
        ("# comment only\n", "None"),
        ("", "None"),
        ("  \n", "None"),
        ("- a\n- b\n-\n- ~", "['a', 'b', None, None]"),
        ("key: >\n  folded\n  text\n\n  more\n", "{'key': 'folded text\\nmore\\n'}"),
        ("key: |\n  literal\n   text\n", "{'key': 'literal\\n text\\n'}"),
        ("key: |-\n  strip\n", "{'key': 'strip'}"),
        ("key: >+\n  keep\n\n", "{'key': 'keep\\n\\n'}"),
        ("plain\n  multi\n  line", "'plain multi line'"),
        ("'single ''quoted'''", "\"single 'quoted'\""),
        ("\"double \\\"quoted\\\" \\t \\x41 \\u00e9 \\U0001F600 \\n\"", "'double \"quoted\" \\t A é 😀 \\n'"),
        ("\"\\x00\\x07\\x1b\\x7f\\x85\\N\\L\\P\\_\"", "'\\x00\\x07\\x1b\\x7f\\x85\\x85\\u2028\\u2029\\xa0'"),
        ("é: ü", "{'é': 'ü'}"),
        ("emoji: \"😀👍🏽\"", "{'emoji': '😀👍🏽'}"),
        ("combining: \"e\u{301}\"", "{'combining': 'e\u{301}'}"),
        ("cjk: 漢字", "{'cjk': '漢字'}"),
        ("[\"it's\", 'say \"hi\"', \"both ' and \\\"\", '\\\\', 'a\\b']", "[\"it's\", 'say \"hi\"', 'both \\' and \"', '\\\\\\\\', 'a\\\\b']"),
        ("[\"\\u00a0\", \"\\u200b\", \"\\u2028\", \"\\ufeff\", \"\\u202e\", \"\\ue000\", \"\\U000F0000\", \"\\u0378\", \"\\u0897\"]", "['\\xa0', '\\u200b', '\\u2028', '\\ufeff', '\\u202e', '\\ue000', '\\U000f0000', '\\u0378', '\\u0897']"),
        ("\u{a0}x: \u{a0}y", "{'\\xa0x': '\\xa0y'}"),
        ("nel: a\u{85}  b\u{85}next: c", "{'nel': 'a b', 'next': 'c'}"),
        ("- a\u{85}- b", "['a', 'b']"),
        ("[1, 1.0, 1.5, 0.1, 1e+16, 1.0e+15, 0.0001, 1.0e-05, 1.5e-07, 123456789012345.0, 1234567890123456.0, 12345678901234567.0]", "[1, 1.0, 1.5, 0.1, '1e+16', 1000000000000000.0, 0.0001, 1e-05, 1.5e-07, 123456789012345.0, 1234567890123456.0, 1.2345678901234568e+16]"),
        ("[0.30000000000000004, 4.9e-324, 5e-324, 1.7976931348623157e+308, 2.2250738585072014e-308, 1e-320]", "[0.30000000000000004, 5e-324, '5e-324', 1.7976931348623157e+308, 2.2250738585072014e-308, '1e-320']"),
        ("[100.0, 1e+22, 1e+23, 9007199254740993.0, 0.1e+1, 1234.5678e-2, -1.5, -0.0001, -1e-05, -1e+16]", "[100.0, '1e+22', '1e+23', 9007199254740992.0, 1.0, 12.345678, -1.5, -0.0001, '-1e-05', '-1e+16']"),
        ("? a\n? b\n: c", "{'a': None, 'b': 'c'}"),
        ("? |\n  block key\n: v", "{'block key\\n': 'v'}"),
        ("a: !!str\nb: !!int \"0\"\nc: !!null", "{'a': '', 'b': 0, 'c': None}"),
        ("{a: 1,}", "{'a': 1}"),
        ("'': empty key", "{'': 'empty key'}"),
        ("- - - deep\n- a: b\n  c: d\n- e", "[[['deep']], {'a': 'b', 'c': 'd'}, 'e']"),
        ("cuda: 11.8\ncudnn: 8\npython_version: 3.9\npackages: [numpy==1.26, pandas>=2]\nenv: {A: 1, B: \"2\", C: yes}", "{'cuda': 11.8, 'cudnn': 8, 'python_version': 3.9, 'packages': ['numpy==1.26', 'pandas>=2'], 'env': {'A': 1, 'B': '2', 'C': True}}"),
        ("[Yes, yES, Null, NULL, nULL, None, .Inf, .iNf, 0777, +0777]", "[True, 'yES', None, None, 'nULL', 'None', inf, '.iNf', 511, 511]"),
        ("\u{feff}a: 1", "{'a': 1}"),
        ("!!python/tuple [1, [a], !!python/tuple []]", "(1, ['a'], ())"),
        ("[!!python/object/apply:flytekit.constants.CopyFileDetection [2], !!python/object/apply:flytekit.constants.CopyFileDetection {args: [yes]}]", "[<CopyFileDetection.ALL: 2>, <CopyFileDetection.LOADED_MODULES: 1>]"),
        ("!!python/object:flytekit.image_spec.image_spec.ImageSpec {name: x, <<: {a: 1}}", "{'a': 1, 'name': 'x'}"),
    ];
    const ERR: &[&str] = &[
        "- [a, b]: c",
        "=",
        "- =",
        "<<",
        "[<<]",
        "{<<: 1}",
        "c: {<<: [1]}",
        "c: {<<: [{a: 1}, [b]]}",
        "[&v =, {*v : 1}]",
        "[[{&v =: 1}], *v]",
        "!!set {a, b}",
        "!foo 1",
        "!foo [1]",
        "!!python/name:os.system",
        "!!python/object/apply:os.system [ls]",
        "!!python/object:flytekit.image_spec.image_spec.Other {}",
        "!!python/object:flytekit.image_spec.image_spec.ImageSpec [a]",
        "!!python/object/apply:flytekit.constants.CopyFileDetection [4]",
        "!!python/object/apply:flytekit.constants.CopyFileDetection [1, 2]",
        "!!python/object/apply:flytekit.constants.CopyFileDetection {kwds: {value: 1}}",
        "!!python/tuple a",
        "!!python/str a",
        "! \"!\"",
        "!!str [a]",
        "!!seq a",
        "!!map a",
        "!!int [1]",
        "!!omap [[a, 1]]",
        "!!omap [{a: 1, b: 2}]",
        "!!omap {a: 1}",
        "{? [a]: 1}",
        "{? {a: 1}: 1}",
        "{? !!omap [a: 1]: 1}",
        "{&a a: 1, &a b: 2}",
        "[*nope]",
        "a\n---\nb",
        "---\n---\n",
        "x: !!int {a: 12}",
        "!!bool \"y\"",
        "!!int \"abc\"",
        "!!int \"\"",
        "!!float \"\"",
        "!!timestamp \"nope\"",
        "!!binary \"aGVsbG8\"",
        "!!binary \"a\"",
        "!!binary \"é\"",
        "2024-02-30",
        "2023-02-29",
        "0000-01-01",
        "2024-13-01",
        "2001-12-15T25:00:00",
        "2001-12-15T23:60:00",
        "2001-12-15T23:59:60",
        "2001-12-15T02:00:00+24:00",
        "a: [1, 2\n",
        "a: \u{7}",
        "a: \"\u{2028}\"",
        "key: value\n  bad: indent",
    ];

    fn py(doc: &str) -> String {
        match load(doc) {
            Ok(Some(node)) => node.to_py().repr(),
            Ok(None) => "None".to_owned(),
            Err(e) => panic!("{doc:?} failed to load: {e}"),
        }
    }

    #[test]
    fn loads_like_pyyaml() {
        for &(doc, expected) in OK {
            assert_eq!(py(doc), expected, "document {doc:?}");
        }
    }

    #[test]
    fn fails_like_pyyaml() {
        for &doc in ERR {
            assert!(load(doc).is_err(), "{doc:?} loaded: {:?}", load(doc));
        }
    }

    #[test]
    fn brief_examples() {
        assert_eq!(py("python_version: 3.10"), "{'python_version': 3.1}");
        assert_eq!(py("017"), "15");
        assert_eq!(py("0x1A"), "26");
        assert_eq!(py("1:30"), "90");
        assert_eq!(py("190:20:30.15"), "685230.15");
        assert_eq!(py("1_000"), "1000");
        assert_eq!(py("1e3"), "'1e3'");
        assert_eq!(py(".5"), "0.5");
        assert_eq!(py("~"), "None");
        assert_eq!(py("09"), "'09'");
        assert_eq!(py("0o17"), "'0o17'");
        assert_eq!(py("-0"), "0");
        assert_eq!(py("+12"), "12");
        assert_eq!(py("'3.10'"), "'3.10'");
    }

    #[test]
    fn empty_stream_is_none() {
        assert_eq!(load("").unwrap(), None);
        assert_eq!(load("# just a comment\n").unwrap(), None);
        let explicit = load("---\n").unwrap().unwrap();
        assert_eq!(explicit.value, NodeValue::Scalar(PyValue::None));
    }

    #[test]
    fn marks_and_plain_flags() {
        let root = load("a: 1\nb: '2'\nc: !!str 3\nd:\n  - x\n")
            .unwrap()
            .unwrap();
        assert_eq!(root.mark, Mark { line: 1, column: 1 });
        let NodeValue::Map(pairs) = &root.value else {
            panic!("not a map: {root:?}");
        };
        let (a, one) = &pairs[0];
        assert_eq!(a.mark, Mark { line: 1, column: 1 });
        assert!(a.plain && one.plain);
        assert_eq!(one.mark, Mark { line: 1, column: 4 });
        assert_eq!(one.value, NodeValue::Scalar(PyValue::from(1)));
        let (_, two) = &pairs[1];
        assert!(!two.plain);
        assert_eq!(two.mark, Mark { line: 2, column: 4 });
        let (_, three) = &pairs[2];
        assert!(!three.plain);
        assert_eq!(three.mark, Mark { line: 3, column: 4 });
        assert_eq!(three.value, NodeValue::Scalar(PyValue::from("3")));
        let (_, seq) = &pairs[3];
        assert!(!seq.plain);
        let NodeValue::Seq(items) = &seq.value else {
            panic!("not a seq: {seq:?}");
        };
        assert_eq!(items[0].mark, Mark { line: 5, column: 5 });
    }

    #[test]
    fn duplicate_key_keeps_first_position_and_last_value() {
        let root = load("a: 1\nb: 2\na: 3\n").unwrap().unwrap();
        let NodeValue::Map(pairs) = &root.value else {
            panic!("not a map");
        };
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].0.mark.line, 1);
        assert_eq!(pairs[0].1.value, NodeValue::Scalar(PyValue::from(3)));
        assert_eq!(pairs[0].1.mark.line, 3);
    }

    #[test]
    fn omap_items_are_tuples() {
        let root = load("!!omap\n- a: 1\n- b: 2\n").unwrap().unwrap();
        let NodeValue::Seq(items) = &root.value else {
            panic!("not a seq");
        };
        assert_eq!(items[1].mark.line, 3);
        assert_eq!(root.to_py().repr(), "[('a', 1), ('b', 2)]");
    }

    #[test]
    fn errors_carry_the_offending_mark() {
        let e = load("a: 1\nb: =\n").unwrap_err();
        assert_eq!(e.mark, Mark { line: 2, column: 4 });
        assert!(
            e.message.contains("could not determine a constructor"),
            "{e}"
        );
        let e = load("a: 1\nb: !!int {x: 1}\n").unwrap_err();
        assert_eq!(e.mark, Mark { line: 2, column: 4 });
        let e = load("a\n---\nb\n").unwrap_err();
        assert!(e.message.contains("expected a single document"), "{e}");
        assert_eq!(e.mark.line, 2);
        let e = load("{? [a]: 1}").unwrap_err();
        assert!(e.message.contains("found unhashable key"), "{e}");
        let e = load("x: [1, 2\n").unwrap_err();
        assert_eq!(e.mark.line, 2);
        let e = load("a: b\u{7}").unwrap_err();
        assert_eq!(e.mark, Mark { line: 1, column: 5 });
        let e = load("x: !foo 1").unwrap_err();
        assert_eq!(
            e.message,
            "could not determine a constructor for the tag '!foo'"
        );
    }

    #[test]
    fn aliases_share_the_anchored_value() {
        assert_eq!(
            py("a: &x {k: [1, 2]}\nb: *x\n"),
            "{'a': {'k': [1, 2]}, 'b': {'k': [1, 2]}}"
        );
    }

    #[test]
    fn refused_on_purpose() {
        // PyYAML builds a self-containing list, a set, and a string holding
        // U+2028; none of them can be reproduced faithfully here.
        assert!(load("&a [*a]").is_err());
        assert!(load("!!set {a, b}").is_err());
        assert!(load("a: \"\u{2028}\"").is_err());
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = load(&doc).unwrap_err();
        assert!(e.message.contains("too many nodes"), "{e}");
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(load(&deep).is_err());
    }
}
