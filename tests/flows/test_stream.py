"""Streaming ingest: chunked reading of text and captures, and memory bounded by the chunk."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.flows import encode_ipfix, encode_netflow_v9, read_flows
from iotscope.flows._ingest import ingest_files
from iotscope.flows._stream import CaptureCounts, capture_chunks, text_chunks
from iotscope.pcap import PcapWriter, ethernet, ipv4_udp, read_frames
from tests.flows import _bigfiles
from tests.flows.test_sequence import _table
from tests.flows.test_zeek import BAD, HEADER, ROWS

NFDUMP = Path(__file__).parent / "data" / "nfdump-1.7.1-softflowd.csv"
REPO = Path(__file__).resolve().parents[2]


def _pieces(data: bytes, size: int, max_line: int = 1 << 20) -> list[tuple[bytes, int]]:
    return list(text_chunks(io.BytesIO(data), size, max_line))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=60),
       st.integers(1, 64), st.booleans())  # fmt: skip
def test_text_chunks_keep_every_line_whole(lines: list[bytes], size: int, final_nl: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if final_nl and lines else b"")
    pieces = _pieces(data, size)
    assert b"".join(p for p, _ in pieces) == data
    assert all(p.endswith(b"\n") for p, _ in pieces[:-1])
    assert sum(n for _, n in pieces) == 0


def test_overlong_lines_are_counted_and_skipped() -> None:
    data = b"a\n" + b"x" * 500 + b"\nb\n" + b"y" * 300
    pieces = _pieces(data, 16, max_line=100)
    assert b"".join(p for p, _ in pieces) == b"a\nb\n"
    assert sum(n for _, n in pieces) == 2


def _export_capture(path: Path, packets: list[tuple[int, bytes]]) -> None:
    with PcapWriter(path) as w:
        for ts, payload in packets:
            w.write(ts, ethernet(ipv4_udp("192.0.2.254", "192.0.2.1", 2055, 2055, payload)))


def _chunk_packets(data: bytes, size: int) -> tuple[int, CaptureCounts]:
    counts = CaptureCounts()
    total = sum(len(read_frames(c)) for c in capture_chunks(io.BytesIO(data), counts, size))
    return total, counts


def test_classic_capture_chunks_are_whole_captures(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    packets = encode_ipfix(_table(600), records_per_packet=24)
    _export_capture(path, packets)
    data = path.read_bytes()
    for size in (64, 700, 5000, 1 << 20):
        total, counts = _chunk_packets(data, size)
        assert total == len(packets) and counts == CaptureCounts()
    total, counts = _chunk_packets(data[:-10], 700)  # cut inside the last record
    assert total == len(packets) - 1 and counts.truncated_records == 1
    bogus = bytearray(data)
    struct.pack_into("<I", bogus, 24 + 8, 0x7FFFFFFF)  # the first record's incl_len
    total, counts = _chunk_packets(bytes(bogus), 700)
    assert total == 0 and counts.bad_records == 1


@pytest.mark.skipif(shutil.which("editcap") is None, reason="needs editcap (Debian tshark)")
def test_pcapng_chunks_carry_their_section_and_interfaces(tmp_path: Path) -> None:
    classic, ng = tmp_path / "x.pcap", tmp_path / "x.pcapng"
    packets = encode_netflow_v9(_table(480), records_per_packet=24)
    _export_capture(classic, packets)
    subprocess.run(["editcap", "-F", "pcapng", str(classic), str(ng)], check=True)
    for size in (100, 3000, 1 << 20):
        total, counts = _chunk_packets(ng.read_bytes(), size)
        assert total == len(packets) and counts == CaptureCounts()
    a = ingest_files([ng], fmt="netflow-pcap", site="s", root=tmp_path / "a", chunk_bytes=500)
    assert a.flows == 480 and a.decode.no_template == 0


def _sorted(t: pa.Table) -> list[dict[str, object]]:
    return sorted(t.to_pylist(), key=lambda r: (r["start"], r["src"], r["sport"], r["dst"]))


@pytest.mark.parametrize("size", [1, 37, 400, 1 << 20])
def test_chunked_ingest_equals_whole_ingest(tmp_path: Path, size: int) -> None:
    zeek = tmp_path / "conn.log"
    log = HEADER + "\n" + "\n".join(ROWS + BAD) + "\n#close\tx\n"
    zeek.write_text(log + log.replace("#separator \\x09", "#separator \\x2c").replace("\t", ","))
    capture = tmp_path / "x.pcap"
    _export_capture(capture, encode_ipfix(_table(300), records_per_packet=24))
    for path, fmt in ((zeek, "zeek"), (NFDUMP, "nfdump-csv"), (capture, "netflow-pcap")):
        whole = ingest_files([path], fmt=fmt, site="s", root=tmp_path / f"w-{fmt}")
        part = ingest_files([path], fmt=fmt, site="s", root=tmp_path / f"c-{fmt}", chunk_bytes=size)
        assert part.flows == whole.flows > 0
        assert part.bad_lines.count == whole.bad_lines.count
        assert _sorted(read_flows(tmp_path / f"c-{fmt}")) == _sorted(
            read_flows(tmp_path / f"w-{fmt}")
        )


def test_json_zeek_and_reingest_with_other_chunks_replaces(tmp_path: Path) -> None:
    path = tmp_path / "conn.json"
    rows = [
        {"ts": 1700000000.5 + i, "id.orig_h": "192.0.2.1", "id.orig_p": 4000 + i,
         "id.resp_h": "203.0.113.1", "id.resp_p": 23, "proto": "tcp", "duration": 1.0,
         "history": "ShAF", "orig_pkts": 3, "resp_pkts": 2, "orig_ip_bytes": 150,
         "resp_ip_bytes": 100}
        for i in range(200)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    root = tmp_path / "flows"
    first = ingest_files([path], fmt="zeek", site="s", root=root, chunk_bytes=300)
    assert first.flows == 200 and first.bad_lines.count == 1
    ingest_files([path], fmt="zeek", site="s", root=root, chunk_bytes=1 << 20)
    assert read_flows(root).num_rows == 200  # one file, one set of parts


def test_junk_capture_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"\xd4\xc3\xb2\xa1")  # a magic and nothing else
    with pytest.raises(ConfigError):
        ingest_files([junk], fmt="netflow-pcap", site="s", root=tmp_path)
    assert not list(tmp_path.glob("site=*/day=*/*"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.integers(1, 200), st.sampled_from(["zeek", "nfdump-csv"]))
def test_fuzz_chunked_text_ingest_never_crashes(data: bytes, size: int, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(data)
        report = ingest_files([path], fmt=fmt, site="s", root=Path(tmp) / "r", chunk_bytes=size)
        assert report.flows >= 0 and report.bad_lines.count >= 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.integers(1, 500))
def test_fuzz_capture_chunks_after_a_valid_header(body: bytes, size: int) -> None:
    head = b"\xd4\xc3\xb2\xa1" + struct.pack("<HHiIII", 2, 4, 0, 0, 65535, 1)
    counts = CaptureCounts()
    for chunk in capture_chunks(io.BytesIO(head + body), counts, size):
        assert chunk[:24] == head
        read_frames(chunk)  # every chunk is a capture the reader takes
    assert counts.bad_records + counts.truncated_records <= 1


_MEASURE = """
import json, resource, sys
from pathlib import Path
from iotscope.flows._ingest import ingest_files
fmt, small, big, root, chunk = sys.argv[1:6]
size, out = int(chunk), Path(root)
ingest_files([Path(small)], fmt=fmt, site="w", root=out / "out-warm", chunk_bytes=size)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = ingest_files([Path(big)], fmt=fmt, site="m", root=out / "out-big", chunk_bytes=size)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024
print(json.dumps({"flows": r.flows, "grown": grown, "bad": r.bad_lines.count}))
"""
FILE_BYTES = 64 << 20
CHUNK = 1 << 20
BOUND = 40 << 20  # peak RSS growth allowed: less than the file, whatever its size


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["zeek", "nfdump-csv", "netflow-pcap"])
def test_memory_stays_bounded_for_a_file_larger_than_the_bound(tmp_path: Path, fmt: str) -> None:
    make = {"zeek": _bigfiles.zeek_file, "nfdump-csv": _bigfiles.nfdump_file,
            "netflow-pcap": _bigfiles.netflow_pcap}[fmt]  # fmt: skip
    small, big = tmp_path / "small", tmp_path / "big"
    make(small, 1 << 20)
    rows = make(big, FILE_BYTES)
    assert big.stat().st_size > BOUND
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, fmt, str(small), str(big), str(tmp_path), str(CHUNK)],
        capture_output=True, text=True, cwd=REPO, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["flows"] == rows and result["bad"] == 0  # all rows arrive
    assert result["grown"] < BOUND, result


_SHB = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
_IDB = struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.integers(1, 500))
def test_fuzz_pcapng_chunks_after_a_valid_section(body: bytes, size: int) -> None:
    counts = CaptureCounts()
    for chunk in capture_chunks(io.BytesIO(_SHB + _IDB + body), counts, size):
        assert chunk.startswith(_SHB + _IDB)
        read_frames(chunk)  # malformed blocks are the reader's counted errors, never a raise
    assert counts.bad_records + counts.truncated_records <= 1
