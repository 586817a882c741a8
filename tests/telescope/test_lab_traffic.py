"""The lab's darknet capture (`iotscope lab traffic`) classified against its truth.json.

Uses only the command-line contract: ``DIR/darknet.pcap`` and ``truth.json`` ``scanners[{src,
kind}]``. The lab's research scanners come from its documented research range (passed as a
research prefix, as an operator would pass the published ranges of scanning projects).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.telescope import Options, ingest

LAB_RESEARCH_RANGE = "192.0.2.0/26"


@pytest.mark.slow
def test_every_truth_scanner_gets_its_class(tmp_path: Path) -> None:
    out = tmp_path / "traffic"
    result = CliRunner().invoke(
        app, ["lab", "traffic", "--out", str(out), "--days", "1", "--devices", "60"]
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text())["scanners"]
    got = ingest(out / "darknet.pcap", Options(research_prefixes=(LAB_RESEARCH_RANGE,)))
    classes = {str(s.src): s.classification for s in got.sightings}
    wrong = [
        (t["src"], t["kind"], classes.get(t["src"]))
        for t in truth
        if classes.get(t["src"]) != t["kind"]
    ]
    assert truth and not wrong
    assert got.stats.malformed == 0 and got.stats.capture_errors == 0
