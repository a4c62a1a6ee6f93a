"""Golden data for `template.format(**{name: value})` on CPython 3.11.

Run from the crate directory with CPython 3.11:

    python tests/data/format_gen.py > tests/data/format_golden.json

Each case is [template, name, value, result, exception, message, attr]:
result is the formatted text or null; exception and message are the type
name and str() of what Python raised, or null; attr is 1 when a field of the
template (or of a nested format spec) looks up an attribute (`{x.upper}`),
which imagespec_pycompat::format refuses instead of emulating.
"""
import _string
import json
import random
import string
import sys

rng = random.Random(20250302)

CURATED = [
    "{spec_hash}", "{spec_hash}-dev", "{{x}}{spec_hash}", "{spec_hash[0]}", "{spec_hash[-1]}", "{spec_hash:.3}",
    "{spec_hash:_>7}", "{spec_hash:^9}", "{spec_hash!r}", "{other}", "{}", "{0}", "{spec_hash", "x}", "{spec_hash:+}",
    "{spec_hash!}", "{spec_hash!r", "{spec_hash: }", "{spec_hash:,}", "{spec_hash:z}", "{spec_hash.upper}",
    "{spec_hash[a]}", "{spec_hash:{spec_hash[0]}<10}", "{spec_hash!a}", "{spec_hash:{spec_hash:{spec_hash}}}",
    "{spec_hash:<07}", "{spec_hash:07}", "{spec_hash:abc}", "{spec_hash:a}", "{spec_hash:d}", "{spec_hash:=5}",
    "{spec_hash:#}", "{spec_hash:_}", "{spec_hash:,_}", "{spec_hash:_,}", "{spec_hash:.}", "{spec_hash:\u0661\u0660}",
    "{spec_hash[\u0661]}", "{\u0661}", "{spec_hash!x}", "{spec_hash!\u00e9}", "{spec_hash!\x01}", "{spec_hash.}",
    "{spec_hash[]}", "{spec_hash[0]x}", "{spec_hash[0}", "{spec_hash[99999999999999999999]}", "{99999999999999999999}",
    "{spec_hash:99999999999999999999}", "{spec_hash:.99999999999999999999}", "{spec_hash:{}}", "{{", "}}", "{", "}",
    "a{", "{spec_hash:\x01}", "{spec_hash:\u00e9}", "{spec_hash:{spec_hash", "{it's}", "{spec_hash:{{}}}",
    "{ spec_hash}", "{spec_hash!r:>10}", "{spec_hash!s}", "{spec_hash[0][0][0]}", "{spec_hash[5]}",
    "{spec_hash.__class__}", "{spec_hash:}", "{spec_hash!r:}", "{x}{", "{spec_hash{}", "{[}", "{spec_hash[}]}",
    "{spec_hash[0].x}", "{spec_hash[0]}}", "{spec_hash:{{}", "{spec_hash:x<}", "{spec_hash:<}", "{spec_hash:0}",
    "{spec_hash:00}", "{spec_hash:010}", "{spec_hash:0<10}", "{spec_hash:<010.2}", "{spec_hash:^^10}",
    "{spec_hash:}>10}", "{spec_hash:{spec_hash[1]}^{spec_hash[9]}}", "{spec_hash:.0}", "{spec_hash:.{spec_hash[1]}}",
    "{spec_hash:s}", "{spec_hash:10s}", "{spec_hash:-}", "{spec_hash:z}", "{spec_hash:#s}", "{spec_hash:,s}",
    "{spec_hash:_s}", "{spec_hash:10,}", "{spec_hash:\u00e9<10}", "{spec_hash:\U0001F600^11}", "{spec_hash!a:>20}",
    "{spec_hash!r!s}", "{spec_hash!rs}", "{spec_hash!:}", "{:}", "{!r}", "{[0]}", "{.x}", "{spec_hash[1]!r}",
    "{spec_hash}{spec_hash}", "{spec_hash}}}", "{{{spec_hash}}}", "pre{spec_hash}post", "{spec_hash:{}>5}",
    "{spec_hash!\x00}", "{spec_hash:\x00}", "{spec_hash!\x00:>5}", "{spec_hash:,\x01}", "{spec_hash:\x7f}",
    "{spec_hash!\x7f}", "{spec_hash:,\x7f}", "{spec_hash:,\x80}", "{spec_hash:,d}", "{spec_hash:_x}",
    "{spec_hash:_b}", "{spec_hash:,x}", "{spec_hash:>{spec_hash:{spec_hash}}}", "{spec_hash:{spec_hash!r}}",
    "{spec_hash[0]:{spec_hash[0]}>3}", "{spec_hash:.{spec_hash[0]}}", "{spec_hash[1]a}", "{spec_hash[1].}",
    "{spec_hash[1]!r", "{spec_hash!r:", "{spec_hash:", "{spec_hash!", "{spec_hash[", "{[99999999999999999999]}",
    "{spec_hash:99999999999999999999.}", "{spec_hash:.5.5}", "{spec_hash:< 5}", "{spec_hash:+5}", "{spec_hash:-}",
    "{spec_hash:z5}", "{spec_hash:#5}", "{spec_hash:0=5}", "{spec_hash:=}", "{spec_hash:x=5}",
]

TOKENS = ["{", "}", "{{", "}}", "spec_hash", "spec_hash", "spec_hash", "x", "[0]", "[1]", "[12]", "[a]", "[]", ".",
          ".upper", "!r", "!s", "!a", "!x", "!", ":", ":", "<", ">", "^", "=", "0", "5", "12", ".3", ".0", ",", "_",
          "+", "-", " ", "#", "z", "s", "d", "\u0661", "*", "\u00e9", "-dev", "v"]

VALUES = ["AbC-d", "x'y", "\u00e9t\u00e9", "", "a\"b'c", "\u200b\x07z", "\U0001F600ab", "1234567890"]


def accesses_attribute(template, depth=2):
    if depth <= 0:
        return False
    try:
        for _literal, field, spec, _conv in string.Formatter().parse(template):
            if field is None:
                continue
            _first, rest = _string.formatter_field_name_split(field)
            if any(is_attr for is_attr, _ in rest):
                return True
            if spec and "{" in spec and accesses_attribute(spec, depth - 1):
                return True
    except (ValueError, TypeError):
        return False
    return False


def case(template, name, value):
    try:
        res, exc, msg = template.format(**{name: value}), None, None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        res, exc, msg = None, type(e).__name__, str(e)
    return [template, name, value, res, exc, msg, 1 if accesses_attribute(template) else 0]


def random_template():
    out = ""
    for _ in range(rng.randint(1, 9)):
        out += rng.choice(TOKENS)
    if rng.random() < 0.5:
        out = "{" + out + "}"
    return out


cases = []
for t in CURATED:
    cases.append(case(t, "spec_hash", "AbC-d"))
for _ in range(1500):
    cases.append(case(random_template(), rng.choice(["spec_hash", "spec_hash", "x"]), rng.choice(VALUES)))
for v in VALUES:
    for t in ["{spec_hash!r}", "{spec_hash!a}", "{spec_hash!s:>12}", "{spec_hash[0]!a}", "{spec_hash:.2}"]:
        cases.append(case(t, "spec_hash", v))
json.dump(cases, sys.stdout, ensure_ascii=False, separators=(",", ":"))
