//! `repr()`, `str()`, `==` and the `str` predicates against CPython 3.11.

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
        class: "Mode",
        member: "ALL",
        value: 2,
    };
    assert_eq!(e.repr(), "<Mode.ALL: 2>");
    assert_eq!(e.py_str(), "Mode.ALL");
    assert_eq!(e.type_name(), "Mode");
    assert_eq!(PyValue::List(vec![e]).py_str(), "[<Mode.ALL: 2>]");
}

#[test]
fn type_names() {
    let cases = [
        (PyValue::None, "NoneType"),
        (PyValue::Bool(true), "bool"),
        (int(1), "int"),
        (PyValue::Float(1.0), "float"),
        (PyValue::from("s"), "str"),
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

#[test]
fn ascii_escapes_what_repr_keeps() {
    assert_eq!(
        PyValue::from("é😀\u{200b}").ascii(),
        "'\\xe9\\U0001f600\\u200b'"
    );
    assert_eq!(PyValue::from("plain").ascii(), "'plain'");
    let list = PyValue::List(vec![PyValue::from("ü"), int(1)]);
    assert_eq!(list.ascii(), "['\\xfc', 1]");
}

/// Collects mismatches so one run reports all of them.
fn report(section: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{section}: {} mismatches\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `tests/data/float_golden.json`, made by `tests/data/float_gen.py`.
#[test]
fn golden_float_repr() {
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/float_golden.json")).unwrap();
    let cases = golden["repr"].as_array().unwrap();
    assert!(cases.len() > 5000);
    let mut failures = Vec::new();
    for case in cases {
        let bits = u64::from_str_radix(case[0].as_str().unwrap(), 16).unwrap();
        let want = case[1].as_str().unwrap();
        let got = float_repr(f64::from_bits(bits));
        if got != want {
            failures.push(format!("{bits:#018x}: got {got} want {want}"));
        }
    }
    report("float repr", &failures);
}

fn golden_unicode() -> serde_json::Value {
    serde_json::from_str(include_str!("../../tests/data/unicode_golden.json")).unwrap()
}

fn all_chars() -> impl Iterator<Item = char> {
    (0..=0x10FFFFu32).filter_map(char::from_u32)
}

/// `tests/data/unicode_golden.json`, made by `tests/data/unicode_gen.py`.
#[test]
fn golden_isprintable_every_code_point() {
    let golden = golden_unicode();
    assert_eq!(golden["version"], "14.0.0");
    assert_eq!(unicode_general_category::UNICODE_VERSION, (14, 0, 0));
    let ranges: Vec<(u32, u32)> = golden["printable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_u64().unwrap() as u32, r[1].as_u64().unwrap() as u32))
        .collect();
    let mut failures = Vec::new();
    for c in all_chars() {
        let cp = u32::from(c);
        let want = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp));
        if is_printable(c) != want {
            failures.push(format!("U+{cp:04X}: want {want}"));
        }
    }
    report("isprintable", &failures);
}

#[test]
fn golden_decimal_every_code_point() {
    let golden = golden_unicode();
    let runs: Vec<(u32, u32, u32)> = golden["decimal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |i: usize| r[i].as_u64().unwrap() as u32;
            (n(0), n(1), n(2))
        })
        .collect();
    let mut failures = Vec::new();
    for c in all_chars() {
        let cp = u32::from(c);
        let want = runs
            .iter()
            .find(|&&(lo, hi, _)| (lo..=hi).contains(&cp))
            .map(|&(lo, _, first)| first + cp - lo);
        let got = decimal_value(c);
        if got != want {
            failures.push(format!("U+{cp:04X}: got {got:?} want {want:?}"));
        }
    }
    report("decimal", &failures);
}
