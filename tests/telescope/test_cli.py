"""`iotscope telescope ingest` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.errors import ParseError
from iotscope.records import Sighting
from iotscope.store import open_store
from tests.telescope.scenario import standard

runner = CliRunner()


def test_ingest_writes_jsonl_and_stores(tmp_path: Path) -> None:
    capture = standard().write(tmp_path / "d.pcap")
    out = tmp_path / "out" / "sightings.jsonl"
    result = runner.invoke(
        app, ["telescope", "ingest", str(capture), "--out", str(out), "--sensor", "s1"]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    records = [Sighting.model_validate_json(line) for line in lines]
    fields = json.loads(lines[0])
    for name in (
        "src",
        "first_seen",
        "last_seen",
        "packets",
        "targets",
        "ports",
        "mirai_fingerprint",
        "classification",
    ):
        assert name in fields
    assert {r.classification for r in records} == {
        "mirai",
        "iot",
        "research",
        "backscatter",
        "other",
    }
    assert len(open_store().sightings("s1")) == len(records)


def test_ingest_to_stdout_when_not_a_terminal(tmp_path: Path) -> None:
    capture = standard().write(tmp_path / "d.pcap")
    result = runner.invoke(
        app,
        ["telescope", "ingest", str(capture), "--no-store", "--telescope-prefix", "203.0.113.0/24"],
    )
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert rows and all(r["src"] != "192.0.2.50" for r in rows)
    assert open_store().sightings() == []


def test_not_a_capture_is_a_parse_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.pcap"
    bogus.write_bytes(b"hello world")
    result = runner.invoke(app, ["telescope", "ingest", str(bogus)])
    assert isinstance(result.exception, ParseError)
