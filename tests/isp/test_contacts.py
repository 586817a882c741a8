"""An ISP's C2 contacts from a stored detection run and its own flows, pseudonymised."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.flows import flows_table, write_parquet
from iotscope.isp._contacts import pseudonym_key, record_contacts, run_contacts
from iotscope.records import C2Candidate, C2Run
from iotscope.store import Store, open_store
from iotscope.store import _attribution as sa
from iotscope.store.centre import list_c2_contacts, pseudonym
from iotscope.tenancy import CENTRE, Principal
from tests.conftest import FIXED_NOW

ISP, SITE, C2 = "isp-a", "site-a", "127.200.0.9"
KEY = b"k" * 32
DAY = timedelta(days=1)


def _flows(root: Path) -> None:
    t0 = int(FIXED_NOW.timestamp() * 1000)
    # subscriber S1 at .10 on day 0 and at .11 on day 1 (an address change); .20 has no lease;
    # one flow to another port of the C2 and one to an unrelated address do not count
    rows = [
        (t0, "127.64.0.10", C2, 23), (t0 + 60_000, "127.64.0.10", C2, 23),
        (t0 + 86_400_000, "127.64.0.11", C2, 23), (t0 + 1000, "127.64.0.20", C2, 23),
        (t0 + 2000, "127.64.0.10", C2, 80), (t0 + 3000, "127.64.0.10", "127.9.9.9", 23),
    ]  # fmt: skip
    table = flows_table(
        start_ms=[r[0] for r in rows], end_ms=[r[0] + 500 for r in rows],
        src=[r[1] for r in rows], dst=[r[2] for r in rows], sport=[40000] * len(rows),
        dport=[r[3] for r in rows], proto=["tcp"] * len(rows), packets=[3] * len(rows),
        octets=[180] * len(rows), tcp_flags=[0x1B] * len(rows), exporter="127.0.0.1",
        site=SITE,
    )  # fmt: skip
    write_parquet(table, root, source_key="t1")


def _run(store: Store) -> None:
    run = C2Run(id="r1", site=SITE, started=FIXED_NOW, finished=FIXED_NOW)
    cand = C2Candidate(ip=C2, port=23, proto="tcp", score=0.9, clients=2, infected_clients=1,
                       first_seen=FIXED_NOW, last_seen=FIXED_NOW + DAY, reasons=("beacon",),
                       site=SITE)  # fmt: skip
    store.save_c2_run(run, [cand])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _flows(tmp_path / "flows")
    _run(st)
    sa.replace_leases(st, ISP, [
        {"address": "127.64.0.10", "start": FIXED_NOW - DAY, "end": FIXED_NOW + DAY / 2,
         "subscriber_id": "S1"},
        {"address": "127.64.0.11", "start": FIXED_NOW + DAY / 2, "end": None,
         "subscriber_id": "S1"},
    ])  # fmt: skip
    return st


def test_contacts_name_the_subscriber_not_the_address(store: Store, tmp_path: Path) -> None:
    me = Principal("isp", ISP)
    got = run_contacts(store, me, ISP, SITE, root=tmp_path / "flows", key=KEY)
    s1, other = pseudonym(KEY, "S1"), pseudonym(KEY, "addr:127.64.0.20")
    assert sorted((c.day.isoformat(), c.bot, c.flows) for c in got) == sorted([
        (FIXED_NOW.date().isoformat(), s1, 2), ((FIXED_NOW + DAY).date().isoformat(), s1, 1),
        (FIXED_NOW.date().isoformat(), other, 1),
    ])  # fmt: skip
    assert all(c.c2_ip == C2 and c.c2_port == 23 and c.isp == ISP for c in got)
    assert not any("127.64" in c.bot or "S1" in c.bot for c in got)
    assert record_contacts(store, me, ISP, SITE, root=tmp_path / "flows", key=KEY) == 3
    assert len(list_c2_contacts(store, CENTRE)) == 3
    assert list_c2_contacts(store, Principal("isp", "isp-b")) == []


def test_only_the_isp_derives_its_contacts(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        run_contacts(store, Principal("isp", "isp-b"), ISP, SITE, root=tmp_path / "flows")
    with pytest.raises(ConfigError):
        run_contacts(store, CENTRE, ISP, "no-such-site", root=tmp_path / "flows", key=KEY)


def test_pseudonym_key_is_made_once_and_kept_private(iotscope_home: Path) -> None:
    key = pseudonym_key("Sakura Hikari Net")
    assert len(key) == 32 and pseudonym_key("Sakura Hikari Net") == key
    path = next((iotscope_home / "keys").iterdir())
    assert path.stat().st_mode & 0o077 == 0
    assert pseudonym_key("Kumo Broadband") != key
