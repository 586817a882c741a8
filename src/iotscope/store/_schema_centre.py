"""Tables the analysis centre reads (issue 10): what ISPs share with it, and what was done.

Created by migration 0013; ``_schema.py`` imports this module so that ``metadata`` holds them.

- ``c2_contacts``: each ISP's detector's account of its own subscribers' devices contacting
  detected C2 endpoints, one row per (ISP, C2 endpoint, bot, day). ``bot`` is a pseudonym the
  ISP derives with its own secret key from its subscriber (or device) id, so a bot keeps its
  identity across address changes and C2 changes while no other tenant can reverse it. No
  address, lease or subscriber id of the ISP's side is stored. ``isp`` is the tenant.
- ``interventions``: countermeasures with their times (a C2 taken down, a blocklist, a BGP
  blackhole, a notice campaign...). ``isp`` None means national (everyone may read it).
- ``region_counts``: aggregates an ISP shares per day and prefecture (JIS X 0401 code):
  weak, vulnerable and infected devices. Counts only, never a subscriber. ``isp`` is the tenant.
- ``isp_subscribers``: an ISP's subscriber count from a day on (the KPIs' denominator).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from iotscope.store._schema import metadata

c2_contacts = Table(
    "c2_contacts",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("c2_ip", String(45), nullable=False),
    Column("c2_port", Integer, nullable=False),
    Column("family", String(64)),  # None: the detector could not tell
    Column("bot", String(40), nullable=False),  # keyed pseudonym of the ISP's subscriber
    Column("day", Date, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("flows", Integer, nullable=False),
    PrimaryKeyConstraint("isp", "c2_ip", "c2_port", "bot", "day", name="pk_c2_contacts"),
    Index("ix_c2_contacts_isp_day", "isp", "day"),
    Index("ix_c2_contacts_day", "day"),
    Index("ix_c2_contacts_c2", "c2_ip", "c2_port"),
)
"""Per ISP, C2 endpoint, bot and UTC day: when it was first and last seen and in how many flows."""

interventions = Table(
    "interventions",
    metadata,
    Column("id", String(64), nullable=False),
    # c2_takedown|blocklist|bgp_blackhole|notice_campaign
    Column("kind", String(32), nullable=False),
    Column("isp", String(128)),  # None: national
    Column("target_kind", String(16), nullable=False),  # c2|lineage|campaign|devices
    Column("target", Text, nullable=False),  # "ip:port[,ip:port...]", a lineage or campaign name
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True)),  # None: still in force
    Column("source", String(64), nullable=False),  # lab|block_actions|notices|manual
    Column("note", Text),
    PrimaryKeyConstraint("id", name="pk_interventions"),
    Index("ix_interventions_isp_start", "isp", "start"),
)
"""Countermeasures with their times; never their (measured or true) effect."""

region_counts = Table(
    "region_counts",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("pref_code", String(2), nullable=False),  # JIS X 0401: "01" (Hokkaido) .. "47"
    Column("prefecture", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # weak|vulnerable|infected
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("isp", "day", "pref_code", "kind", name="pk_region_counts"),
    Index("ix_region_counts_day", "day"),
)
"""Devices per ISP, day, prefecture and kind, as the ISP shares them (aggregates only)."""

isp_subscribers = Table(
    "isp_subscribers",
    metadata,
    Column("isp", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("subscribers", Integer, nullable=False),
    PrimaryKeyConstraint("isp", "day", name="pk_isp_subscribers"),
)
"""How many subscribers an ISP has (from a day on): the denominator of "per 10,000" KPIs."""
