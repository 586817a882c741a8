"""Registry, routes and lease logs through the store (SQLite and PostgreSQL): whole files or
nothing, errors naming file and line, and subscriber data only for its ISP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotscope.attribution import (
    NotYourTenant,
    addresses_of,
    import_leases,
    import_registry,
    import_routes,
    isp_of,
    isps,
    subscriber_at,
)
from iotscope.attribution._mrt_write import write_rib
from iotscope.errors import ConfigError
from iotscope.store import Store, open_store
from iotscope.store._tokens import resolve_token
from iotscope.tenancy import CENTRE, Principal

REGISTRY = """\
[[isp]]
name = "Sakura Hikari Net"
asns = [64512]
prefixes = ["198.51.100.0/24"]
abuse_email = "abuse@sakura.example"
language = "ja"
interval = "daily"
domain = "sakura.example"
token = true

[[isp]]
name = "Kumo Broadband"
asns = [64513, 4200000000]
abuse_email = "soc@kumo.example"
language = "en"
interval = "weekly"
"""

LEASES = """\
address,start,end,subscriber_id
198.51.100.7,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,sub-001
198.51.100.9,2026-11-02T00:00:00Z,,sub-001
198.51.100.7,2026-11-02T00:00:00Z,,sub-002
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_registry_routes_and_lookup(store: Store, tmp_path: Path) -> None:
    entries, tokens, bad = import_registry(store, _write(tmp_path, "reg.toml", REGISTRY))
    assert [e.name for e in entries] == ["Sakura Hikari Net", "Kumo Broadband"] and not bad
    principal = resolve_token(store.engine, tokens["Sakura Hikari Net"])
    assert principal == Principal(
        "isp", "Sakura Hikari Net", principal.token_id if principal else None
    )
    assert "Kumo Broadband" not in tokens  # it asked for none
    rib = tmp_path / "rib.mrt"
    rib.write_bytes(write_rib([("203.0.113.0/24", [[64496, 4200000000]]),
                               ("192.0.2.0/24", [[64496, 64999]])]))  # fmt: skip
    import_routes(store, rib)
    got = isp_of(store, ["198.51.100.1", "203.0.113.77", "192.0.2.1", "bad"])
    assert got == ["Sakura Hikari Net", "Kumo Broadband", None, None]
    assert {e.name: e.interval for e in isps(store)}["Kumo Broadband"] == "weekly"


def test_bad_registry_rows_name_file_and_line_and_import_nothing(
    store: Store, tmp_path: Path
) -> None:
    bad = REGISTRY.replace('language = "en"', 'language = "fr"')
    path = _write(tmp_path, "reg.toml", bad)
    with pytest.raises(ConfigError) as err:
        import_registry(store, path)
    assert f"{path}:15:" in str(err.value) and "language" in str(err.value)
    assert isps(store) == []
    entries, _, skipped = import_registry(store, path, skip_bad=True)
    assert [e.name for e in entries] == ["Sakura Hikari Net"] and skipped[0].line == 15


def test_registry_csv_and_manifest(store: Store, tmp_path: Path) -> None:
    csv_text = (
        "name,asns,prefixes,abuse_email,language,interval\n"
        "Tsubame Cable,64520 64521,192.0.2.0/25 192.0.2.128/25,abuse@tsubame.example,en,weekly\n"
        "Broken,notanumber,,,,\n"
    )
    path = _write(tmp_path, "reg.csv", csv_text)
    with pytest.raises(ConfigError, match=r"reg\.csv:3:"):
        import_registry(store, path)
    manifest = {
        "seed": 1, "network": "127.77.0.0/16", "created": "2026-11-01T00:00:00Z", "devices": [],
        "isps": [{"name": "Fuji Access", "asn": 64600, "prefixes": ["127.77.0.0/17"]}],
    }  # fmt: skip
    entries, _, _ = import_registry(store, _write(tmp_path, "m.json", json.dumps(manifest)))
    assert entries[0].abuse_email == "abuse@fuji-access.example"
    assert isp_of(store, ["127.77.1.1", "127.77.200.1"]) == ["Fuji Access", None]


def test_routes_csv_bad_row(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "r.csv", "prefix,asn\n192.0.2.0/24,64500\n192.0.2.1/24,64500\n")
    with pytest.raises(ConfigError, match=r"r\.csv:3: bad prefix"):
        import_routes(store, path)
    from iotscope.store import _attribution as sa

    assert sa.latest_route_table(store) is None


def test_leases_only_for_their_isp(store: Store, tmp_path: Path) -> None:
    import_registry(store, _write(tmp_path, "reg.toml", REGISTRY))
    isp = "Sakura Hikari Net"
    count, _ = import_leases(store, isp, _write(tmp_path, "l.csv", LEASES))
    assert count == 3
    me = Principal("isp", isp)
    t = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert subscriber_at(store, me, isp, "198.51.100.7", t) == "sub-001"
    assert subscriber_at(store, CENTRE, isp, "198.51.100.7", datetime(2026, 11, 5, tzinfo=UTC)) == (
        "sub-002"
    )
    assert subscriber_at(store, me, isp, "198.51.100.8", t) is None
    moves = addresses_of(store, me, isp, "sub-001")
    assert [(ip, s.day, e.day if e else None) for ip, s, e in moves] == [
        ("198.51.100.7", 1, 2),
        ("198.51.100.9", 2, None),
    ]
    since = datetime(2026, 11, 3, tzinfo=UTC)
    assert [m[0] for m in addresses_of(store, me, isp, "sub-001", since=since)] == ["198.51.100.9"]
    for other in (Principal("isp", "Kumo Broadband"), Principal("partner"),
                  Principal("manufacturer", "Sakura Hikari Net")):  # fmt: skip
        with pytest.raises(NotYourTenant):
            subscriber_at(store, other, isp, "198.51.100.7", t)
        with pytest.raises(NotYourTenant):
            addresses_of(store, other, isp, "sub-001")


def test_bad_lease_rows_never_show_the_subscriber(store: Store, tmp_path: Path) -> None:
    import_registry(store, _write(tmp_path, "reg.toml", REGISTRY))
    text = LEASES + "198.51.100.300,2026-11-01T00:00:00Z,,secret-sub\n"
    text += "198.51.100.8,2026-11-03T00:00:00Z,2026-11-02T00:00:00Z,secret-sub\n"
    path = _write(tmp_path, "l.csv", text)
    with pytest.raises(ConfigError) as err:
        import_leases(store, "Sakura Hikari Net", path)
    msg = str(err.value)
    assert f"{path}:5: bad address" in msg and f"{path}:6: end is not after start" in msg
    assert "secret-sub" not in msg
    me = Principal("isp", "Sakura Hikari Net")
    assert addresses_of(store, me, "Sakura Hikari Net", "sub-001") == []  # nothing imported
    with pytest.raises(ConfigError, match="unknown ISP"):
        import_leases(store, "Nobody", path)


def test_shipped_example_registry_imports(store: Store) -> None:
    from importlib.resources import files

    example = Path(str(files("iotscope.attribution") / "registry.example.toml"))
    entries, tokens, bad = import_registry(store, example)
    assert [e.name for e in entries] == ["Example Hikari", "Example Cable"] and not bad
    assert list(tokens) == ["Example Hikari"]
    assert isp_of(store, ["192.0.2.9", "2001:db8:100::1"]) == ["Example Hikari"] * 2
