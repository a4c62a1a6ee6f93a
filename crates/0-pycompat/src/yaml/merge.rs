//! Merge keys (`<<`): PyYAML 6.0.4's `SafeConstructor.flatten_mapping`.

use std::rc::Rc;

use super::compose::{Raw, RawKind, RawPair};
use super::tags::{MAX_DEPTH, TAG_MERGE, TAG_STR, TAG_VALUE};
use crate::error::Error;

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
pub(super) fn flatten_mapping(raw: &Rc<Raw>, depth: usize) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::yaml(raw.mark, "merge keys are nested too deeply"));
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
                            return Err(Error::yaml(
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
                    return Err(Error::yaml(
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
