"""nmap's service probe database (nmap-service-probes(5)) as iotscope rules.

Only the ``Probe`` names and the ``match`` / ``softmatch`` lines matter here (the probes
themselves are the survey's business). A line reads::

    match <service> m<d><pcre><d>[i][s] [p/product/] [v/version/] [i/info/] [h/host/]
          [o/os/] [d/devicetype/] [cpe:/<cpe 2.2 uri>/[a]]...

with any delimiter ``<d>`` (the first next occurrence ends the field: nmap allows no
escape). Templates take ``$1``..``$9``, ``$P(n)`` (printable characters only),
``$SUBST(n,"from","to")`` and ``$I(n,">")`` / ``$I(n,"<")`` (an unsigned integer, big or
little endian). Patterns run on the raw banner (Latin-1 text: one character per byte).

Params, in Recog's names: p -> service.product, v -> service.version, i -> service.info,
h -> host.name, o -> os.family, d -> hw.device; ``cpe:/a`` -> service.cpe23 (and
service.vendor), ``cpe:/o`` -> os.cpe23 (and os.vendor), ``cpe:/h`` -> hw.cpe23 (and
hw.vendor, hw.product), each converted to a CPE 2.3 formatted string. Within a service, hard
``match`` lines are tried before ``softmatch`` lines, each in file order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from iotscope.errors import ConfigError
from iotscope.fingerprint._identity import cpe22_to_23
from iotscope.fingerprint._regex import COMPILE_ERRORS, compile_pattern, required_literals

FIELD_PARAMS = {
    "p": "service.product",
    "v": "service.version",
    "i": "service.info",
    "h": "host.name",
    "o": "os.family",
    "d": "hw.device",
}
_CPE_PARTS = {"a": "service", "o": "os", "h": "hw"}
_TEMPLATE = re.compile(
    r"\$(?:(\d)|P\((\d)\)|SUBST\((\d),\"([^\"]*)\",\"([^\"]*)\"\)|I\((\d),\"([<>])\"\))"
)
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True)
class MatchLine:
    """One parsed ``match``/``softmatch`` line, before its regex is compiled."""

    service: str
    pattern: str
    flags: str
    fields: tuple[tuple[str, str], ...]  # (field letter or "cpe", template), in line order
    soft: bool


@dataclass
class NmapRule:
    """A compiled match line: ``apply`` gives its params for a banner, or None."""

    line: MatchLine
    regex: re.Pattern[str]
    probe: str
    lineno: int
    literal: tuple[str, ...] | None = None  # prefilter: a match contains one of these

    @property
    def label(self) -> str:
        kind = "softmatch" if self.line.soft else "match"
        product = dict(self.line.fields).get("p")
        name = f" p/{product}/" if product else ""
        return f"{kind} {self.line.service}{name} (probe {self.probe}, line {self.lineno})"

    def apply(self, text: str) -> dict[str, str] | None:
        m = self.regex.search(text)
        if m is None:
            return None
        params: dict[str, str] = {}
        for name, template in self.line.fields:
            value = substitute(template, m)
            if not value:
                continue
            if name == "cpe":
                _cpe_params(params, value)
            elif FIELD_PARAMS[name] not in params:
                params[FIELD_PARAMS[name]] = value
        params.setdefault("service.protocol", self.line.service)
        return params


def _cpe_params(params: dict[str, str], uri: str) -> None:
    cpe23 = cpe22_to_23(uri)
    if cpe23 is None:
        return
    part = uri[5:6].lower()
    prefix = _CPE_PARTS[part]
    params.setdefault(f"{prefix}.cpe23", cpe23)
    comps = uri[7:].split(":")
    if comps[0]:
        params.setdefault(f"{prefix}.vendor", unquote(comps[0]))
    if prefix == "hw" and len(comps) > 1 and comps[1]:
        params.setdefault("hw.product", unquote(comps[1]))


def substitute(template: str, m: re.Match[str]) -> str:
    """Expand nmap's ``$1``, ``$P(n)``, ``$SUBST(n,"a","b")`` and ``$I(n,"<")`` in ``template``."""

    def group(n: str) -> str:
        i = int(n)
        return (m.group(i) or "") if 0 < i <= (m.re.groups) else ""

    def one(t: re.Match[str]) -> str:
        plain, printable, subst, old, new, integer, order = t.groups()
        if plain:
            return group(plain)
        if printable:
            return _PRINTABLE.sub("", group(printable))
        if subst:
            return group(subst).replace(old, new)
        raw = group(integer).encode("latin-1", "replace")[:8]
        return str(int.from_bytes(raw, "big" if order == ">" else "little")) if raw else ""

    return _TEMPLATE.sub(one, template)


def parse_match_line(line: str) -> MatchLine:
    """Parse a ``match`` or ``softmatch`` line; raises ConfigError (only) when malformed."""
    directive, _, rest = line.strip().partition(" ")
    if directive not in ("match", "softmatch"):
        raise ConfigError("not a match line", line=line[:80])
    service, _, rest = rest.strip().partition(" ")
    rest = rest.lstrip()
    if not service or len(rest) < 2 or rest[0] != "m":
        raise ConfigError("match line needs a service and m<delim>regex<delim>", line=line[:80])
    delim = rest[1]
    end = rest.find(delim, 2)
    if end < 0:
        raise ConfigError("unterminated regex", line=line[:80])
    pattern, pos = rest[2:end], end + 1
    flag_end = pos
    while flag_end < len(rest) and not rest[flag_end].isspace():
        flag_end += 1
    flags = rest[pos:flag_end]
    if set(flags) - {"i", "s"}:
        raise ConfigError("unknown regex flags (nmap knows i and s)", line=line[:80])
    fields = _parse_fields(rest, flag_end, line)
    return MatchLine(service, pattern, flags, fields, directive == "softmatch")


def _parse_fields(rest: str, pos: int, line: str) -> tuple[tuple[str, str], ...]:
    fields: list[tuple[str, str]] = []
    while True:
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
        if pos >= len(rest):
            return tuple(fields)
        if rest.startswith("cpe:", pos):
            name, pos = "cpe", pos + 4
        elif rest[pos] in FIELD_PARAMS:
            name, pos = rest[pos], pos + 1
        else:
            raise ConfigError("unknown version field", line=line[:80], at=rest[pos : pos + 10])
        if pos >= len(rest):
            raise ConfigError("version field without a value", line=line[:80])
        end = rest.find(rest[pos], pos + 1)
        if end < 0:
            raise ConfigError("unterminated version field", line=line[:80])
        value, pos = rest[pos + 1 : end], end + 1
        if name == "cpe":
            value = "cpe:/" + value
            pos += 1 if rest.startswith("a", pos) else 0
        fields.append((name, value))


def compile_match(line: MatchLine) -> re.Pattern[str]:
    """Compile a match line's PCRE pattern; raises the errors in ``COMPILE_ERRORS``."""
    flags = (re.IGNORECASE if "i" in line.flags else 0) | (re.DOTALL if "s" in line.flags else 0)
    return compile_pattern(line.pattern, "pcre", flags)


@dataclass
class NmapProbes:
    """The match lines of one nmap-service-probes file, compiled, and what was skipped."""

    source: str
    rules: list[NmapRule] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)

    def by_service(self) -> dict[str, list[NmapRule]]:
        """Rules per nmap service name: hard matches first, then soft, each in file order."""
        out: dict[str, list[NmapRule]] = {}
        for soft in (False, True):
            for rule in self.rules:
                if rule.line.soft is soft:
                    out.setdefault(rule.line.service, []).append(rule)
        return out


@dataclass(frozen=True)
class PendingLine:
    """A parsed match line whose regex is not compiled yet (compiling is the costly part)."""

    line: MatchLine
    probe: str
    lineno: int


@dataclass
class NmapLines:
    """The match lines of one nmap-service-probes file, parsed but not compiled."""

    source: str
    lines: list[PendingLine] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)

    def by_service(self) -> dict[str, list[PendingLine]]:
        """Lines per nmap service name: hard matches first, then soft, each in file order."""
        out: dict[str, list[PendingLine]] = {}
        for soft in (False, True):
            for pending in self.lines:
                if pending.line.soft is soft:
                    out.setdefault(pending.line.service, []).append(pending)
        return out


def parse_nmap_lines(text: str, source: str) -> NmapLines:
    """Every match line of ``text``, parsed (not compiled); malformed lines are counted."""
    parsed = NmapLines(source)
    probe = "NULL"
    for lineno, raw in enumerate(text.split("\n"), start=1):
        raw = raw.removesuffix("\r")
        if raw.startswith("Probe "):
            parts = raw.split()
            probe = parts[2] if len(parts) > 2 else probe
        elif raw.startswith(("match ", "softmatch ")):
            try:
                parsed.lines.append(PendingLine(parse_match_line(raw), probe, lineno))
            except ConfigError as exc:
                parsed.errors.append(ConfigError(exc.message, file=source, line=lineno))
    return parsed


def compile_lines(
    lines: list[PendingLine], source: str
) -> tuple[list[NmapRule], list[ConfigError]]:
    """Compile parsed lines, in order; a regex Python cannot compile is left out and counted."""
    rules: list[NmapRule] = []
    errors: list[ConfigError] = []
    for pending in lines:
        try:
            regex = compile_match(pending.line)
        except COMPILE_ERRORS as exc:
            errors.append(ConfigError("regex Python cannot compile", file=source,
                                      line=pending.lineno, reason=str(exc)))  # fmt: skip
            continue
        rules.append(NmapRule(pending.line, regex, pending.probe, pending.lineno,
                              required_literals(regex)))  # fmt: skip
    return rules, errors


def parse_nmap_probes(text: str, source: str) -> NmapProbes:
    """Every match line of ``text``, compiled; malformed lines and bad regexes are counted."""
    parsed = parse_nmap_lines(text, source)
    rules, errors = compile_lines(parsed.lines, source)
    return NmapProbes(source, rules, parsed.errors + errors)


def looks_like_nmap(data: bytes) -> bool:
    """True when ``data`` reads as nmap-service-probes rather than XML."""
    head = data.lstrip()
    if head.startswith(b"<"):
        return False
    return any(line.startswith((b"Probe ", b"match ", b"softmatch ")) for line in head.splitlines())
