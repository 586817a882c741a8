"""Tables for blocklists and BGP actions, recorded with their time (issue 9).

Created by migration 0012; ``_schema.py`` imports this module so that ``metadata`` holds them.
Both tables belong to an ISP (``isp`` is the tenant): which addresses and names it blocks is
its own business, read back only by itself and the centre (for the effect measurements).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, PrimaryKeyConstraint, String, Table

from iotscope.store._schema import metadata

block_entries = Table(
    "block_entries",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("channel", String(160), nullable=False),  # plain|nftables|rpz|bgp:HOST:PORT
    Column("target", String(300), nullable=False),  # an IPv4 network or a DNS name
    Column("indicator_id", String(100)),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True)),
    PrimaryKeyConstraint("isp", "channel", "target", name="pk_block_entries"),
)
"""What each channel of an ISP holds now (the last list written, the routes announced)."""

block_actions = Table(
    "block_actions",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("channel", String(160), nullable=False),
    Column("target", String(300), nullable=False),
    Column("action", String(16), nullable=False),  # added|removed|announced|withdrawn
    Column("at", DateTime(timezone=True), nullable=False),
    Column("indicator_id", String(100)),
    Column("reason", String(64)),
    PrimaryKeyConstraint("isp", "channel", "target", "action", "at", name="pk_block_actions"),
    Index("ix_block_actions_isp_at", "isp", "at"),
)
"""Every change with its time: when a C2 entered a list or a route went out, and when it left."""
