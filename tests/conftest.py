"""Shared fixtures: pinned time, an isolated IOTSCOPE_HOME, the shared reference data, and
the store backends (SQLite always, PostgreSQL where 127.0.0.1:5432 answers)."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotscope.config import settings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXED_NOW = datetime(2026, 11, 1, 3, 0, 0, tzinfo=UTC)
PG_BASE = os.environ.get("IOTSCOPE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` from the project's root; skips when absent (a user's clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture(autouse=True)
def iotscope_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own IOTSCOPE_HOME and the embedded store."""
    home = tmp_path / "home"
    monkeypatch.setenv("IOTSCOPE_HOME", str(home))
    monkeypatch.delenv("IOTSCOPE_DATABASE_URL", raising=False)
    settings.cache_clear()
    yield home
    settings.cache_clear()


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def require_tool(name: str) -> str:
    """Path of a Debian tool, or skip saying which package is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (make test installs it when run as root)")
    return path


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema in database ``test``, dropped afterwards."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def lab_network(request: pytest.FixtureRequest) -> str:
    """A /24 on loopback unique to this test (tests run in parallel under xdist).

    Derived from the test's node id, inside 127.100.0.0 - 127.227.255.0: never 127.0.0.0/16,
    never outside 127.0.0.0/8.
    """
    import hashlib

    digest = hashlib.sha256(request.node.nodeid.encode()).digest()
    return f"127.{100 + digest[0] % 128}.{digest[1]}.0/24"
