"""Batched subscriber lookup: answer for answer what ``subscriber_at`` says, in few queries,
and only for the ISP itself or the centre."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.attribution import (
    NotYourTenant,
    _leases,
    import_leases,
    import_registry,
    subscriber_at,
    subscribers_at,
)
from iotscope.store import Store, open_store
from iotscope.tenancy import CENTRE, Principal

ISP = "Sakura Hikari Net"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    reg = tmp_path / "reg.toml"
    reg.write_text(f'[[isp]]\nname = "{ISP}"\nprefixes = ["198.51.100.0/24"]\n'
                   '[[isp]]\nname = "Kumo Broadband"\nprefixes = ["203.0.113.0/24"]\n')  # fmt: skip
    import_registry(st, reg)
    yield st
    st.engine.dispose()


def lease_log(rng: random.Random, addresses: int) -> str:
    """Per address a run of leases of random length, with gaps, an open last lease now and
    then, and an overlapping lease now and then (the newest covering one must win)."""
    rows = ["address,start,end,subscriber_id"]
    for a in range(1, addresses + 1):
        t = T0
        for k in range(rng.randint(0, 4)):
            start = t + timedelta(hours=rng.randint(0, 12))
            end = start + timedelta(hours=rng.randint(1, 48))
            last = k == 3 or rng.random() < 0.2
            overlap = start + timedelta(hours=1)
            if rng.random() < 0.2:
                rows.append(f"198.51.100.{a},{overlap.isoformat()},{end.isoformat()},o{a}-{k}")
            rows.append(f"198.51.100.{a},{start.isoformat()},{'' if last else end.isoformat()},"
                        f"s{a}-{k}")  # fmt: skip
            if last:
                break
            t = end
    return "\n".join(rows) + "\n"


def test_same_answers_as_one_at_a_time(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(8)
    path = tmp_path / "leases.csv"
    path.write_text(lease_log(rng, 40))
    import_leases(store, ISP, path)
    monkeypatch.setattr(_leases, "BATCH", 7)  # many batches over 40 addresses
    queries = [(f"198.51.100.{rng.randint(1, 45)}", T0 + timedelta(minutes=rng.randint(-60, 9000)))
               for _ in range(300)]  # fmt: skip
    queries.append(("198.51.100.001".replace(".001", ".1"), T0 + timedelta(hours=30)))
    me = Principal("isp", ISP)
    batched = subscribers_at(store, me, ISP, queries)
    single = [subscriber_at(store, me, ISP, ip, when) for ip, when in queries]
    assert batched == single
    assert 50 < sum(s is not None for s in batched) < len(queries)  # both answers occur
    assert subscribers_at(store, CENTRE, ISP, queries[:5]) == single[:5]
    assert subscribers_at(store, me, ISP, []) == []


def test_naive_times_are_utc_and_overlaps_pick_the_newest(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "leases.csv"
    path.write_text("address,start,end,subscriber_id\n"
                    "198.51.100.7,2026-11-01T00:00:00Z,,old\n"
                    "198.51.100.7,2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,new\n")  # fmt: skip
    import_leases(store, ISP, path)
    me = Principal("isp", ISP)
    asked = [("198.51.100.7", datetime(2026, 11, 2, 12)), ("198.51.100.7", T0 + timedelta(days=5)),
             ("198.51.100.7", T0 - timedelta(seconds=1))]  # fmt: skip
    assert subscribers_at(store, me, ISP, asked) == ["new", "old", None]


def test_only_the_isp_or_the_centre(store: Store) -> None:
    query = [("198.51.100.7", T0)]
    for other in (Principal("isp", "Kumo Broadband"), Principal("partner"),
                  Principal("manufacturer", ISP)):  # fmt: skip
        with pytest.raises(NotYourTenant):
            subscribers_at(store, other, ISP, query)
