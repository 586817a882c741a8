"""Partner-supplied files (lease logs, registries, routes CSV) with arbitrary content: a clean
ConfigError naming the file, or rows that passed validation; never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotscope.attribution import read_leases, read_registry
from iotscope.attribution._routes import read_routes_csv
from iotscope.errors import ConfigError

FIELD = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["198.51.100.7", "2001:db8::1", "2026-11-01T00:00:00Z", "", "sub-1",
                     "2026-13-01", "64512", "198.51.100.0/24", "ja", "weekly", "a@b.example"]),
)  # fmt: skip
ROW = st.lists(FIELD, min_size=0, max_size=6).map(
    lambda fs: ",".join(
        '"' + f.replace('"', '""') + '"' if "," in f or "\n" in f else f for f in fs
    )
)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def _expect_clean(fn: object, path: Path) -> None:
    try:
        fn(path)  # type: ignore[operator]
    except ConfigError as exc:
        assert str(path) in str(exc)


@FUZZ
@given(st.lists(ROW, max_size=8))
def test_lease_log_fuzz(tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "leases.csv"
    path.write_text("address,start,end,subscriber_id\n" + "\n".join(rows) + "\n")
    _expect_clean(read_leases, path)


@FUZZ
@given(st.binary(max_size=300))
def test_lease_log_bytes_fuzz(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "leases.csv"
    path.write_bytes(b"address,start,end,subscriber_id\n" + data)
    _expect_clean(read_leases, path)


@FUZZ
@given(st.lists(ROW, max_size=8))
def test_registry_csv_fuzz(tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("name,asns,prefixes,abuse_email,language,interval\n" + "\n".join(rows))
    _expect_clean(read_registry, path)


@FUZZ
@given(st.text(max_size=300))
def test_registry_toml_fuzz(tmp_path: Path, text: str) -> None:
    path = tmp_path / "registry.toml"
    path.write_text("[[isp]]\n" + text, encoding="utf-8")
    _expect_clean(read_registry, path)


@FUZZ
@given(st.lists(ROW, max_size=8))
def test_routes_csv_fuzz(tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "routes.csv"
    path.write_text("prefix,asn\n" + "\n".join(rows) + "\n")
    try:
        read_routes_csv(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


@pytest.mark.parametrize("name", ["x.yaml", "x.toml", "x.csv", "x.json"])
def test_unreadable_registry_is_a_config_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError):
        read_registry(path)
