"""The STIX 2.1 pattern subset a blocklist can act on (STIX 2.1 section 9), parsed by hand.

Patterns come from partners, so the parser is strict and bounded: anything outside the subset
is a :class:`PatternError` naming the position, never a crash and never a guess. The subset:

- comparisons ``ipv4-addr:value = 'A.B.C.D'`` (or ``ISSUBSET 'A.B.C.D/N'``), the same for
  ``ipv6-addr`` (parsed, so that it is counted rather than called an error),
  ``domain-name:value = 'name'``, ``network-traffic:dst_ref.value = ...`` (address or name),
  ``network-traffic:dst_ref.type = 'ipv4-addr'|'domain-name'``, ``network-traffic:dst_port = N``,
  ``network-traffic:protocols[*] = 'tcp'``;
- joined by AND and OR (AND binds tighter, parentheses group) inside ``[...]``, and
  observation expressions joined by AND and OR.

The meaning is flattened to a disjunction of :class:`Target` (address or name, optional port
and protocol): what a network can block. An AND of two different addresses means nothing that
can be blocked and is refused.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from iotscope.errors import ParseError

MAX_PATTERN = 4096
MAX_TERMS = 64
MAX_DEPTH = 32

TargetKind = Literal["ipv4", "ipv6", "domain"]


class PatternError(ParseError):
    """A pattern outside the supported subset; ``pos`` is the character offset."""


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """One thing to block: an IPv4 network (a /32 for one host) or a DNS name."""

    kind: TargetKind
    value: str
    port: int | None = None
    proto: str | None = None


# A conjunction under construction: field name -> value (address, name, port, proto, ref type).
_Conj = dict[str, object]
_Atom = Callable[[], list[_Conj]]
_Fail = Callable[..., "PatternError"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lb>\[) | (?P<rb>\]) | (?P<lp>\() | (?P<rp>\)) |
      (?P<str>'(?:[^'\\]|\\.)*') |
      (?P<int>-?\d+) |
      (?P<op>=|!=|<=|>=|<|>) |
      (?P<path>[a-z0-9-]+:[A-Za-z0-9_.\[\]*-]+) |
      (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)

_PATHS = {
    "ipv4-addr:value": "addr",
    "ipv6-addr:value": "addr6",
    "domain-name:value": "name",
    "network-traffic:dst_ref.value": "dst",
    "network-traffic:dst_ref.type": "dst_type",
    "network-traffic:dst_port": "port",
    "network-traffic:protocols[*]": "proto",
    "network-traffic:protocols[0]": "proto",
}
_DST_TYPES = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "domain": "domain-name"}
_EXPECTED = {"lb": "'['", "rb": "']'", "lp": "'('", "rp": "')'", "path": "an object path"}
_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out, pos, end = [], 0, len(text.rstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            raise PatternError(
                "unexpected character in pattern", pos=pos, near=text[pos : pos + 12]
            )
        out.append(_Tok(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over the tokens; each level returns a list of conjunctions (DNF)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def fail(self, message: str, tok: _Tok | None = None) -> PatternError:
        tok = tok or self.peek()
        pos = tok.pos if tok else len(self.text)
        return PatternError(message, pos=pos, near=self.text[pos : pos + 24])

    def take(self, kind: str) -> _Tok:
        tok = self.peek()
        if tok is None or tok.kind != kind:
            raise self.fail(f"expected {_EXPECTED.get(kind, kind)}")
        self.i += 1
        return tok

    def word(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() in words:
            self.i += 1
            return tok.text.upper()
        return None

    def parse(self) -> list[_Conj]:
        out = self.disjunction(self.observation)
        if self.peek() is not None:
            raise self.fail("unsupported pattern syntax (qualifiers, FOLLOWEDBY, ...)")
        return out

    def disjunction(self, atom: _Atom) -> list[_Conj]:
        terms = self.conjunction(atom)
        while self.word("OR"):
            terms = terms + self.conjunction(atom)
            if len(terms) > MAX_TERMS:
                raise self.fail("pattern too complex")
        return terms

    def conjunction(self, atom: _Atom) -> list[_Conj]:
        terms = atom()
        while self.word("AND"):
            at = self.peek()
            terms = _and(terms, atom(), functools.partial(self.fail, tok=at))
        return terms

    def nested(self, inner: _Atom, close: str) -> list[_Conj]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("pattern nested too deeply")
        out = self.disjunction(inner)
        self.take(close)
        self.depth -= 1
        return out

    def observation(self) -> list[_Conj]:
        tok = self.peek()
        if tok is not None and tok.kind == "lp":
            self.i += 1
            return self.nested(self.observation, "rp")
        self.take("lb")
        return self.nested(self.comparison, "rb")

    def comparison(self) -> list[_Conj]:
        tok = self.peek()
        if tok is not None and tok.kind == "lp":
            self.i += 1
            return self.nested(self.comparison, "rp")
        path = self.take("path")
        field = _PATHS.get(path.text)
        if field is None:
            raise self.fail("object path not supported for blocking", path)
        op = self.peek()
        if op is not None and op.kind == "word" and op.text.upper() == "ISSUBSET":
            self.i += 1
            if field not in ("addr", "addr6", "dst"):
                raise self.fail("ISSUBSET applies to addresses only", op)
        elif op is None or op.kind != "op" or op.text != "=":
            raise self.fail("only = and ISSUBSET are supported", op)
        else:
            self.i += 1
        value = self.peek()
        if value is None or value.kind not in ("str", "int"):
            raise self.fail("expected a literal")
        self.i += 1
        return [_constraint(field, value, self.fail)]


def _unquote(tok: _Tok) -> str:
    return re.sub(r"\\(.)", r"\1", tok.text[1:-1])


def _constraint(field: str, tok: _Tok, fail: _Fail) -> _Conj:
    """One comparison as a conjunction of one constraint, its literal checked and normalised."""
    if field == "port":
        port = int(tok.text) if tok.kind == "int" else -1
        if not 0 <= port <= 65535:
            raise fail("dst_port must be an integer 0-65535", tok)
        return {"port": port}
    if tok.kind != "str":
        raise fail("expected a string literal", tok)
    text = _unquote(tok)
    if field == "proto":
        if not re.fullmatch(r"[a-z0-9-]{1,16}", text.lower()):
            raise fail("bad protocol name", tok)
        return {"proto": text.lower()}
    if field == "dst_type":
        if text not in _DST_TYPES.values():
            raise fail("dst_ref.type must be ipv4-addr, ipv6-addr or domain-name", tok)
        return {"dst_type": text}
    if field in ("addr", "addr6", "dst"):
        try:
            net = ipaddress.ip_network(text, strict=True)
        except ValueError:
            if field != "dst":
                raise fail("not an IP address or network", tok) from None
        else:
            if (field == "addr" and net.version != 4) or (field == "addr6" and net.version != 6):
                raise fail("address family does not match the object type", tok)
            return {"target": (f"ipv{net.version}", str(net))}
    name = text.lower().rstrip(".")
    if not _NAME.match(name):
        raise fail("not a DNS name", tok)
    return {"target": ("domain", name)}


def _and(left: list[_Conj], right: list[_Conj], fail: _Fail) -> list[_Conj]:
    """The DNF of ``left AND right``: every pair merged; contradictory pairs are refused."""
    if len(left) * len(right) > MAX_TERMS:
        raise fail("pattern too complex")
    out = []
    for a in left:
        for b in right:
            merged = dict(a)
            for key, value in b.items():
                if key in merged and merged[key] != value:
                    raise fail(f"AND of two different {key} values cannot be blocked")
                merged[key] = value
            out.append(merged)
    return out


def _target(conj: _Conj, text: str) -> Target:
    target = conj.get("target")
    if not isinstance(target, tuple):
        raise PatternError("no address or name to block in this term", pattern=text[:80])
    kind: TargetKind = target[0]
    value = str(target[1])
    want = conj.get("dst_type")
    if want is not None and want != _DST_TYPES[kind]:
        raise PatternError("dst_ref.type disagrees with dst_ref.value", pattern=text[:80])
    port, proto = conj.get("port"), conj.get("proto")
    return Target(
        kind,
        value,
        port if isinstance(port, int) else None,
        proto if isinstance(proto, str) else None,
    )


def parse_pattern(text: str) -> tuple[Target, ...]:
    """The targets a STIX pattern names (sorted, without duplicates) or :class:`PatternError`."""
    if not isinstance(text, str) or len(text) > MAX_PATTERN:
        raise PatternError("pattern missing or longer than allowed", limit=MAX_PATTERN)
    return _parse(text)


_V4 = r"(?P<ip>(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3})"
_FAST = (
    re.compile(r"\[network-traffic:dst_ref\.type = 'ipv4-addr' AND network-traffic:dst_ref\.value"
               rf" = '{_V4}' AND network-traffic:dst_port = (?P<port>0|[1-9]\d{{0,4}})(?: AND "
               r"network-traffic:protocols\[\*\] = '(?P<proto>[a-z0-9-]{1,16})')?\]"),
    re.compile(rf"\[ipv4-addr:value = '{_V4}'\]"),
)  # fmt: skip


def _fast(text: str) -> tuple[Target, ...] | None:
    """The one-host shapes iotscope.share.stix (and most feeds) write, without the parser;
    anything else, or an out-of-range octet or port, goes to the parser (which says why)."""
    for rx in _FAST:
        m = rx.fullmatch(text)
        if m is None:
            continue
        g = m.groupdict()
        ip, port, proto = g["ip"], g.get("port"), g.get("proto")
        if any(int(o) > 255 for o in ip.split(".")) or (port is not None and int(port) > 65535):
            return None
        return (Target("ipv4", f"{ip}/32", int(port) if port else None, proto),)
    return None


@functools.lru_cache(maxsize=1 << 17)
def _parse(text: str) -> tuple[Target, ...]:
    # A feed is re-read every reload with mostly the same patterns: parse each once.
    # (An error is not cached: lru_cache caches only returned values.)
    return _fast(text) or parse_general(text)


def parse_general(text: str) -> tuple[Target, ...]:
    """The full subset parser (``parse_pattern`` tries the common shapes first)."""
    terms = _Parser(text).parse()
    return tuple(sorted({_target(c, text) for c in terms}))
