"""Blocklists and BGP actions, recorded with their time (issue 9).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "block_entries",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(160), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("indicator_id", sa.String(100)),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("isp", "channel", "target", name="pk_block_entries"),
    )
    op.create_table(
        "block_actions",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(160), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indicator_id", sa.String(100)),
        sa.Column("reason", sa.String(64)),
        sa.PrimaryKeyConstraint(
            "isp", "channel", "target", "action", "at", name="pk_block_actions"
        ),
    )
    op.create_index("ix_block_actions_isp_at", "block_actions", ["isp", "at"])


def downgrade() -> None:
    op.drop_index("ix_block_actions_isp_at", "block_actions")
    op.drop_table("block_actions")
    op.drop_table("block_entries")
