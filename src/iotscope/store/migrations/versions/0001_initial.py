"""Initial schema: surveys, findings, sightings, c2_candidates.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("started", TS, nullable=False),
        sa.Column("finished", TS),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("exclude", sa.JSON, nullable=False),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("shard", sa.String(32)),
        sa.Column("counts", sa.JSON, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("survey_id", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("transport", sa.String(3), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("time", TS, nullable=False),
        sa.Column("banner", sa.Text),
        sa.Column("identity", sa.JSON),
        sa.Column("login", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("cves", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "ip", "port", "transport", name="pk_findings"),
    )
    op.create_table(
        "sightings",
        sa.Column("sensor", sa.String(64), nullable=False),
        sa.Column("src", sa.String(45), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("packets", sa.Integer, nullable=False),
        sa.Column("targets", sa.Integer, nullable=False),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("mirai_fingerprint", sa.Float, nullable=False),
        sa.Column("classification", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("sensor", "src", "first_seen", name="pk_sightings"),
    )
    op.create_table(
        "c2_candidates",
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("proto", sa.String(8), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("clients", sa.Integer, nullable=False),
        sa.Column("infected_clients", sa.Integer, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("site", "ip", "port", "proto", name="pk_c2_candidates"),
    )


def downgrade() -> None:
    for name in ("c2_candidates", "sightings", "findings", "surveys"):
        op.drop_table(name)
