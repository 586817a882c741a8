"""kill -9 of a running `iotscope isp run` loses no flow it had received and stores none twice.

The exporter here is the repository's IPFIX encoder sending to the collector over UDP on
127.0.0.1. Each run is killed once every datagram sent so far is in the spool (so nothing is
left in the socket's buffer, which UDP would lose with or without a spool): once with a batch
interval longer than the run (nothing was written to Parquet yet: the replay must bring every
flow back), once while batches are written every 50 ms (the kill lands anywhere between a
part's write and its commit). The last run stops cleanly; the stored flows are then exactly
the flows sent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.flows import flows_table, read_flows
from iotscope.flows._encode import encode_ipfix
from iotscope.isp._run import RunOptions, _Site
from tests.isp._medallion import free_port

pytestmark = [pytest.mark.network, pytest.mark.slow]
T0 = int(time.time() * 1000) - 3_600_000
EXPORTER = "127.0.0.1"


def table(n: int) -> pa.Table:
    return flows_table(
        start_ms=[T0 + 10 * i for i in range(n)], end_ms=[T0 + 10 * i + 500 for i in range(n)],
        src=[f"192.0.2.{1 + i % 50}" for i in range(n)], dst=["203.0.113.9"] * n,
        sport=list(range(10_000, 10_000 + n)), dport=[23] * n, proto=["tcp"] * n,
        packets=[1] * n, octets=[60] * n, tcp_flags=[2] * n, exporter="", site="isp-a",
    )  # fmt: skip


def start(home: Path, port: int, batch: float) -> tuple[subprocess.Popen[str], str]:
    """A running `isp run` and what it said before listening."""
    cmd = [sys.executable, "-m", "iotscope", "isp", "run", "--site", "isp-a",
           "--listen", f"127.0.0.1:{port}", "--hub", f"http://127.0.0.1:{free_port()}/",
           "--token", "unused", "--every", "1h", "--batch-seconds", str(batch)]  # fmt: skip
    env = {**os.environ, "IOTSCOPE_HOME": str(home)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stderr is not None
    said = ""
    for _ in range(10):
        said += proc.stderr.readline()
        if "listening on" in said:
            return proc, said
    proc.kill()
    raise AssertionError("isp run did not start")


def spooled(home: Path) -> int:
    """Bytes of datagram payload in the site's spool segments (headers excluded)."""
    from iotscope.isp._spool import Spool

    spool = Spool(home / "flows", "isp-a")
    try:
        return sum(len(r[3]) for r in spool.records())
    finally:
        spool.close()


def send(port: int, packets: list[bytes], home: Path, expect: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for p in packets:
            s.sendto(p, ("127.0.0.1", port))
            time.sleep(0.002)
    for _ in range(500):
        if spooled(home) >= expect:
            return
        time.sleep(0.01)
    raise AssertionError(f"the spool never held {expect} bytes")


def test_kill_9_loses_and_duplicates_no_flow(iotscope_home: Path) -> None:
    flows = table(1440)
    packets = [p for _, p in encode_ipfix(flows, records_per_packet=24, template_every=10)]
    port, done = free_port(), 0
    said = []
    for cut, batch in ((25, 3600.0), (len(packets), 0.05)):
        proc, text = start(iotscope_home, port, batch)
        said.append(text)
        try:  # (the spool never rolls over here: 64 MiB segments)
            send(port, packets[done:cut], iotscope_home, sum(len(p) for p in packets[:cut]))
            done = cut
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # the start-up of a third run, in this process (a subprocess costs seconds of imports)
    site = _Site(iotscope_home / "flows", "isp-a", RunOptions())
    site.recover()
    site.spool.close()
    # nothing of the first run had reached Parquet: its 600 flows came back from the spool
    assert "recovered 600 flows" in said[1]
    got = read_flows(iotscope_home / "flows", site="isp-a")
    assert got.num_rows == flows.num_rows  # none lost, none twice
    assert sorted(got.column("sport").to_pylist()) == flows.column("sport").to_pylist()
