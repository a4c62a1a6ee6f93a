import fnmatch
import json
import os
import posixpath
import random
import re
import sys
import tempfile
import warnings

import docker.utils.build as dub
import docker.utils.fnmatch as dfn
from flytekit.tools.ignore import DockerIgnore

warnings.simplefilter("ignore")
rng = random.Random(20240611)

CASED = ["A", "B", "İ", "ß", "ẞ", "Σ", "σ", "ς", "K", "ǅ", "Ω", "Å", "ﬃ"]
PAT_TOKENS = [
    "a", "b", "ab", "src", "x", "py", ".py", "*", "**", "***", "?", "[", "[!", "[^", "]",
    "[ab]", "[!a]", "[^a]", "[a-c]", "[]a]", "[!]a]", "[z-a]", "[a-]", "[-a]", "[\\]", "[a\\-z]",
    "[[:alpha:]]", "[a&&b]", "[a--b]", "[a~~b]", "[a||b]", "[[a]", "\\", "!", ".", "..", "/",
    "//", "-", " ", "\t", "\x1c", "\n", "#", "^", "$", "(", ")", "|", "+", "{", "}", "&&", "~~",
    "--", "\u00a0", "\u3000",
] + CASED
NAME_TOKENS = [
    "a", "b", "ab", "src", "x", "x.py", "y.PY", "py", ".", "..", "...", "", "A", "B", "İ", "i̇",
    "i", "ß", "ss", "ẞ", "σ", "ς", "Σ", "k", "K", "ǆ", "ǅ", "-", "]", "[", "\\", "^", "!", "\n",
    " ", "#", "&", "~", "|", "c", "z", "ω", "å", "ﬃ", "ffi", "__pycache__", ".cache", "m.pyc",
]
SEP_TOKENS = ["/", "/", "/", "//"]


def rand_pattern(maxlen=6):
    return "".join(rng.choice(PAT_TOKENS) for _ in range(rng.randint(0, maxlen)))


def rand_path(maxdepth=5):
    parts = [rng.choice(NAME_TOKENS) for _ in range(rng.randint(1, maxdepth))]
    out = parts[0]
    for p in parts[1:]:
        out += rng.choice(SEP_TOKENS) + p
    r = rng.random()
    if r < 0.1:
        out = "./" + out
    elif r < 0.2:
        out = "src/" + out
    elif r < 0.25:
        out = "/" + out
    if rng.random() < 0.1:
        out += "/"
    return out


def path_pattern():
    comps = []
    for _ in range(rng.randint(1, 4)):
        t = rng.random()
        if t < 0.5:
            comps.append(rng.choice(NAME_TOKENS))
        elif t < 0.7:
            comps.append(rng.choice(["*", "**", "*.py", "?", "[ab]", "[!a]", "x*", "*a*", "**/a"]))
        else:
            comps.append(rand_pattern(2))
    if rng.random() < 0.25:
        comps.insert(rng.randint(0, len(comps)), rng.choice(["..", "../..", "a/../..", "../../..", "./.."]))
    p = "/".join(comps)
    if rng.random() < 0.15:
        p = "/" + p
    if rng.random() < 0.15:
        p += "/"
    if rng.random() < 0.1:
        p = "./" + p
    return p


def rand_line():
    r = rng.random()
    if r < 0.08:
        return ""
    if r < 0.15:
        return "#" + path_pattern()
    lead = "".join(rng.choice([" ", "\t", "\x1c", "\x1f", "\u00a0", "\u2028", "\x0b", "\x0c"]) for _ in range(rng.choice([0, 0, 0, 1, 2])))
    trail = "".join(rng.choice([" ", "\t", "\x1d", "\u3000", "\x85"]) for _ in range(rng.choice([0, 0, 1, 2])))
    body = path_pattern()
    if rng.random() < 0.2:
        body = "!" + rng.choice(["", " ", "!"]) + body
    if rng.random() < 0.05:
        body = "#" + body
    return lead + body + trail


def flyte_matcher(raw_text):
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, ".dockerignore"), "wb") as f:
            f.write(raw_text.encode("utf-8"))
        with open(os.path.join(root, ".dockerignore"), "r") as f:
            pats = [l.strip() for l in f.readlines() if l and not l.startswith("#")]
        return pats, DockerIgnore(root).pm


def mutate_to_name(pat):
    out = ""
    for c in pat:
        if c == "*":
            out += rng.choice(["", "a", "xy", "a/b", "/", "b.py", "a\nb", "\n/", "x/\n/y"])
        elif c == "?":
            out += rng.choice(["a", "/", "\n", "Σ", "z"])
        elif c in "[]!^-\\":
            out += rng.choice([c, "", "a", "b", "z", "-"])
        elif rng.random() < 0.15:
            out += c.upper()
        else:
            out += c
    if rng.random() < 0.1:
        out += "\n"
    return out


def ignore_case():
    lines = [rand_line() for _ in range(rng.randint(0, 7))]
    text = ""
    for l in lines:
        text += l + rng.choice(["\n", "\n", "\r\n", "\r"])
    if lines and rng.random() < 0.3:
        text = text.rstrip("\r\n")
    if rng.random() < 0.05:
        text = "\ufeff" + text
    pats, pm = flyte_matcher(text)
    dirs = [[1 if p.exclusion else 0, p.cleaned_pattern, len(p.dirs)] for p in pm.patterns]
    paths = [rand_path() for _ in range(6)]
    for _ in range(6):
        if len(pm.patterns) > 1:
            base = rng.choice(pm.patterns[:-1]).cleaned_pattern
            paths.append(rng.choice(["", "", "./", "src/"]) + mutate_to_name(base) + rng.choice(["", "", "/a", "/a/b.py", "/"]))
    results = []
    err = None
    for p in paths:
        try:
            results.append("1" if pm.matches(p) else "0")
        except re.error as e:
            results.append("E")
            err = str(e)
    if "E" in results:
        assert set(results) == {"E"}, results
    return {"text": text, "pats": pats, "dirs": dirs, "paths": paths, "res": "".join(results) if err is None else None}


def cls_pattern():
    toks = ["[", "[!", "[^", "]", "-", "[!-", "--", "-]", "\\", "a", "z", "A", "^", "!", "&", "~", "|", "[:", ":]", "*", "?", "/", "İ", "Σ", "ß", "0", "9", "\n", "é", "ﬃ"]
    return "".join(rng.choice(toks) for _ in range(rng.randint(1, 9)))


def matcher_case():
    pats = []
    for _ in range(rng.randint(0, 5)):
        lead = rng.choice(["", "", " ", "\t", "\x1c", "\u3000"])
        bang = rng.choice(["", "", "!", "! ", "!!", " !"])
        pats.append(lead + bang + path_pattern() + rng.choice(["", "", " ", "\n", "\x1f"]))
    pm = dub.PatternMatcher(list(pats))
    dirs = [[1 if p.exclusion else 0, p.cleaned_pattern, len(p.dirs)] for p in pm.patterns]
    paths = [rand_path() for _ in range(3)]
    for _ in range(4):
        if len(pm.patterns) > 1:
            base = rng.choice(pm.patterns[:-1]).cleaned_pattern
            paths.append(mutate_to_name(base) + rng.choice(["", "/a"]))
    try:
        res = "".join("1" if pm.matches(p) else "0" for p in paths)
    except re.error:
        res = None
    return {"pats": pats, "dirs": dirs, "paths": paths, "res": res}


def cls_name():
    toks = ["a", "z", "b", "-", "]", "[", "\\", "^", "!", "&", "~", "|", ":", "/", "i̇", "σ", "ς", "ss", "0", "\n", "é", "A", "ffi", "x"]
    return "".join(rng.choice(toks) for _ in range(rng.randint(0, 4)))


def docker_fnmatch_case():
    if rng.random() < 0.5:
        pat = cls_pattern()
    else:
        pat = rand_pattern(5)
    r = rng.random()
    if r < 0.6:
        name = mutate_to_name(pat)
    elif r < 0.8:
        name = cls_name()
    else:
        name = rand_path(3)
    try:
        r = 1 if dfn.fnmatch(name, pat) else 0
    except re.error:
        r = None
    return [name, pat, r]


def py_fnmatch_case():
    r = rng.random()
    if r < 0.4:
        pat = cls_pattern()
        name = mutate_to_name(pat) if rng.random() < 0.6 else cls_name()
    elif r < 0.7:
        pat = rng.choice(["*.pyc", ".cache", ".cache/*", "__pycache__/*", "**/__pycache__/*"])
        name = rand_path(4)
    else:
        pat = rand_pattern(5)
        name = mutate_to_name(pat) if rng.random() < 0.6 else rand_path(3)
    try:
        res = 1 if fnmatch.fnmatch(name, pat) else 0
    except Exception:
        res = None
    return [name, pat, res]


def std_path():
    comps = [rng.choice(["a", "__pycache__", ".cache", "m.pyc", "x.py", "b", ".pyc", "c.PYC", "__pycache__\n", "\n", ""]) for _ in range(rng.randint(1, 4))]
    p = "/".join(comps)
    if rng.random() < 0.1:
        p = "./" + p
    if rng.random() < 0.1:
        p += "/"
    return p


def std_ignored(p):
    return any(fnmatch.fnmatch(p, pat) for pat in ["*.pyc", ".cache", ".cache/*", "__pycache__/*", "**/__pycache__/*"])


POSIX_TOKENS = ["a", "b", "c", ".", "..", "...", "", "é", "a b", "\n"]


def posix_path():
    n = rng.randint(0, 5)
    parts = [rng.choice(POSIX_TOKENS) for _ in range(n)]
    out = ""
    for k, p in enumerate(parts):
        if k:
            out += rng.choice(["/", "/", "//", "///"])
        out += p
    r = rng.random()
    if r < 0.2:
        out = "/" + out
    elif r < 0.3:
        out = "//" + out
    elif r < 0.35:
        out = "///" + out
    elif r < 0.45:
        out = "./" + out
    if rng.random() < 0.15:
        out += rng.choice(["/", "//"])
    return out


def relpath_case():
    path, start = posix_path(), posix_path()
    cwd = rng.choice(["/", "/home/u", "/home/u/proj", "//x", "/a/b/c", "rel/cwd", ""])
    orig = os.getcwd
    os.getcwd = lambda: cwd
    try:
        r = posixpath.relpath(path, start)
    except ValueError:
        r = None
    finally:
        os.getcwd = orig
    return [path, start, cwd, r]


def commonpath_case():
    paths = [posix_path() for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.5 and paths:
        base = paths[0]
        paths = [base + rng.choice(["", "/x", "/x/y", "/../z", "/."]) for _ in range(rng.randint(1, 4))]
    try:
        r = posixpath.commonpath(paths)
    except ValueError:
        r = None
    return [paths, r]


def strip_case():
    chars = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u00a0", "\u1680", "\u2000", "\u200b", "\u2028", "\u202f", "\u205f", "\u3000", "\ufeff", "a", "#", "\u180e"]
    s = "".join(rng.choice(chars) for _ in range(rng.randint(0, 6)))
    return [s, s.strip()]


def lower_strings():
    pieces = ["Σ", "A", "a", "'", "\u0301", "1", " ", "/", ".", "İ", "ß", "ẞ", "\u00ad", "ΑΣ", "σ", ":", "ǅ", "_"]
    out = []
    for _ in range(150):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        out.append([s, s.lower()])
    return out


CLASS_NAMES = ["-", "a", "b", "z", "]", "\\", "^", "!", "m", "A", "/"]


def class_table(fn, alphabet="!-az]\\^", lengths=(1, 2, 3)):
    import itertools
    out = []
    for n in lengths:
        for body in itertools.product(alphabet, repeat=n):
            pat = "[" + "".join(body) + "]"
            try:
                res = "".join("1" if fn(name, pat) else "0" for name in CLASS_NAMES)
            except Exception:
                res = None
            out.append([pat, res])
    return out


def main():
    golden = {}
    golden["isspace"] = [c for c in range(0x110000) if chr(c).isspace()]
    golden["lower"] = [[c, chr(c).lower()] for c in range(0x110000) if not 0xD800 <= c < 0xE000 and chr(c).lower() != chr(c)]
    golden["lower_strings"] = lower_strings()
    golden["strip"] = [strip_case() for _ in range(200)]
    golden["ignore_files"] = [ignore_case() for _ in range(230)]
    golden["matcher"] = [matcher_case() for _ in range(130)]
    golden["class_names"] = CLASS_NAMES
    golden["docker_classes"] = class_table(dfn.fnmatch)
    golden["fnmatch_classes"] = class_table(fnmatch.fnmatch)
    golden["fnmatch_classes4"] = class_table(fnmatch.fnmatch, "!-az\\", (4,))
    golden["docker_fnmatch"] = [docker_fnmatch_case() for _ in range(1700)]
    golden["fnmatch"] = [py_fnmatch_case() for _ in range(1100)]
    golden["standard"] = [[p, 1 if std_ignored(p) else 0] for p in (std_path() for _ in range(300))]
    ps = [posix_path() for _ in range(400)]
    golden["normpath"] = [[p, posixpath.normpath(p)] for p in ps]
    golden["dirname"] = [[p, posixpath.dirname(p)] for p in ps[:250]]
    golden["isabs"] = [[p, 1 if posixpath.isabs(p) else 0] for p in ps[:100]]
    golden["join"] = [[a, b, posixpath.join(a, b)] for a, b in ((posix_path(), posix_path()) for _ in range(200))]
    golden["relpath"] = [relpath_case() for _ in range(300)]
    golden["commonpath"] = [commonpath_case() for _ in range(300)]
    json.dump(golden, sys.stdout, ensure_ascii=False, separators=(",", ":"))


main()
