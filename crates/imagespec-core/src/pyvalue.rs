//! Python values, as `yaml.safe_load` builds them, with Python's `repr()` and `str()`.
//!
//! flytekit hashes `str(dict_of_fields)`, so every value that reaches the hash
//! must print exactly as CPython prints it.

use std::fmt::Write as _;

use num_bigint::BigInt;
use unicode_general_category::{get_general_category, GeneralCategory};

/// A value as CPython holds it after `yaml.safe_load` (and after flytekit's own
/// conversions, such as the `CopyFileDetection` enum).
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None`
    None,
    /// `True` / `False`
    Bool(bool),
    /// `int`, arbitrary precision
    Int(BigInt),
    /// `float`
    Float(f64),
    /// `str`
    Str(String),
    /// `bytes` (YAML `!!binary`)
    Bytes(Vec<u8>),
    /// `datetime.date`
    Date(PyDate),
    /// `datetime.datetime`
    DateTime(PyDateTime),
    /// `list`
    List(Vec<PyValue>),
    /// `tuple`
    Tuple(Vec<PyValue>),
    /// `dict`, in insertion order
    Dict(Vec<(PyValue, PyValue)>),
    /// A member of a Python `enum.Enum`: repr is `<Class.MEMBER: value>`.
    Enum {
        /// class name, e.g. `CopyFileDetection`
        class: &'static str,
        /// member name, e.g. `ALL`
        member: &'static str,
        /// member value, e.g. `2`
        value: i64,
    },
}

/// `datetime.date`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyDate {
    /// 1..=9999
    pub year: i32,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
}

/// `datetime.datetime`, naive or with a fixed UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyDateTime {
    /// The calendar day.
    pub date: PyDate,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub minute: u32,
    /// 0..=59
    pub second: u32,
    /// 0..=999_999
    pub microsecond: u32,
    /// `None` for a naive datetime, else the offset from UTC in seconds.
    pub utc_offset_seconds: Option<i32>,
}

impl PyValue {
    /// Python's `repr(self)`, byte for byte as CPython 3.11 prints it.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    /// Python's `str(self)`.
    pub fn py_str(&self) -> String {
        match self {
            PyValue::Str(s) => s.clone(),
            PyValue::Date(d) => d.isoformat(),
            PyValue::DateTime(dt) => dt.isoformat(' '),
            PyValue::Enum { class, member, .. } => format!("{class}.{member}"),
            other => other.repr(),
        }
    }

    /// Python's `type(self).__name__`: `str`, `int`, `float`, `bool`, `NoneType`, ...
    pub fn type_name(&self) -> &'static str {
        match self {
            PyValue::None => "NoneType",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) => "str",
            PyValue::Bytes(_) => "bytes",
            PyValue::Date(_) => "date",
            PyValue::DateTime(_) => "datetime",
            PyValue::List(_) => "list",
            PyValue::Tuple(_) => "tuple",
            PyValue::Dict(_) => "dict",
            PyValue::Enum { class, .. } => class,
        }
    }

    /// Python's `bool(self)`: `None`, `False`, zero, and empty strings, bytes
    /// and collections are false; everything else (enum members, dates) is true.
    pub fn truthy(&self) -> bool {
        match self {
            PyValue::None => false,
            PyValue::Bool(b) => *b,
            PyValue::Int(i) => *i != BigInt::from(0),
            PyValue::Float(f) => *f != 0.0,
            PyValue::Str(s) => !s.is_empty(),
            PyValue::Bytes(b) => !b.is_empty(),
            PyValue::List(v) | PyValue::Tuple(v) => !v.is_empty(),
            PyValue::Dict(d) => !d.is_empty(),
            PyValue::Date(_) | PyValue::DateTime(_) | PyValue::Enum { .. } => true,
        }
    }

    /// The string, if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Python's `self == other`.
    ///
    /// Unlike the derived `PartialEq` (which compares structure), this follows
    /// Python: `1 == 1.0 == True`, `0 == -0.0 == False`, `nan != nan`, `[1] == [1.0]`,
    /// dicts compare as mappings regardless of order, aware datetimes compare
    /// as instants (naive and aware never compare equal), and a `date` never
    /// equals a `datetime`.
    pub fn py_eq(&self, other: &PyValue) -> bool {
        use PyValue as P;
        if let (Some(a), Some(b)) = (self.as_number(), other.as_number()) {
            return num_eq(&a, &b);
        }
        match (self, other) {
            (P::None, P::None) => true,
            (P::Str(a), P::Str(b)) => a == b,
            (P::Bytes(a), P::Bytes(b)) => a == b,
            (P::Date(a), P::Date(b)) => a == b,
            (P::DateTime(a), P::DateTime(b)) => {
                match (a.utc_offset_seconds, b.utc_offset_seconds) {
                    (None, None) => a == b,
                    (Some(_), Some(_)) => a.utc_micros() == b.utc_micros(),
                    _ => false,
                }
            }
            (P::List(a), P::List(b)) | (P::Tuple(a), P::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y))
            }
            (P::Dict(a), P::Dict(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, v)| {
                        b.iter()
                            .rev()
                            .find(|(k2, _)| k.py_eq(k2))
                            .is_some_and(|(_, v2)| v.py_eq(v2))
                    })
            }
            (
                P::Enum {
                    class: c1,
                    member: m1,
                    ..
                },
                P::Enum {
                    class: c2,
                    member: m2,
                    ..
                },
            ) => c1 == c2 && m1 == m2,
            _ => false,
        }
    }

    /// True if Python could use this value as a `dict` key (or `set` member).
    pub fn is_hashable(&self) -> bool {
        match self {
            PyValue::List(_) | PyValue::Dict(_) => false,
            PyValue::Tuple(items) => items.iter().all(PyValue::is_hashable),
            _ => true,
        }
    }

    fn as_number(&self) -> Option<Num<'_>> {
        match self {
            PyValue::Bool(b) => Some(Num::Int(if *b { NumInt::One } else { NumInt::Zero })),
            PyValue::Int(i) => Some(Num::Int(NumInt::Big(i))),
            PyValue::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            PyValue::None => out.push_str("None"),
            PyValue::Bool(true) => out.push_str("True"),
            PyValue::Bool(false) => out.push_str("False"),
            PyValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            PyValue::Float(f) => out.push_str(&float_repr(*f)),
            PyValue::Str(s) => write_str_repr(s, out),
            PyValue::Bytes(b) => write_bytes_repr(b, out),
            PyValue::Date(d) => {
                let _ = write!(out, "datetime.date({}, {}, {})", d.year, d.month, d.day);
            }
            PyValue::DateTime(dt) => dt.write_repr(out),
            PyValue::List(items) => {
                out.push('[');
                write_joined(items, out);
                out.push(']');
            }
            PyValue::Tuple(items) => {
                out.push('(');
                write_joined(items, out);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            PyValue::Dict(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out);
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
            PyValue::Enum {
                class,
                member,
                value,
            } => {
                let _ = write!(out, "<{class}.{member}: {value}>");
            }
        }
    }
}

impl From<&str> for PyValue {
    fn from(s: &str) -> Self {
        PyValue::Str(s.to_owned())
    }
}

impl From<String> for PyValue {
    fn from(s: String) -> Self {
        PyValue::Str(s)
    }
}

impl From<bool> for PyValue {
    fn from(b: bool) -> Self {
        PyValue::Bool(b)
    }
}

impl From<i64> for PyValue {
    fn from(i: i64) -> Self {
        PyValue::Int(BigInt::from(i))
    }
}

impl From<BigInt> for PyValue {
    fn from(i: BigInt) -> Self {
        PyValue::Int(i)
    }
}

impl From<f64> for PyValue {
    fn from(f: f64) -> Self {
        PyValue::Float(f)
    }
}

impl From<PyDate> for PyValue {
    fn from(d: PyDate) -> Self {
        PyValue::Date(d)
    }
}

impl From<PyDateTime> for PyValue {
    fn from(dt: PyDateTime) -> Self {
        PyValue::DateTime(dt)
    }
}

impl PyDate {
    /// `date.isoformat()`: `2024-01-05`.
    pub fn isoformat(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Days since 0001-01-01 (proleptic Gregorian), as `date.toordinal() - 1`.
    fn days_from_origin(&self) -> i64 {
        let y = i64::from(self.year) - 1;
        let mut days = y * 365 + y / 4 - y / 100 + y / 400;
        const CUMULATIVE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let month_index = (self.month.clamp(1, 12) - 1) as usize;
        days += CUMULATIVE[month_index];
        if self.month > 2 && is_leap_year(self.year) {
            days += 1;
        }
        days + i64::from(self.day) - 1
    }
}

/// True for Gregorian leap years.
pub(crate) fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days in `month` (1..=12) of `year`, as `calendar.monthrange`.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl PyDateTime {
    /// `datetime.isoformat(sep)`: `2001-12-14 21:59:43.100000+00:00` for `sep = ' '`
    /// (which is `str(datetime)`).
    pub fn isoformat(&self, sep: char) -> String {
        let mut out = format!(
            "{}{sep}{:02}:{:02}:{:02}",
            self.date.isoformat(),
            self.hour,
            self.minute,
            self.second
        );
        if self.microsecond != 0 {
            let _ = write!(out, ".{:06}", self.microsecond);
        }
        if let Some(offset) = self.utc_offset_seconds {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60);
            if abs % 60 != 0 {
                let _ = write!(out, ":{:02}", abs % 60);
            }
        }
        out
    }

    /// Microseconds since 0001-01-01T00:00:00 UTC (local time for a naive datetime).
    fn utc_micros(&self) -> i128 {
        let seconds = i128::from(self.date.days_from_origin()) * 86_400
            + i128::from(self.hour) * 3600
            + i128::from(self.minute) * 60
            + i128::from(self.second)
            - i128::from(self.utc_offset_seconds.unwrap_or(0));
        seconds * 1_000_000 + i128::from(self.microsecond)
    }

    fn write_repr(&self, out: &mut String) {
        let d = self.date;
        let _ = write!(
            out,
            "datetime.datetime({}, {}, {}, {}, {}",
            d.year, d.month, d.day, self.hour, self.minute
        );
        if self.microsecond != 0 {
            let _ = write!(out, ", {}, {}", self.second, self.microsecond);
        } else if self.second != 0 {
            let _ = write!(out, ", {}", self.second);
        }
        if let Some(offset) = self.utc_offset_seconds {
            out.push_str(", tzinfo=");
            out.push_str(&timezone_repr(offset));
        }
        out.push(')');
    }
}

/// `repr(datetime.timezone(datetime.timedelta(seconds=offset)))`.
fn timezone_repr(offset_seconds: i32) -> String {
    if offset_seconds == 0 {
        return "datetime.timezone.utc".to_owned();
    }
    let offset = i64::from(offset_seconds);
    let days = offset.div_euclid(86_400);
    let seconds = offset.rem_euclid(86_400);
    let mut args = Vec::new();
    if days != 0 {
        args.push(format!("days={days}"));
    }
    if seconds != 0 {
        args.push(format!("seconds={seconds}"));
    }
    format!("datetime.timezone(datetime.timedelta({}))", args.join(", "))
}

fn write_joined(items: &[PyValue], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out);
    }
}

/// A Python number, borrowed, for cross-type comparison.
enum Num<'a> {
    Int(NumInt<'a>),
    Float(f64),
}

enum NumInt<'a> {
    Zero,
    One,
    Big(&'a BigInt),
}

impl NumInt<'_> {
    fn to_bigint(&self) -> BigInt {
        match self {
            NumInt::Zero => BigInt::from(0),
            NumInt::One => BigInt::from(1),
            NumInt::Big(b) => (*b).clone(),
        }
    }
}

fn num_eq(a: &Num<'_>, b: &Num<'_>) -> bool {
    match (a, b) {
        (Num::Float(x), Num::Float(y)) => x == y,
        (Num::Int(x), Num::Int(y)) => x.to_bigint() == y.to_bigint(),
        (Num::Int(i), Num::Float(f)) | (Num::Float(f), Num::Int(i)) => {
            float_to_exact_int(*f).is_some_and(|fi| fi == i.to_bigint())
        }
    }
}

/// The exact integer value of `f`, if `f` is finite and integral.
fn float_to_exact_int(f: f64) -> Option<BigInt> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    let bits = f.to_bits();
    let negative = bits >> 63 == 1;
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    if exponent == 0 {
        // Zero or subnormal; an integral subnormal is zero.
        return Some(BigInt::from(0));
    }
    let mantissa = fraction | (1u64 << 52);
    let shift = exponent - 1075;
    let magnitude = if shift >= 0 {
        BigInt::from(mantissa) << (shift as usize)
    } else {
        BigInt::from(mantissa >> ((-shift) as u32))
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Python's `repr(float)`: the shortest string that round-trips, laid out as
/// CPython's `float_repr_style = 'short'` does.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits: `d.ddde[-]x`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    // value = 0.d1d2...dn * 10^decpt
    let decpt = exponent + 1;
    let digits = round_half_even(f.abs(), digits, decpt);
    let n = digits.len() as i32;
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(
            out,
            "e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(&digits);
    } else if decpt >= n {
        out.push_str(&digits);
        for _ in 0..decpt - n {
            out.push('0');
        }
        out.push_str(".0");
    } else {
        let split = decpt as usize;
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
    out
}

/// Rust and CPython agree on the shortest round-trip digit count, but when
/// the float lies exactly halfway between two shortest candidates, Rust takes
/// the upper one and CPython's dtoa the one with the even last digit.
fn round_half_even(x: f64, digits: String, decpt: i32) -> String {
    let last = digits.as_bytes()[digits.len() - 1] - b'0';
    if last % 2 == 0 {
        return digits;
    }
    let Ok(d) = digits.parse::<u64>() else {
        return digits;
    };
    let q = decpt - digits.len() as i32;
    for neighbour in [d - 1, d + 1] {
        if neighbour.to_string().len() != digits.len() {
            continue;
        }
        if is_exact_midpoint(x, d, neighbour, q) {
            let candidate = format!("{neighbour}e{q}");
            if candidate.parse::<f64>() == Ok(x) {
                return neighbour.to_string();
            }
        }
    }
    digits
}

/// True if `x == (a + b) / 2 * 10^q` exactly.
fn is_exact_midpoint(x: f64, a: u64, b: u64, q: i32) -> bool {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    // x = m * 2^e
    let (m, e) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exponent - 1075)
    };
    // Compare 2 * m * 2^e with (a + b) * 10^q, all scaled to integers.
    let mut lhs = BigInt::from(m) * 2;
    let mut rhs = BigInt::from(a) + BigInt::from(b);
    if e >= 0 {
        lhs <<= e as usize;
    } else {
        rhs <<= (-e) as usize;
    }
    let ten = BigInt::from(10);
    if q >= 0 {
        rhs *= ten.pow(q as u32);
    } else {
        lhs *= ten.pow((-q) as u32);
    }
    lhs == rhs
}

/// The quote CPython's `repr` picks: `'` unless the text has a `'` and no `"`.
fn pick_quote(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double {
        '"'
    } else {
        '\''
    }
}

fn write_str_repr(s: &str, out: &mut String) {
    let quote = pick_quote(s.contains('\''), s.contains('"'));
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
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x7f => out.push(c),
            c if is_printable(c) => out.push(c),
            c => {
                let cp = c as u32;
                let _ = if cp <= 0xff {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xffff {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
        }
    }
    out.push(quote);
}

fn write_bytes_repr(b: &[u8], out: &mut String) {
    let quote = pick_quote(b.contains(&b'\''), b.contains(&b'"'));
    out.push('b');
    out.push(quote);
    for &byte in b {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if char::from(c) == quote => {
                out.push('\\');
                out.push(quote);
            }
            c if !(0x20..0x7f).contains(&c) => {
                let _ = write!(out, "\\x{c:02x}");
            }
            c => out.push(char::from(c)),
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one character, with CPython 3.11's
/// Unicode 14.0 data: false for categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
/// (except the ASCII space).
pub(crate) fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let printable_now = !matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    );
    printable_now && !assigned_after_unicode_14(c)
}

/// Code points that the `unicode-general-category` tables (Unicode 16.0)
/// assign to printable categories but that Unicode 14.0 (CPython 3.11's
/// `unicodedata`) leaves unassigned, so CPython 3.11 escapes them.
const ASSIGNED_AFTER_UNICODE_14: &[(u32, u32)] = &[
    (0x0897, 0x0897),
    (0x0CF3, 0x0CF3),
    (0x0ECE, 0x0ECE),
    (0x1B4E, 0x1B4F),
    (0x1B7F, 0x1B7F),
    (0x1C89, 0x1C8A),
    (0x2427, 0x2429),
    (0x2FFC, 0x2FFF),
    (0x31E4, 0x31E5),
    (0x31EF, 0x31EF),
    (0xA7CB, 0xA7CD),
    (0xA7DA, 0xA7DC),
    (0x105C0, 0x105F3),
    (0x10D40, 0x10D65),
    (0x10D69, 0x10D85),
    (0x10D8E, 0x10D8F),
    (0x10EC2, 0x10EC4),
    (0x10EFC, 0x10EFF),
    (0x1123F, 0x11241),
    (0x11380, 0x11389),
    (0x1138B, 0x1138B),
    (0x1138E, 0x1138E),
    (0x11390, 0x113B5),
    (0x113B7, 0x113C0),
    (0x113C2, 0x113C2),
    (0x113C5, 0x113C5),
    (0x113C7, 0x113CA),
    (0x113CC, 0x113D5),
    (0x113D7, 0x113D8),
    (0x113E1, 0x113E2),
    (0x116D0, 0x116E3),
    (0x11B00, 0x11B09),
    (0x11BC0, 0x11BE1),
    (0x11BF0, 0x11BF9),
    (0x11F00, 0x11F10),
    (0x11F12, 0x11F3A),
    (0x11F3E, 0x11F5A),
    (0x1342F, 0x1342F),
    (0x13440, 0x13455),
    (0x13460, 0x143FA),
    (0x16100, 0x16139),
    (0x16D40, 0x16D79),
    (0x18CFF, 0x18CFF),
    (0x1B132, 0x1B132),
    (0x1B155, 0x1B155),
    (0x1CC00, 0x1CCF9),
    (0x1CD00, 0x1CEB3),
    (0x1D2C0, 0x1D2D3),
    (0x1DF25, 0x1DF2A),
    (0x1E030, 0x1E06D),
    (0x1E08F, 0x1E08F),
    (0x1E4D0, 0x1E4F9),
    (0x1E5D0, 0x1E5FA),
    (0x1E5FF, 0x1E5FF),
    (0x1F6DC, 0x1F6DC),
    (0x1F774, 0x1F776),
    (0x1F77B, 0x1F77F),
    (0x1F7D9, 0x1F7D9),
    (0x1F8B2, 0x1F8BB),
    (0x1F8C0, 0x1F8C1),
    (0x1FA75, 0x1FA77),
    (0x1FA87, 0x1FA89),
    (0x1FA8F, 0x1FA8F),
    (0x1FAAD, 0x1FAAF),
    (0x1FABB, 0x1FABF),
    (0x1FAC6, 0x1FAC6),
    (0x1FACE, 0x1FACF),
    (0x1FADA, 0x1FADC),
    (0x1FADF, 0x1FADF),
    (0x1FAE8, 0x1FAE9),
    (0x1FAF7, 0x1FAF8),
    (0x1FBCB, 0x1FBEF),
    (0x2B739, 0x2B739),
    (0x2EBF0, 0x2EE5D),
    (0x31350, 0x323AF),
];

fn assigned_after_unicode_14(c: char) -> bool {
    let cp = c as u32;
    ASSIGNED_AFTER_UNICODE_14
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings below were printed by CPython 3.11.7 (`repr()` / `str()`).

    const FLOATS: &[(u64, &str)] = &[
        (0x4008cccccccccccd, "3.1"),
        (0x3fe0000000000000, "0.5"),
        (0x3ff0000000000000, "1.0"),
        (0x4341c37937e08000, "1e+16"),
        (0x3ee4f8b588e368f1, "1e-05"),
        (0x3e8421f5f40d8376, "1.5e-07"),
        (0x42dc12218377de40, "123456789012345.0"),
        (0x7ff0000000000000, "inf"),
        (0xfff0000000000000, "-inf"),
        (0x7ff8000000000000, "nan"),
        (0x8000000000000000, "-0.0"),
        (0x0000000000000000, "0.0"),
        (0x430c6bf526340000, "1000000000000000.0"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3fd3333333333334, "0.30000000000000004"),
        (0x0000000000000001, "5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0x4480f0cf064dd592, "1e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x4341c37937e07fff, "9999999999999998.0"),
        (0x43118b54f22aeb00, "1234567890123456.0"),
        (0x4345ee2a2eb5a5c4, "1.2345678901234568e+16"),
        (0x3f50624dd2f1a9fc, "0.001"),
        (0x3efa36e2eb1c432d, "2.5e-05"),
        (0xbff8000000000000, "-1.5"),
        (0x4059000000000000, "100.0"),
        (0x54b249ad2594c37d, "1e+100"),
        (0x0010000000000000, "2.2250738585072014e-308"),
        (0x43093b6e37e9d2e2, "887777373534812.2"),
        (0x42a94d3259af0320, "13909673957249.562"),
        (0x3fb999999999999a, "0.1"),
        (0x3fd5555555555555, "0.3333333333333333"),
        (0x3fe5555555555555, "0.6666666666666666"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3f1a36e2eb1c432c, "9.999999999999999e-05"),
        (0x4341c37937e07fff, "9999999999999998.0"),
        (0x405edd2f1a9fbe77, "123.456"),
    ];
    const STRS: &[(&str, &str)] = &[
        ("", "''"),
        ("abc", "'abc'"),
        ("it's", "\"it's\""),
        ("say \"hi\"", "'say \"hi\"'"),
        ("both ' and \"", "'both \\' and \"'"),
        ("\\", "'\\\\'"),
        ("a\tb\nc\rd", "'a\\tb\\nc\\rd'"),
        (
            "\u{0}\u{7}\u{1b}\u{1f}\u{7f}",
            "'\\x00\\x07\\x1b\\x1f\\x7f'",
        ),
        (
            "\u{80}\u{85}\u{9f}\u{a0}\u{ad}",
            "'\\x80\\x85\\x9f\\xa0\\xad'",
        ),
        ("é", "'é'"),
        ("e\u{301}", "'e\u{301}'"),
        ("😀👍🏽", "'😀👍🏽'"),
        ("\u{200b}", "'\\u200b'"),
        ("\u{2028}\u{2029}", "'\\u2028\\u2029'"),
        ("\u{feff}", "'\\ufeff'"),
        ("\u{202e}", "'\\u202e'"),
        ("\u{e000}", "'\\ue000'"),
        ("\u{f0000}", "'\\U000f0000'"),
        ("\u{378}", "'\\u0378'"),
        ("\u{897}", "'\\u0897'"),
        ("\u{1fae8}", "'\\U0001fae8'"),
        ("漢字", "'漢字'"),
        ("\u{3000}", "'\\u3000'"),
        ("\u{a0}x", "'\\xa0x'"),
        ("\u{10ffff}", "'\\U0010ffff'"),
        ("�", "'�'"),
        ("Ω≈ç√", "'Ω≈ç√'"),
        ("'\"", "'\\'\"'"),
        ("''", "\"''\""),
        ("\"\"", "'\"\"'"),
    ];
    const BYTES: &[(&[u8], &str)] = &[
        (&[], "b''"),
        (&[97, 98, 99], "b'abc'"),
        (&[105, 116, 39, 115], "b\"it's\""),
        (&[115, 97, 121, 32, 34, 104, 105, 34], "b'say \"hi\"'"),
        (
            &[98, 111, 116, 104, 32, 39, 32, 97, 110, 100, 32, 34],
            "b'both \\' and \"'",
        ),
        (&[92], "b'\\\\'"),
        (
            &[0, 9, 10, 13, 127, 128, 255],
            "b'\\x00\\t\\n\\r\\x7f\\x80\\xff'",
        ),
        (
            &[104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100],
            "b'hello world'",
        ),
    ];
    /// year, month, day, hour, minute, second, microsecond, UTC offset
    type Fields = (i32, u32, u32, u32, u32, u32, u32, Option<i32>);

    const DATETIMES: &[(Fields, &str, &str)] = &[
        ((2001, 12, 14, 21, 59, 43, 100000, None), "datetime.datetime(2001, 12, 14, 21, 59, 43, 100000)", "2001-12-14 21:59:43.100000"),
        ((2001, 12, 14, 21, 59, 0, 0, None), "datetime.datetime(2001, 12, 14, 21, 59)", "2001-12-14 21:59:00"),
        ((2001, 12, 14, 21, 59, 43, 0, None), "datetime.datetime(2001, 12, 14, 21, 59, 43)", "2001-12-14 21:59:43"),
        ((2001, 12, 14, 21, 59, 0, 5, None), "datetime.datetime(2001, 12, 14, 21, 59, 0, 5)", "2001-12-14 21:59:00.000005"),
        ((2001, 12, 14, 0, 0, 0, 0, Some(0)), "datetime.datetime(2001, 12, 14, 0, 0, tzinfo=datetime.timezone.utc)", "2001-12-14 00:00:00+00:00"),
        ((2001, 12, 14, 21, 59, 43, 100000, Some(-18000)), "datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))", "2001-12-14 21:59:43.100000-05:00"),
        ((2001, 12, 14, 21, 59, 43, 0, Some(19800)), "datetime.datetime(2001, 12, 14, 21, 59, 43, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))", "2001-12-14 21:59:43+05:30"),
        ((1, 1, 1, 0, 0, 0, 0, Some(86399)), "datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=86399)))", "0001-01-01 00:00:00+23:59:59"),
        ((9999, 12, 31, 23, 59, 59, 999999, Some(-86399)), "datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=1)))", "9999-12-31 23:59:59.999999-23:59:59"),
        ((2024, 2, 29, 12, 30, 0, 0, Some(-60)), "datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=86340)))", "2024-02-29 12:30:00-00:01"),
        ((2024, 2, 29, 12, 30, 0, 0, Some(45)), "datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.timezone(datetime.timedelta(seconds=45)))", "2024-02-29 12:30:00+00:00:45"),
    ];

    fn int(i: i64) -> PyValue {
        PyValue::from(i)
    }

    #[test]
    fn float_repr_matches_cpython() {
        for &(bits, expected) in FLOATS {
            let f = f64::from_bits(bits);
            assert_eq!(PyValue::Float(f).repr(), expected, "bits {bits:#018x}");
            assert_eq!(PyValue::Float(f).py_str(), expected, "bits {bits:#018x}");
        }
    }

    #[test]
    fn float_repr_of_arithmetic() {
        assert_eq!(PyValue::Float(0.1 + 0.2).repr(), "0.30000000000000004");
        assert_eq!(float_repr(-f64::NAN), "nan");
        assert_eq!(float_repr(1e-4), "0.0001");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(f64::MIN_POSITIVE * f64::EPSILON), "5e-324");
    }

    #[test]
    fn str_repr_matches_cpython() {
        for &(s, expected) in STRS {
            assert_eq!(PyValue::from(s).repr(), expected, "{s:?}");
            assert_eq!(PyValue::from(s).py_str(), s);
        }
    }

    #[test]
    fn bytes_repr_matches_cpython() {
        for &(b, expected) in BYTES {
            assert_eq!(PyValue::Bytes(b.to_vec()).repr(), expected, "{b:?}");
            assert_eq!(PyValue::Bytes(b.to_vec()).py_str(), expected, "{b:?}");
        }
    }

    #[test]
    fn datetime_repr_and_str_match_cpython() {
        for &((year, month, day, hour, minute, second, microsecond, offset), repr, s) in DATETIMES {
            let dt = PyValue::DateTime(PyDateTime {
                date: PyDate { year, month, day },
                hour,
                minute,
                second,
                microsecond,
                utc_offset_seconds: offset,
            });
            assert_eq!(dt.repr(), repr);
            assert_eq!(dt.py_str(), s);
            assert_eq!(dt.type_name(), "datetime");
        }
    }

    #[test]
    fn date_repr_and_str() {
        let d = PyValue::Date(PyDate {
            year: 2024,
            month: 1,
            day: 5,
        });
        assert_eq!(d.repr(), "datetime.date(2024, 1, 5)");
        assert_eq!(d.py_str(), "2024-01-05");
        assert_eq!(d.type_name(), "date");
        let early = PyValue::Date(PyDate {
            year: 33,
            month: 12,
            day: 31,
        });
        assert_eq!(early.repr(), "datetime.date(33, 12, 31)");
        assert_eq!(early.py_str(), "0033-12-31");
    }

    #[test]
    fn scalars_and_containers() {
        assert_eq!(PyValue::None.repr(), "None");
        assert_eq!(PyValue::Bool(true).repr(), "True");
        assert_eq!(PyValue::Bool(false).py_str(), "False");
        let big: BigInt = "-123456789012345678901234567890123456789012345678901234567890"
            .parse()
            .unwrap();
        assert_eq!(
            PyValue::Int(big).repr(),
            "-123456789012345678901234567890123456789012345678901234567890"
        );
        let list = PyValue::List(vec![int(1), PyValue::from("a"), PyValue::None]);
        assert_eq!(list.repr(), "[1, 'a', None]");
        assert_eq!(list.py_str(), "[1, 'a', None]");
        assert_eq!(PyValue::List(vec![]).repr(), "[]");
        assert_eq!(PyValue::Tuple(vec![]).repr(), "()");
        assert_eq!(PyValue::Tuple(vec![int(1)]).repr(), "(1,)");
        assert_eq!(
            PyValue::Tuple(vec![PyValue::from("a"), PyValue::from(1.5)]).repr(),
            "('a', 1.5)"
        );
        let dict = PyValue::Dict(vec![
            (PyValue::from("b"), int(1)),
            (
                PyValue::from("a"),
                PyValue::List(vec![PyValue::from("x'y")]),
            ),
        ]);
        assert_eq!(dict.repr(), "{'b': 1, 'a': [\"x'y\"]}");
        assert_eq!(dict.py_str(), dict.repr());
        assert_eq!(PyValue::Dict(vec![]).repr(), "{}");
    }

    #[test]
    fn enum_member() {
        let e = PyValue::Enum {
            class: "CopyFileDetection",
            member: "ALL",
            value: 2,
        };
        assert_eq!(e.repr(), "<CopyFileDetection.ALL: 2>");
        assert_eq!(e.py_str(), "CopyFileDetection.ALL");
        assert_eq!(e.type_name(), "CopyFileDetection");
        assert_eq!(
            PyValue::List(vec![e]).py_str(),
            "[<CopyFileDetection.ALL: 2>]"
        );
    }

    #[test]
    fn type_names() {
        let cases = [
            (PyValue::None, "NoneType"),
            (PyValue::Bool(true), "bool"),
            (int(1), "int"),
            (PyValue::Float(1.0), "float"),
            (PyValue::from("s"), "str"),
            (PyValue::Bytes(vec![]), "bytes"),
            (PyValue::List(vec![]), "list"),
            (PyValue::Tuple(vec![]), "tuple"),
            (PyValue::Dict(vec![]), "dict"),
        ];
        for (value, name) in cases {
            assert_eq!(value.type_name(), name);
        }
    }

    #[test]
    fn python_equality() {
        assert!(int(1).py_eq(&PyValue::Float(1.0)));
        assert!(int(1).py_eq(&PyValue::Bool(true)));
        assert!(PyValue::Bool(false).py_eq(&PyValue::Float(-0.0)));
        assert!(!int(1).py_eq(&PyValue::from("1")));
        assert!(!PyValue::Float(f64::NAN).py_eq(&PyValue::Float(f64::NAN)));
        let two53: BigInt = BigInt::from(1u64 << 53);
        assert!(PyValue::Int(two53.clone()).py_eq(&PyValue::Float(9007199254740992.0)));
        assert!(!PyValue::Int(two53 + 1).py_eq(&PyValue::Float(9007199254740992.0)));
        assert!(!PyValue::Float(f64::INFINITY).py_eq(&int(1)));
        assert!(PyValue::List(vec![int(1)]).py_eq(&PyValue::List(vec![PyValue::Float(1.0)])));
        assert!(!PyValue::List(vec![int(1)]).py_eq(&PyValue::Tuple(vec![int(1)])));
        let d1 = PyValue::Dict(vec![
            (PyValue::from("a"), int(1)),
            (PyValue::from("b"), int(2)),
        ]);
        let d2 = PyValue::Dict(vec![
            (PyValue::from("b"), int(2)),
            (PyValue::from("a"), int(1)),
        ]);
        assert!(d1.py_eq(&d2));
        let date = PyDate {
            year: 2001,
            month: 12,
            day: 14,
        };
        let at = |hour, offset| {
            PyValue::DateTime(PyDateTime {
                date,
                hour,
                minute: 0,
                second: 0,
                microsecond: 0,
                utc_offset_seconds: offset,
            })
        };
        assert!(
            at(21, Some(-5 * 3600)).py_eq(&PyValue::DateTime(PyDateTime {
                date: PyDate {
                    year: 2001,
                    month: 12,
                    day: 15
                },
                hour: 2,
                minute: 0,
                second: 0,
                microsecond: 0,
                utc_offset_seconds: Some(0),
            }))
        );
        assert!(!at(0, None).py_eq(&at(0, Some(0))));
        assert!(!at(0, None).py_eq(&PyValue::Date(date)));
        assert!(at(0, None).py_eq(&at(0, None)));
    }

    #[test]
    fn hashability() {
        assert!(PyValue::from("a").is_hashable());
        assert!(PyValue::Tuple(vec![int(1)]).is_hashable());
        assert!(!PyValue::Tuple(vec![PyValue::List(vec![])]).is_hashable());
        assert!(!PyValue::Dict(vec![]).is_hashable());
    }
}
