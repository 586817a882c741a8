"""Templates and the exporter state that holds them (RFC 3954 §5.2-5.3, RFC 7011 §3.4, §8).

A ``Template`` is the parsed field list of one (options) template; ``TemplateCache`` maps
(exporter address, source id / observation domain, template id) to the live template. A
template with the same key replaces the old one (RFC 3954 template refresh, RFC 7011 §8); an
IPFIX template record with field count 0 withdraws it, and template id 2 (3) with count 0
withdraws every (options) template of the domain (RFC 7011 §8.1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

from iotscope.errors import ParseError
from iotscope.flows._ies import ENTERPRISE_BIT, VARIABLE_LENGTH

__all__ = [
    "Field",
    "Template",
    "TemplateCache",
    "Withdrawal",
    "parse_ipfix_templates",
    "parse_v9_options_templates",
    "parse_v9_templates",
]

_HH = struct.Struct(">HH")
_HHH = struct.Struct(">HHH")


@dataclass(frozen=True, slots=True)
class Field:
    """One field specifier: IE id, length (65535 = variable), enterprise number (0 = IANA)."""

    ie: int
    length: int
    enterprise: int = 0


@dataclass(frozen=True, eq=False)
class Template:
    """A template's field list; ``scope_count`` > 0 marks an options template."""

    template_id: int
    fields: tuple[Field, ...]
    scope_count: int = 0

    def same_layout(self, other: Template) -> bool:
        return self.fields == other.fields and self.scope_count == other.scope_count

    @property
    def is_options(self) -> bool:
        return self.scope_count > 0

    @cached_property
    def record_length(self) -> int | None:
        """Bytes per record, or None when a field is variable-length (RFC 7011 §7)."""
        if any(f.length == VARIABLE_LENGTH for f in self.fields):
            return None
        return sum(f.length for f in self.fields)

    @cached_property
    def min_record_length(self) -> int:
        """The smallest a record can be: a variable-length field takes at least 1 byte."""
        return sum(1 if f.length == VARIABLE_LENGTH else f.length for f in self.fields)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """Withdraw ``template_id``; or all data (``all_of`` = 2) / options (3) templates."""

    template_id: int
    all_of: int = 0


TemplateKey = tuple[str, int, int]


class TemplateCache:
    """Live templates per (exporter, domain, template id): the decoders' exporter state."""

    def __init__(self) -> None:
        self._live: dict[TemplateKey, Template] = {}

    def __len__(self) -> int:
        return len(self._live)

    def get(self, exporter: str, domain: int, template_id: int) -> Template | None:
        return self._live.get((exporter, domain, template_id))

    def put(self, exporter: str, domain: int, template: Template) -> Template:
        """Store ``template``; a refresh identical to the live one keeps the live object (so
        its compiled plan and pending batch stay shared). Returns the live template."""
        key = (exporter, domain, template.template_id)
        live = self._live.get(key)
        if live is not None and live.same_layout(template):
            return live
        self._live[key] = template
        return template

    def withdraw(self, exporter: str, domain: int, w: Withdrawal) -> int:
        """Apply a withdrawal; return how many templates it removed."""
        if not w.all_of:
            return 1 if self._live.pop((exporter, domain, w.template_id), None) else 0
        options = w.all_of == 3
        gone = [
            k
            for k, t in self._live.items()
            if k[:2] == (exporter, domain) and t.is_options == options
        ]
        for key in gone:
            del self._live[key]
        return len(gone)


def _check_template(template: Template) -> Template:
    if template.template_id < 256:
        raise ParseError("template id below 256", template_id=template.template_id)
    if template.min_record_length == 0:
        raise ParseError("template with zero-length records", template_id=template.template_id)
    return template


def parse_v9_templates(body: bytes) -> list[Template]:
    """Template FlowSet (id 0) body, RFC 3954 §5.2. Trailing padding (< 4 bytes) is ignored."""
    out, off = [], 0
    while len(body) - off >= 4:
        tid, count = _HH.unpack_from(body, off)
        off += 4
        if tid == 0 and count == 0:
            break  # padding
        end = off + 4 * count
        if end > len(body):
            raise ParseError("v9 template runs past its flowset", template_id=tid)
        fields = tuple(Field(*_HH.unpack_from(body, o)) for o in range(off, end, 4))
        out.append(_check_template(Template(tid, fields)))
        off = end
    return out


def parse_v9_options_templates(body: bytes) -> list[Template]:
    """Options Template FlowSet (id 1) body, RFC 3954 §6.1: scope and option lengths in bytes."""
    out, off = [], 0
    while len(body) - off >= 6:
        tid, scope_len, option_len = _HHH.unpack_from(body, off)
        off += 6
        if tid == 0:
            break  # padding
        if scope_len % 4 or option_len % 4 or scope_len == 0:
            raise ParseError("bad v9 options template lengths", template_id=tid)
        end = off + scope_len + option_len
        if end > len(body):
            raise ParseError("v9 options template runs past its flowset", template_id=tid)
        fields = tuple(Field(*_HH.unpack_from(body, o)) for o in range(off, end, 4))
        out.append(_check_template(Template(tid, fields, scope_count=scope_len // 4)))
        off = end
    return out


def _ipfix_fields(body: bytes, off: int, count: int) -> tuple[tuple[Field, ...], int]:
    fields = []
    for _ in range(count):
        if off + 4 > len(body):
            raise ParseError("IPFIX field specifier runs past its set")
        ie, length = _HH.unpack_from(body, off)
        off += 4
        enterprise = 0
        if ie & ENTERPRISE_BIT:
            if off + 4 > len(body):
                raise ParseError("IPFIX enterprise number runs past its set")
            (enterprise,) = struct.unpack_from(">I", body, off)
            ie &= ~ENTERPRISE_BIT
            off += 4
        fields.append(Field(ie, length, enterprise))
    return tuple(fields), off


def parse_ipfix_templates(body: bytes, *, options: bool) -> list[Template | Withdrawal]:
    """Template Set (id 2) or Options Template Set (id 3) body, RFC 7011 §3.4.1-3.4.2, §8.1."""
    set_id, off = (3 if options else 2), 0
    out: list[Template | Withdrawal] = []
    header = 6 if options else 4
    while len(body) - off >= 4:
        tid, count = _HH.unpack_from(body, off)
        if tid == 0 and count == 0:
            break  # padding
        if count == 0:
            out.append(Withdrawal(tid, all_of=set_id if tid == set_id else 0))
            off += 4
            continue
        if len(body) - off < header:
            raise ParseError("IPFIX options template header runs past its set", template_id=tid)
        scope = _HHH.unpack_from(body, off)[2] if options else 0
        if options and not 0 < scope <= count:
            raise ParseError("bad IPFIX scope field count", template_id=tid, scope=scope)
        fields, off = _ipfix_fields(body, off + header, count)
        out.append(_check_template(Template(tid, fields, scope_count=scope)))
    return out
