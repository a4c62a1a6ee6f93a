//! SafeConstructor's scalar constructors: `str`, `bool`, `int`, `float` and
//! timestamps, with Python's own `int()` and `float()` underneath.

use std::rc::Rc;
use std::sync::OnceLock;

use num_bigint::BigInt;
use regex::Regex;

use super::compose::{Raw, RawKind};
use super::tags::{py_repr_str, TAG_VALUE};
use crate::error::Error;
use crate::error::Mark;
use crate::value::text::{ascii_digits_and_spaces, is_c_space};
use crate::value::{days_in_month, py_lower, PyDate, PyDateTime, PyValue};

/// SafeConstructor's `construct_scalar`: a scalar's text, or for a mapping the
/// scalar under its `=` key.
pub(super) fn construct_scalar(raw: &Rc<Raw>) -> Result<String, Error> {
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
                None => Err(Error::yaml(
                    raw.mark,
                    format!("expected a scalar node, but found {}", raw.id()),
                )),
            }
        }
        RawKind::Seq(_) => Err(Error::yaml(
            raw.mark,
            format!("expected a scalar node, but found {}", raw.id()),
        )),
    }
}

/// SafeConstructor's `construct_yaml_bool`: `bool_values[value.lower()]`.
pub(super) fn construct_bool(raw: &Rc<Raw>) -> Result<PyValue, Error> {
    let text = construct_scalar(raw)?;
    match py_lower(&text).as_str() {
        "yes" | "true" | "on" => Ok(PyValue::Bool(true)),
        "no" | "false" | "off" => Ok(PyValue::Bool(false)),
        _ => Err(Error::yaml(
            raw.mark,
            format!("invalid boolean {}", py_repr_str(&text)),
        )),
    }
}

/// PyYAML's `value[0]` on an empty scalar.
const EMPTY: &str = "string index out of range";

/// PyYAML's sign handling: `(-1 if value[0] == '-' else 1, value without a
/// leading '+' or '-')`, or `None` for the empty string (an `IndexError`).
fn split_sign(value: &str) -> Option<(i32, &str)> {
    match value.chars().next()? {
        '-' => Some((-1, &value[1..])),
        '+' => Some((1, &value[1..])),
        _ => Some((1, value)),
    }
}

/// CPython 3.11's `sys.get_int_max_str_digits()` default: `int(text)` in a
/// base that is not a power of two refuses more digits, and `str(int)`
/// refuses to print more.
const MAX_STR_DIGITS: usize = 4300;

/// SafeConstructor's `construct_yaml_int` (PyYAML 6.0.4):
///
/// ```python
/// value = value.replace('_', '')
/// sign = -1 if value[0] == '-' else +1; strip one leading '+' or '-'
/// '0' -> 0; '0b...' -> int(value[2:], 2); '0x...' -> int(value[2:], 16);
/// '0...' -> int(value, 8); 'a:b:c' -> base 60 of int(part); else int(value)
/// ```
pub(super) fn construct_int(text: &str, mark: Mark) -> Result<BigInt, Error> {
    let cleaned = text.replace('_', "");
    let fail = |message: String| Error::yaml(mark, message);
    let (sign, value) = split_sign(&cleaned).ok_or_else(|| fail(EMPTY.to_owned()))?;
    let magnitude = if value == "0" {
        BigInt::from(0)
    } else if let Some(bin) = value.strip_prefix("0b") {
        python_int(bin, 2).map_err(fail)?
    } else if let Some(hex) = value.strip_prefix("0x") {
        python_int(hex, 16).map_err(fail)?
    } else if value.is_empty() {
        return Err(fail(EMPTY.to_owned()));
    } else if value.starts_with('0') {
        python_int(value, 8).map_err(fail)?
    } else if value.contains(':') {
        let digits = value
            .split(':')
            .map(|part| python_int(part, 10))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let mut total = BigInt::from(0);
        let mut base = BigInt::from(1);
        for digit in digits.iter().rev() {
            total += digit * &base;
            base *= 60;
        }
        total
    } else {
        python_int(value, 10).map_err(fail)?
    };
    let value = magnitude * sign;
    // 10^4300 needs 14285 bits; below that no count is needed.
    if value.bits() > 14_284 {
        let digits = value.magnitude().to_string().len();
        if digits > MAX_STR_DIGITS {
            return Err(Error::yaml_unsupported(
                mark,
                format!(
                    "an integer of {digits} digits is not supported: Python 3.11 reads it \
                     but cannot print it (str() refuses more than {MAX_STR_DIGITS} digits)"
                ),
            ));
        }
    }
    Ok(value)
}

/// Python's `int(text, base)` for `base` 2, 8, 10 or 16 (`PyLong_FromUnicodeObject`),
/// with Python's message on failure.
fn python_int(text: &str, base: u32) -> Result<BigInt, String> {
    let invalid = || {
        format!(
            "invalid literal for int() with base {base}: {}",
            py_repr_str(text)
        )
    };
    let ascii = ascii_digits_and_spaces(text).ok_or_else(invalid)?;
    let s = ascii.trim_start_matches(is_c_space);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let prefix = match base {
        16 => "0x",
        8 => "0o",
        2 => "0b",
        _ => "",
    };
    let s = match s.get(..2) {
        Some(p) if !prefix.is_empty() && p.eq_ignore_ascii_case(prefix) => &s[2..],
        _ => s,
    };
    let run = s.chars().take_while(|c| c.is_digit(base)).count();
    if !base.is_power_of_two() && run > MAX_STR_DIGITS {
        return Err(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: \
             value has {run} digits; use sys.set_int_max_str_digits() to increase the limit"
        ));
    }
    let (digits, rest) = s.split_at(run);
    if digits.is_empty() || !rest.chars().all(is_c_space) {
        return Err(invalid());
    }
    let magnitude = BigInt::parse_bytes(digits.as_bytes(), base).ok_or_else(invalid)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// SafeConstructor's `construct_yaml_float` (PyYAML 6.0.4):
///
/// ```python
/// value = value.replace('_', '').lower()
/// sign = -1 if value[0] == '-' else +1; strip one leading '+' or '-'
/// '.inf' -> sign * inf; '.nan' -> nan; 'a:b:c' -> base 60 of float(part);
/// else sign * float(value)
/// ```
pub(super) fn construct_float(text: &str, mark: Mark) -> Result<f64, Error> {
    let fail = |message: String| Error::yaml(mark, message);
    let cleaned = py_lower(&text.replace('_', ""));
    let (sign, value) = split_sign(&cleaned).ok_or_else(|| fail(EMPTY.to_owned()))?;
    let sign = f64::from(sign);
    if value == ".inf" {
        return Ok(sign * f64::INFINITY);
    }
    if value == ".nan" {
        return Ok(f64::NAN);
    }
    if value.contains(':') {
        let digits = value
            .split(':')
            .map(|part| python_float(part).ok_or_else(|| float_error(part)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let mut total = 0.0_f64;
        let mut base = BigInt::from(1);
        for digit in digits.iter().rev() {
            // `digit * base` converts the int to a float, correctly rounded,
            // or raises OverflowError.
            let base_f: f64 = base.to_string().parse().unwrap_or(f64::INFINITY);
            if base_f.is_infinite() {
                return Err(fail("int too large to convert to float".to_owned()));
            }
            total += digit * base_f;
            base *= 60;
        }
        return Ok(sign * total);
    }
    let parsed = python_float(value).ok_or_else(|| fail(float_error(value)))?;
    Ok(sign * parsed)
}

fn float_error(text: &str) -> String {
    format!("could not convert string to float: {}", py_repr_str(text))
}

/// Python's `float(text)` (`PyFloat_FromString`): non-ASCII digits and spaces
/// made ASCII, PEP 515 underscores (between digits only) removed, white space
/// stripped, then `str::parse::<f64>`, whose grammar (a sign, digits with at
/// most one point and an exponent, or `inf`, `infinity`, `nan` in any case)
/// and correct rounding are Python's. (PyYAML removes every `_` itself first.)
pub(super) fn python_float(text: &str) -> Option<f64> {
    let ascii = ascii_digits_and_spaces(text)?;
    let text = if ascii.contains('_') {
        without_underscores(&ascii)?
    } else {
        ascii
    };
    text.trim_matches(is_c_space).parse().ok()
}

/// `_Py_string_to_number_with_underscores`: each `_` between two digits.
fn without_underscores(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut prev = '\0';
    for c in text.chars() {
        if c == '_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == '_' && !c.is_ascii_digit() {
                return None;
            }
            out.push(c);
        }
        prev = c;
    }
    (prev != '_').then_some(out)
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
pub(super) fn construct_timestamp(raw: &Rc<Raw>) -> Result<PyValue, Error> {
    construct_scalar(raw)?;
    let RawKind::Scalar(text) = &raw.kind else {
        return Err(Error::yaml(
            raw.mark,
            "a timestamp must be a scalar (PyYAML fails on this with a TypeError)",
        ));
    };
    let caps = timestamp_regex().captures(text).ok_or_else(|| {
        Error::yaml(
            raw.mark,
            format!("{} is not a timestamp", py_repr_str(text)),
        )
    })?;
    let num = |name: &str| -> u32 {
        caps.name(name)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0)
    };
    let bad = |msg: String| Error::yaml(raw.mark, msg);
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
