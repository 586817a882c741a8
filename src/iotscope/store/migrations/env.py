"""Alembic environment: the engine comes from ``iotscope.store._migrate`` (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from iotscope.store._schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
