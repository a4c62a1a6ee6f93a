//! Python's `str.format` for a template with one keyword argument of type
//! `str`: `format("{hash}-dev", "hash", h)` is `"{hash}-dev".format(hash=h)`.
//!
//! A port of CPython 3.11's `Objects/stringlib/unicode_format.h` (the
//! template: literal text, `{{`/`}}`, fields, `[index]`, `!r`/`!s`/`!a`,
//! format specs with nested fields two levels deep) and of the `str` branch
//! of `Python/formatter_unicode.c` (fill, align, `0`, width, precision, type
//! `s`). It evaluates in Python's order, so the first error Python meets is
//! the one returned, with Python's exception class and message: `{other}` is
//! `KeyError: 'other'`, `{}` is an `IndexError` (there are no positional
//! arguments), `{name[-1]}` a `TypeError` (a negative index is a string key).
//!
//! Refused ([`Error::FormatUnsupported`]): attribute lookups (`{name.upper}`,
//! whose text Python takes from the `str` object and may hold an address),
//! and a width above [`MAX_WIDTH`].

use std::ops::Range;

use crate::error::Error;
use crate::value::{decimal_value, PyValue};

/// The widest field [`format()`] pads to; Python would allocate any width.
pub const MAX_WIDTH: usize = 1 << 20;

/// `template.format(**{name: value})`, as CPython 3.11 computes it.
pub fn format(template: &str, name: &str, value: &str) -> Result<String, Error> {
    let chars: Vec<char> = template.chars().collect();
    let formatter = Formatter {
        template: &chars,
        name,
        value,
    };
    formatter
        .build(0..chars.len(), 2)
        .map_err(|raise| match raise {
            Raise::Python(exception, message) => Error::Format {
                template: template.to_owned(),
                exception,
                message,
            },
            Raise::Unsupported(message) => Error::FormatUnsupported {
                template: template.to_owned(),
                message,
            },
        })
}

/// What formatting raised: a Python exception (class, message) or a refusal.
enum Raise {
    Python(&'static str, String),
    Unsupported(String),
}

fn value_error(message: impl Into<String>) -> Raise {
    Raise::Python("ValueError", message.into())
}

/// One `{...}` of the template: positions into it.
struct Field {
    name: Range<usize>,
    conversion: Option<char>,
    spec: Range<usize>,
    spec_needs_expanding: bool,
}

/// One step of the template: literal text, then maybe a field.
type Markup = (Range<usize>, Option<Field>);

struct Formatter<'a> {
    template: &'a [char],
    name: &'a str,
    value: &'a str,
}

impl Formatter<'_> {
    fn text(&self, range: Range<usize>) -> String {
        self.template[range].iter().collect()
    }

    /// `build_string` / `do_markup`: literal text and fields, in order.
    fn build(&self, input: Range<usize>, depth: u32) -> Result<String, Raise> {
        if depth == 0 {
            return Err(value_error("Max string recursion exceeded"));
        }
        let mut out = String::new();
        let mut pos = input.start;
        while let Some((literal, field)) = self.next_markup(&mut pos, input.end)? {
            out.extend(&self.template[literal]);
            if let Some(field) = field {
                out.push_str(&self.output_markup(&field, depth)?);
            }
        }
        Ok(out)
    }

    /// `MarkupIterator_next`: the literal text up to the next field (or an
    /// escaped brace), and that field.
    fn next_markup(&self, pos: &mut usize, end: usize) -> Result<Option<Markup>, Raise> {
        let s = self.template;
        if *pos >= end {
            return Ok(None);
        }
        let start = *pos;
        let mut c = '\0';
        let mut markup_follows = false;
        while *pos < end {
            c = s[*pos];
            *pos += 1;
            if c == '{' || c == '}' {
                markup_follows = true;
                break;
            }
        }
        let at_end = *pos >= end;
        let mut len = *pos - start;
        if c == '}' && (at_end || s[*pos] != '}') {
            return Err(value_error("Single '}' encountered in format string"));
        }
        if at_end && c == '{' {
            return Err(value_error("Single '{' encountered in format string"));
        }
        if !at_end {
            if s[*pos] == c {
                // An escaped brace: the literal ends with it, and no field follows.
                *pos += 1;
                markup_follows = false;
            } else {
                len -= 1;
            }
        }
        let literal = start..start + len;
        if !markup_follows {
            return Ok(Some((literal, None)));
        }
        Ok(Some((literal, Some(self.parse_field(pos, end)?))))
    }

    /// `parse_field`: from just after `{` to just after the field's `}`.
    fn parse_field(&self, pos: &mut usize, end: usize) -> Result<Field, Raise> {
        let s = self.template;
        let name_start = *pos;
        let mut c = '\0';
        while *pos < end {
            c = s[*pos];
            *pos += 1;
            match c {
                '{' => return Err(value_error("unexpected '{' in field name")),
                '[' => {
                    while *pos < end && s[*pos] != ']' {
                        *pos += 1;
                    }
                }
                '}' | ':' | '!' => break,
                _ => {}
            }
        }
        let name = name_start..*pos - 1;
        if c != '!' && c != ':' {
            if c != '}' {
                return Err(value_error("expected '}' before end of string"));
            }
            return Ok(Field {
                name,
                conversion: None,
                spec: *pos..*pos,
                spec_needs_expanding: false,
            });
        }
        let mut conversion = None;
        if c == '!' {
            if *pos >= end {
                return Err(value_error(
                    "end of string while looking for conversion specifier",
                ));
            }
            // CPython reads a NUL conversion as no conversion.
            conversion = Some(s[*pos]).filter(|&c| c != '\0');
            *pos += 1;
            if *pos < end {
                let next = s[*pos];
                *pos += 1;
                if next == '}' {
                    return Ok(Field {
                        name,
                        conversion,
                        spec: *pos..*pos,
                        spec_needs_expanding: false,
                    });
                }
                if next != ':' {
                    return Err(value_error("expected ':' after conversion specifier"));
                }
            }
        }
        let spec_start = *pos;
        let mut count = 1;
        let mut spec_needs_expanding = false;
        while *pos < end {
            let c = s[*pos];
            *pos += 1;
            if c == '{' {
                spec_needs_expanding = true;
                count += 1;
            } else if c == '}' {
                count -= 1;
                if count == 0 {
                    return Ok(Field {
                        name,
                        conversion,
                        spec: spec_start..*pos - 1,
                        spec_needs_expanding,
                    });
                }
            }
        }
        Err(value_error("unmatched '{' in format spec"))
    }

    /// `output_markup`: the field's object, converted, formatted with its
    /// (expanded) spec.
    fn output_markup(&self, field: &Field, depth: u32) -> Result<String, Raise> {
        let mut object = self.field_object(field.name.clone())?;
        if let Some(conversion) = field.conversion {
            object = match conversion {
                'r' => PyValue::Str(object).repr(),
                's' => object,
                'a' => PyValue::Str(object).ascii(),
                c if (33..127).contains(&u32::from(c)) => {
                    return Err(value_error(format!("Unknown conversion specifier {c}")))
                }
                c => {
                    return Err(value_error(format!(
                        "Unknown conversion specifier \\x{:x}",
                        u32::from(c)
                    )))
                }
            };
        }
        let spec: Vec<char> = if field.spec_needs_expanding {
            self.build(field.spec.clone(), depth - 1)?.chars().collect()
        } else {
            self.template[field.spec.clone()].to_vec()
        };
        format_str(&object, &spec)
    }

    /// `get_field_object`: the keyword argument, then each `[index]`.
    fn field_object(&self, name: Range<usize>) -> Result<String, Raise> {
        let s = self.template;
        let first_end = (name.start..name.end)
            .find(|&i| s[i] == '.' || s[i] == '[')
            .unwrap_or(name.end);
        let first = name.start..first_end;
        let index = get_integer(&s[first.clone()])?;
        if first.is_empty() || index.is_some() {
            // Numeric (or automatic) field numbering: there are no positional
            // arguments, so the first such field fails (automatic numbering
            // starts at 0).
            let index = index.unwrap_or(0);
            return Err(Raise::Python(
                "IndexError",
                format!("Replacement index {index} out of range for positional args tuple"),
            ));
        }
        let key = self.text(first);
        if key != self.name {
            return Err(Raise::Python("KeyError", PyValue::Str(key).repr()));
        }
        let mut object = self.value.to_owned();
        let mut i = first_end;
        while i < name.end {
            let c = s[i];
            i += 1;
            match c {
                '.' => {
                    let start = i;
                    while i < name.end && s[i] != '.' && s[i] != '[' {
                        i += 1;
                    }
                    if start == i {
                        return Err(value_error("Empty attribute in format string"));
                    }
                    return Err(Raise::Unsupported(format!(
                        "attribute lookups such as `.{}` are not supported",
                        self.text(start..i)
                    )));
                }
                '[' => {
                    let start = i;
                    while i < name.end && s[i] != ']' {
                        i += 1;
                    }
                    if i >= name.end {
                        return Err(value_error("Missing ']' in format string"));
                    }
                    let key = start..i;
                    i += 1;
                    let index = get_integer(&s[key.clone()])?;
                    if key.is_empty() {
                        return Err(value_error("Empty attribute in format string"));
                    }
                    let Some(index) = index else {
                        return Err(Raise::Python(
                            "TypeError",
                            "string indices must be integers, not 'str'".to_owned(),
                        ));
                    };
                    let picked = usize::try_from(index)
                        .ok()
                        .and_then(|index| object.chars().nth(index));
                    let Some(picked) = picked else {
                        return Err(Raise::Python(
                            "IndexError",
                            "string index out of range".to_owned(),
                        ));
                    };
                    object = picked.to_string();
                }
                _ => {
                    return Err(value_error(
                        "Only '.' or '[' may follow ']' in format field specifier",
                    ))
                }
            }
        }
        Ok(object)
    }
}

/// `get_integer` of `unicode_format.h`: the value when every character is a
/// decimal digit (of any script), `None` otherwise or when empty.
fn get_integer(text: &[char]) -> Result<Option<i64>, Raise> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut accumulator: i64 = 0;
    for &c in text {
        let Some(digit) = decimal_value(c) else {
            return Ok(None);
        };
        accumulator = accumulator
            .checked_mul(10)
            .and_then(|a| a.checked_add(i64::from(digit)))
            .ok_or_else(|| value_error("Too many decimal digits in format string"))?;
    }
    Ok(Some(accumulator))
}

/// `get_integer` of `formatter_unicode.c`: reads digits at `*pos`, returns how
/// many it read and their value.
fn read_integer(spec: &[char], pos: &mut usize) -> Result<(usize, i64), Raise> {
    let start = *pos;
    let mut accumulator: i64 = 0;
    while let Some(digit) = spec.get(*pos).and_then(|&c| decimal_value(c)) {
        accumulator = accumulator
            .checked_mul(10)
            .and_then(|a| a.checked_add(i64::from(digit)))
            .ok_or_else(|| value_error("Too many decimal digits in format string"))?;
        *pos += 1;
    }
    Ok((*pos - start, accumulator))
}

/// How CPython prints a format character in a message: as itself when it is
/// printable ASCII, else as `\x..`.
fn code_text(c: char) -> String {
    if (33..128).contains(&u32::from(c)) {
        c.to_string()
    } else {
        format!("\\x{:x}", u32::from(c))
    }
}

/// `format(value, spec)` for a `str` value: `_PyUnicode_FormatAdvancedWriter`,
/// `parse_internal_render_format_spec` and `format_string_internal`.
fn format_str(value: &str, spec: &[char]) -> Result<String, Raise> {
    if spec.is_empty() {
        return Ok(value.to_owned());
    }
    let is_align = |c: char| matches!(c, '<' | '>' | '=' | '^');
    let end = spec.len();
    let mut pos = 0;
    let (mut fill, mut align) = (' ', '<');
    let mut fill_specified = false;
    if end >= 2 && is_align(spec[1]) {
        (fill, align) = (spec[0], spec[1]);
        fill_specified = true;
        pos = 2;
    } else if end >= 1 && is_align(spec[0]) {
        align = spec[0];
        pos = 1;
    }
    let sign = spec
        .get(pos)
        .copied()
        .filter(|c| matches!(c, '+' | '-' | ' '));
    pos += usize::from(sign.is_some());
    let no_neg_0 = spec.get(pos) == Some(&'z');
    pos += usize::from(no_neg_0);
    let alternate = spec.get(pos) == Some(&'#');
    pos += usize::from(alternate);
    if !fill_specified && spec.get(pos) == Some(&'0') {
        // The default alignment of `str` is `<`, so `0` sets only the fill.
        fill = '0';
        pos += 1;
    }
    let (digits, width) = read_integer(spec, &mut pos)?;
    let width = (digits > 0).then_some(width);
    let mut thousands = None;
    if spec.get(pos) == Some(&',') {
        thousands = Some(',');
        pos += 1;
    }
    if spec.get(pos) == Some(&'_') {
        if thousands.is_some() {
            return Err(value_error("Cannot specify both ',' and '_'."));
        }
        thousands = Some('_');
        pos += 1;
    }
    if spec.get(pos) == Some(&',') && thousands == Some('_') {
        return Err(value_error("Cannot specify both ',' and '_'."));
    }
    let mut precision = None;
    if spec.get(pos) == Some(&'.') {
        pos += 1;
        let (digits, value) = read_integer(spec, &mut pos)?;
        if digits == 0 {
            return Err(value_error("Format specifier missing precision"));
        }
        precision = Some(value);
    }
    if end - pos > 1 {
        let spec: String = spec.iter().collect();
        return Err(value_error(format!(
            "Invalid format specifier '{spec}' for object of type 'str'"
        )));
    }
    let kind = spec.get(pos).copied().unwrap_or('s');
    if let Some(separator) = thousands {
        let allowed = match kind {
            'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' | '\0' => true,
            'b' | 'o' | 'x' | 'X' => separator == '_',
            _ => false,
        };
        if !allowed {
            return Err(value_error(format!(
                "Cannot specify '{separator}' with '{}'.",
                code_text(kind)
            )));
        }
    }
    if kind != 's' {
        return Err(value_error(format!(
            "Unknown format code '{}' for object of type 'str'",
            code_text(kind)
        )));
    }
    match sign {
        Some(' ') => return Err(value_error("Space not allowed in string format specifier")),
        Some(_) => return Err(value_error("Sign not allowed in string format specifier")),
        None => {}
    }
    if no_neg_0 {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in string format specifier",
        ));
    }
    if alternate {
        return Err(value_error(
            "Alternate form (#) not allowed in string format specifier",
        ));
    }
    if align == '=' {
        return Err(value_error(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let mut chars: Vec<char> = value.chars().collect();
    if let Some(precision) = precision {
        chars.truncate(usize::try_from(precision).unwrap_or(usize::MAX));
    }
    let width = width.map_or(0, |w| usize::try_from(w).unwrap_or(usize::MAX));
    if width > chars.len() && width > MAX_WIDTH {
        return Err(Raise::Unsupported(format!(
            "a width of {width} is not supported (at most {MAX_WIDTH})"
        )));
    }
    let pad = width.saturating_sub(chars.len());
    let left = match align {
        '>' => pad,
        '^' => pad / 2,
        _ => 0,
    };
    let mut out = String::with_capacity(value.len() + pad);
    out.extend(std::iter::repeat_n(fill, left));
    out.extend(chars);
    out.extend(std::iter::repeat_n(fill, pad - left));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(template: &str, hash: &str) -> Result<String, Error> {
        format(template, "spec_hash", hash)
    }

    /// The tests of `format_tag`, the copy this function replaces.
    #[test]
    fn tag_format_mini_language() {
        let h = "AbC-d";
        assert_eq!(tag("{spec_hash}-dev", h).unwrap(), "AbC-d-dev");
        assert_eq!(tag("{{x}}{spec_hash}", h).unwrap(), "{x}AbC-d");
        assert_eq!(tag("{spec_hash[0]}", h).unwrap(), "A");
        // Python reads `-1` as a string key: `TypeError`, not the last character.
        assert_eq!(
            tag("{spec_hash[-1]}", h).unwrap_err().to_string(),
            "cannot format `{spec_hash[-1]}`: TypeError: string indices must be integers, not 'str'"
        );
        assert_eq!(tag("{spec_hash[4]}", h).unwrap(), "d");
        assert_eq!(tag("{spec_hash:.3}", h).unwrap(), "AbC");
        assert_eq!(tag("{spec_hash:_>7}", h).unwrap(), "__AbC-d");
        assert_eq!(tag("{spec_hash:^9}", h).unwrap(), "  AbC-d  ");
        assert_eq!(tag("{spec_hash!r}", h).unwrap(), "'AbC-d'");
        assert!(tag("{other}", h).is_err());
        assert!(tag("{}", h).is_err());
        assert!(tag("{spec_hash", h).is_err());
        assert!(tag("x}", h).is_err());
        assert!(tag("{spec_hash:+}", h).is_err());
    }

    #[test]
    fn errors_name_the_python_exception() {
        let e = tag("{other}", "h").unwrap_err();
        assert_eq!(
            e,
            Error::Format {
                template: "{other}".to_owned(),
                exception: "KeyError",
                message: "'other'".to_owned(),
            }
        );
        assert_eq!(e.to_string(), "cannot format `{other}`: KeyError: 'other'");
        let e = tag("{0}", "h").unwrap_err();
        assert_eq!(
            e.message(),
            "Replacement index 0 out of range for positional args tuple"
        );
        assert_eq!(
            tag("{spec_hash:<07}", "AbC-d").unwrap(),
            "AbC-d00",
            "an explicit alignment still lets `0` set the fill"
        );
    }

    #[test]
    fn refusals() {
        let e = tag("{spec_hash.upper}", "h").unwrap_err();
        assert!(e.is_unsupported(), "{e}");
        assert!(e.to_string().contains("`.upper`"), "{e}");
        let e = tag("{spec_hash:>2000000}", "h").unwrap_err();
        assert!(e.is_unsupported(), "{e}");
        assert_eq!(tag("{spec_hash:>1048576}", "h").unwrap().len(), 1 << 20);
        // A large width that needs no padding is fine.
        let long = "x".repeat(MAX_WIDTH + 1);
        assert_eq!(tag("{spec_hash:>1048577}", &long).unwrap(), long);
    }

    /// `tests/data/format_golden.json`, made by `tests/data/format_gen.py`.
    #[test]
    fn golden_str_format() {
        let golden: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/format_golden.json")).unwrap();
        let cases = golden.as_array().unwrap();
        assert!(cases.len() > 1500);
        let mut failures = Vec::new();
        for case in cases {
            let text = |i: usize| case[i].as_str();
            let (template, name, value) = (text(0).unwrap(), text(1).unwrap(), text(2).unwrap());
            let attribute = case[6] == 1;
            let got = format(template, name, value);
            let ok = match (&got, text(3)) {
                (Err(e), _) if e.is_unsupported() => attribute,
                (Ok(got), Some(want)) => got == want,
                (
                    Err(Error::Format {
                        exception, message, ..
                    }),
                    None,
                ) => Some(*exception) == text(4) && Some(message.as_str()) == text(5),
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{template:?} with {name}={value:?}: got {got:?}, want {:?} / {:?}: {:?}",
                    case[3], case[4], case[5]
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
