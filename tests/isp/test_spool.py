"""The datagram spool: committed records are not replayed, uncommitted ones are; templates
survive a replay and a segment roll; a record cut short by a kill is dropped."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.flows import flows_table
from iotscope.flows._encode import encode_ipfix, encode_netflow_v9
from iotscope.isp._spool import Mark, Spool, SpooledDecoder, part_run, replay, uncommitted_parts

T0 = 1_793_491_200_000


def table(n: int, first: int = 0) -> pa.Table:
    return flows_table(
        start_ms=[T0 + 10 * (first + i) for i in range(n)],
        end_ms=[T0 + 10 * (first + i) + 500 for i in range(n)],
        src=["192.0.2.1"] * n, dst=["203.0.113.9"] * n,
        sport=[1000 + first + i for i in range(n)], dport=[23] * n, proto=["tcp"] * n,
        packets=[1] * n, octets=[60] * n, tcp_flags=[2] * n, exporter="", site="isp-a",
    )  # fmt: skip


def sports(t: pa.Table) -> list[int]:
    return sorted(t.column("sport").to_pylist())


@pytest.mark.parametrize("encode", [encode_ipfix, encode_netflow_v9])
def test_replay_returns_only_uncommitted_flows(tmp_path: Path, encode: object) -> None:
    packets = [p for _, p in encode(table(240), records_per_packet=24, template_every=100)]  # type: ignore[operator]
    spool = Spool(tmp_path, "isp-a")
    dec = SpooledDecoder("isp-a", spool)
    for p in packets[:4]:  # the first carries the only template
        dec.feed(p, "127.0.0.1")
    first = dec.detach()()
    spool.commit(dec.marks.popleft())
    assert first.num_rows == 96
    for p in packets[4:]:
        dec.feed(p, "127.0.0.1")
    spool.close()  # killed: 144 flows decoded but never written

    again = Spool(tmp_path, "isp-a")
    flows, mark = replay(SpooledDecoder("isp-a", again))
    assert sports(flows) == list(range(1096, 1240))
    assert mark.offset == again.position and mark.segment == 1


def test_cut_record_is_dropped_and_appends_go_on(tmp_path: Path) -> None:
    packets = [p for _, p in encode_ipfix(table(48), records_per_packet=24)]
    spool = Spool(tmp_path, "isp-a")
    SpooledDecoder("isp-a", spool).feed(packets[0], "127.0.0.1")
    spool.close()
    path = tmp_path / "_spool" / "isp-a" / "00000001.spool"
    whole = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(b"\x00\x09\x00\x00\x10")  # a header cut short
    again = Spool(tmp_path, "isp-a")
    assert again.position == whole and path.stat().st_size == whole
    dec = SpooledDecoder("isp-a", again)
    flows, _ = replay(dec)
    dec.feed(packets[1], "127.0.0.1")
    assert flows.num_rows + dec.flush().num_rows == 48


def test_roll_keeps_templates_and_uncommitted_records(tmp_path: Path) -> None:
    packets = [p for _, p in encode_ipfix(table(480), records_per_packet=24, template_every=1000)]
    spool = Spool(tmp_path, "isp-a", max_bytes=2000)
    dec = SpooledDecoder("isp-a", spool)
    for p in packets[:10]:
        dec.feed(p, "127.0.0.1")
    assert dec.detach()().num_rows == 240
    for p in packets[10:12]:  # fed after the batch was taken, before its commit
        dec.feed(p, "127.0.0.1")
    spool.commit(dec.marks.popleft())
    assert spool.maybe_roll() and spool.segment == 2
    assert not (tmp_path / "_spool" / "isp-a" / "00000001.spool").exists()
    for p in packets[12:]:
        dec.feed(p, "127.0.0.1")
    spool.close()  # killed again: 240 flows after the last commit

    again = Spool(tmp_path, "isp-a", max_bytes=2000)
    flows, _ = replay(SpooledDecoder("isp-a", again))
    assert sports(flows) == list(range(1240, 1480))  # decoded: the template came along


def test_uncommitted_parts_are_those_at_or_after_the_mark(tmp_path: Path) -> None:
    day = tmp_path / "site=isp-a" / "day=2026-11-01"
    day.mkdir(parents=True)
    names = [f"part-c0100-{part_run(1, off)}-000001.parquet" for off in (0, 500, 900)]
    for name in [*names, "part-c0100-20261101T010000-77-000001.parquet"]:
        (day / name).write_bytes(b"")
    got = uncommitted_parts(tmp_path, "isp-a", Mark(1, 500))
    assert sorted(p.name for p in got) == sorted(names[1:])
