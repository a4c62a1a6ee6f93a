//! The loader against `repr(yaml.safe_load(doc))` from real PyYAML.

use super::*;
use crate::value::PyValue;

/// A stand-in for the classes a typed document names: an object class and an enum.
const MODE: PyEnum = PyEnum {
    path: "example.constants.Mode",
    class: "Mode",
    members: &[("LOADED_MODULES", 1), ("ALL", 2), ("NO_COPY", 3)],
};
const TAGS: PythonTags = PythonTags {
    objects: &["example.spec.Settings"],
    enums: &[MODE],
};

// Expected values below are `repr(yaml.safe_load(doc))` from PyYAML 6.0.3, and 6.0.4 for the merge-key order (6.0.4 merges `<<: [a, b]` front to back).
// on CPython 3.11.7.

const OK: &[(&str, &str)] = &[
    ("python_version: 3.10", "{'python_version': 3.1}"),
    ("017", "15"),
    ("0x1A", "26"),
    ("1:30", "90"),
    ("190:20:30.15", "685230.15"),
    ("1_000", "1000"),
    ("1e3", "'1e3'"),
    (".5", "0.5"),
    ("~", "None"),
    ("[yes, No, on, OFF, y, n, True, FALSE, tRUE]", "[True, False, True, False, 'y', 'n', True, False, 'tRUE']"),
    ("09", "'09'"),
    ("0o17", "'0o17'"),
    ("-0", "0"),
    ("+12", "12"),
    ("[.inf, -.Inf, +.INF, .NaN, -.nan]", "[inf, -inf, inf, nan, '-.nan']"),
    ("123456789012345678901234567890123456789012345678901234567890", "123456789012345678901234567890123456789012345678901234567890"),
    ("-123456789012345678901234567890123456789012345678901234567890", "-123456789012345678901234567890123456789012345678901234567890"),
    ("[0b1010_1010, -0b11, -0x_FF_ff, 0_7, 00, +0, -0777, 0x0]", "[170, -3, -65535, 7, 0, 0, -511, 0]"),
    ("[08, 0_8, 1__2, 1_, _1, 0x, 0b, 0xg, 1:60, 1:30.5, -1:30, +1:30:59]", "['08', '0_8', 12, 1, '_1', '0x', '0b', '0xg', '1:60', 90.5, -90, 5459]"),
    ("[0., -0.0, 1.5e+3, 1.5e3, 1.5E-3, 685.230_15e+03, 685_230.15, 3., +.5, -.5, ., 1.2.3, 1.e+3, 12.e+3]", "[0.0, -0.0, 1500.0, '1.5e3', 0.0015, 685230.15, 685230.15, 3.0, '+.5', '-.5', '.', '1.2.3', 1000.0, 12000.0]"),
    ("[1e+400, -1e+400, 1.0e-400, 0.0e+0, 0.1_0, 1_2.3_4, 1_2:3_0, -1_2:3_0]", "['1e+400', '-1e+400', 0.0, 0.0, 0.1, 12.34, '1_2:3_0', '-1_2:3_0']"),
    ("[2024-01-05, 2024-1-5, 2024-01-05T10:20:30Z, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5]", "[datetime.date(2024, 1, 5), '2024-1-5', datetime.datetime(2024, 1, 5, 10, 20, 30, tzinfo=datetime.timezone.utc), datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400))), datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))]"),
    ("[2001-12-14 21:59:43.10, 2001-12-15 2:59:43.10, 2001-12-15T02:59:43.1234567Z, 2001-12-15T02:59:43.Z]", "[datetime.datetime(2001, 12, 14, 21, 59, 43, 100000), datetime.datetime(2001, 12, 15, 2, 59, 43, 100000), datetime.datetime(2001, 12, 15, 2, 59, 43, 123456, tzinfo=datetime.timezone.utc), datetime.datetime(2001, 12, 15, 2, 59, 43, tzinfo=datetime.timezone.utc)]"),
    ("[2001-12-15T02:59:43.000000, 2001-12-15T02:59:00, 2001-12-15T02:00:00+05:30, 2001-12-15T02:00:00-00:00]", "[datetime.datetime(2001, 12, 15, 2, 59, 43), datetime.datetime(2001, 12, 15, 2, 59), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800))), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone.utc)]"),
    ("[2001-12-15T02:00:00 +5, 2001-12-15T02:00:00+23:59, 2001-12-15T02:00:00-23:59, 2024-02-29]", "[datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=18000))), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=86340))), datetime.datetime(2001, 12, 15, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=60))), datetime.date(2024, 2, 29)]"),
    ("[\"2024-01-05\", '017', \"yes\", '3.10', \"~\", \"null\", '0x1A', \"1:30\", '.inf', \"\"]", "['2024-01-05', '017', 'yes', '3.10', '~', 'null', '0x1A', '1:30', '.inf', '']"),
    ("[!!str 3.10, !!str yes, !!int \"017\", !!int '0x1A', !!float \"1e3\", !!float 1, !!bool \"TRUE\", !!null \"abc\"]", "['3.10', 'yes', 15, 26, 1000.0, 1.0, True, None]"),
    ("[!!int \"0o17\", !!int \"--5\", !!int \" 12 \", !!int \"1:-30\", !!float \"nan\", !!float \"-inf\", !!float \" 1.5 \"]", "[15, 5, 12, 30, nan, -inf, 1.5]"),
    ("[!!timestamp \"2024-01-05\", !!timestamp 2024-1-5, !!timestamp \"2024-01-05\\n\", ! \"12\\n\", !!int \"12\\n\"]", "[datetime.date(2024, 1, 5), datetime.date(2024, 1, 5), datetime.date(2024, 1, 5), 12, 12]"),
    ("[!!str , !!seq [a, 1], !!map {a: 1}, !<tag:yaml.org,2002:int> 12, !<tag:yaml.org,2002:str> 12, ! 12, ! [1], ! {a: 1}]", "['', ['a', 1], {'a': 1}, 12, '12', 12, [1], {'a': 1}]"),
    ("a: 1\nb:\n  - x\n  - y: [1, 2, {c: d}]", "{'a': 1, 'b': ['x', {'y': [1, 2, {'c': 'd'}]}]}"),
    ("[1, [2, [3, {a: [4]}]]]", "[1, [2, [3, {'a': [4]}]]]"),
    ("{a: 1, b: 2, a: 3}", "{'a': 3, 'b': 2}"),
    ("{1: a, 1.0: b, true: c}", "{1: 'c'}"),
    ("{0: a, false: b, 0.0: c, -0.0: d}", "{0: 'd'}"),
    ("{~: 1, null: 2, ? : 3}", "{None: 3}"),
    ("{2024-01-01: a, 2024-01-01 00:00:00: b}", "{datetime.date(2024, 1, 1): 'a', datetime.datetime(2024, 1, 1, 0, 0): 'b'}"),
    ("{2001-12-14t21:59:43-05:00: a, 2001-12-15t02:59:43Z: b}", "{datetime.datetime(2001, 12, 14, 21, 59, 43, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400))): 'b'}"),
    ("{2024-01-01 00:00:00: a, 2024-01-01 00:00:00Z: b}", "{datetime.datetime(2024, 1, 1, 0, 0): 'a', datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc): 'b'}"),
    ("{\"a\": 1, a: 2, 'a': 3}", "{'a': 3}"),
    ("{1: a, \"1\": b}", "{1: 'a', '1': 'b'}"),
    ("{9007199254740993: a, 9007199254740992.0: b}", "{9007199254740993: 'a', 9007199254740992.0: 'b'}"),
    ("{9007199254740992: a, 9007199254740992.0: b}", "{9007199254740992: 'b'}"),
    ("base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  b: 3\n  c: 4", "{'base': {'a': 1, 'b': 2}, 'derived': {'a': 1, 'b': 3, 'c': 4}}"),
    ("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  w: 0", "{'a': {'x': 1, 'y': 2}, 'b': {'y': 3, 'z': 4}, 'c': {'x': 1, 'y': 2, 'z': 4, 'w': 0}}"),
    ("c:\n  x: 0\n  <<: [{x: 1, q: 1}, {x: 2, r: 2}]\n  <<: {s: 3, x: 4}", "{'c': {'x': 0, 'q': 1, 'r': 2, 's': 3}}"),
    ("c: {<<: {<<: {a: 1}, b: 2}, c: 3}", "{'c': {'a': 1, 'b': 2, 'c': 3}}"),
    ("c: {!!merge x: {a: 1}, <<: {}}", "{'c': {'a': 1}}"),
    ("c: {\"<<\": {a: 1}}", "{'c': {'<<': {'a': 1}}}"),
    ("base: &b\n  k: 1\nlist:\n  - <<: *b\n    j: 2\n  - <<: *b", "{'base': {'k': 1}, 'list': [{'k': 1, 'j': 2}, {'k': 1}]}"),
    ("x: &x {<<: {a: 1}, b: 2}\ny: {<<: *x, c: 3}\nz: *x", "{'x': {'a': 1, 'b': 2}, 'y': {'a': 1, 'b': 2, 'c': 3}, 'z': {'a': 1, 'b': 2}}"),
    ("{=: 1}", "{'=': 1}"),
    ("x: !!int {=: 12, b: 1}", "{'x': 12}"),
    ("{&v =: 1, x: *v}", "{'=': 1, 'x': '='}"),
    ("[{&v =: 1}, [*v]]", "[{'=': 1}, ['=']]"),
    ("{a: &m !!int {=: 12}, b: {<<: *m}}", "{'a': 12, 'b': {'=': 12}}"),
    ("[&a 1, *a, &b [x], *b]", "[1, 1, ['x'], ['x']]"),
    ("a\n...\n", "'a'"),
    ("--- a\n...\n", "'a'"),
    ("---", "None"),
    ("# comment only\n", "None"),
    ("", "None"),
    ("  \n", "None"),
    ("- a\n- b\n-\n- ~", "['a', 'b', None, None]"),
    ("key: >\n  folded\n  text\n\n  more\n", "{'key': 'folded text\\nmore\\n'}"),
    ("key: |\n  literal\n   text\n", "{'key': 'literal\\n text\\n'}"),
    ("key: |-\n  strip\n", "{'key': 'strip'}"),
    ("key: >+\n  keep\n\n", "{'key': 'keep\\n\\n'}"),
    ("plain\n  multi\n  line", "'plain multi line'"),
    ("'single ''quoted'''", "\"single 'quoted'\""),
    ("\"double \\\"quoted\\\" \\t \\x41 \\u00e9 \\U0001F600 \\n\"", "'double \"quoted\" \\t A é 😀 \\n'"),
    ("\"\\x00\\x07\\x1b\\x7f\\x85\\N\\L\\P\\_\"", "'\\x00\\x07\\x1b\\x7f\\x85\\x85\\u2028\\u2029\\xa0'"),
    ("é: ü", "{'é': 'ü'}"),
    ("emoji: \"😀👍🏽\"", "{'emoji': '😀👍🏽'}"),
    ("combining: \"e\u{301}\"", "{'combining': 'e\u{301}'}"),
    ("cjk: 漢字", "{'cjk': '漢字'}"),
    ("[\"it's\", 'say \"hi\"', \"both ' and \\\"\", '\\\\', 'a\\b']", "[\"it's\", 'say \"hi\"', 'both \\' and \"', '\\\\\\\\', 'a\\\\b']"),
    ("[\"\\u00a0\", \"\\u200b\", \"\\u2028\", \"\\ufeff\", \"\\u202e\", \"\\ue000\", \"\\U000F0000\", \"\\u0378\", \"\\u0897\"]", "['\\xa0', '\\u200b', '\\u2028', '\\ufeff', '\\u202e', '\\ue000', '\\U000f0000', '\\u0378', '\\u0897']"),
    ("\u{a0}x: \u{a0}y", "{'\\xa0x': '\\xa0y'}"),
    ("nel: a\u{85}  b\u{85}next: c", "{'nel': 'a b', 'next': 'c'}"),
    ("- a\u{85}- b", "['a', 'b']"),
    ("[1, 1.0, 1.5, 0.1, 1e+16, 1.0e+15, 0.0001, 1.0e-05, 1.5e-07, 123456789012345.0, 1234567890123456.0, 12345678901234567.0]", "[1, 1.0, 1.5, 0.1, '1e+16', 1000000000000000.0, 0.0001, 1e-05, 1.5e-07, 123456789012345.0, 1234567890123456.0, 1.2345678901234568e+16]"),
    ("[0.30000000000000004, 4.9e-324, 5e-324, 1.7976931348623157e+308, 2.2250738585072014e-308, 1e-320]", "[0.30000000000000004, 5e-324, '5e-324', 1.7976931348623157e+308, 2.2250738585072014e-308, '1e-320']"),
    ("[100.0, 1e+22, 1e+23, 9007199254740993.0, 0.1e+1, 1234.5678e-2, -1.5, -0.0001, -1e-05, -1e+16]", "[100.0, '1e+22', '1e+23', 9007199254740992.0, 1.0, 12.345678, -1.5, -0.0001, '-1e-05', '-1e+16']"),
    ("? a\n? b\n: c", "{'a': None, 'b': 'c'}"),
    ("? |\n  block key\n: v", "{'block key\\n': 'v'}"),
    ("a: !!str\nb: !!int \"0\"\nc: !!null", "{'a': '', 'b': 0, 'c': None}"),
    ("{a: 1,}", "{'a': 1}"),
    ("'': empty key", "{'': 'empty key'}"),
    ("- - - deep\n- a: b\n  c: d\n- e", "[[['deep']], {'a': 'b', 'c': 'd'}, 'e']"),
    ("cuda: 11.8\ncudnn: 8\npython_version: 3.9\npackages: [numpy==1.26, pandas>=2]\nenv: {A: 1, B: \"2\", C: yes}", "{'cuda': 11.8, 'cudnn': 8, 'python_version': 3.9, 'packages': ['numpy==1.26', 'pandas>=2'], 'env': {'A': 1, 'B': '2', 'C': True}}"),
    ("[Yes, yES, Null, NULL, nULL, None, .Inf, .iNf, 0777, +0777]", "[True, 'yES', None, None, 'nULL', 'None', inf, '.iNf', 511, 511]"),
    ("\u{feff}a: 1", "{'a': 1}"),
    ("!!python/tuple [1, [a], !!python/tuple []]", "(1, ['a'], ())"),
    ("[!!python/object/apply:example.constants.Mode [2], !!python/object/apply:example.constants.Mode {args: [yes]}]", "[<Mode.ALL: 2>, <Mode.LOADED_MODULES: 1>]"),
    ("[!!python/object/apply:example.constants.Mode [3.0], !!python/object/apply:example.constants.Mode [!!float 1]]", "[<Mode.NO_COPY: 3>, <Mode.LOADED_MODULES: 1>]"),
    ("!!python/object:example.spec.Settings {name: x, <<: {a: 1}}", "{'a': 1, 'name': 'x'}"),
];
const ERR: &[&str] = &[
    "- [a, b]: c",
    "=",
    "- =",
    "<<",
    "[<<]",
    "{<<: 1}",
    "c: {<<: [1]}",
    "c: {<<: [{a: 1}, [b]]}",
    "[&v =, {*v : 1}]",
    "[[{&v =: 1}], *v]",
    "!!set {a, b}",
    "!foo 1",
    "!foo [1]",
    "!!python/name:os.system",
    "!!python/object/apply:os.system [ls]",
    "!!python/object:example.spec.Other {}",
    "!!python/object:example.spec.Settings [a]",
    "!!python/object/apply:example.constants.Mode [4]",
    "!!python/object/apply:example.constants.Mode [1, 2]",
    "!!python/object/apply:example.constants.Mode {kwds: {value: 1}}",
    "!!python/object/apply:example.constants.Mode a",
    "!!python/object/apply:example.constants.Other [1]",
    "!!python/tuple a",
    "!!python/str a",
    "! \"!\"",
    "!!str [a]",
    "!!seq a",
    "!!map a",
    "!!int [1]",
    "!!omap [[a, 1]]",
    "!!omap [{a: 1, b: 2}]",
    "!!omap {a: 1}",
    "{? [a]: 1}",
    "{? {a: 1}: 1}",
    "{? !!omap [a: 1]: 1}",
    "{&a a: 1, &a b: 2}",
    "[*nope]",
    "a\n---\nb",
    "---\n---\n",
    "x: !!int {a: 12}",
    "!!bool \"y\"",
    "!!int \"abc\"",
    "!!int \"\"",
    "!!float \"\"",
    "!!timestamp \"nope\"",
    "!!binary \"aGVsbG8\"",
    "!!binary \"a\"",
    "!!binary \"é\"",
    "2024-02-30",
    "2023-02-29",
    "0000-01-01",
    "2024-13-01",
    "2001-12-15T25:00:00",
    "2001-12-15T23:60:00",
    "2001-12-15T23:59:60",
    "2001-12-15T02:00:00+24:00",
    "a: [1, 2\n",
    "a: \u{7}",
    "a: \"\u{2028}\"",
    "key: value\n  bad: indent",
];

fn py(doc: &str) -> String {
    match load_with(doc, &TAGS) {
        Ok(Some(node)) => node.to_py().repr(),
        Ok(None) => "None".to_owned(),
        Err(e) => panic!("{doc:?} failed to load: {e}"),
    }
}

#[test]
fn loads_like_pyyaml() {
    for &(doc, expected) in OK {
        assert_eq!(py(doc), expected, "document {doc:?}");
    }
}

#[test]
fn fails_like_pyyaml() {
    for &doc in ERR {
        let result = load_with(doc, &TAGS);
        assert!(result.is_err(), "{doc:?} loaded: {result:?}");
    }
}

#[test]
fn brief_examples() {
    assert_eq!(py("python_version: 3.10"), "{'python_version': 3.1}");
    assert_eq!(py("017"), "15");
    assert_eq!(py("0x1A"), "26");
    assert_eq!(py("1:30"), "90");
    assert_eq!(py("190:20:30.15"), "685230.15");
    assert_eq!(py("1_000"), "1000");
    assert_eq!(py("1e3"), "'1e3'");
    assert_eq!(py(".5"), "0.5");
    assert_eq!(py("~"), "None");
    assert_eq!(py("09"), "'09'");
    assert_eq!(py("0o17"), "'0o17'");
    assert_eq!(py("-0"), "0");
    assert_eq!(py("+12"), "12");
    assert_eq!(py("'3.10'"), "'3.10'");
}

#[test]
fn empty_stream_is_none() {
    assert_eq!(load("").unwrap(), None);
    assert_eq!(load("# just a comment\n").unwrap(), None);
    let explicit = load("---\n").unwrap().unwrap();
    assert_eq!(explicit.value, NodeValue::Scalar(PyValue::None));
}

#[test]
fn marks_and_plain_flags() {
    let root = load("a: 1\nb: '2'\nc: !!str 3\nd:\n  - x\n")
        .unwrap()
        .unwrap();
    assert_eq!(root.mark, Mark { line: 1, column: 1 });
    let NodeValue::Map(pairs) = &root.value else {
        panic!("not a map: {root:?}");
    };
    let (a, one) = &pairs[0];
    assert_eq!(a.mark, Mark { line: 1, column: 1 });
    assert!(a.plain && one.plain);
    assert_eq!(one.mark, Mark { line: 1, column: 4 });
    assert_eq!(one.value, NodeValue::Scalar(PyValue::from(1)));
    let (_, two) = &pairs[1];
    assert!(!two.plain);
    assert_eq!(two.mark, Mark { line: 2, column: 4 });
    let (_, three) = &pairs[2];
    assert!(!three.plain);
    assert_eq!(three.mark, Mark { line: 3, column: 4 });
    assert_eq!(three.value, NodeValue::Scalar(PyValue::from("3")));
    let (_, seq) = &pairs[3];
    assert!(!seq.plain);
    let NodeValue::Seq(items) = &seq.value else {
        panic!("not a seq: {seq:?}");
    };
    assert_eq!(items[0].mark, Mark { line: 5, column: 5 });
}

#[test]
fn duplicate_key_keeps_first_position_and_last_value() {
    let root = load("a: 1\nb: 2\na: 3\n").unwrap().unwrap();
    let NodeValue::Map(pairs) = &root.value else {
        panic!("not a map");
    };
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].0.mark.line, 1);
    assert_eq!(pairs[0].1.value, NodeValue::Scalar(PyValue::from(3)));
    assert_eq!(pairs[0].1.mark.line, 3);
}

#[test]
fn errors_carry_the_offending_mark() {
    let e = load("a: 1\nb: =\n").unwrap_err();
    assert_eq!(e.mark(), Some(Mark { line: 2, column: 4 }));
    assert!(
        e.message().contains("could not determine a constructor"),
        "{e}"
    );
    let e = load("a: 1\nb: !!int {x: 1}\n").unwrap_err();
    assert_eq!(e.mark(), Some(Mark { line: 2, column: 4 }));
    let e = load("a\n---\nb\n").unwrap_err();
    assert!(e.message().contains("expected a single document"), "{e}");
    assert_eq!(e.mark().unwrap().line, 2);
    let e = load("{? [a]: 1}").unwrap_err();
    assert!(e.message().contains("found unhashable key"), "{e}");
    let e = load("x: [1, 2\n").unwrap_err();
    assert_eq!(e.mark().unwrap().line, 2);
    let e = load("a: b\u{7}").unwrap_err();
    assert_eq!(e.mark(), Some(Mark { line: 1, column: 5 }));
    let e = load("x: !foo 1").unwrap_err();
    assert_eq!(
        e.message(),
        "could not determine a constructor for the tag '!foo'"
    );
}

#[test]
fn aliases_share_the_anchored_value() {
    assert_eq!(
        py("a: &x {k: [1, 2]}\nb: *x\n"),
        "{'a': {'k': [1, 2]}, 'b': {'k': [1, 2]}}"
    );
}

#[test]
fn refused_on_purpose() {
    // PyYAML builds a self-containing list, a set, and a string holding
    // U+2028; none of them can be reproduced faithfully here.
    assert!(load("&a [*a]").is_err());
    assert!(load("!!set {a, b}").is_err());
    assert!(load("a: \"\u{2028}\"").is_err());
}

#[test]
fn alias_bombs_are_bounded() {
    let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        doc.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let e = load(&doc).unwrap_err();
    assert!(e.message().contains("too many nodes"), "{e}");
    assert!(e.is_unsupported());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(load(&deep).is_err());
}

/// Loads that PyYAML would accept but this loader refuses on purpose:
/// `(document, line, column, part of the message)`.
const REFUSED: &[(&str, usize, usize, &str)] = &[
    (
        "a: 1\nb: !!binary aGk=",
        2,
        4,
        "`!!binary` is not supported",
    ),
    (
        "[!!binary \"aGVsbG8=\"]",
        1,
        2,
        "`!!binary` is not supported",
    ),
    ("!!omap [a: 1, b: 2]", 1, 1, "`!!omap` is not supported"),
    ("x:\n  - !!pairs [a: 1]", 2, 5, "`!!pairs` is not supported"),
    ("!!set {a, b}", 1, 1, "`!!set` is not supported"),
    (
        "{a: 1, .nan: 2}",
        1,
        8,
        "a NaN mapping key is not supported",
    ),
    (
        "a: 1\n!!float nan : 2",
        2,
        1,
        "a NaN mapping key is not supported",
    ),
    (
        "{&x !!float nan: 1, *x : 2}",
        1,
        2,
        "a NaN mapping key is not supported",
    ),
    (
        "x: {<<: {.NaN: 1}}",
        1,
        10,
        "a NaN mapping key is not supported",
    ),
    (
        "? !!python/tuple [a]\n: 1",
        1,
        3,
        "a tuple as a mapping key",
    ),
    (
        "? !!python/object:example.spec.Settings {}\n: 1",
        1,
        3,
        "`example.spec.Settings` object as a mapping key",
    ),
    ("&a [*a]", 1, 5, "recursive alias"),
    ("a: \"\u{2028}\"", 1, 5, "U+2028"),
    (
        "x: !!python/name:os.system",
        1,
        4,
        "the tag `!!python/name:os.system` is not accepted",
    ),
    (
        "!!python/object/new:example.spec.Settings {}",
        1,
        1,
        "nothing is ever instantiated from a tag",
    ),
];

#[test]
fn refusals_name_the_line() {
    for &(doc, line, column, message) in REFUSED {
        let e = load_with(doc, &TAGS).unwrap_err();
        assert!(e.is_unsupported(), "{doc:?}: {e}");
        assert_eq!(e.mark(), Some(Mark { line, column }), "{doc:?}: {e}");
        assert!(e.message().contains(message), "{doc:?}: {e}");
        assert!(e
            .to_string()
            .starts_with(&format!("line {line}, column {column}: ")));
    }
}

#[test]
fn python_tags_are_the_callers() {
    // Without tags, only `!!python/tuple` is read.
    assert_eq!(py_none("!!python/tuple [1, a]"), "(1, 'a')");
    let e = load("!!python/object:example.spec.Settings {a: 1}").unwrap_err();
    assert!(e.is_unsupported());
    assert!(
        e.message()
            .contains("reads only `!!python/tuple`, and nothing"),
        "{e}"
    );
    let e = load_with("!!python/object:example.spec.Other {}", &TAGS).unwrap_err();
    assert!(
        e.message().contains(
            "reads only `!!python/tuple`, `!!python/object:example.spec.Settings` and \
             `!!python/object/apply:example.constants.Mode`, and nothing"
        ),
        "{e}"
    );
    // An accepted object keeps its class and state; `holds_object` finds it.
    let root = load_with(
        "base:\n  !!python/object:example.spec.Settings {name: x}\n",
        &TAGS,
    )
    .unwrap()
    .unwrap();
    assert!(root.holds_object());
    let NodeValue::Map(pairs) = &root.value else {
        panic!("not a map: {root:?}");
    };
    let NodeValue::Object { class, state } = &pairs[0].1.value else {
        panic!("not an object: {:?}", pairs[0].1);
    };
    assert_eq!(*class, "example.spec.Settings");
    assert_eq!(state.len(), 1);
    assert_eq!(pairs[0].1.mark, Mark { line: 2, column: 3 });
    assert!(!load("a: [1, {b: 2}]").unwrap().unwrap().holds_object());
    // `Mode(value)` finds a member as a dict lookup does: True == 1 == 1.0.
    assert_eq!(
        py("[!!python/object/apply:example.constants.Mode [true], !!python/object/apply:example.constants.Mode [2.0]]"),
        "[<Mode.LOADED_MODULES: 1>, <Mode.ALL: 2>]"
    );
    let e = load_with("!!python/object/apply:example.constants.Mode [4]", &TAGS).unwrap_err();
    assert_eq!(e.message(), "4 is not a valid Mode");
    assert!(!e.is_unsupported());
}

fn py_none(doc: &str) -> String {
    load(doc).unwrap().unwrap().to_py().repr()
}

fn message(doc: &str) -> String {
    load(doc).unwrap_err().message().to_owned()
}

#[test]
fn ints_and_floats_as_python_reads_them() {
    assert_eq!(
        py_none("[!!int '١٢', !!float '١.٥', !!int ' ١ ', !!float \"\\u30001\"]"),
        "[12, 1.5, 1, 1.0]"
    );
    assert_eq!(py_none("[!!float \"\\N1\", !!int \"\\t7\\n\"]"), "[1.0, 7]");
    assert_eq!(
        message("!!int \"\\x1c1\""),
        "invalid literal for int() with base 10: '\\x1c1'"
    );
    assert_eq!(
        message("!!float \"\\x1c1\""),
        "could not convert string to float: '\\x1c1'"
    );
    assert_eq!(
        message("!!int '0xg'"),
        "invalid literal for int() with base 16: 'g'"
    );
    assert_eq!(
        message("!!int '1:x'"),
        "invalid literal for int() with base 10: 'x'"
    );
    assert_eq!(message("!!int ''"), "string index out of range");
    assert_eq!(message("!!int '-'"), "string index out of range");
    assert_eq!(message("!!float ''"), "string index out of range");
    assert_eq!(
        message("!!float 'ABC'"),
        "could not convert string to float: 'abc'"
    );
    // Python 3.11's limit on decimal digits: PyYAML's int() raises ...
    let digits = "1".repeat(4301);
    assert_eq!(
        message(&digits),
        "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; \
         use sys.set_int_max_str_digits() to increase the limit"
    );
    assert!(!load(&digits).unwrap_err().is_unsupported());
    assert_eq!(py_none(&"9".repeat(4300)).len(), 4300);
    // ... and an int PyYAML reads in base 16 or 60 that str() cannot print is refused.
    let e = load(&format!("0x{}", "f".repeat(3600))).unwrap_err();
    assert!(
        e.is_unsupported() && e.message().contains("4335 digits"),
        "{e}"
    );
    let e = load(&format!("!!int '{}'", vec!["1"; 2500].join(":"))).unwrap_err();
    assert!(e.is_unsupported(), "{e}");
}

fn golden_floats() -> serde_json::Value {
    serde_json::from_str(include_str!("../../tests/data/float_golden.json")).unwrap()
}

/// Python's `float(text)` against `tests/data/float_golden.json` (`parse`).
#[test]
fn golden_float_parse() {
    let golden = golden_floats();
    let mut failures = Vec::new();
    for case in golden["parse"].as_array().unwrap() {
        let text = case[0].as_str().unwrap();
        let got = scalar::python_float(text).map(|f| {
            if f.is_nan() {
                "nan".to_owned()
            } else {
                format!("{:016x}", f.to_bits())
            }
        });
        if got.as_deref() != case[1].as_str() {
            failures.push(format!("{text:?}: got {got:?} want {}", case[1]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `repr(yaml.safe_load(doc))` of float scalars, from the same file (`yaml`).
#[test]
fn golden_float_documents() {
    let golden = golden_floats();
    let mut failures = Vec::new();
    for case in golden["yaml"].as_array().unwrap() {
        let doc = case[0].as_str().unwrap();
        let got = load(doc).ok().flatten().map(|n| n.to_py().repr());
        if got.as_deref() != case[1].as_str() {
            failures.push(format!("{doc:?}: got {got:?} want {}", case[1]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
