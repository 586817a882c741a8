"""``iotscope lab month`` through the real CLI app: truth.json written, the store loaded."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.makers import load_labels, parse_registry
from iotscope.store import open_store
from iotscope.store.centre import list_c2_contacts, list_interventions
from iotscope.tenancy import CENTRE


def test_lab_month_writes_truth_and_loads_the_store(tmp_path: Path) -> None:
    out = tmp_path / "m"
    args = ["lab", "month", "--seed", "4", "--devices", "200", "--days", "8", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    facts = json.loads((out / "truth.json").read_text())
    assert facts["seed"] == 4 and facts["devices"] == 200 and facts["days"] == 8
    store = open_store()  # the test's IOTSCOPE_HOME, as the command used
    assert len(store.surveys()) == len(facts["survey_rounds"]) == 2
    ids = {x.id for x in list_interventions(store, CENTRE)}
    assert ids == {x["id"] for x in facts["interventions"]}
    assert len(list_c2_contacts(store, CENTRE)) > 0
    # the world's JC-STAR registry: a CSV `makers jcstar import` reads, and in the store
    registry = parse_registry((out / "jcstar.csv").read_text("utf-8"))
    assert not registry.bad and len(registry.labels) == len(facts["jcstar"]) > 0
    assert {(x.vendor, x.model) for x in load_labels(store)} == {
        (x["vendor"], x["model"]) for x in facts["jcstar"]
    }
