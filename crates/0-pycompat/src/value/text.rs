//! Python `str` predicates and transforms as CPython 3.11 has them (Unicode 14.0).
//!
//! `str.isprintable` and the decimal digits come from the
//! `unicode-general-category` tables pinned to Unicode 14.0; `str.isspace` is
//! CPython's fixed list; `str.lower` is [`char::to_lowercase`] corrected back
//! to Unicode 14.0 (see [`py_lower`]).

use std::fmt::Write as _;

use unicode_general_category::{get_general_category, GeneralCategory};

/// Python's `str.isprintable()` for one character: false for the categories
/// Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs, except the ASCII space.
pub fn is_printable(c: char) -> bool {
    c == ' '
        || !matches!(
            get_general_category(c),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::Surrogate
                | GeneralCategory::PrivateUse
                | GeneralCategory::Unassigned
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::SpaceSeparator
        )
}

/// CPython's `str.isspace()` for one character: bidirectional class WS, B or S,
/// or general category Zs. Unlike [`char::is_whitespace`] this includes
/// U+001C..U+001F.
pub fn py_isspace(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..=' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// CPython's `str.strip()` (no argument): strips [`py_isspace`] characters.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// `unicodedata.decimal(c)`: the value of a decimal digit (general category
/// Nd, in any script: `'٣'` is 3), which `int()`, `float()` and `str.format`
/// accept wherever they accept `0`-`9`.
pub fn decimal_value(c: char) -> Option<u32> {
    if c.is_ascii() {
        return c.to_digit(10);
    }
    let is_decimal = |c: char| get_general_category(c) == GeneralCategory::DecimalNumber;
    if !is_decimal(c) {
        return None;
    }
    // Unicode encodes decimal digits only in runs of ten, 0 to 9, some of them
    // adjacent (the mathematical digits).
    let mut first = u32::from(c);
    while let Some(before) = first.checked_sub(1).and_then(char::from_u32) {
        if !is_decimal(before) {
            break;
        }
        first -= 1;
    }
    Some((u32::from(c) - first) % 10)
}

/// CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`, the first step of
/// `int(text)` and `float(text)`: non-ASCII white space becomes a space,
/// non-ASCII decimal digits become ASCII ones. `None` for any other
/// non-ASCII character (CPython then fails to parse).
pub(crate) fn ascii_digits_and_spaces(text: &str) -> Option<String> {
    text.chars()
        .map(|c| {
            if u32::from(c) < 127 {
                Some(c)
            } else if py_isspace(c) {
                Some(' ')
            } else {
                decimal_value(c).and_then(|d| char::from_digit(d, 10))
            }
        })
        .collect()
}

/// C's `isspace` in CPython (`Py_ISSPACE`): the white space `int()` and
/// `float()` strip after [`ascii_digits_and_spaces`].
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t'..='\r')
}

/// Code points that Rust's (newer) Unicode tables lower-case but CPython 3.11's
/// Unicode 14.0 database does not (they were assigned or given case later).
fn lower_is_identity_in_py311(c: char) -> bool {
    matches!(
        c,
        '\u{1c89}'
            | '\u{a7cb}'
            | '\u{a7cc}'
            | '\u{a7ce}'
            | '\u{a7d2}'
            | '\u{a7d4}'
            | '\u{a7da}'
            | '\u{a7dc}'
            | '\u{10d50}'..='\u{10d65}'
            | '\u{16ea0}'..='\u{16eb8}'
    )
}

/// CPython 3.11's `str.lower()`: full lower-case mapping (so `İ` becomes `i̇`,
/// two code points) with the Final_Sigma rule for `Σ`.
///
/// Known limit: the mapping is `char::to_lowercase` corrected to Unicode 14.0
/// for every code point (checked exhaustively by the tests, so a toolchain
/// whose newer Unicode adds case pairs fails them until
/// `lower_is_identity_in_py311` lists the new pairs), but the Final_Sigma
/// context of `Σ` uses Rust's Cased/Case_Ignorable tables, which only differ
/// from Python's for code points assigned after Unicode 14.0.
pub fn py_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    // `str::to_lowercase` is the per-char mapping except for `Σ`, whose context
    // decision we read back from it (`σ` and `ς` have the same UTF-8 length).
    let whole = s.to_lowercase();
    let mut out = String::with_capacity(whole.len());
    let mut offset = 0;
    for c in s.chars() {
        let mapped = c.to_lowercase();
        let width: usize = mapped.clone().map(char::len_utf8).sum();
        if lower_is_identity_in_py311(c) {
            out.push(c);
        } else if c == 'Σ' {
            out.push_str(whole.get(offset..offset + width).unwrap_or("σ"));
        } else {
            out.extend(mapped);
        }
        offset += width;
    }
    out
}

/// The quote CPython's `repr` picks: `'` unless the text has a `'` and no `"`.
fn pick_quote(s: &str) -> char {
    if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    }
}

/// `repr(str)`: quoted, with `\\`, `\t`, `\n`, `\r`, the quote, and every
/// character that is not [`is_printable`] escaped (`\xhh`, `\uhhhh`, `\Uhhhhhhhh`).
pub(crate) fn write_str_repr(s: &str, out: &mut String) {
    let quote = pick_quote(s);
    out.reserve(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if u32::from(c) < 0x20 || u32::from(c) == 0x7f => write_escape(c, out),
            c if u32::from(c) < 0x7f => out.push(c),
            c if is_printable(c) => out.push(c),
            c => write_escape(c, out),
        }
    }
    out.push(quote);
}

/// `\xhh`, `\uhhhh` or `\Uhhhhhhhh`, as `repr` and the `backslashreplace`
/// error handler write a character.
fn write_escape(c: char, out: &mut String) {
    let cp = u32::from(c);
    let _ = if cp <= 0xff {
        write!(out, "\\x{cp:02x}")
    } else if cp <= 0xffff {
        write!(out, "\\u{cp:04x}")
    } else {
        write!(out, "\\U{cp:08x}")
    };
}

/// What `ascii()` does to a `repr()`: every non-ASCII character escaped.
pub(crate) fn escape_non_ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            write_escape(c, &mut out);
        }
    }
    out
}
