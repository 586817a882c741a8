"""Recog's XML fingerprint databases, read exactly as Recog's Ruby library reads them.

The format (rapid7/recog ``xml/*.xml``, ``lib/recog/db.rb`` and ``fingerprint.rb``):
``<fingerprints matches=".." protocol=".." database_type=".." preference="..">`` holds
``<fingerprint pattern="REGEX" flags="REG_ICASE,...">`` elements, each with a
``<description>``, ``<example>`` elements and ``<param pos="N" name=".." value=".."/>``.

Matching semantics kept here (``Fingerprint.match``):

- the pattern is a Ruby regex (see ``_regex``), searched unanchored; ``flags`` is a comma list
  of REG_ICASE (ignore case) and REG_DOT_NEWLINE / REG_LINE_ANY_CRLF / REG_MULTILINE (all
  Ruby's ``m``: dot matches newline); any other flag makes the fingerprint invalid;
- ``pos="0"`` params are fixed values, ``pos="N"`` take capture group N (a group that did not
  take part gives nil: present in Recog's result, left out of ``params``); a later param of
  the same name replaces an earlier one's value;
- fixed values interpolate ``{other.param}`` after all params are set; a missing value inside
  a ``*.cpe23`` param whose placeholder names a ``*.version`` becomes ``-`` (CPE's "not
  applicable"); any other missing value leaves that param unset (Recog raises there);
- ``service.protocol`` is the database's ``protocol`` unless the fingerprint sets it; Recog
  also adds ``matched`` (the description) and ``fingerprint_db`` (the ``matches`` key).

The first fingerprint of a database that matches wins, even one that asserts nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from iotscope.errors import ConfigError
from iotscope.fingerprint._regex import COMPILE_ERRORS, compile_pattern, required_literals

FLAG_MAP = {
    "REG_DOT_NEWLINE": re.DOTALL,
    "REG_LINE_ANY_CRLF": re.DOTALL,
    "REG_MULTILINE": re.DOTALL,
    "REG_ICASE": re.IGNORECASE,
}
_PLACEHOLDER = re.compile(r"\{([^\s{}]+)\}")
_LEADING_INT = re.compile(r"\s*([+-]?\d+)")

RecogResult = dict[str, str | None]


@dataclass(frozen=True)
class Param:
    name: str
    pos: int
    value: str


@dataclass(frozen=True)
class Example:
    """An ``<example>``: its text (None when it names a ``_filename``) and its attributes."""

    text: str | None
    attrs: dict[str, str]

    @property
    def expected(self) -> dict[str, str]:
        return {k: v for k, v in self.attrs.items() if k not in ("_encoding", "_filename")}


@dataclass
class Fingerprint:
    """One ``<fingerprint>``; ``regex`` is None when the pattern or flags are invalid."""

    description: str
    pattern: str
    params: tuple[Param, ...]
    examples: tuple[Example, ...]
    regex: re.Pattern[str] | None
    protocol: str
    match_key: str
    literal: tuple[str, ...] | None = None  # prefilter: a match contains one of these

    @property
    def label(self) -> str:
        return self.description or self.pattern

    def apply(self, text: str) -> dict[str, str] | None:
        """The params this fingerprint asserts for ``text``, or None when it does not match."""
        result = self.match(text)
        return None if result is None else recog_params(result)

    def match(self, text: str) -> RecogResult | None:
        """Recog's result hash for ``text``, or None when the pattern does not match."""
        if self.regex is None:
            return None
        m = self.regex.search(text)
        if m is None:
            return None
        result: RecogResult = {"matched": self.description}
        ngroups = self.regex.groups
        for p in self.params:
            if p.pos == 0:
                result[p.name] = p.value
            else:  # Ruby's match_data[pos]: nil when out of range or not taking part
                result[p.name] = m.group(p.pos) if 0 < p.pos <= ngroups else None
        if result.get("service.protocol") is None:
            result["service.protocol"] = self.protocol
        result["fingerprint_db"] = self.match_key
        _interpolate(result, self.params)
        return result


def _interpolate(result: RecogResult, params: tuple[Param, ...]) -> None:
    for p in params:
        if p.pos != 0:
            continue
        for ref in _PLACEHOLDER.findall(p.value):
            current = result.get(p.name)
            if current is None:
                break
            value = result.get(ref)
            if value is None and p.name.endswith(".cpe23") and ref.endswith(".version"):
                value = "-"
            result[p.name] = None if value is None else current.replace("{" + ref + "}", value)


@dataclass
class RecogDatabase:
    """One Recog XML file: its fingerprints in file order and the ones that failed to load."""

    source: str
    match_key: str
    protocol: str
    database_type: str
    preference: float
    fingerprints: list[Fingerprint]
    errors: list[ConfigError] = field(default_factory=list)
    example_dirs: tuple[Path, ...] = ()


def load_recog(path: Path) -> RecogDatabase:
    """Read a Recog XML file; raises ConfigError when it is unreadable or not Recog XML."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            "cannot read fingerprint database", file=str(path), reason=str(exc)
        ) from None
    # Recog looks for `_filename` examples in <file without .xml>/; we also allow its folder.
    dirs = (path.with_suffix(""), path.parent)
    return parse_recog(data, str(path), default_key=path.stem, example_dirs=dirs)


def parse_recog(
    data: bytes, source: str, default_key: str = "", example_dirs: tuple[Path, ...] = ()
) -> RecogDatabase:
    """Parse Recog XML bytes. Bad regexes are kept out and listed in ``errors``.

    Raises ConfigError (only) when the bytes are not XML or the root is not ``<fingerprints>``.
    """
    root = _parse_xml(data, source)
    key = root.get("matches") or default_key
    protocol = (root.get("protocol") or "").lower()
    db = RecogDatabase(
        source=source,
        match_key=key,
        protocol=protocol,
        database_type=root.get("database_type") or "",
        preference=_float(root.get("preference"), 0.10),
        fingerprints=[],
        example_dirs=example_dirs,
    )
    for index, elem in enumerate(root.findall("fingerprint"), start=1):
        fp, error = _fingerprint(elem, key, protocol, source, index)
        db.fingerprints.append(fp)
        if error is not None:
            db.errors.append(error)
    return db


def _parse_xml(data: bytes, source: str) -> ET.Element:
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, ValueError, UnicodeError, RecursionError) as exc:
        raise ConfigError("invalid XML", file=source, reason=str(exc)) from None
    if root.tag != "fingerprints":
        raise ConfigError("not a Recog database (root is not <fingerprints>)", file=source)
    return root


def _fingerprint(
    elem: ET.Element, key: str, protocol: str, source: str, index: int
) -> tuple[Fingerprint, ConfigError | None]:
    desc_elem = elem.find("description")
    description = " ".join("".join(desc_elem.itertext()).split()) if desc_elem is not None else ""
    pattern = elem.get("pattern") or ""
    regex, error = _compile(pattern, elem.get("flags") or "")
    fp = Fingerprint(
        description=description,
        pattern=pattern,
        params=_params(elem),
        examples=tuple(_example(e) for e in elem.findall("example")),
        regex=regex,
        protocol=protocol,
        match_key=key,
        literal=required_literals(regex) if regex is not None else None,
    )
    if error is None:
        return fp, None
    return fp, ConfigError(
        "bad fingerprint regex", file=source, fingerprint=f"#{index} {fp.label}", reason=error
    )


def _compile(pattern: str, flags: str) -> tuple[re.Pattern[str] | None, str | None]:
    names = flags.split(",") if flags else []
    unknown = [f for f in names if f not in FLAG_MAP]
    if unknown:
        return None, f"unsupported flags {','.join(unknown)}; must be one of {','.join(FLAG_MAP)}"
    bits = 0
    for name in names:
        bits |= FLAG_MAP[name]
    try:
        return compile_pattern(pattern, "ruby", bits), None
    except COMPILE_ERRORS as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _params(elem: ET.Element) -> tuple[Param, ...]:
    by_name: dict[str, Param] = {}
    for p in elem.findall("param"):
        name = p.get("name") or ""
        by_name[name] = Param(name, _ruby_to_i(p.get("pos")), p.get("value") or "")
    return tuple(by_name.values())


def _example(elem: ET.Element) -> Example:
    attrs = dict(elem.attrib)
    if "_filename" in attrs:
        return Example(None, attrs)
    text = "".join(elem.itertext())
    if attrs.get("_encoding") == "base64":
        text = bytes_to_text(decode_base64(text))
    return Example(text, attrs)


def decode_base64(text: str) -> bytes:
    """Lenient base64, as Ruby's ``unpack('m*')``: non-alphabet characters are ignored."""
    clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
    clean = clean[: len(clean) - len(clean) % 4 if len(clean) % 4 == 1 else len(clean)]
    try:
        return base64.b64decode(clean + "=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        return b""


def bytes_to_text(data: bytes) -> str:
    """Banner bytes as text: UTF-8 when valid, else Latin-1 (one character per byte)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _ruby_to_i(text: str | None) -> int:
    m = _LEADING_INT.match(text or "")
    return int(m.group(1)) if m else 0


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text else default
    except ValueError:
        return default


def recog_params(result: RecogResult) -> dict[str, str]:
    """The params a match reports: Recog's result without its bookkeeping keys and nils."""
    return {
        k: v
        for k, v in result.items()
        if v is not None
        and k not in ("matched", "fingerprint_db")
        and not (k == "service.protocol" and v == "")
    }
