//! Python values, as `yaml.safe_load` builds them, with Python's `repr()` and `str()`.
//!
//! flytekit hashes `str(dict_of_fields)`, so every value that reaches the hash
//! must print exactly as CPython prints it.

use num_bigint::BigInt;

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
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// `datetime.datetime`, naive or with a fixed UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyDateTime {
    pub date: PyDate,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub microsecond: u32,
    /// `None` for a naive datetime, else the offset from UTC in seconds.
    pub utc_offset_seconds: Option<i32>,
}

impl PyValue {
    /// Python's `repr(self)`, byte for byte as CPython 3.11 prints it.
    pub fn repr(&self) -> String {
        todo!()
    }

    /// Python's `str(self)`.
    pub fn py_str(&self) -> String {
        todo!()
    }

    /// Python's `type(self).__name__`: `str`, `int`, `float`, `bool`, `NoneType`, ...
    pub fn type_name(&self) -> &'static str {
        todo!()
    }

    /// The string, if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }
}
