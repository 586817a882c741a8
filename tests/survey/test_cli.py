"""``iotscope survey run`` through typer's CliRunner: JSONL, the store, re-runs, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.errors import ConfigError
from iotscope.store import open_store
from tests.survey.conftest import lab_in_thread

runner = CliRunner()


@pytest.mark.network
def test_run_writes_jsonl_and_store_idempotently(lab_network: str, tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    out = tmp_path / "out.jsonl"
    with lab_in_thread(8, 4, lab_network) as manifest:
        scope.write_text("\n".join(str(d.ip) for d in manifest.devices) + "\n")
        args = [
            "survey",
            "run",
            "--scope",
            str(scope),
            "--out",
            str(out),
            "--no-login",
            "--timeout",
            "0.5",
            "--survey-id",
            "t1",
            "--ports",
            "22,23,80,443,554,1883",
        ]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        lines = [json.loads(x) for x in out.read_text().splitlines()]
        again = runner.invoke(app, args)
        assert again.exit_code == 0
    assert lines
    rec = lines[0]
    assert set(rec) >= {"ip", "port", "transport", "service", "time", "banner", "identity",
                        "login"}  # fmt: skip
    assert rec["login"]["outcome"] == "not_tried"
    assert {r["ip"] for r in lines} <= {str(d.ip) for d in manifest.devices}
    store = open_store()
    [survey] = store.surveys()
    assert survey.id == "t1" and survey.finished is not None
    assert survey.counts["hosts"] == 8
    assert len(store.findings("t1")) == len(lines)  # the re-run overwrote, no duplicates


def test_bad_scope_line_is_a_config_error(tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    scope.write_text("127.0.0.0/8\nnot-a-network\n")
    result = runner.invoke(app, ["survey", "run", "--scope", str(scope)])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.data["line"] == 2


def test_bad_shard_is_refused_before_any_packet(tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    scope.write_text("127.99.0.0/30\n")
    result = runner.invoke(app, ["survey", "run", "--scope", str(scope), "--shard", "2/2"])
    assert isinstance(result.exception, ConfigError)


@pytest.mark.network
def test_zmap_csv_rows_are_scoped_and_counted(tmp_path: Path) -> None:
    scope, zmap, out = tmp_path / "scope.txt", tmp_path / "zmap.csv", tmp_path / "out.jsonl"
    scope.write_text("127.98.7.0/29\n")
    zmap.write_text(
        "saddr,daddr,sport,dport\n127.98.7.1,127.0.0.1,23,4000\n127.98.7.2,127.0.0.1,80,4001\n"
        "127.98.8.1,127.0.0.1,23,4002\n198.51.100.7,127.0.0.1,23,4003\nbad,row,x,y\n"
    )
    args = ["survey", "run", "--scope", str(scope), "--zmap-csv", str(zmap), "--out", str(out),
            "--no-login", "--survey-id", "z1", "--timeout", "0.3"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    [survey] = open_store().surveys()
    counts = survey.counts
    assert (counts["zmap_rows"], counts["zmap_out_of_scope"], counts["zmap_bad_rows"]) == (5, 2, 1)
    assert counts["hosts"] == 2  # only the in-scope rows became targets
    # per host: ZMap's open TCP port (no discovery sweep) and the SSDP datagram of U:1900
    assert counts["sockets_opened"] == 4


def test_start_message_names_scope_size_limits_order_and_special_space(tmp_path: Path) -> None:
    from iotscope.survey import SurveyConfig, prepare

    scope = tmp_path / "scope.txt"
    scope.write_text("0.0.0.0/0\n127.62.0.0/30\n")  # prepared only: nothing is sent
    lines = "\n".join(prepare(SurveyConfig(scope=scope, seed=5)).start_message())
    assert "300 new connections/s, 256 sockets in flight, 16 per /24" in lines
    assert "seed 5" in lines
    assert "127.62.0.0/30 inside 127.0.0.0/8" in lines  # deliberate, named
    assert "never contacted (special-purpose): 10.0.0.0/8 (Private-Use" in lines
    assert "never contacted (special-purpose): 224.0.0.0/4 (Multicast" in lines


@pytest.mark.network
def test_a_run_prints_its_start_message_and_records_scope_size(tmp_path: Path) -> None:
    import subprocess
    import sys

    scope = tmp_path / "scope.txt"
    scope.write_text("127.62.0.0/30\n")  # nothing listens there
    cmd = [sys.executable, "-m", "iotscope", "survey", "run", "--scope", str(scope),
           "--ports", "23,80", "--survey-id", "m1", "--timeout", "0.3"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stderr.split())
    assert "scope 4 addresses after exclusions and the special-purpose blocklist" in text
    assert "300 new connections/s" in text and "visiting order: seed" in text
    [survey] = open_store().surveys()
    assert survey.counts["scope_size"] == 4 and survey.counts["hosts"] == 4
    assert "seed" in survey.counts
