"""The lab's lease logs: seeded, consistent (no address held twice at once), importable."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import UTC, datetime
from pathlib import Path

from iotscope.attribution import addresses_of, import_leases, import_registry, subscriber_at
from iotscope.lab._leases import lease_log, write_lease_logs
from iotscope.lab._manifest import write_manifest
from iotscope.lab._world import World, build_world
from iotscope.store import open_store
from iotscope.tenancy import CENTRE


def _world() -> World:
    return build_world(60, seed=5, network=ipaddress.IPv4Network("127.91.0.0/16"))


def test_leases_are_seeded_and_never_overlap() -> None:
    m = _world().manifest
    rows = lease_log(m.isps, m.devices, seed=5, days=10, churn=0.2)
    assert rows == lease_log(m.isps, m.devices, seed=5, days=10, churn=0.2)
    assert rows != lease_log(m.isps, m.devices, seed=6, days=10, churn=0.2)
    by_addr: dict[str, list[tuple[datetime, datetime]]] = {}
    far = datetime(9999, 1, 1, tzinfo=UTC)
    for r in rows:
        by_addr.setdefault(r.address, []).append((r.start, r.end or far))
    for spans in by_addr.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    subs = {r.subscriber_id for r in rows}
    assert len(subs) == len([d for d in m.devices if d.isp])
    moved = [s for s in subs if sum(r.subscriber_id == s for r in rows) > 1]
    assert moved  # 10 days at 20% a day: some subscribers changed address
    for r in rows:  # every lease stays within its ISP's prefixes
        isp = next(i for i in m.isps if i.name == r.isp)
        assert any(ipaddress.ip_address(r.address) in ipaddress.ip_network(p) for p in isp.prefixes)


def test_lab_leases_import_and_resolve(tmp_path: Path) -> None:
    m = _world().manifest
    write_manifest(m, tmp_path / "manifest.json")
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    import_registry(store, tmp_path / "manifest.json")
    rows = lease_log(m.isps, m.devices, seed=5, days=5, churn=0.3)
    paths = write_lease_logs(rows, tmp_path / "leases")
    for isp, path in paths.items():
        import_leases(store, isp, path)
    r = next(r for r in rows if r.end is not None)
    mid = r.start + (r.end - r.start) / 2  # type: ignore[operator]
    assert subscriber_at(store, CENTRE, r.isp, r.address, mid) == r.subscriber_id
    held = addresses_of(store, CENTRE, r.isp, r.subscriber_id)
    assert r.address in [ip for ip, _, _ in held] and len(held) >= 2


def test_anchor_end_leaves_every_subscriber_on_its_device() -> None:
    m = _world().manifest
    rows = lease_log(m.isps, m.devices, seed=5, days=10, churn=0.3, anchor="end")
    open_now = {r.subscriber_id: r.address for r in rows if r.end is None}
    assert sorted(open_now.values()) == sorted(str(d.ip) for d in m.devices if d.isp)
    assert any(r.end is not None for r in rows)  # and a history of other addresses before
    by_addr: dict[str, list[tuple[datetime, datetime]]] = {}
    far = datetime(9999, 1, 1, tzinfo=UTC)
    for r in rows:
        assert r.end is None or r.start < r.end
        by_addr.setdefault(r.address, []).append((r.start, r.end or far))
    for spans in by_addr.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
