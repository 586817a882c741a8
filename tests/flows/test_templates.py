"""Template parsing and the template cache (RFC 3954 §5.2/§6.1, RFC 7011 §3.4, §8)."""

from __future__ import annotations

import struct

import pytest

from iotscope.errors import ParseError
from iotscope.flows._templates import (
    Field,
    Template,
    TemplateCache,
    Withdrawal,
    parse_ipfix_templates,
    parse_v9_options_templates,
    parse_v9_templates,
)


def test_v9_templates_with_padding() -> None:
    body = struct.pack(">HHHHHH", 256, 2, 8, 4, 12, 4) + b"\0\0"
    (t,) = parse_v9_templates(body)
    assert (t.template_id, t.fields, t.record_length) == (256, (Field(8, 4), Field(12, 4)), 8)


def test_v9_options_template_scope_in_bytes() -> None:
    body = struct.pack(">HHHHHHH", 257, 4, 4, 1, 4, 34, 4) + b"\0\0"
    (t,) = parse_v9_options_templates(body)
    assert t.is_options and t.scope_count == 1 and t.fields[1] == Field(34, 4)
    with pytest.raises(ParseError):
        parse_v9_options_templates(struct.pack(">HHH", 257, 3, 4) + b"\0" * 8)


def test_ipfix_enterprise_variable_and_withdrawals() -> None:
    body = struct.pack(">HHHHHHI", 300, 2, 8, 4, 0x8000 | 5, 65535, 9)
    body += struct.pack(">HH", 301, 0) + struct.pack(">HH", 2, 0)
    template, one, everything = parse_ipfix_templates(body, options=False)
    assert isinstance(template, Template)
    assert template.fields == (Field(8, 4), Field(5, 65535, 9))
    assert template.record_length is None and template.min_record_length == 5
    assert one == Withdrawal(301) and everything == Withdrawal(2, all_of=2)


def test_cache_is_keyed_by_exporter_and_domain() -> None:
    cache = TemplateCache()
    t = Template(256, (Field(8, 4),))
    cache.put("192.0.2.1", 1, t)
    assert cache.get("192.0.2.1", 1, 256) is t
    assert cache.get("192.0.2.1", 2, 256) is None and cache.get("192.0.2.2", 1, 256) is None
    assert cache.withdraw("192.0.2.1", 1, Withdrawal(256)) == 1 and len(cache) == 0
