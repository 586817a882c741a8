from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.block import PatternError, Target, parse_pattern

V4 = "ipv4"


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [Target(V4, "198.51.100.7/32")]),
        ("[ipv4-addr:value='198.51.100.7']", [Target(V4, "198.51.100.7/32")]),
        (
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
            "'198.51.100.7' AND network-traffic:dst_port = 23]",
            [Target(V4, "198.51.100.7/32", 23)],
        ),
        (
            "[ipv4-addr:value = '198.51.100.7'] AND [network-traffic:dst_port = 2323 AND "
            "network-traffic:protocols[*] = 'TCP']",
            [Target(V4, "198.51.100.7/32", 2323, "tcp")],
        ),
        (
            "[domain-name:value = 'C2.Example.com.'] OR "
            "[ipv4-addr:value ISSUBSET '203.0.113.0/28']",
            [Target("domain", "c2.example.com"), Target(V4, "203.0.113.0/28")],
        ),
        (
            "([ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2'] AND "
            "[network-traffic:dst_port = 80])",
            [Target(V4, "192.0.2.1/32", 80), Target(V4, "192.0.2.2/32", 80)],
        ),
        (
            "[network-traffic:dst_ref.value = 'bad.example.net']",
            [Target("domain", "bad.example.net")],
        ),
        (
            "[ipv4-addr:value = '192.0.2.1'] OR [ipv4-addr:value = '192.0.2.1']",
            [Target(V4, "192.0.2.1/32")],
        ),
    ],
)
def test_subset_is_understood(pattern: str, want: list[Target]) -> None:
    assert list(parse_pattern(pattern)) == want


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", "object path not supported"),
        ("[ipv4-addr:value = '192.0.2.1'] WITHIN 5 SECONDS", "unsupported pattern syntax"),
        (
            "[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.2']",
            "unsupported pattern syntax",
        ),
        ("[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.2']", "two different"),
        ("[ipv4-addr:value = '192.0.2.999']", "not an IP address"),
        ("[ipv4-addr:value = '192.0.2.1/24']", "not an IP address"),  # host bits set
        ("[ipv4-addr:value != '192.0.2.1']", "only = and ISSUBSET"),
        ("[network-traffic:dst_port = 23]", "no address or name"),
        ("[network-traffic:dst_port = 70000 AND ipv4-addr:value = '192.0.2.1']", "0-65535"),
        ("[domain-name:value = 'no spaces allowed.com']", "not a DNS name"),
        ("[ipv4-addr:value = '192.0.2.1'", "expected ']'"),
        ("", "expected '['"),
        ("[" * 100, "expected an object path"),
        ("(" * 100, "nested too deeply"),
        ("[ipv4-addr:value = t'2020-01-01T00:00:00Z']", "expected a literal"),
        ("[ipv4-addr:value = '192.0.2.1'] ; drop", "unexpected character"),
    ],
)
def test_anything_else_is_a_clear_error(pattern: str, why: str) -> None:
    with pytest.raises(PatternError, match=re.escape(why)) as info:
        parse_pattern(pattern)
    assert "pos" in info.value.data or "pattern" in info.value.data or "limit" in info.value.data


def test_too_many_alternatives_is_refused() -> None:
    many = " OR ".join(f"[ipv4-addr:value = '10.0.{i // 250}.{i % 250}']" for i in range(100))
    with pytest.raises(PatternError, match="too complex"):
        parse_pattern(many)
    with pytest.raises(PatternError, match="longer than allowed"):
        parse_pattern("[" + " " * 5000 + "]")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_any_text_parses_or_is_a_pattern_error(text: str) -> None:
    try:
        out = parse_pattern(text)
    except PatternError:
        return
    assert all(isinstance(t, Target) for t in out)


ATOMS = st.sampled_from(
    [
        "ipv4-addr:value = '192.0.2.1'",
        "ipv4-addr:value = '192.0.2.2'",
        "ipv4-addr:value ISSUBSET '198.51.100.0/30'",
        "domain-name:value = 'c2.example.org'",
        "network-traffic:dst_port = 23",
        "network-traffic:protocols[*] = 'tcp'",
        "network-traffic:dst_ref.type = 'ipv4-addr'",
        "ipv4-addr:value = '999.1.1.1'",
        "AND",
        "OR",
        "[",
        "]",
        "(",
        ")",
        "WITHIN 1 SECONDS",
        "'",
        "\\'",
    ]
)


@settings(max_examples=250, deadline=None)
@given(st.lists(ATOMS, max_size=25))
def test_fuzz_token_soup_parses_or_is_a_pattern_error(parts: list[str]) -> None:
    """Near-valid patterns (the grammar's own tokens shuffled) reach deeper than random text."""
    try:
        out = parse_pattern(" ".join(parts))
    except PatternError:
        return
    assert out and all(t.kind in ("ipv4", "domain") for t in out)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(1, 65535)),
        min_size=1,
        max_size=8,
    )
)
def test_generated_valid_patterns_round_trip(hosts: list[tuple[int, int, int]]) -> None:
    pattern = " OR ".join(
        f"[ipv4-addr:value = '203.0.{a}.{b}' AND network-traffic:dst_port = {p}]"
        for a, b, p in hosts
    )
    want = {Target(V4, f"203.0.{a}.{b}/32", p) for a, b, p in hosts}
    assert set(parse_pattern(pattern)) == want


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(*[st.integers(0, 300)] * 4),
    st.one_of(st.none(), st.integers(0, 70000)),
    st.one_of(st.none(), st.sampled_from(["tcp", "udp", "sctp"])),
    st.booleans(),
)
def test_fast_path_agrees_with_the_parser(
    octets: tuple[int, ...], port: int | None, proto: str | None, leading_zero: bool
) -> None:
    """The shortcut for the common one-host shapes gives what the parser gives, or defers."""
    from iotscope.block._pattern import _fast, parse_general

    ip = ".".join(str(o) for o in octets).replace(".1", ".01" if leading_zero else ".1")
    if port is None:
        text = f"[ipv4-addr:value = '{ip}']"
    else:
        text = (
            f"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value"
            f" = '{ip}' AND network-traffic:dst_port = {port}"
            + (f" AND network-traffic:protocols[*] = '{proto}']" if proto else "]")
        )
    try:
        general: tuple[Target, ...] | None = parse_general(text)
    except PatternError:
        general = None
    fast = _fast(text)
    assert fast is None or fast == general
    if general is not None and "01" not in ip:
        assert fast == general
