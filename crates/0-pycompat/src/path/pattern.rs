//! The regex building blocks both shell-pattern translators share: literals,
//! and Python `re` character sets rebuilt as Rust classes.

use regex::Regex;

pub(super) fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
    }
}

/// One token of a Python `re` character-set body: the character it stands for
/// and whether it was written raw (only raw `-` and `]` are syntax).
fn class_token(src: &[char], p: &mut usize) -> Result<(char, bool), String> {
    let Some(&c) = src.get(*p) else {
        return Err("unterminated character set".to_owned());
    };
    if c != '\\' {
        *p += 1;
        return Ok((c, true));
    }
    match src.get(*p + 1) {
        // Only `\\`, `\^`, `\-`, `\[`, `\&`, `\~`, `\|` are ever produced; `re`
        // gives ASCII letters and digits other meanings, which are not ported.
        Some(&e) if !e.is_ascii_alphanumeric() => {
            *p += 2;
            Ok((e, false))
        }
        _ => Err("unsupported escape in character set".to_owned()),
    }
}

fn token_text(c: char, raw: bool) -> String {
    if raw {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

/// Re-parse the text Python's `re` sees between `[` and the closing `]` that the
/// translators append (the `[` branch of `re/_parser.py::_parse`) and emit the
/// same set as a Rust class built only from `\x{..}` escapes.
pub(super) fn py_class_to_rust(src: &[char]) -> Result<String, String> {
    let negate = src.first() == Some(&'^');
    let mut p = usize::from(negate);
    let mut items: Vec<(char, char)> = Vec::new();
    loop {
        if p >= src.len() {
            if items.is_empty() {
                // Python would take the closing `]` as a literal; the translators
                // never produce an empty set body.
                return Err("unsupported empty character set".to_owned());
            }
            break;
        }
        let (this, raw) = class_token(src, &mut p)?;
        if raw && this == ']' && !items.is_empty() {
            return Err("unsupported `]` inside character set".to_owned());
        }
        if src.get(p) == Some(&'-') {
            p += 1;
            if p >= src.len() {
                // `[a-]`: the `-` before the closing `]` is a literal.
                items.push((this, this));
                items.push(('-', '-'));
                break;
            }
            let (that, that_raw) = class_token(src, &mut p)?;
            if that_raw && that == ']' {
                return Err("unsupported `]` inside character set".to_owned());
            }
            if that < this {
                return Err(format!(
                    "bad character range {}-{}",
                    token_text(this, raw),
                    token_text(that, that_raw)
                ));
            }
            items.push((this, that));
        } else {
            items.push((this, this));
        }
    }
    let mut out = String::from(if negate { "[^" } else { "[" });
    for (lo, hi) in items {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(lo)));
        if hi != lo {
            out.push_str(&format!("-\\x{{{:X}}}", u32::from(hi)));
        }
    }
    out.push(']');
    Ok(out)
}

/// The `[` scan both translators share: given `i` just after `[`, the index of
/// the closing `]`, or `None` when the bracket is a literal.
pub(super) fn class_end(pat: &[char], i: usize) -> Option<usize> {
    let n = pat.len();
    let mut j = i;
    if j < n && pat[j] == '!' {
        j += 1;
    }
    if j < n && pat[j] == ']' {
        j += 1;
    }
    while j < n && pat[j] != ']' {
        j += 1;
    }
    (j < n).then_some(j)
}

pub(super) fn compile(re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| e.to_string())
}
