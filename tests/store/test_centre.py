"""The centre's tables: writes by tenant, reads scoped by tenant, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func

from iotscope.errors import ConfigError
from iotscope.store import Store, open_store
from iotscope.store.centre import (
    C2Contact,
    Intervention,
    RegionCount,
    c2_contacts,
    list_c2_contacts,
    list_interventions,
    list_region_counts,
    pseudonym,
    save_c2_contacts,
    save_interventions,
    save_region_counts,
    scoped,
)
from iotscope.tenancy import CENTRE, Principal
from tests.conftest import FIXED_NOW

A, B = Principal("isp", "isp-a"), Principal("isp", "isp-b")
KEY_A, KEY_B = b"a" * 32, b"b" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()


def _contact(isp: str, key: bytes, sub: str, day: int = 0, ip: str = "127.200.0.7") -> C2Contact:
    t = FIXED_NOW + timedelta(days=day)
    return C2Contact(isp, ip, 23, "mirai", pseudonym(key, sub), t.date(), t,
                     t + timedelta(hours=1), 3)  # fmt: skip


def test_pseudonym_is_keyed_and_stable() -> None:
    assert pseudonym(KEY_A, "S1") == pseudonym(KEY_A, "S1")
    assert pseudonym(KEY_A, "S1") != pseudonym(KEY_B, "S1")
    assert "S1" not in pseudonym(KEY_A, "S1") and len(pseudonym(KEY_A, "S1")) == 32
    with pytest.raises(ConfigError):
        pseudonym(b"short", "S1")


def test_each_isp_reads_only_its_own_contacts(store: Store) -> None:
    save_c2_contacts(store, A, [_contact("isp-a", KEY_A, "S1", d) for d in range(3)])
    save_c2_contacts(store, B, [_contact("isp-b", KEY_B, "S1")])
    assert {c.isp for c in list_c2_contacts(store, A)} == {"isp-a"}
    assert len(list_c2_contacts(store, A)) == 3
    assert len(list_c2_contacts(store, CENTRE)) == 4
    assert len(list_c2_contacts(store, CENTRE, isp="isp-b")) == 1
    with pytest.raises(ConfigError):
        list_c2_contacts(store, A, isp="isp-b")
    with pytest.raises(ConfigError):
        list_c2_contacts(store, Principal("manufacturer", "Xiongmai"))
    with pytest.raises(ConfigError):
        save_c2_contacts(store, A, [_contact("isp-b", KEY_B, "S2")])


def test_contacts_round_trip_and_upsert(store: Store) -> None:
    rows = [_contact("isp-a", KEY_A, "S1", d) for d in range(2)]
    save_c2_contacts(store, A, rows)
    save_c2_contacts(store, A, rows)  # idempotent
    got = list_c2_contacts(store, A, since=date(2026, 11, 2))
    assert got == [rows[1]]


def test_scoped_select_aggregates_within_the_tenant(store: Store) -> None:
    save_c2_contacts(store, A, [_contact("isp-a", KEY_A, f"S{i}") for i in range(5)])
    save_c2_contacts(store, B, [_contact("isp-b", KEY_B, "S9")])
    t = c2_contacts
    stmt = scoped(t, B).with_only_columns(func.count(func.distinct(t.c.bot)))
    with store.engine.connect() as conn:
        assert conn.execute(stmt).scalar() == 1


def test_interventions_national_and_own(store: Store) -> None:
    items = [
        Intervention("n1", "c2_takedown", None, "c2", "127.200.0.7:23", FIXED_NOW, None, "lab"),
        Intervention("a1", "blocklist", "isp-a", "c2", "127.200.0.7:23", FIXED_NOW, None, "lab"),
        Intervention("b1", "notice_campaign", "isp-b", "devices", "weak", FIXED_NOW, None, "lab"),
    ]
    save_interventions(store, CENTRE, items)
    assert {x.id for x in list_interventions(store, A)} == {"n1", "a1"}
    assert {x.id for x in list_interventions(store, Principal("partner"))} == {"n1"}
    assert list_interventions(store, CENTRE) == sorted(items, key=lambda x: x.id)
    with pytest.raises(ConfigError):
        save_interventions(store, A, items[:1])
    with pytest.raises(ConfigError):
        save_interventions(store, CENTRE, [Intervention("x", "magic", None, "c2", "",
                                                        FIXED_NOW, None, "lab")])  # fmt: skip


def test_region_counts_scoped(store: Store) -> None:
    day = FIXED_NOW.date()
    save_region_counts(store, A, [RegionCount("isp-a", day, "13", "Tokyo", "weak", 5)])
    save_region_counts(store, B, [RegionCount("isp-b", day, "27", "Osaka", "infected", 2)])
    assert [x.count for x in list_region_counts(store, B)] == [2]
    assert len(list_region_counts(store, CENTRE, kind="weak")) == 1
    with pytest.raises(ConfigError):
        save_region_counts(store, A, [RegionCount("isp-a", day, "13", "Tokyo", "bad", 1)])
