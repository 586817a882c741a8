"""`iotscope share collections`: what each role sees, as JSON Lines."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.share import SHARED_COLLECTION_ID, private_collection_id


def test_collections_per_role() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["share", "collections", "--role", "isp", "--tenant", "isp-a"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert {r["id"] for r in rows} == {SHARED_COLLECTION_ID, private_collection_id("isp-a")}
    out = runner.invoke(app, ["share", "collections", "--role", "partner"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["id"], r["can_write"]) for r in rows] == [(SHARED_COLLECTION_ID, False)]
