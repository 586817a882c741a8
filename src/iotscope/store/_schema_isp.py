"""Tables for continuous detection at an ISP: publish state per site (issue 9).

Created by migration 0011; ``_schema.py`` imports this module so that ``metadata`` holds them.

``isp_published`` is what a site has sent to the hub: per STIX object, its last version (the
object itself, ``modified``, a hash of its content) and, for a C2 endpoint's indicator, the
endpoint and its status. ``isp_outbox`` holds the envelopes still to be sent. Both are written
in the transaction that decides a publication (:mod:`iotscope.isp._state`), so a kill -9 at any
point neither sends a C2 twice as new (the state already knows it) nor loses an envelope (the
outbox keeps it until the hub has answered).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from iotscope.store._schema import metadata

isp_published = Table(
    "isp_published",
    metadata,
    Column("site", String(64), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("ip", String(45)),  # the C2 endpoint (indicators only)
    Column("port", Integer),
    Column("proto", String(8)),
    Column("version", Integer, nullable=False),  # 1 for the first version sent
    Column("modified", String(32)),  # the STIX timestamp text, exactly as sent
    Column("content_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # active | expired | revoked
    Column("object", JSON, nullable=False),  # the last version sent
    Column("run_id", String(64)),  # the detection run that decided it
    Column("updated", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("site", "object_id", name="pk_isp_published"),
    Index("ix_isp_published_endpoint", "site", "ip", "port", "proto"),
)

isp_outbox = Table(
    "isp_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("run_id", String(64)),
    Column("created", DateTime(timezone=True), nullable=False),  # when the decision committed
    Column("objects", JSON, nullable=False),  # the envelope's objects
    Column("counts", JSON, nullable=False),  # endpoints new / changed / expired
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),  # pending | sent | dead (rejected)
    Column("sent", DateTime(timezone=True)),  # when the hub answered for good
    Column("status_id", String(128)),  # the hub's TAXII status resource id
    Column("last_error", Text),
    Index("ix_isp_outbox_pending", "site", "outcome", "next_attempt"),
)
