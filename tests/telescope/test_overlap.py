"""Overlapping captures cut from one stream merge into the sightings of the whole capture."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.pcap import PcapWriter
from iotscope.records import Sighting
from iotscope.store import open_store
from tests.telescope.scenario import T0, Scenario, standard

runner = CliRunner()
MIN_NS = 60 * 10**9


def _cut(sc: Scenario, path: Path, start_min: int, end_min: int) -> Path:
    """The packets of ``sc`` with times in [start, end) minutes after T0, as one pcap."""
    with PcapWriter(path) as out:
        for ts, frame in sorted(sc.frames, key=lambda f: f[0]):
            if T0 + start_min * MIN_NS <= ts < T0 + end_min * MIN_NS:
                out.write(ts, frame)
    return path


def _ingest(capture: Path, *extra: str) -> list[Sighting]:
    out = capture.with_suffix(".jsonl")
    args = ["telescope", "ingest", str(capture), "--sensor", "dark", "--out", str(out), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return [Sighting.model_validate_json(x) for x in out.read_text().splitlines()]


def test_two_overlapping_captures_equal_the_whole(tmp_path: Path) -> None:
    sc = standard()
    whole = {str(x.src): x for x in _ingest(sc.write(tmp_path / "whole.pcap"), "--no-store")}
    a = _cut(sc, tmp_path / "a.pcap", 0, 36)
    b = _cut(sc, tmp_path / "b.pcap", 24, 61)
    part_a = {str(x.src): x for x in _ingest(a)}
    _ingest(b)
    _ingest(b)  # the same file again: a no-op
    _ingest(a)
    merged = {str(x.src): x for x in open_store().sightings("dark")}
    assert merged.keys() == whole.keys()
    for src, want in whole.items():
        got = merged[src]
        assert (got.first_seen, got.last_seen) == (want.first_seen, want.last_seen), src
        assert (got.packets, got.ports) == (want.packets, want.ports), src
        assert got.classification == want.classification, src
        assert abs(got.mirai_fingerprint - want.mirai_fingerprint) < 1e-9, src
        assert part_a.get(src, got).targets <= got.targets <= want.targets, src


def test_rerun_reports_already_stored_packets(tmp_path: Path) -> None:
    sc = standard()
    whole = _ingest(sc.write(tmp_path / "whole.pcap"), "--no-store")
    a = _cut(sc, tmp_path / "a.pcap", 0, 40)
    b = _cut(sc, tmp_path / "b.pcap", 20, 61)
    _ingest(a)
    result = runner.invoke(app, ["telescope", "ingest", str(b), "--sensor", "dark"])
    assert result.exit_code == 0, result.output
    assert "already stored" in result.output
    total = sum(x.packets for x in open_store().sightings("dark"))
    assert total == sum(x.packets for x in whole)
