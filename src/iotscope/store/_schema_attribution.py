"""Tables for routing prefixes, ISP registry, lease logs, ISP reports (issue 8, who must act).

Created by migration 0006; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from iotscope.store._schema import metadata

route_tables = Table(
    "route_tables",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the serialised table
    Column("source", String(500), nullable=False),
    Column("format", String(8), nullable=False),  # mrt | csv
    Column("prefixes", Integer, nullable=False),
    Column("imported", DateTime(timezone=True), nullable=False),
    Column("data", LargeBinary, nullable=False),  # Routes.to_bytes(): numpy columns (.npz)
)
"""Imported routing tables, one row each (a whole table or nothing); the newest is in use."""

isps = Table(
    "isps",
    metadata,
    Column("name", String(128), primary_key=True),  # also the tenant name
    Column("asns", JSON, nullable=False),
    Column("prefixes", JSON, nullable=False),
    Column("abuse_email", String(254)),
    Column("language", String(2), nullable=False),
    Column("report_format", String(32), nullable=False),
    Column("interval", String(8), nullable=False),
    Column("domain", String(253)),
    Column("updated", DateTime(timezone=True), nullable=False),
)
"""The ISP registry (``iotscope registry import``)."""

leases = Table(
    "leases",
    metadata,
    Column("isp", String(128), nullable=False),  # the tenant that owns the row
    Column("address", String(45), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True)),  # None: still leased
    Column("subscriber_id", String(128), nullable=False),
    PrimaryKeyConstraint("isp", "address", "start", name="pk_leases"),
    Index("ix_leases_subscriber", "isp", "subscriber_id"),
)
"""An ISP's address leases (RADIUS/DHCP log): subscriber data, visible only to that ISP."""

isp_reports = Table(
    "isp_reports",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("period", String(16), nullable=False),  # YYYY-MM-DD, or YYYY-Www for weekly
    Column("report_type", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("content", LargeBinary, nullable=False),
    PrimaryKeyConstraint("isp", "filename", name="pk_isp_reports"),
    Index("ix_isp_reports_period", "isp", "period"),
)
"""Each report file written for an ISP (kept so the API can serve it to that ISP)."""

report_deliveries = Table(
    "report_deliveries",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("channel", String(8), nullable=False),  # dir | email | api
    Column("destination", String(500), nullable=False),
    Column("delivered", DateTime(timezone=True), nullable=False),
    Column("detail", String(500)),
    PrimaryKeyConstraint("isp", "filename", "channel", "destination", name="pk_report_deliveries"),
)
"""Where each report file went: a directory, a mailbox, an API download."""
