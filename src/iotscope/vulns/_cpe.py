"""CPE 2.3 formatted strings (NISTIR 7695 s6.2) and name matching (NISTIR 7696 s6-7).

A formatted string is ``cpe:2.3:`` and eleven attributes separated by unescaped colons: part,
vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other.
An attribute is ``*`` (ANY), ``-`` (NA) or a value. In a value, ``\\`` quotes the next
character (``\\:`` ``\\.`` ``\\/`` ...); unquoted, only letters, digits, ``_``, ``-`` and ``.``
may appear, plus the wildcards ``*`` (any run) and ``?`` (one character) at either end
(NISTIR 7695 s5.3.2: ``*`` at most once at each end, ``?`` in runs at either end; a run of
n ``?`` matches up to n characters, as NISTIR 7696's reference ``compare_strings`` does).

Values are kept unquoted and lower-cased (CPE comparisons ignore case, NISTIR 7696 s6.1.3.1)
with the wildcards at each end held apart, so a match is a string compare or, for a value
with wildcards, one precompiled regular expression.

``lenient=True`` reads CPEs that iotscope's own fingerprints build from banners (a version such
as ``V5.2.0 build 140721`` or ``V1.02(VH.0)T1`` put in unquoted): any character but an
unquoted colon is taken literally and nothing is a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

from iotscope.errors import ParseError

ATTRIBUTES = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
PARTS = frozenset({"a", "o", "h"})
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_MAX_LEN = 2048


class CpeError(ParseError):
    """A string that is not a CPE 2.3 formatted string."""


@dataclass(frozen=True, slots=True)
class Value:
    """One attribute: ANY, NA, or a literal with optional wildcards before and after it.

    ``head``/``tail``: ``""`` or a wildcard run (``*`` or ``?...``); ``text``: the unquoted,
    lower-cased literal between them.
    """

    kind: str  # "any" | "na" | "value"
    text: str = ""
    head: str = ""
    tail: str = ""
    wild: bool = field(init=False, compare=False)  # a wildcard at either end

    def __post_init__(self) -> None:
        object.__setattr__(self, "wild", bool(self.head or self.tail))

    def to_fs(self) -> str:
        if self.kind == "any":
            return "*"
        if self.kind == "na":
            return "-"
        quoted = "".join(c if c in _PLAIN else "\\" + c for c in self.text)
        if quoted == "-" and not self.wild:
            quoted = "\\-"  # a literal "-" is not NA
        return self.head + quoted + self.tail


ANY = Value("any")
NA = Value("na")


@dataclass(frozen=True, slots=True)
class Cpe:
    """A parsed CPE 2.3 name or match pattern (a WFN: NISTIR 7695 s5)."""

    values: tuple[Value, ...]  # eleven, in ATTRIBUTES order

    @property
    def part(self) -> str:
        return self.values[0].text

    @property
    def vendor(self) -> Value:
        return self.values[1]

    @property
    def product(self) -> Value:
        return self.values[2]

    @property
    def version(self) -> Value:
        return self.values[3]

    def to_fs(self) -> str:
        """The canonical formatted string (round-trips through :func:`parse_cpe`)."""
        return "cpe:2.3:" + ":".join(v.to_fs() for v in self.values)

    def with_version(self, version: Value) -> Cpe:
        return Cpe((*self.values[:3], version, *self.values[4:]))


def _split(body: str, where: str) -> list[str]:
    """Split on unescaped colons, keeping escapes in place."""
    parts, cur, i = [], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body):
                raise CpeError("CPE ends in a lone backslash", cpe=where)
            cur.append(body[i : i + 2])
            i += 2
            continue
        if c == ":":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _tokens(raw: str, lenient: bool, where: str) -> list[tuple[str, bool]]:
    """(character, is_wildcard) pairs; escapes resolved, unquoted specials checked."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            out.append((raw[i + 1], False))  # _split guarantees a following character
            i += 2
            continue
        if not c.isprintable() or (c.isspace() and not lenient):
            raise CpeError("CPE holds a space or control character", cpe=where)
        if not lenient and c in "*?":
            out.append((c, True))
        elif not lenient and c not in _PLAIN:
            raise CpeError("CPE character must be quoted", cpe=where, char=c)
        else:
            out.append((c, False))
        i += 1
    return out


def _run(tokens: list[tuple[str, bool]], where: str) -> str:
    run = "".join(c for c, _ in tokens)
    if run and run != "*" and set(run) != {"?"}:
        raise CpeError("CPE wildcards: one * or a run of ? at either end", cpe=where)
    return run


_PLAIN_RUN = re.compile(r"[A-Za-z0-9_.\-]+")


@lru_cache(maxsize=16384)
def _plain(raw: str) -> Value | None:
    """The common case, a value of plain characters only (no quoting, no wildcard)."""
    if raw == "*":
        return ANY
    if raw == "-":
        return NA
    return Value("value", raw.lower()) if _PLAIN_RUN.fullmatch(raw) else None


def _value(raw: str, lenient: bool, where: str) -> Value:
    fast = _plain(raw)
    if fast is not None:
        return fast
    tokens = _tokens(raw, lenient, where)
    if not tokens:
        raise CpeError("empty CPE attribute", cpe=where)
    lo = next((i for i, (_, w) in enumerate(tokens) if not w), len(tokens))
    hi = next((i for i in range(len(tokens), lo, -1) if not tokens[i - 1][1]), lo)
    if any(w for _, w in tokens[lo:hi]):
        raise CpeError("CPE wildcard inside a value", cpe=where)
    head, tail = _run(tokens[:lo], where), _run(tokens[hi:], where)
    text = "".join(c for c, _ in tokens[lo:hi]).lower()
    return Value("value", text, head, tail)


@lru_cache(maxsize=65536)
def parse_cpe(text: str, lenient: bool = False) -> Cpe:
    """Parse a CPE 2.3 formatted string; :class:`CpeError` says why it is not one."""
    if not isinstance(text, str) or len(text) > _MAX_LEN:
        raise CpeError("not a CPE 2.3 string", cpe=str(text)[:80])
    if not text.lower().startswith("cpe:2.3:"):
        raise CpeError("not a CPE 2.3 string (must start cpe:2.3:)", cpe=text[:80])
    body = text[8:]
    fields = body.split(":") if "\\" not in body else _split(body, text[:80])
    if len(fields) != 11:
        raise CpeError("a CPE 2.3 string has 11 attributes", cpe=text[:80], found=len(fields))
    values = tuple(_value(f, lenient, text[:80]) for f in fields)
    part = values[0]
    if part.kind == "value" and (part.wild or part.text not in PARTS):
        raise CpeError("CPE part must be a, o or h", cpe=text[:80])
    return Cpe(values)


# -- NISTIR 7696 s6.1: attribute comparison ---------------------------------------------------


class Rel(IntEnum):
    DISJOINT = 0
    SUBSET = 1
    SUPERSET = 2
    EQUAL = 3
    UNDEFINED = 4


@lru_cache(maxsize=4096)
def _pattern(head: str, text: str, tail: str) -> re.Pattern[str]:
    # NISTIR 7696 s6.3 compare_strings: a run of n leading (trailing) "?" lets the literal
    # start (end) up to n characters in, as the reference algorithm reads it
    def run(w: str) -> str:
        return ".*" if w == "*" else f".{{0,{len(w)}}}" if w else ""

    return re.compile(run(head) + re.escape(text) + run(tail), re.DOTALL)


def compare(source: Value, target: Value) -> Rel:
    """The relation of ``source`` (a criterion) to ``target`` (a name), Table 6-2.

    A target holding unquoted wildcards is a pattern, not a name: UNDEFINED (rows 4, 8, 12
    and 16), whatever the source."""
    if target.wild:
        return Rel.UNDEFINED
    if source.kind == "any":
        return Rel.EQUAL if target.kind == "any" else Rel.SUPERSET
    if target.kind == "any":
        return Rel.SUBSET
    if source.kind == "na":
        return Rel.EQUAL if target.kind == "na" else Rel.DISJOINT
    if target.kind == "na":
        return Rel.DISJOINT
    if source.wild:
        hit = _pattern(source.head, source.text, source.tail).fullmatch(target.text)
        return Rel.SUPERSET if hit else Rel.DISJOINT
    return Rel.EQUAL if source.text == target.text else Rel.DISJOINT


def name_match(source: Cpe, target: Cpe, skip_version: bool = False) -> bool:
    """CPE_NAME_MATCH (NISTIR 7696 s6.2): every attribute SUPERSET or EQUAL.

    ``skip_version``: the caller compares the version by an NVD range instead."""
    sv, tv = source.values, target.values
    for i in range(11):
        s, t = sv[i], tv[i]
        if s is t and not t.wild:  # the same parsed value (ANY, NA and cached literals)
            continue
        if skip_version and i == 3:
            continue
        rel = compare(s, t)
        if rel is not Rel.SUPERSET and rel is not Rel.EQUAL:
            return False
    return True
