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

c2_candidates = Table(
    "c2_candidates",
    metadata,
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
    PrimaryKeyConstraint("site", "ip", "port", "proto", name="pk_c2_candidates"),
)

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
