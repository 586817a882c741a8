"""nfdump CSV reader on real ``nfdump -o csv`` output (nfdump 1.7.1, Debian).

``data/nfdump-1.7.1-softflowd.csv``: tests/flows/_traffic.py's capture exported by softflowd
1.1.0 (``-v 9 -a``) to nfcapd, then ``TZ=UTC nfdump -r FILE -o csv``.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.flows._nfdump import read_nfdump_csv

SAMPLE = Path(__file__).parent / "data" / "nfdump-1.7.1-softflowd.csv"


def _summary(text: str) -> dict[str, int]:
    lines = text.strip().split("\n")
    names, values = lines[-2].split(","), lines[-1].split(",")
    return {n: int(v) for n, v in zip(names, values, strict=True)}


def test_real_output_totals_match_nfdumps_summary() -> None:
    data = SAMPLE.read_bytes()
    table, bad = read_nfdump_csv(data, site="isp-a")
    summary = _summary(data.decode())
    assert bad.count == 0
    assert table.num_rows == summary["flows"]
    assert sum(table["packets"].to_pylist()) == summary["packets"]
    assert sum(table["bytes"].to_pylist()) == summary["bytes"]


def test_real_output_fields() -> None:
    table, _ = read_nfdump_csv(SAMPLE.read_bytes(), site="isp-a")
    rows = table.to_pylist()
    icmp = [r for r in rows if r["proto"] == "icmp"]
    assert icmp and all(r["dport"] == 8 * 256 for r in icmp)  # echo request, type.code 8.0
    syn_ack = [r for r in rows if r["proto"] == "tcp" and r["sport"] in (23, 2323, 48101)]
    assert syn_ack and all(r["tcp_flags"] == 0x12 for r in syn_ack)
    assert {r["exporter"] for r in rows} == {"127.0.0.1"}
    assert {r["start"].year for r in rows} == {2023}


def test_bad_lines_and_variants() -> None:
    header = "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt,ra"
    good = (
        "2024-01-02 03:04:05.250,2024-01-02 03:04:06,1.0,192.0.2.1,2001:DB8::1,1,3.1,ICMP6,0x12,"
        "2,80,192.0.2.254"
    )
    bad_rows = [
        "2024-01-02 03:04:05,2024-01-02 03:04:06,1.0,192.0.2.1,192.0.2.2,1,2,TCP,......S.,x,80,r",
        "2024-13-45 03:04:05",
        "yesterday,2024-01-02 03:04:06,1.0,192.0.2.1,192.0.2.2,1,2,TCP,......S.,1,80,r",
    ]
    text = "\n".join(["stray line", header, good, *bad_rows, "Summary", "flows,bytes", "1,80"])
    table, bad = read_nfdump_csv(text.encode(), site="s")
    assert bad.count == 1 + len(bad_rows)
    row = table.to_pylist()[0]
    assert (row["dst"], row["dport"], row["proto"], row["tcp_flags"]) == (
        "2001:db8::1",
        3 * 256 + 1,
        "icmp",
        0x12,
    )
    assert row["start"].timestamp() == 1704164645.25


def test_missing_header_counts_everything() -> None:
    table, bad = read_nfdump_csv(b"a,b,c\n1,2,3\n", site="s")
    assert table.num_rows == 0 and bad.count == 2
    table, bad = read_nfdump_csv(b"ts,te\n2024-01-02 03:04:05,2024-01-02 03:04:05\n", site="s")
    assert table.num_rows == 0 and bad.count == 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_any_bytes(data: bytes) -> None:
    table, bad = read_nfdump_csv(b"ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n" + data, site="s")
    assert table.num_rows >= 0 and bad.count >= 0
