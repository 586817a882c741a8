"""The MRT reader against bgpdump (Debian's reader, as the oracle), 2-byte TABLE_DUMP with
AS4_PATH, compressed input, truncation errors, and a fuzz test."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import ipaddress
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.attribution._mrt import parse_mrt
from iotscope.attribution._mrt_write import ORIGIN_IGP, as_path_attr, peer_index, write_rib
from iotscope.attribution._routes import read_mrt
from iotscope.errors import ConfigError, ParseError
from tests.conftest import require_tool

ROUTES = [
    ("0.0.0.0/0", [[64496, 1]]),
    ("10.0.0.0/8", [[64496, 65001]]),
    ("10.1.0.0/16", [[64496, 65002], [64497, 174, 65002], [64496, 65003]]),
    ("10.1.2.128/25", [[64497, 4200000000]]),
    ("192.0.2.0/24", [[64496, 3356, 3356, 3356, 64512]]),  # prepending
    ("2001:db8::/32", [[64496, 4200000001]]),
    ("2001:db8:8000::/33", [[64497, 65010]]),
]
PEERS = [("192.0.2.1", 64496), ("2001:db8::1", 64497)]


def _origins(data: bytes) -> dict[str, int]:
    r = parse_mrt(data)
    out = {}
    for net, ln, asn in r.v4:
        out[f"{ipaddress.IPv4Address(net)}/{ln}"] = asn
    for net, ln, asn in r.v6:
        out[f"{ipaddress.IPv6Address(net)}/{ln}"] = asn
    return out


def test_origins_and_majority_vote() -> None:
    got = _origins(write_rib(ROUTES, PEERS))
    assert got["10.1.0.0/16"] == 65002  # two of three peers
    assert got["10.1.2.128/25"] == 4200000000  # 4-byte ASN
    assert got["192.0.2.0/24"] == 64512
    assert got["2001:db8:8000::/33"] == 65010
    assert len(got) == len(ROUTES)


def test_agrees_with_bgpdump(tmp_path: Path) -> None:
    """bgpdump -m prints one line per RIB entry: prefix and AS path; its last AS per entry,
    voted per prefix as we do, must equal what we read."""
    bgpdump = require_tool("bgpdump")
    path = tmp_path / "rib.mrt"
    path.write_bytes(write_rib(ROUTES, PEERS))
    out = subprocess.run([bgpdump, "-m", str(path)], capture_output=True, text=True, check=True)
    entries: dict[str, list[int]] = {}
    for line in out.stdout.splitlines():
        f = line.split("|")
        entries.setdefault(f[5], []).append(int(f[6].split()[-1]))
    expected = {p: max(sorted(set(a)), key=a.count) for p, a in entries.items()}
    assert _origins(path.read_bytes()) == expected
    assert len(expected) == len(ROUTES)


def test_as_set_origin_takes_lowest() -> None:
    attrs = ORIGIN_IGP + as_path_attr([64496, 64500], as_set=[65020, 65010])
    from iotscope.attribution._mrt_write import rib_record

    data = peer_index("192.0.2.254", PEERS) + rib_record(0, "198.51.100.0/24", [(0, attrs)])
    assert _origins(data) == {"198.51.100.0/24": 65010}


def _table_dump_v1(prefix: str, path2: list[int], path4: list[int] | None) -> bytes:
    """RFC 6396 4.2 TABLE_DUMP (AFI IPv4): 2-byte AS_PATH, AS4_PATH optional."""
    net = ipaddress.IPv4Network(prefix)
    seg = struct.pack(">BB", 2, len(path2)) + b"".join(struct.pack(">H", a) for a in path2)
    attrs = ORIGIN_IGP + struct.pack(">BBB", 0x40, 2, len(seg)) + seg
    if path4 is not None:
        seg4 = struct.pack(">BB", 2, len(path4)) + b"".join(struct.pack(">I", a) for a in path4)
        attrs += struct.pack(">BBB", 0xC0, 17, len(seg4)) + seg4
    body = struct.pack(">HH", 0, 1) + net.network_address.packed
    body += struct.pack(">BBI", net.prefixlen, 1, 0) + bytes([192, 0, 2, 1])
    body += struct.pack(">HH", path2[0], len(attrs)) + attrs
    return struct.pack(">IHHI", 0, 12, 1, len(body)) + body


def test_table_dump_v1_two_byte_and_as4_path(tmp_path: Path) -> None:
    data = _table_dump_v1("198.51.100.0/24", [64496, 65001], None) + _table_dump_v1(
        "203.0.113.0/24", [64496, 23456], [64496, 4200000000]
    )
    assert _origins(data) == {"198.51.100.0/24": 65001, "203.0.113.0/24": 4200000000}
    bgpdump = require_tool("bgpdump")
    path = tmp_path / "v1.mrt"
    path.write_bytes(data)
    out = subprocess.run([bgpdump, "-m", str(path)], capture_output=True, text=True, check=True)
    assert [ln.split("|")[6].split()[-1] for ln in out.stdout.splitlines()] == [
        "65001",
        "4200000000",
    ]


@pytest.mark.parametrize("pack", [gzip.compress, bz2.compress, lambda b: b])
def test_compressed_files(tmp_path: Path, pack: object) -> None:
    path = tmp_path / "rib"
    path.write_bytes(pack(write_rib(ROUTES, PEERS)))  # type: ignore[operator]
    assert len(read_mrt(path)) == len(ROUTES)


def test_truncated_file_names_record_and_offset(tmp_path: Path) -> None:
    data = write_rib(ROUTES, PEERS)
    path = tmp_path / "cut.mrt"
    path.write_bytes(data[:-5])
    with pytest.raises(ConfigError) as err:
        read_mrt(path)
    assert err.value.data["path"] == str(path)
    assert err.value.data["record"] == len(ROUTES) + 1
    assert "offset" in err.value.data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_mrt(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_dump(data: st.DataObject) -> None:
    raw = bytearray(write_rib(ROUTES, PEERS))
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        result = parse_mrt(bytes(raw))
    except ParseError:
        return
    for _net, length, asn in result.v4:
        assert 0 <= length <= 32 and 0 <= asn < 2**32
