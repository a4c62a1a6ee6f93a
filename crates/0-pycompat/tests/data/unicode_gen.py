"""Golden data for CPython 3.11's Unicode 14.0 character predicates.

Run from the crate directory with CPython 3.11:

    python tests/data/unicode_gen.py > tests/data/unicode_golden.json

Sections (ranges are inclusive, over every code point 0..=0x10FFFF):
  version:   unicodedata.unidata_version;
  printable: [first, last] runs where chr(c).isprintable();
  decimal:   [first, last, value of first] runs of consecutive code points
             whose unicodedata.decimal() values also go up by one.
"""
import json
import sys
import unicodedata


def runs(pred):
    out, start = [], None
    for c in range(0x110000 + 1):
        inside = c < 0x110000 and pred(c)
        if inside and start is None:
            start = c
        elif not inside and start is not None:
            out.append([start, c - 1])
            start = None
    return out


def decimal_runs():
    out = []
    for c in range(0x110000):
        v = unicodedata.decimal(chr(c), None)
        if v is None:
            continue
        if out and out[-1][1] == c - 1 and out[-1][2] + (c - out[-1][0]) == v:
            out[-1][1] = c
        else:
            out.append([c, c, v])
    return out


json.dump({
    "version": unicodedata.unidata_version,
    "printable": runs(lambda c: chr(c).isprintable()),
    "decimal": decimal_runs(),
}, sys.stdout, separators=(",", ":"))
