//! PyYAML's implicit resolvers (YAML 1.1): the tag of a plain scalar.

use std::sync::OnceLock;

use regex::Regex;

use super::tags::{
    TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_MERGE, TAG_NULL, TAG_STR, TAG_TIMESTAMP, TAG_VALUE, TAG_YAML,
};

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
pub(super) fn resolve_scalar(value: &str) -> &'static str {
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
