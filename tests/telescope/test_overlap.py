"""Overlapping captures cut from one stream merge into the sightings of the whole capture."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.pcap import PcapWriter
from iotscope.records import Sighting
from iotscope.store import open_store
from iotscope.telescope import Options, ingest
from iotscope.telescope._capture import ingest_stored
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


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut_a=st.integers(8, 55),
    overlap=st.integers(0, 6),
    inner=st.tuples(st.integers(0, 59), st.integers(1, 20)),
    order=st.permutations(["a", "b", "inner"]),
)
def test_any_cover_in_any_order_merges_to_the_whole(
    tmp_path_factory: pytest.TempPathFactory,
    cut_a: int,
    overlap: int,
    inner: tuple[int, int],
    order: list[str],
) -> None:
    """A = [0, cut), B = [cut - overlap, end), and a third capture inside them, stored in any
    order: packets, ports, times and classes equal one ingest of the whole."""
    tmp = tmp_path_factory.mktemp("cover")
    sc = standard()
    times = sorted(ts for ts, _ in sc.frames)
    assert max(b - a for a, b in itertools.pairwise(times)) < 60 * 10**9  # no gap
    whole = {str(x.src): x for x in ingest(sc.write(tmp / "w.pcap"), Options(sensor="d")).sightings}
    cuts = {
        "a": (0, cut_a),
        "b": (cut_a - overlap, 61),
        "inner": (inner[0], min(61, inner[0] + inner[1])),
    }
    store = open_store(f"sqlite:///{tmp / 'db.sqlite'}")
    for name in order:
        ingest_stored(store, _cut(sc, tmp / f"{name}.pcap", *cuts[name]), Options(sensor="d"))
    merged = {str(x.src): x for x in store.sightings("d")}
    assert merged.keys() == whole.keys()
    for src, want in whole.items():
        got = merged[src]
        assert (got.first_seen, got.last_seen, got.packets) == (
            want.first_seen,
            want.last_seen,
            want.packets,
        )
        assert got.ports == want.ports and got.classification == want.classification
    store.engine.dispose()
