"""`iotscope flows ingest|collect` end to end (typer runner and a real subprocess)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.flows import encode_ipfix, flows_table, read_flows
from iotscope.records import Flow

NFDUMP_SAMPLE = Path(__file__).parent / "data" / "nfdump-1.7.1-softflowd.csv"


def test_ingest_writes_parquet_and_jsonl(tmp_path: Path, iotscope_home: Path) -> None:
    out = tmp_path / "flows.jsonl"
    args = ["flows", "ingest", str(NFDUMP_SAMPLE), "--format", "nfdump-csv", "--site", "isp-a"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 48
    assert all(Flow.model_validate_json(line).site == "isp-a" for line in lines)
    assert read_flows(iotscope_home / "flows", site="isp-a").num_rows == 48
    again = CliRunner().invoke(app, args)  # stdout is not a terminal: JSON Lines there
    assert again.exit_code == 0
    assert read_flows(iotscope_home / "flows").num_rows == 48  # re-ingest replaced the parts


def test_ingest_rejects_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_format = runner.invoke(app, ["flows", "ingest", "x", "--format", "pcapng", "--site", "a"])
    assert bad_format.exit_code != 0
    bad_site = runner.invoke(
        app, ["flows", "ingest", str(NFDUMP_SAMPLE), "--format", "nfdump-csv", "--site", "../a"]
    )
    assert bad_site.exit_code != 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.network
@pytest.mark.slow
def test_collect_subprocess(tmp_path: Path, iotscope_home: Path) -> None:
    table = flows_table(
        start_ms=[1_700_000_000_000 + i for i in range(48)],
        end_ms=[1_700_000_000_500 + i for i in range(48)],
        src=["192.0.2.1"] * 48,
        dst=[f"203.0.113.{i}" for i in range(48)],
        sport=[40000] * 48,
        dport=[23] * 48,
        proto=["tcp"] * 48,
        packets=[1] * 48,
        octets=[60] * 48,
        tcp_flags=[2] * 48,
        exporter="",
        site="isp-a",
    )
    port, out = _free_port(), tmp_path / "collected.jsonl"
    cmd = [sys.executable, "-m", "iotscope", "flows", "collect", "--listen", f"127.0.0.1:{port}"]
    cmd += ["--site", "isp-a", "--out", str(out), "--max-packets", "2", "--duration", "60"]
    env = {**os.environ, "IOTSCOPE_HOME": str(iotscope_home)}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        assert "listening on" in proc.stderr.readline()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, payload in encode_ipfix(table):
                s.sendto(payload, ("127.0.0.1", port))
                time.sleep(0.01)
        assert proc.wait(30) == 0
        summary = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "packets=2" in summary and "flows=48" in summary and "malformed=0" in summary
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 48 and {r["exporter"] for r in rows} == {"127.0.0.1"}
    assert read_flows(iotscope_home / "flows", site="isp-a").num_rows == 48


@pytest.mark.network
@pytest.mark.slow
def test_collect_prints_counts_on_sigterm(iotscope_home: Path) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "iotscope", "flows", "collect", "--listen", f"127.0.0.1:{port}"]
    env = {**os.environ, "IOTSCOPE_HOME": str(iotscope_home)}
    proc = subprocess.Popen(
        [*cmd, "--site", "isp-a"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert "listening on" in proc.stderr.readline()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"\x00\x09 not netflow", ("127.0.0.1", port))
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        summary = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "packets=1" in summary and "malformed=1" in summary and "no template=0" in summary


def _collector(home: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "iotscope", "flows", "collect", "--listen", f"127.0.0.1:{port}"]
    env = {**os.environ, "IOTSCOPE_HOME": str(home)}
    proc = subprocess.Popen(
        [*cmd, "--site", "isp-a", "--batch-seconds", "0.1", *extra],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    assert "listening on" in proc.stderr.readline()
    return proc


def _rmem_max() -> int:
    return int(Path("/proc/sys/net/core/rmem_max").read_text())


def _wait_rows(root: Path, n: int) -> None:
    for _ in range(200):
        if read_flows(root, site="isp-a").num_rows >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"never saw {n} flows")


@pytest.mark.network
@pytest.mark.slow
def test_collector_restart_keeps_sequence_state_and_status_reports_loss(
    tmp_path: Path, iotscope_home: Path
) -> None:
    """Run 1 loses export 4 and is killed with SIGKILL; run 2 continues the sequence, loses
    export 15 and stops cleanly; status sees 48 flows lost and every flow stored once."""
    table = flows_table(
        start_ms=[1_793_491_200_000 + 10 * i for i in range(480)],
        end_ms=[1_793_491_200_500 + 10 * i for i in range(480)],
        src=["192.0.2.1"] * 480, dst=["203.0.113.9"] * 480, sport=list(range(1000, 1480)),
        dport=[23] * 480, proto=["tcp"] * 480, packets=[1] * 480, octets=[60] * 480,
        tcp_flags=[2] * 480, exporter="", site="isp-a",
    )  # fmt: skip
    packets = [p for _, p in encode_ipfix(table, records_per_packet=24, template_every=1)]
    root, port = iotscope_home / "flows", _free_port()
    proc = _collector(iotscope_home, port)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(10):
                if i != 4:
                    s.sendto(packets[i], ("127.0.0.1", port))
        _wait_rows(root, 216)
        time.sleep(0.3)  # the state file is saved with each batch
        proc.kill()
        proc.wait(10)
        proc = _collector(iotscope_home, port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(10, 20):
                if i != 15:
                    s.sendto(packets[i], ("127.0.0.1", port))
        _wait_rows(root, 432)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = tmp_path / "status.jsonl"
    result = CliRunner().invoke(app, ["flows", "status", "--site", "isp-a", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["exporter"] == "127.0.0.1" and row["flows"] == 432 and row["days"] == 1
    assert row["files"] == 1 and row["lost"] == {"flows": 48}
    (seq,) = row["sequences"]
    assert seq["kind"] == "ipfix" and seq["resets"] == 0 and seq["received"] == 432
    assert row["last_flow"].startswith("2026-11-01T00:00:05")
    receiver = row["receiver"]  # the second run's receive path
    assert (receiver["datagrams"], receiver["ring_drops"], receiver["socket_drops"]) == (9, 0, 0)
    assert receiver["receive_buffer_requested"] == 32 << 20
    assert receiver["receive_buffer_effective"] >= 2 * min(32 << 20, _rmem_max())
    day = root / "site=isp-a" / "day=2026-11-01"
    assert sorted(p.name for p in day.iterdir()) == ["bucket-0000.parquet"]
    table_out = CliRunner().invoke(app, ["flows", "compact", "--site", "isp-a"])
    assert table_out.exit_code == 0 and "compacted 0 buckets" in table_out.output


def test_status_after_ingest_of_a_lossy_capture(tmp_path: Path, iotscope_home: Path) -> None:
    from iotscope.flows import encode_netflow_v9
    from tests.flows.test_sequence import _table
    from tests.flows.test_stream import _export_capture

    packets = encode_netflow_v9(_table(480), records_per_packet=24)
    capture = tmp_path / "v9.pcap"
    _export_capture(capture, [p for i, p in enumerate(packets) if i not in (5, 6)])
    args = ["flows", "ingest", str(capture), "--format", "netflow-pcap", "--site", "isp-b"]
    ingest = CliRunner().invoke(app, args)
    assert ingest.exit_code == 0, ingest.output
    CliRunner().invoke(app, args)  # again: replaces its parts and its sequence report
    status = CliRunner().invoke(app, ["flows", "status"])
    assert status.exit_code == 0
    (row,) = [json.loads(line) for line in status.stdout.splitlines()]
    assert row["site"] == "isp-b" and row["exporter"] == "192.0.2.254"
    assert row["flows"] == 432 and row["lost"] == {"packets": 2}
