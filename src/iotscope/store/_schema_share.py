"""Tables for STIX content state, confirmations between ISPs, partner sources (issue 9).

Created by migration 0010; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Table

from iotscope.store._schema import metadata

share_published = Table(
    "share_published",
    metadata,
    Column("isp", String(64), primary_key=True),  # the tenant that published it
    Column("object_id", String(100), primary_key=True),  # STIX id (type--uuid)
    Column("type", String(40), nullable=False),
    Column("modified", String(30)),  # STIX timestamp of the version (None: unversioned)
    Column("revoked", Boolean, nullable=False),
    Column("object", JSON, nullable=False),  # the whole last version
    Column("updated", DateTime(timezone=True), nullable=False),
    Index("ix_share_published_type", "isp", "type"),
)
"""The last version of each STIX object a site published: ``previous`` for the next run
(so an unchanged object is not sent again and a changed one gets a later ``modified``), and
what ``share revoke`` withdraws."""

share_answers = Table(
    "share_answers",
    metadata,
    Column("window", String(64), primary_key=True),  # SHA-256 of the reference flow files
    Column("isp", String(64), primary_key=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("detector", JSON, nullable=False),  # engine, threshold, params, iotscope version
    Column("candidates", JSON, nullable=False),  # [{ip, port, proto, score}] (no clients)
)
"""Each ISP's answer over a shared reference window of flows (``share calibrate``)."""

share_partner_imports = Table(
    "share_partner_imports",
    metadata,
    Column("id", String(64), primary_key=True),  # digest of source + bytes: re-import is a no-op
    Column("source", String(100), nullable=False),
    Column("kind", String(16), nullable=False),  # misp, stix, feodo-csv, feodo-json
    Column("imported", DateTime(timezone=True), nullable=False),
    Column("objects", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("errors", JSON, nullable=False),  # the first bad items, each named (where, why)
    Index("ix_share_partner_imports_source", "source", "imported"),
)
"""Partner feeds read into the hub as read-only sources: one row per distinct file read."""
