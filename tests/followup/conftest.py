"""Store backends for the follow-up and case tests: SQLite always, PostgreSQL where it runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iotscope.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()
