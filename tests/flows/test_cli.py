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
