"""Longest-prefix match against a brute-force oracle (``ipaddress``), including nesting."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.attribution import IspEntry, compile_table, routes_from_lists
from iotscope.attribution._lpm import NONE, build_v4, build_v6, v4_keys, v6_keys


def _oracle(prefixes: list[tuple[int, int, int]], ip: int, width: int = 32) -> int:
    best, value = -1, NONE
    for i, (net, length, _) in enumerate(prefixes):
        mask = ((1 << width) - 1) ^ ((1 << (width - length)) - 1)
        if ip & mask == net and length >= best:  # equal prefix: the later one wins
            best, value = length, i
    return value


_v4_prefix = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(
    lambda t: (t[0] & (((1 << 32) - 1) ^ ((1 << (32 - t[1])) - 1)), t[1], 0)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_v4_prefix, max_size=30), st.lists(st.integers(0, 2**32 - 1), max_size=30))
def test_v4_matches_oracle(prefixes: list[tuple[int, int, int]], ips: list[int]) -> None:
    # Addresses at and just around every prefix edge, where an off-by-one would show.
    probes = list(ips)
    for net, length, _ in prefixes:
        last = net + (1 << (32 - length)) - 1
        probes += [x for x in (net - 1, net, last, last + 1) if 0 <= x < 2**32]
    table = build_v4(
        np.array([p[0] for p in prefixes], dtype=np.uint64),
        np.array([p[1] for p in prefixes], dtype=np.uint8),
        np.arange(len(prefixes), dtype=np.int64),
    )
    got = table.lookup(np.array(probes, dtype=np.uint64)).tolist()
    assert got == [_oracle(prefixes, ip) for ip in probes]


_v6_prefix = st.tuples(st.integers(0, 2**128 - 1), st.integers(0, 128)).map(
    lambda t: (t[0] & (((1 << 128) - 1) ^ ((1 << (128 - t[1])) - 1)), t[1], 0)
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_v6_prefix, max_size=20), st.lists(st.integers(0, 2**128 - 2), max_size=20))
def test_v6_matches_oracle(prefixes: list[tuple[int, int, int]], ips: list[int]) -> None:
    probes = list(ips) + [p[0] for p in prefixes]
    table = build_v6([(n, ln) for n, ln, _ in prefixes], np.arange(len(prefixes), dtype=np.int64))
    keys, ok = v6_keys([str(ipaddress.IPv6Address(x)) for x in probes])
    assert ok.all()
    assert table.lookup(keys).tolist() == [_oracle(prefixes, ip, 128) for ip in probes]


def test_keys_flag_bad_and_other_family() -> None:
    keys, ok = v4_keys(["192.0.2.1", "2001:db8::1", "nonsense", "1"])
    assert ok.tolist() == [True, False, False, False]  # "1" is no dotted quad (inet_aton would)
    assert int(keys[0]) == int(ipaddress.IPv4Address("192.0.2.1"))


def test_registry_prefix_wins_tie_and_longer_route_wins() -> None:
    routes = routes_from_lists(
        [
            (int(ipaddress.IPv4Address("198.51.100.0")), 24, 64500),  # ISP A's AS
            (int(ipaddress.IPv4Address("198.51.100.128")), 25, 64999),  # a customer AS
            (int(ipaddress.IPv4Address("203.0.113.0")), 24, 64999),  # someone else
        ],
        [(int(ipaddress.IPv6Address("2001:db8::")), 32, 64500)],
    )
    registry = [
        IspEntry(name="A", asns=(64500,)),
        IspEntry(name="B", asns=(64501,), prefixes=("203.0.113.0/24",)),
    ]
    table = compile_table(routes, registry)
    ips = ["198.51.100.1", "198.51.100.200", "203.0.113.9", "192.0.2.1", "2001:db8::5", "x"]
    assert table.isp_of(ips) == ["A", None, "B", None, "A", None]
    _, asns = table.lookup(ips)
    assert asns.tolist() == [64500, 64999, 64501, 0, 64500, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(_v4_prefix.map(lambda p: (p[0], p[1], 0)), min_size=1, max_size=20),
       st.sampled_from(["", "prefix,asn\n"]))  # fmt: skip
def test_column_reader_equals_line_reader(
    tmp_path_factory: pytest.TempPathFactory, prefixes: list[tuple[int, int, int]], header: str
) -> None:
    """The column-wise CSV reader gives exactly what the line reader gives."""
    from iotscope.attribution._routes import _read_v4_columns, read_routes_csv

    path = tmp_path_factory.mktemp("csv") / "r.csv"
    lines = [
        f"{ipaddress.IPv4Address(n)}/{ln},{64500 + i}" for i, (n, ln, _) in enumerate(prefixes)
    ]
    path.write_text(header + "\n".join(lines) + "\n")
    fast = _read_v4_columns(path)
    assert fast is not None
    path.write_text(header + "# a comment sends it to the line reader\n" + "\n".join(lines) + "\n")
    slow, _ = read_routes_csv(path)
    assert fast.v4_net.tolist() == slow.v4_net.tolist()
    assert fast.v4_len.tolist() == slow.v4_len.tolist()
    assert fast.v4_asn.tolist() == slow.v4_asn.tolist()


@pytest.mark.parametrize(
    "bad", ["192.0.2.1/24,1", "192.0.2.0/33,1", "192.0.2.0/24,x", "192.0.02.0/24,1",
            "256.0.2.0/24,1", "192.0.2.0,1", "192.0.2.0/24,4294967296"],
)  # fmt: skip
def test_column_reader_defers_bad_rows(tmp_path: Path, bad: str) -> None:
    from iotscope.attribution._routes import _read_v4_columns, read_routes_csv
    from iotscope.errors import ConfigError

    path = tmp_path / "r.csv"
    path.write_text(f"prefix,asn\n198.51.100.0/24,64500\n{bad}\n")
    assert _read_v4_columns(path) is None
    with pytest.raises(ConfigError, match=r"r\.csv:3:"):
        read_routes_csv(path)
