"""The operational store: surveys, findings, sightings and C2 candidates.

SQLite under ``IOTSCOPE_HOME`` by default, PostgreSQL via ``IOTSCOPE_DATABASE_URL``; one
schema, created by Alembic migrations; writes are idempotent upserts by natural key.
"""

from __future__ import annotations

from sqlalchemy import Engine

from iotscope.config import Settings, settings
from iotscope.store._store import Store, make_engine
from iotscope.store._survey import SurveyProgress, load_survey_progress, save_survey_batch

__all__ = [
    "Store",
    "SurveyProgress",
    "load_survey_progress",
    "make_engine",
    "open_store",
    "save_survey_batch",
    "upgrade",
]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (Alembic is imported only when a store opens)."""
    from iotscope.store._migrate import upgrade as run_upgrade

    run_upgrade(engine, revision)


def open_store(url: str | None = None, config: Settings | None = None) -> Store:
    """Open (and migrate to the newest schema) the store at ``url`` or the configured one."""
    engine = make_engine(url or (config or settings()).db_url)
    upgrade(engine)
    return Store(engine)
