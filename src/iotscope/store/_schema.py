"""The operational schema (SQLAlchemy Core). Alembic migrations under ``migrations/`` create it;
a test checks that the migrated database and this metadata agree.

Every table has a natural key so that writes are idempotent upserts: re-ingesting a file or
resuming a killed run neither loses nor duplicates a row.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

surveys = Table(
    "surveys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("scope", JSON, nullable=False),
    Column("exclude", JSON, nullable=False),
    Column("ports", JSON, nullable=False),
    Column("shard", String(32)),
    Column("counts", JSON, nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("survey_id", String(64), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("transport", String(3), nullable=False),
    Column("service", String(32), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("banner", Text),
    Column("identity", JSON),
    Column("login", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("cves", JSON, nullable=False),
    PrimaryKeyConstraint("survey_id", "ip", "port", "transport", name="pk_findings"),
)

sightings = Table(
    "sightings",
    metadata,
    Column("sensor", String(64), nullable=False),
    Column("src", String(45), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("packets", Integer, nullable=False),
    Column("targets", Integer, nullable=False),
    Column("ports", JSON, nullable=False),
    Column("mirai_fingerprint", Float, nullable=False),
    Column("classification", String(16), nullable=False),
    PrimaryKeyConstraint("sensor", "src", "first_seen", name="pk_sightings"),
)
"""Merged sightings: one row per source and stretch of continuous coverage of its sensor,
recomputed from ``sighting_parts`` whenever a capture is added (see ``_sightings.py``)."""

captures = Table(
    "captures",
    metadata,
    Column("sensor", String(64), nullable=False),
    Column("id", String(128), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("sources", Integer, nullable=False),
    PrimaryKeyConstraint("sensor", "id", name="pk_captures"),
)
"""One row per capture a sensor's sightings came from: its identity and packet-time range."""

sighting_parts = Table(
    "sighting_parts",
    metadata,
    Column("sensor", String(64), nullable=False),
    Column("capture_id", String(128), nullable=False),
    Column("src", String(45), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("packets", Integer, nullable=False),
    Column("targets", Integer, nullable=False),
    Column("ports", JSON, nullable=False),
    Column("mirai_fingerprint", Float, nullable=False),
    Column("classification", String(16), nullable=False),
    PrimaryKeyConstraint("sensor", "capture_id", "src", name="pk_sighting_parts"),
    Index("ix_sighting_parts_src", "sensor", "src"),
)
"""What one capture contributed per source (packets the sensor's earlier captures did not
already cover); the merged ``sightings`` are combined from these."""

c2_runs = Table(
    "c2_runs",
    metadata,
    Column("id", String(64), nullable=False),
    Column("site", String(64), nullable=False),
    Column("since", DateTime(timezone=True)),
    Column("until", DateTime(timezone=True)),
    Column("engine", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("counts", JSON, nullable=False),
    PrimaryKeyConstraint("id", "site", name="pk_c2_runs"),
    Index("ix_c2_runs_site_started", "site", "started"),
)
"""One row per detection run and site it read (a run over every site has one row per site)."""

c2_candidates = Table(
    "c2_candidates",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("site", String(64), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("proto", String(8), nullable=False),
    Column("score", Float, nullable=False),
    Column("clients", Integer, nullable=False),
    Column("infected_clients", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("reasons", JSON, nullable=False),
    PrimaryKeyConstraint("run_id", "site", "ip", "port", "proto", name="pk_c2_run_candidates"),
    Index("ix_c2_candidates_endpoint", "ip", "port", "proto"),
)
"""The candidates of each run (``run_id``, ``site`` -> ``c2_runs``)."""

# Where a survey run stands, for ``survey run --resume``: written in the same transaction as
# the findings of the hosts it marks done, so a kill -9 loses neither and duplicates nothing.
survey_progress = Table(
    "survey_progress",
    metadata,
    Column("survey_id", String(64), primary_key=True),
    Column("seed", BigInteger, nullable=False),  # the visiting order's key
    Column("size", BigInteger, nullable=False),  # positions in the visiting order
    Column("watermark", BigInteger, nullable=False),  # every position below it is done
    Column("done", JSON, nullable=False),  # [first, last] runs of positions done above it
    Column("counts", JSON, nullable=False),  # host counts of the hosts done
    Column("config", JSON, nullable=False),  # the options the run resumes with
    Column("updated", DateTime(timezone=True), nullable=False),
)

# Each area keeps its tables in its own module (one migration each); importing them here puts
# them in ``metadata``.
from iotscope.store import (  # noqa: E402
    _schema_attribution,  # noqa: F401
    _schema_block,  # noqa: F401
    _schema_centre,  # noqa: F401
    _schema_followup,  # noqa: F401
    _schema_hub,  # noqa: F401
    _schema_isp,  # noqa: F401
    _schema_makers,  # noqa: F401
    _schema_notices,  # noqa: F401
    _schema_service,  # noqa: F401
    _schema_share,  # noqa: F401
    _schema_vulns,  # noqa: F401
)
