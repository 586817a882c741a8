"""Ruby (Onigmo) and Perl (PCRE) regular expressions, translated to Python's ``re``.

Recog's patterns are Ruby regexes (``lib/recog/fingerprint/regexp_factory.rb``); nmap's are
PCRE (nmap-service-probes(5), "match Directive"). Python differs from both in a few spellings,
rewritten here by one small scanner that keeps everything else byte for byte:

- ``(?<name>...)`` / ``(?'name'...)`` -> ``(?P<name>...)``; ``\\k<name>`` -> ``(?P=name)``.
  In Ruby a pattern with named groups does not capture its plain ``(...)`` groups (so
  ``pos`` numbers count named groups only): those become ``(?:...)``.
- ``\\z`` -> ``\\Z`` (absolute end); ``\\Z`` -> ``(?=\\n?\\Z)`` (end or before a final newline).
- ``\\h``: Ruby's hex digit ``[0-9a-fA-F]``; PCRE's horizontal blank ``[ \\t\\xa0]``.
- POSIX brackets ``[[:alpha:]]`` -> explicit ranges; ``\\e`` -> ``\\x1b``; PCRE ``\\Q..\\E``.
- Inline flags in mid-pattern apply to the rest of the enclosing group; Python 3.11 only
  allows them at the start, so they become a scoped ``(?i:...)`` closed where the enclosing
  group closes. Onigmo reads ``a(?i)b|c`` as ``a(?i:b|c)``; PCRE as ``a(?i:b)|(?i:c)``.
  Ruby's ``m`` flag is Python's ``s`` (dot matches newline).

Ruby's ``^``/``$`` always match at line boundaries, so Recog patterns compile with
``re.MULTILINE``; ``\\d \\w \\s`` are ASCII-only in both dialects (``re.ASCII``).
What Python cannot express (``\\p{..}``, ``\\G``, recursion, ...) fails to compile; callers
count and skip those patterns.
"""

from __future__ import annotations

import re
import warnings
from re import _constants as _sre_constants  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any, Literal

Dialect = Literal["ruby", "pcre"]

_POSIX = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "ascii": "\\x00-\\x7f",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "word": "a-zA-Z0-9_",
    "xdigit": "0-9a-fA-F",
}
_POSIX_RE = re.compile(r"\[:(\^?)([a-z]+):\]")
_FLAG_GROUP_RE = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])")
_NAMED_GROUP_RE = re.compile(r"\(\?(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')")

_ESCAPES: dict[Dialect, dict[str, tuple[str, str]]] = {
    # escape letter -> (outside a class, inside a class)
    "ruby": {
        "z": ("\\Z", "z"),
        "Z": ("(?=\\n?\\Z)", "Z"),
        "h": ("[0-9a-fA-F]", "0-9a-fA-F"),
        "H": ("[^0-9a-fA-F]", "H"),
        "e": ("\\x1b", "\\x1b"),
    },
    "pcre": {
        "z": ("\\Z", "z"),
        "Z": ("(?=\\n?\\Z)", "Z"),
        "h": ("[ \\t\\xa0]", " \\t\\xa0"),
        "H": ("[^ \\t\\xa0]", "H"),
        "e": ("\\x1b", "\\x1b"),
    },
}
_FLAG_LETTERS: dict[Dialect, dict[str, str]] = {
    "ruby": {"i": "i", "m": "s", "x": "x"},
    "pcre": {"i": "i", "m": "m", "s": "s", "x": "x"},
}


class _Scanner:
    """One pass over a pattern, writing the Python spelling to ``out``."""

    def __init__(self, pattern: str, dialect: Dialect) -> None:
        self.src = pattern
        self.dialect = dialect
        self.i = 0
        self.out: list[str] = []
        self.in_class = False
        self.class_start = 0
        # one entry per open group: the scoped-flag groups to close with it
        self.groups: list[list[str]] = [[]]
        # Onigmo: once a pattern names a group, its plain (...) groups capture nothing
        self.plain_groups_capture = dialect != "ruby" or not _NAMED_GROUP_RE.search(pattern)

    def run(self) -> str:
        while self.i < len(self.src):
            self.step()
        self.out.append(")" * len(self.groups[0]))
        return "".join(self.out)

    def step(self) -> None:
        c = self.src[self.i]
        if c == "\\":
            self.escape()
        elif self.in_class:
            self.class_char(c)
        elif c == "[":
            self.in_class, self.class_start = True, self.i
            self.emit(c)
        elif c == "(":
            self.open_group()
        elif c == ")":
            closes = self.groups.pop() if len(self.groups) > 1 else []
            self.emit(")" * len(closes) + ")")
        elif c == "|" and self.dialect == "pcre" and self.groups[-1]:
            # PCRE: an option set in one branch carries into the next, alternation stays
            scoped = self.groups[-1]
            self.emit(")" * len(scoped) + "|" + "".join(f"(?{f}:" for f in scoped))
        else:
            self.emit(c)

    def emit(self, text: str, advance: int = 1) -> None:
        self.out.append(text)
        self.i += advance

    def class_char(self, c: str) -> None:
        if c == "[":
            m = _POSIX_RE.match(self.src, self.i)
            if m and not m.group(1) and m.group(2) in _POSIX:
                self.emit(_POSIX[m.group(2)], m.end() - self.i)
                return
        if c == "]" and not self._class_opening_bracket():
            self.in_class = False
        self.emit(c)

    def _class_opening_bracket(self) -> bool:
        """A ``]`` right after ``[`` or ``[^`` is a literal in both dialects."""
        start = self.class_start + 1
        if self.src.startswith("^", start):
            start += 1
        return self.i == start

    def escape(self) -> None:
        nxt = self.src[self.i + 1 : self.i + 2]
        if not nxt:
            self.emit("\\")
            return
        table = _ESCAPES[self.dialect]
        if nxt in table:
            self.emit(table[nxt][1 if self.in_class else 0], 2)
        elif nxt == "k" and not self.in_class and self.src.startswith("<", self.i + 2):
            end = self.src.find(">", self.i + 3)
            if end < 0:
                self.emit("\\k", 2)
            else:
                self.emit(f"(?P={self.src[self.i + 3 : end]})", end + 1 - self.i)
        elif nxt == "Q" and self.dialect == "pcre":
            end = self.src.find("\\E", self.i + 2)
            end = len(self.src) if end < 0 else end
            self.emit(re.escape(self.src[self.i + 2 : end]), end + 2 - self.i)
        elif nxt == "E" and self.dialect == "pcre":
            self.emit("", 2)
        else:
            self.emit(self.src[self.i : self.i + 2], 2)

    def open_group(self) -> None:
        named = _NAMED_GROUP_RE.match(self.src, self.i)
        if named:
            self.groups.append([])
            self.emit(f"(?P<{named.group(1) or named.group(2)}>", named.end() - self.i)
            return
        flags = _FLAG_GROUP_RE.match(self.src, self.i)
        if flags and (flags.group(1) or flags.group(2)):
            self.flag_group(flags)
            return
        self.groups.append([])
        plain = not self.src.startswith("?", self.i + 1)
        self.emit("(" if self.plain_groups_capture or not plain else "(?:")

    def flag_group(self, m: re.Match[str]) -> None:
        letters = _FLAG_LETTERS[self.dialect]
        on = "".join(letters.get(f, f) for f in m.group(1))
        off = "".join(letters.get(f, f) for f in (m.group(2) or ""))
        spec = on + (f"-{off}" if off else "")
        if m.group(3) == ":":
            self.groups.append([])
        else:  # (?i) mid-pattern: scope it to the rest of the enclosing group
            self.groups[-1].append(spec)
        self.emit(f"(?{spec}:", m.end() - self.i)


def translate(pattern: str, dialect: Dialect) -> str:
    """The Python spelling of a Ruby (``"ruby"``) or PCRE (``"pcre"``) pattern."""
    return _Scanner(pattern, dialect).run()


def compile_pattern(pattern: str, dialect: Dialect, flags: int = 0) -> re.Pattern[str]:
    """Translate and compile; raises ``re.error`` (or ``ValueError``/``OverflowError``)."""
    base = re.ASCII | (re.MULTILINE if dialect == "ruby" else 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nested sets, '&&' (FutureWarning): same meaning
        try:
            return re.compile(translate(pattern, dialect), base | flags)
        except RecursionError as exc:
            raise re.error(f"pattern too deeply nested: {exc}") from None


COMPILE_ERRORS = (re.error, ValueError, OverflowError, IndexError)
"""What ``compile_pattern`` may raise for a pattern Python cannot take."""


def required_literal(pattern: re.Pattern[str], min_len: int = 3) -> str | None:
    """A lowercased substring every match of ``pattern`` must contain, or None.

    A cheap prefilter: ``lit in text.lower()`` is necessary for a match, whatever the case
    flags (lowercasing both sides only weakens the test). Found by walking the parsed
    pattern's required parts; branches, classes and optional parts end a literal run.
    """
    try:
        tree = _sre_parser.parse(pattern.pattern, pattern.flags)
        runs = _literal_runs(tree)
    except Exception:  # a private API: no prefilter rather than no match
        return None
    best = max(runs, key=len, default="")
    return best.lower() if len(best) >= min_len else None


def required_literals(pattern: re.Pattern[str], min_len: int = 3) -> tuple[str, ...] | None:
    """Lowercased substrings of which every match of ``pattern`` contains one, or None.

    ``required_literal`` when there is one; else, for a required alternation (``A|B`` at
    the top or in a required group) whose every branch has a literal run, one per branch:
    the prefilter of ``\\bHikvision\\b|\\bDS-2CD`` is "hikvision" or "ds-2cd".
    """
    single = required_literal(pattern, min_len)
    if single is not None:
        return (single,)
    try:
        tree = _sre_parser.parse(pattern.pattern, pattern.flags)
        choices = _branch_literals(list(tree), min_len)
    except Exception:  # a private API: no prefilter rather than no match
        return None
    return max(choices, key=lambda ls: min(map(len, ls)), default=None)


def _branch_literals(items: list[Any], min_len: int) -> list[tuple[str, ...]]:
    """For each required alternation among ``items``: one literal per branch, if all have."""
    c = _sre_constants
    out: list[tuple[str, ...]] = []
    for op, av in items:
        if op is c.SUBPATTERN:
            out.extend(_branch_literals(list(av[3]), min_len))
        elif op is c.BRANCH:
            best = [max(_literal_runs(alt), key=len, default="") for alt in av[1]]
            if best and all(len(b) >= min_len for b in best):
                out.append(tuple(b.lower() for b in best))
    return out


def _literal_runs(items: Any) -> list[str]:
    c = _sre_constants
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None))
    runs: list[str] = []
    cur: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            cur.append(chr(av))
            continue
        runs.append("".join(cur))
        cur = []
        if op is c.SUBPATTERN:
            runs.extend(_literal_runs(av[3]))
        elif op is getattr(c, "ATOMIC_GROUP", None):
            runs.extend(_literal_runs(av))
        elif op in repeats and av[0] >= 1:
            runs.extend(_literal_runs(av[2]))
    runs.append("".join(cur))
    return runs
