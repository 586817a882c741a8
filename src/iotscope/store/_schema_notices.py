"""Tables for subscriber notices, their events, ISP notice profiles, subscriber contacts and
network-side protections (issue 8, items 4 and 5).

Created by migration 0007; ``_schema.py`` imports this module so that ``metadata`` holds them.
Every row carries its ISP (``isp``): subscriber data stays inside that ISP's tenancy.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

notices = Table(
    "notices",
    metadata,
    Column("id", String(32), primary_key=True),  # digest of the natural key (idempotent)
    Column("isp", String(128), nullable=False),
    Column("subscriber_id", String(128), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("finding_time", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),  # the most pressing: infected > vulnerable > weak
    Column("kinds", JSON, nullable=False),
    Column("ports", JSON, nullable=False),
    Column("device", JSON, nullable=False),  # vendor, product, model, version
    Column("details", JSON, nullable=False),  # cves, login protocols, services: the appendix
    Column("channel", String(16), nullable=False),
    Column("variant", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("sent", DateTime(timezone=True)),
    Column("delivered", DateTime(timezone=True)),
    Column("viewed", DateTime(timezone=True)),
    Column("fixed_reported", DateTime(timezone=True)),
    Column("token_hash", String(64), nullable=False),
    Column("message_id", String(255)),
    Index("ux_notices_natural", "isp", "subscriber_id", "ip", "finding_time", unique=True),
    Index("ux_notices_token", "token_hash", unique=True),
    Index("ix_notices_isp_created", "isp", "created"),
)
"""One notice per subscriber and device (address at the finding's time). The landing-page
token is 256 random bits kept only as its SHA-256."""

notice_events = Table(
    "notice_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(32), nullable=False),
    Column("event", String(24), nullable=False),  # created|sent|delivered|viewed|fixed_reported
    Column("time", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_notice_events_notice", "notice_id", "time"),
)
"""Append-only: every event with its time (the ``notices`` columns keep the first of each)."""

notice_profiles = Table(
    "notice_profiles",
    metadata,
    Column("isp", String(128), primary_key=True),
    Column("domain", String(253), nullable=False),
    Column("settings", JSON, nullable=False),  # names, support phone, channel order, language
)
"""How one ISP sends notices: its own domain (every link and sender address is on it)."""

notice_contacts = Table(
    "notice_contacts",
    metadata,
    Column("isp", String(128), nullable=False, primary_key=True),
    Column("subscriber_id", String(128), nullable=False, primary_key=True),
    Column("name", String(200)),
    Column("email", String(254)),
    Column("phone", String(32)),
    Column("postal", Text),
    Column("language", String(8)),
    Column("managed_cpe", Boolean, nullable=False),
)
"""A subscriber's contact data, inside its ISP's tenancy only; it picks the channel."""

protections = Table(
    "protections",
    metadata,
    Column("id", String(32), primary_key=True),  # digest of the natural key
    Column("isp", String(128), nullable=False),
    Column("subscriber_id", String(128), nullable=False),
    Column("notice_id", String(32)),
    Column("ip", String(45), nullable=False),
    Column("finding_time", DateTime(timezone=True), nullable=False),
    Column("measure", String(24), nullable=False),  # inbound_filter|c2_block|firmware_push
    Column("params", JSON, nullable=False),
    Column("state", String(12), nullable=False),  # proposed|applied|lifted
    Column("proposed", DateTime(timezone=True), nullable=False),
    Column("applied", DateTime(timezone=True)),
    Column("applied_by", String(128)),
    Column("lifted", DateTime(timezone=True)),
    Column("lifted_by", String(128)),
    Index("ix_protections_isp_state", "isp", "state"),
)
"""Network-side measures that do not wait for the user: proposed -> applied -> lifted."""

protection_events = Table(
    "protection_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("protection_id", String(32), nullable=False),
    Column("state", String(12), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text),
    Index("ix_protection_events_protection", "protection_id", "time"),
)
"""Append-only: who moved a protection to which state, when and why."""
