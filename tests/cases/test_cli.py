"""``iotscope case``: the whole course from the command line, on the embedded store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.followup import Check, make_subject, save_subjects, with_notice
from iotscope.followup._store import save_checks
from iotscope.store import open_store
from iotscope.tenancy import CENTRE
from tests.cases.test_cases import F


def test_case_commands() -> None:
    store = open_store()
    now = datetime.now(UTC)
    rows = []
    for k in range(3):
        when = now - timedelta(days=50 - 10 * k)
        x = make_subject("t", "Kumo", F("127.81.0.9", 23, when, "sub-9"), {"vendor": "V"}, when)
        rows.append(with_notice(x, f"n-{k}", "letter", "B", when))
    save_subjects(store, CENTRE, rows)
    save_checks(store, [Check(rows[-1].id, r, now - timedelta(days=10 - r), "survey",
                              "127.81.0.9", "still_weak", {}) for r in (1, 2)])  # fmt: skip
    store.engine.dispose()
    run = CliRunner().invoke
    isp = ["--isp", "Kumo"]
    got = run(app, ["case", "candidates", *isp])
    assert got.exit_code == 0 and "sub-9" in got.output
    got = run(app, ["case", "propose", "--subscriber", "sub-9", *isp, "--actor", "sato",
                    "--reason", "three letters, still weak"])  # fmt: skip
    assert got.exit_code == 0, got.output
    case = got.stdout.strip().splitlines()[-1]
    for actor in ("suzuki", "tanaka"):
        got = run(app, ["case", "approve", case, *isp, "--actor", actor, "--reason", "ok"])
        assert got.exit_code == 0, got.output
    got = run(app, ["case", "approve", case, *isp, "--actor", "tanaka", "--reason", "again"])
    assert got.exit_code != 0
    got = run(app, ["case", "notify", case, *isp, "--actor", "sato", "--reason", "letter",
                    "--deadline-days", "14"])  # fmt: skip
    assert got.exit_code == 0, got.output
    got = run(app, ["case", "list", *isp])
    assert got.exit_code == 0 and "noticed" in got.output
    got = run(app, ["case", "list", "--isp", "Fuji Access"])
    assert case not in got.output
    got = run(app, ["case", "audit", case, *isp])
    steps = [json.loads(line)["step"] for line in got.stdout.splitlines()]
    assert steps == ["propose", "approve", "approve", "notify"]
