"""Tables for the TAXII 2.1 hub: collections, objects and their versions, status resources,
webhook subscriptions and dead letters (issue 9).

Created by migration 0009; ``_schema.py`` imports this module so that ``metadata`` holds them.

Times the hub pages by are integers (microseconds since the epoch, UTC): exact on SQLite and
PostgreSQL alike, and the keyset ``(added_us, rid)`` of one collection is one index range.
An object's JSON is kept as text so a page is served by joining stored strings (no parse).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from iotscope.store._schema import metadata

_ROWID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only

hub_collections = Table(
    "hub_collections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # shared | private | source | lineage
    Column("owner", String(128)),  # the ISP of a private collection; None otherwise
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("created", DateTime(timezone=True), nullable=False),
)

hub_objects = Table(
    "hub_objects",
    metadata,
    Column("rid", _ROWID, primary_key=True, autoincrement=True),
    Column("collection_id", String(64), nullable=False),
    Column("id", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("version", String(40), nullable=False),  # as the object states it (or date_added)
    Column("version_us", BigInteger, nullable=False),
    Column("added_us", BigInteger, nullable=False),  # date_added, unique and increasing
    Column("is_last", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("owner", String(128)),  # tenant that added it (None: centre or partner)
    Column("body", Text, nullable=False),
    Index("ux_hub_objects_version", "collection_id", "id", "version_us", unique=True),
    Index("ix_hub_objects_page", "collection_id", "added_us", "rid"),
    Index("ix_hub_objects_last", "collection_id", "is_last", "added_us", "rid"),
)

hub_clock = Table(
    "hub_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_us", BigInteger, nullable=False),
)
"""One row: the last date_added handed out. Writers update it first in their transaction, so
they serialise on it and commit in date_added order (a reader paging by ``added_after`` or a
cursor never misses a row committed late)."""

hub_status = Table(
    "hub_status",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("collection_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("tenant", String(128)),
    Column("request_timestamp", DateTime(timezone=True), nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("details", JSON, nullable=False),  # successes, failures, pendings
)

hub_webhooks = Table(
    "hub_webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("tenant", String(128)),
    Column("collection_id", String(64), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("cursor_added_us", BigInteger, nullable=False),
    Column("cursor_rid", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("delivered", BigInteger, nullable=False),
    Index("ix_hub_webhooks_collection", "collection_id"),
)

hub_dead_letters = Table(
    "hub_dead_letters",
    metadata,
    Column("rid", _ROWID, primary_key=True, autoincrement=True),
    Column("webhook_id", String(36), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("body", Text, nullable=False),
    Index("ix_hub_dead_letters_webhook", "webhook_id"),
)
