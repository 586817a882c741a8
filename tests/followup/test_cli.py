"""From the command line: notices in the store, ``lab simulate``, then the follow-up command
(simulated backend) and its effect file."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.demo._followup import _device_finding, _profile, lab_contacts, lab_findings
from iotscope.lab import build_world, write_manifest
from iotscope.notify import IspFindings, create_notices, from_mapping
from iotscope.notify._db import save_contacts
from iotscope.store import open_store
from iotscope.tenancy import CENTRE

pytestmark = pytest.mark.slow
START = datetime(2026, 10, 1, tzinfo=UTC)


def test_simulate_then_follow_up(tmp_path: Path) -> None:
    world = build_world(500, 6, "127.84.0.0/16")
    manifest = tmp_path / "manifest.json"
    write_manifest(world.manifest, manifest)
    findings = lab_findings(world.manifest, START)
    isp = max({f.isp for f in findings}, key=lambda n: sum(f.isp == n for f in findings))
    mine = [f for f in findings if f.isp == isp]
    store = open_store()
    rng = random.Random(3)
    save_contacts(store, CENTRE, lab_contacts(isp, [f.subscriber_id for f in mine], rng))
    who = from_mapping({f.ip: f.subscriber_id for f in mine})
    made = create_notices(store, CENTRE, IspFindings(isp, tuple(map(_device_finding, mine)), who),
                          rng, profile=_profile(isp), now=START)  # fmt: skip
    assert len(made) == len(mine)
    store.engine.dispose()
    out = tmp_path / "sim"
    got = CliRunner().invoke(app, ["lab", "simulate", "--manifest", str(manifest), "--days", "30",
                                   "--seed", "6", "--out", str(out), "--start",
                                   START.isoformat()])  # fmt: skip
    assert got.exit_code == 0, got.output
    assert {"state.npz", "leases.csv", "truth.json"} <= {p.name for p in out.iterdir()}
    truth = json.loads((out / "truth.json").read_text())
    assert sum(a["n"] for a in truth["arms"].values()) == len(mine)
    effect = tmp_path / "effect.json"
    got = CliRunner().invoke(app, ["notice", "follow-up", "--isp", isp, "--after-days", "30",
                                   "--leases",
                                   str(out / "leases.csv"), "--backend", "simulated", "--lab",
                                   str(out), "--manifest", str(manifest), "--out",
                                   str(effect)])  # fmt: skip
    assert got.exit_code == 0, got.output
    data = json.loads(effect.read_text())
    assert data["round"] == 30
    groups = {g["group"] for g in data["groups"]}
    assert {"email", "sms", "letter", "landing"} <= groups
    answered = sum(g["answered"] for g in data["groups"] if "/" in g["group"])
    assert answered > 0.8 * len(mine)
