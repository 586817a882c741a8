"""The demo's centre step on a small month world: served over real HTTP, every page of every
role answers 200, and the tokens it prints sign in."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from iotscope.demo._centre import centre_step

pytestmark = pytest.mark.network


def test_centre_step_once_checks_every_page(tmp_path: Path) -> None:
    demo = centre_step(tmp_path, seed=3, devices=300, isps=3, once=True)
    assert (tmp_path / "centre.sqlite").is_file()  # its own store beside the demo's
    assert set(demo.tokens) >= {"centre", "partner"} and len(demo.tokens) == 4
    assert not demo.failed
    assert {c.role for c in demo.checks} == set(demo.tokens)
    assert all(c.status == 200 for c in demo.checks)
    assert {c.path for c in demo.checks if c.role == "centre"} >= {"/centre/"}
    with pytest.raises(httpx.ConnectError):  # served only while the step runs
        httpx.get(f"{demo.url}/healthz", timeout=2)
