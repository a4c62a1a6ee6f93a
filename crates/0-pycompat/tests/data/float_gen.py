"""Golden data for float repr() and float(), from the running CPython.

Run from the crate directory with CPython 3.11 and PyYAML 6.0.4:

    python tests/data/float_gen.py > tests/data/float_golden.json

Sections:
  repr:  [bits as 16 hex digits, repr(x)] for finite and special doubles
         (subnormals, powers of two and ten with neighbours, the layout
         boundaries, random bit patterns and decimals);
  parse: [text, bits or null] for Python's float(text): exact midpoints
         between neighbouring doubles and their near misses, long inputs,
         white space, Unicode digits, and malformed text;
  yaml:  [document, repr(yaml.safe_load(document)) or null] for plain and
         `!!float` scalars (underscores, signs, base 60, .inf/.nan).
"""
import decimal
import json
import math
import random
import struct
import sys

import yaml

rng = random.Random(20250301)
decimal.getcontext().prec = 1200


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def repr_values():
    xs = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 2.2250738585072014e-308,
          1.7976931348623157e308, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3]
    for k in range(1, 40):
        xs.append(from_bits(k))                      # smallest subnormals
        xs.append(from_bits(0x000FFFFFFFFFFFFF - k))  # largest subnormals
    for _ in range(300):
        xs.append(from_bits(rng.randrange(1, 1 << 52)))  # random subnormals
    for k in range(-1074, 1024, 2):
        xs.append(math.ldexp(1.0, k))                # powers of two
    for k in range(-325, 309):
        x = float("1e%d" % k)                         # powers of ten, neighbours
        xs += [x, math.nextafter(x, 0), math.nextafter(x, math.inf)]
    for k in range(-6, 18):                           # layout boundaries
        for m in ("1", "9.999999999999999", "9.9999999999999999", "1.0000000000000002", "5", "1.5"):
            xs.append(float("%se%d" % (m, k)))
    for n in range(2 ** 53 - 5, 2 ** 53 + 6):
        xs.append(float(n))
    for n in (10 ** 15, 10 ** 16, 10 ** 17, 123456789012345678):
        for d in range(-3, 4):
            xs.append(float(n + d))
    for _ in range(400):                              # halves and quarters: digits ending in 5
        xs.append(rng.randrange(0, 10 ** rng.randint(1, 17)) + rng.choice([0.5, 0.25, 0.75, 0.125, 0.0625]))
        xs.append(rng.randrange(1, 2 ** 53) * 2.0 ** rng.randint(-80, 80))
    for _ in range(1200):                             # random bit patterns
        b = rng.randrange(0, 0x7FF0000000000000)
        xs.append(from_bits(b) * rng.choice([1, -1]))
    for _ in range(800):                              # random short decimals
        digits = str(rng.randrange(1, 10 ** rng.randint(1, 17)))
        xs.append(float("%s.%se%d" % (digits[0], digits[1:] or "0", rng.randint(-330, 310))))
    xs += shortest_ties(300)
    out, seen = [], set()
    for x in xs:
        if math.isnan(x):
            key = "nan"
        else:
            key = bits(x)
        if key in seen:
            continue
        seen.add(key)
        out.append(["%016x" % bits(x), repr(x)])
    return out


def is_shortest_tie(x):
    """True when x lies exactly halfway between two shortest round-trip
    candidates: repr() must pick the one with the even last digit."""
    mantissa, _, exp = repr(x).partition("e")
    digits = mantissa.replace(".", "").lstrip("0")
    frac = len(mantissa.partition(".")[2]) if "." in mantissa else 0
    if mantissa.endswith(".0"):
        digits, frac = digits[:-1], frac - 1
    q = (int(exp) if exp else 0) - frac          # x ~ int(digits) * 10**q
    d = int(digits)
    for other in (d - 1, d + 1):
        alt = decimal.Decimal(other).scaleb(q)
        if float(alt) == x and (decimal.Decimal(d).scaleb(q) + alt) / 2 == decimal.Decimal(x):
            return True
    return False


def shortest_ties(count):
    """Doubles whose shortest digits are a tie (Rust's `{:e}` takes the upper
    candidate there, CPython and ryu the even one)."""
    out = []
    while len(out) < count:
        m = rng.randrange(2 ** 52, 2 ** 53)
        x = math.ldexp(m, rng.randint(-8, 6))
        if is_shortest_tie(x):
            out.append(x * rng.choice([1, -1]))
    return out


def midpoint(a, b):
    m = (decimal.Decimal(a) + decimal.Decimal(b)) / 2
    return format(m, "e")


def parse_texts():
    ts = ["0", "-0", "+0.0", "1", "1.", ".5", "-.5", "+.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e3",
          "inf", "-inf", "+inf", "Infinity", "-iNfInItY", "nan", "-nan", "+NaN", "NAN", "infinit", "in",
          "", " ", ".", "e5", "1e", "1e+", "+-1", "--1", "1.2.3", "0x10", "1_0", "1__0", "_1", "1_",
          " 1.5 ", "\t1.5\n", "\x0b1\x0c", "\x1c1.5", "1.5\x1f", "\u30001.5\u2000", "\u00a01", "1\x85",
          "\u0661.\u0665", "\u0661\u0662e\u0663", "\uff11\uff10", "\U0001D7CE\U0001D7D9", "1\u00b2", "\u2167",
          "1e400", "-1e400", "1e-400", "4.9406564584124654e-324", "2.4703282292062328e-324",
          "2.4703282292062327e-324", "2.4703282292062329e-324", "2.2250738585072011e-308",
          "2.2250738585072012e-308", "1e23", "8.98846567431158e307", "1.7976931348623158e308",
          "1.7976931348623159e308", "9007199254740993", "9007199254740993.0000000000000000001",
          "0." + "0" * 400 + "1", "1" + "0" * 400, "1" * 800 + "e-790", "0.1e-400", "1e-0000000000000000400",
          "00001.5", "1.5e0000003", "1e1_0", "1_0.5_5", "1_.5", "1._5", "_1.5", "1.5_", "1__0", "in_f", "1e_5",
          " 1_0 ", "1e99999999999999999999", "0e99999999999999999999", "1e-99999999999999999999", "1,5", "1.5f", "0b1", "١", "1\x00", "+", "-", "e", "E1", "ⅰ"]
    for k in range(250):
        if k < 40:
            b = rng.randrange(1, 0x7FEFFFFFFFFFFFFF)
        else:                                         # 2**-60 .. 2**80: shorter texts
            b = rng.randrange(0x3C30000000000000, 0x44F0000000000000)
        a, c = from_bits(b), from_bits(b + 1)
        m = midpoint(a, c)
        ts.append(m)                                  # exact midpoint: round half to even
        d = decimal.Decimal(m)
        eps = decimal.Decimal(1).scaleb(d.adjusted() - 40)
        ts.append(format(d + eps, "e"))
        ts.append(format(d - eps, "e"))
    for _ in range(30):
        b = rng.randrange(1, 1 << 52)                 # subnormal midpoints
        ts.append(midpoint(from_bits(b), from_bits(b + 1)))
    for _ in range(250):                              # long random decimals
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(17, 40)))
        ts.append("%s.%se%d" % (digits[0], digits[1:], rng.randint(-340, 320)))
    out = []
    for t in ts:
        try:
            r = "%016x" % bits(float(t))
            if math.isnan(float(t)):
                r = "nan"
        except ValueError:
            r = None
        out.append([t, r])
    return out


def yaml_docs():
    docs = ["1.5", "-1.5", "+1.5", "1_000.5", "1__0.0_1", "685.230_15e+03", "685_230.15", "190:20:30.15",
            "-190:20:30.15", "1:0.5", "0:0:0.0", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "-.nan", "1.",
            "1.e5", "1.0e+400", "1.0e-400", "0.1e+1", "1234.5678e-2", "9007199254740993.0",
            "!!float 1", "!!float '1e3'", "!!float ' 1.5 '", "!!float '\u0661.\u0665'", "!!float 'nan'",
            "!!float '-inf'", "!!float 'INFINITY'", "!!float '1:inf'", "!!float '1:-30'", "!!float '1::2'",
            "!!float ''", "!!float '-'", "!!float '+-1'", "!!float '--1'", "!!float 'abc'", "!!float '0x10'",
            "!!float '1_0'", "!!float '1e1_0'", "!!float '\u212a'", "!!float '1e'", "!!float '.5'",
            "!!float \"\\x1c1\"", "!!float \"\\u30001\"", "!!float \"\\N1\"", "!!float '" + ":".join(["1"] * 180) + "'",
            "!!float '" + ":".join(["0"] * 175) + "'", "!!float '" + ":".join(["0"] * 173) + "'",
            "!!float '" + ":".join(["1"] * 173) + ".5'", "!!float 'İnf'", "!!float 'Σ'", "!!float '.İnf'"]
    for _ in range(500):
        intpart = "".join(rng.choice("0123456789_") for _ in range(rng.randint(1, 8)))
        if not intpart[0].isdigit():
            intpart = "1" + intpart
        frac = "".join(rng.choice("0123456789_") for _ in range(rng.randint(0, 12)))
        exp = rng.choice(["", "", "e+%d" % rng.randint(0, 330), "e-%d" % rng.randint(0, 330), "E+5"])
        sign = rng.choice(["", "", "-", "+"])
        docs.append("%s%s.%s%s" % (sign, intpart, frac, exp))
    for _ in range(150):
        parts = [str(rng.randint(0, 59)) for _ in range(rng.randint(1, 4))]
        docs.append("%s%d:%s.%d" % (rng.choice(["", "-", "+"]), rng.randint(1, 999), ":".join(parts), rng.randint(0, 99)))
    out = []
    for d in docs:
        try:
            r = repr(yaml.safe_load(d))
        except Exception:
            r = None
        out.append([d, r])
    return out


json.dump({"repr": repr_values(), "parse": parse_texts(), "yaml": yaml_docs()}, sys.stdout,
          ensure_ascii=False, separators=(",", ":"))
