"""The analysis centre's tables: C2 contacts per ISP, interventions, region counts, subscriber
counts (issue 10).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "c2_contacts",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("c2_ip", sa.String(45), nullable=False),
        sa.Column("c2_port", sa.Integer, nullable=False),
        sa.Column("family", sa.String(64)),
        sa.Column("bot", sa.String(40), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flows", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("isp", "c2_ip", "c2_port", "bot", "day", name="pk_c2_contacts"),
    )
    op.create_index("ix_c2_contacts_isp_day", "c2_contacts", ["isp", "day"])
    op.create_index("ix_c2_contacts_day", "c2_contacts", ["day"])
    op.create_index("ix_c2_contacts_c2", "c2_contacts", ["c2_ip", "c2_port"])
    op.create_table(
        "interventions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("isp", sa.String(128)),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True)),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_interventions"),
    )
    op.create_index("ix_interventions_isp_start", "interventions", ["isp", "start"])
    op.create_table(
        "region_counts",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("pref_code", sa.String(2), nullable=False),
        sa.Column("prefecture", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("isp", "day", "pref_code", "kind", name="pk_region_counts"),
    )
    op.create_index("ix_region_counts_day", "region_counts", ["day"])
    op.create_table(
        "isp_subscribers",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("subscribers", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("isp", "day", name="pk_isp_subscribers"),
    )


def downgrade() -> None:
    op.drop_table("isp_subscribers")
    op.drop_index("ix_region_counts_day", "region_counts")
    op.drop_table("region_counts")
    op.drop_index("ix_interventions_isp_start", "interventions")
    op.drop_table("interventions")
    op.drop_index("ix_c2_contacts_c2", "c2_contacts")
    op.drop_index("ix_c2_contacts_day", "c2_contacts")
    op.drop_index("ix_c2_contacts_isp_day", "c2_contacts")
    op.drop_table("c2_contacts")
