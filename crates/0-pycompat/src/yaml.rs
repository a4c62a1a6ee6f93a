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
mod node;
mod resolve;
mod scalar;
mod tags;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use crate::error::Error;
pub use crate::error::Mark;
pub use node::{Node, NodeValue, PyEnum, PythonTags};

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
    let mut budget = tags::MAX_ASSEMBLED_NODES;
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
