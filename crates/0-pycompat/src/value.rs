//! Python values, as `yaml.safe_load` builds them, with CPython 3.11's
//! `repr()`, `str()`, `ascii()`, `==` and truth value.
//!
//! Anything whose `str()` is hashed must print exactly as CPython prints it:
//! `repr(str)` escapes what `str.isprintable()` (Unicode 14.0) rejects, and
//! `repr(float)` is the shortest round-trip form in CPython's layout
//! ([`float_repr`]). The `str` predicates the other modules share are here
//! too: [`is_printable`], [`py_isspace`], [`py_strip`], [`py_lower`] and
//! [`decimal_value`], all under Unicode 14.0 as CPython 3.11 has them.

mod float;
#[cfg(test)]
mod tests;
pub(crate) mod text;

use std::fmt::Write as _;

use num_bigint::BigInt;

pub use float::float_repr;
pub use text::{decimal_value, is_printable, py_isspace, py_lower, py_strip};

/// A value as CPython holds it after `yaml.safe_load`, plus the members of
/// the `enum.Enum` classes a caller accepts in typed YAML.
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
        /// class name, e.g. `Color`
        class: &'static str,
        /// member name, e.g. `RED`
        member: &'static str,
        /// member value, e.g. `1`
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

    /// Python's `ascii(self)`: the `repr` with every non-ASCII character escaped.
    pub fn ascii(&self) -> String {
        text::escape_non_ascii(&self.repr())
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
            PyValue::Date(_) => "date",
            PyValue::DateTime(_) => "datetime",
            PyValue::List(_) => "list",
            PyValue::Tuple(_) => "tuple",
            PyValue::Dict(_) => "dict",
            PyValue::Enum { class, .. } => class,
        }
    }

    /// Python's `bool(self)`: `None`, `False`, zero, and empty strings and
    /// collections are false; everything else (enum members, dates) is true.
    pub fn truthy(&self) -> bool {
        match self {
            PyValue::None => false,
            PyValue::Bool(b) => *b,
            PyValue::Int(i) => *i != BigInt::from(0),
            PyValue::Float(f) => *f != 0.0,
            PyValue::Str(s) => !s.is_empty(),
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
            PyValue::Str(s) => text::write_str_repr(s, out),
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
