"""Continuous detection at an ISP: publish state per site (issue 9).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "isp_published",
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45)),
        sa.Column("port", sa.Integer),
        sa.Column("proto", sa.String(8)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("modified", sa.String(32)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("object", sa.JSON, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", "object_id", name="pk_isp_published"),
    )
    op.create_index("ix_isp_published_endpoint", "isp_published", ["site", "ip", "port", "proto"])
    op.create_table(
        "isp_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objects", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True)),
        sa.Column("status_id", sa.String(128)),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_isp_outbox_pending", "isp_outbox", ["site", "outcome", "next_attempt"])


def downgrade() -> None:
    op.drop_index("ix_isp_outbox_pending", "isp_outbox")
    op.drop_table("isp_outbox")
    op.drop_index("ix_isp_published_endpoint", "isp_published")
    op.drop_table("isp_published")
