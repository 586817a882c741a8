"""The demo step writes the three lists and (with bird installed) the routes reach BIRD."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotscope.block._bird import bird_available
from iotscope.demo._block import block_step
from iotscope.store import open_store
from iotscope.store._block import block_log
from iotscope.tenancy import CENTRE
from tests.block.conftest import indicator

pytestmark = [pytest.mark.network, pytest.mark.slow]


def test_block_step(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    objs = [indicator("198.51.100.7", now, port=23), indicator("c2.bad.example", now)]
    sel = block_step(store, tmp_path, "isp-a", objects=objs)
    assert len(sel.entries) == 2
    out = tmp_path / "block" / "isp-a"
    assert "198.51.100.7" in (out / "c2.txt").read_text()
    assert "c2.bad.example CNAME ." in (out / "rpz.zone").read_text()
    actions = {(r["channel"].split(":")[0], r["action"]) for r in block_log(store, CENTRE, "isp-a")}
    assert {("plain", "added"), ("nftables", "added"), ("rpz", "added")} <= actions
    if bird_available():
        assert {("bgp", "announced"), ("bgp", "withdrawn")} <= actions
    store.engine.dispose()
