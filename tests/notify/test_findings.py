"""A day's findings read in one query, attributed per ISP, and noticed with subscribers from
the store's lease log in batches (the scale path of ``bench_notice_e2e``)."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.attribution import _leases, import_leases, import_registry
from iotscope.notify import IspFindings, NoticeProfile, create_notices
from iotscope.notify._findings import by_isp, from_finding, window_findings
from iotscope.records import Finding, Identity, Login, Survey
from iotscope.store import Store
from iotscope.store import _attribution as sa
from iotscope.tenancy import Principal

T0 = datetime(2026, 11, 4, tzinfo=UTC)
CAM = Identity(vendor="Hikvision", model="DS-2CD2032-I", version="V5.2.0", device_type="camera")


def _finding(ip: str, hours: float, weak: bool, cves: tuple[str, ...] = ()) -> Finding:
    return Finding(survey_id="s", ip=ipaddress.ip_address(ip), port=23 if weak else 80,
                   service="telnet" if weak else "http", time=T0 + timedelta(hours=hours),
                   identity=CAM if hours > 1 else None, cves=cves,
                   login=Login(protocol="telnet",
                               outcome="accepted" if weak else "rejected"))  # fmt: skip


@pytest.fixture
def day(store: Store, tmp_path: Path) -> list[Finding]:
    reg = tmp_path / "reg.toml"
    reg.write_text('[[isp]]\nname = "A"\nprefixes = ["192.0.2.0/24"]\ndomain = "a.example"\n'
                   '[[isp]]\nname = "B"\nprefixes = ["198.51.100.0/24"]\n')  # fmt: skip
    import_registry(store, reg)
    store.save_survey(Survey(id="s", started=T0, scope=("192.0.2.0/24",)))
    found = [_finding(f"192.0.2.{k}", k / 2, k % 3 != 0, ("CVE-2017-7921",) if k % 4 == 0 else ())
             for k in range(1, 31)]  # fmt: skip
    found += [_finding("198.51.100.5", 3, True), _finding("203.0.113.9", 4, True)]  # B, nobody
    found += [_finding("192.0.2.200", 30, True)]  # the next day
    store.save_findings(found)
    leases = tmp_path / "leases.csv"
    rows = [f"192.0.2.{k},{(T0 - timedelta(days=9)).isoformat()},,sub-{k}" for k in range(1, 28)]
    leases.write_text("address,start,end,subscriber_id\n" + "\n".join(rows) + "\n")
    import_leases(store, "A", leases)
    return found


def test_window_findings_are_what_from_finding_makes(store: Store, day: list[Finding]) -> None:
    got = window_findings(store, T0, T0 + timedelta(days=1))
    want = [d for f in day if f.time < T0 + timedelta(days=1) for d in from_finding(f)]
    key = lambda d: (d.time, int(d.ip), d.port, d.kind)  # noqa: E731
    assert sorted(got, key=key) == sorted(want, key=key)
    assert {d.kind for d in got} == {"weak_login", "vulnerable"}
    per = by_isp(store, got)
    assert sorted(per) == ["A", "B"]  # 203.0.113.9 belongs to no ISP of the registry
    assert len(per["A"]) + len(per["B"]) == len(got) - 1


def test_notices_resolve_subscribers_from_the_store_in_batches(
    store: Store, day: list[Finding], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = by_isp(store, window_findings(store, T0, T0 + timedelta(days=1)))["A"]
    queries: list[int] = []
    real = sa.leases_covering

    def counted(st: Store, isp: str, addrs: list[str], a: datetime, b: datetime) -> object:
        queries.append(len(addrs))
        return real(st, isp, addrs, a, b)

    monkeypatch.setattr(sa, "leases_covering", counted)
    monkeypatch.setattr(_leases, "BATCH", 10)
    profile = NoticeProfile(isp="A", domain="a.example", channels=("landing",))
    later = T0 + timedelta(days=1)
    made = create_notices(store, Principal("isp", "A"), IspFindings("A", tuple(mine)),
                          random.Random(1), profile=profile, now=later)  # fmt: skip
    hosts = sorted({int(str(d.ip).rsplit(".", 1)[1]) for d in mine})
    assert len(hosts) == 22 and len(mine) > 22
    assert queries == [10, 10, 2]  # 22 addresses, 10 a query: not one query per finding
    assert sorted(int(n.subscriber_id[4:]) for n in made) == [h for h in hosts if h <= 27]
    assert all(n.subscriber_id == f"sub-{str(n.ip).rsplit('.', 1)[1]}" for n in made)
