"""Every blocking action is logged with its time, idempotently (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from iotscope.block import Policy, export, select
from iotscope.errors import ConfigError
from iotscope.store import Store, open_store
from iotscope.store._block import Held, block_held, block_log, record_channel
from iotscope.tenancy import CENTRE, Principal
from tests.block.conftest import indicator


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()


def test_changes_are_logged_once(store: Store, fixed_now) -> None:
    t1, t2 = fixed_now, fixed_now + timedelta(minutes=5)
    a = Held("indicator--a", t1 + timedelta(minutes=1))
    b = Held("indicator--b", t1 + timedelta(hours=1))
    assert record_channel(store, "isp-a", "plain", {"1.2.3.4/32": a, "5.6.7.8/32": b}, t1) == (
        ["1.2.3.4/32", "5.6.7.8/32"],
        [],
    )
    # the same list again: nothing changes, nothing is logged
    assert record_channel(store, "isp-a", "plain", {"1.2.3.4/32": a, "5.6.7.8/32": b}, t1) == (
        [],
        [],
    )
    assert record_channel(store, "isp-a", "plain", {"5.6.7.8/32": b}, t2) == ([], ["1.2.3.4/32"])
    assert record_channel(store, "isp-a", "plain", {}, t2, reason="revoked") == ([], ["5.6.7.8/32"])
    log = [
        (r["target"], r["action"], r["at"], r["reason"]) for r in block_log(store, CENTRE, "isp-a")
    ]
    assert log == [
        ("1.2.3.4/32", "added", t1, None),
        ("5.6.7.8/32", "added", t1, None),
        ("1.2.3.4/32", "removed", t2, "expired"),
        ("5.6.7.8/32", "removed", t2, "revoked"),
    ]
    assert block_held(store, CENTRE, "isp-a") == []


def test_bgp_verbs_and_tenancy(store: Store, fixed_now) -> None:
    held = {"198.51.100.7/32": Held("indicator--x", None)}
    record_channel(store, "isp-a", "bgp:127.0.0.1:179", held, fixed_now, kind="bgp")
    mine = Principal("isp", "isp-a")
    assert [r["action"] for r in block_log(store, mine, "isp-a")] == ["announced"]
    assert block_held(store, mine, "isp-a")[0]["since"] is not None
    with pytest.raises(ConfigError, match="another ISP"):
        block_log(store, Principal("isp", "isp-b"), "isp-a")
    with pytest.raises(ConfigError, match="another ISP"):
        block_held(store, Principal("partner"), "isp-a")


def test_revocation_is_the_logged_reason(store: Store, fixed_now, tmp_path: Path) -> None:
    ind = indicator("198.51.100.8", fixed_now)
    out = tmp_path / "list.rpz"
    export(select([ind], Policy("isp-a"), fixed_now), "rpz", out, store)
    later = fixed_now + timedelta(minutes=1)
    revoked = dict(ind, revoked=True, modified="2026-11-01T03:00:30.000Z")
    export(select([ind, revoked], Policy("isp-a"), later), "rpz", out, store)
    log = block_log(store, CENTRE, "isp-a")
    assert [(r["action"], r["reason"]) for r in log] == [("added", None), ("removed", "revoked")]


def test_export_records_what_entered_and_left(store: Store, fixed_now, tmp_path: Path) -> None:
    ind = indicator("198.51.100.7", fixed_now, valid_for=timedelta(minutes=30))
    out = tmp_path / "list.txt"
    first = export(select([ind], Policy("isp-a"), fixed_now), "plain", out, store)
    again = export(select([ind], Policy("isp-a"), fixed_now), "plain", out, store)
    later = fixed_now + timedelta(hours=1)
    gone = export(select([ind], Policy("isp-a"), later), "plain", out, store)
    ind2 = dict(ind, revoked=True, modified="2026-11-01T03:00:30.000Z")
    export(select([ind2], Policy("isp-b"), fixed_now), "plain", out, store)  # never held
    assert (first.added, again.added, gone.removed) == (
        ["198.51.100.7/32"],
        [],
        ["198.51.100.7/32"],
    )
    assert "198.51.100.7" not in out.read_text()
    log = block_log(store, CENTRE, "isp-a")
    assert [(r["action"], r["reason"], r["indicator_id"]) for r in log] == [
        ("added", None, ind["id"]),
        ("removed", "expired", ind["id"]),
    ]
