"""Hub fixtures: a store (SQLite, and PostgreSQL where reachable), a token per role, the app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iotscope.service import create_app
from iotscope.share import TAXII_MEDIA
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token, revoke_token

ROLES = {
    "centre": ("centre", None),
    "isp-a": ("isp", "isp-a"),
    "isp-b": ("isp", "isp-b"),
    "vendor": ("manufacturer", "acme"),
    "partner": ("partner", None),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    s = open_store(url)
    yield s
    s.engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'hub.db'}")


def mint_all(store: Store) -> dict[str, str]:
    """A token per role name in ROLES, plus ``revoked`` (a revoked ISP token)."""
    tokens = {
        name: mint_token(store.engine, role, tenant) for name, (role, tenant) in ROLES.items()
    }  # type: ignore[arg-type]
    tokens["revoked"] = mint_token(store.engine, "isp", "isp-a")
    revoke_token(store.engine, tokens["revoked"].split("_")[1])
    return tokens


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    return mint_all(store)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as c:
        yield c


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """``iotscope serve`` as a real uvicorn process over its own store, one per test module;
    yields its base URL and a token per role."""
    from tests.share.server import serving

    home = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{home / 'iotscope.db'}"
    store = open_store(url)
    tokens = mint_all(store)
    store.engine.dispose()
    with serving({"IOTSCOPE_HOME": str(home), "IOTSCOPE_DATABASE_URL": url}) as base:
        yield base, tokens


def auth(token: str | None) -> dict[str, str]:
    h = {"Accept": TAXII_MEDIA}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


def post_headers(token: str) -> dict[str, str]:
    return auth(token) | {"Content-Type": TAXII_MEDIA}


def indicator(n: int, modified: str = "2026-11-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    """A minimal valid STIX 2.1 indicator with a deterministic id per ``n``."""
    oid = uuid.uuid5(uuid.NAMESPACE_URL, f"ind-{n}")
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{oid}",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": modified,
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
        **extra,
    }
