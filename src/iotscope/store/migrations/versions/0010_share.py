"""STIX content state, confirmations between ISPs, partner sources (issue 9).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_published",
        sa.Column("isp", sa.String(64), primary_key=True),
        sa.Column("object_id", sa.String(100), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("modified", sa.String(30)),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.Column("object", sa.JSON, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_share_published_type", "share_published", ["isp", "type"])
    op.create_table(
        "share_answers",
        sa.Column("window", sa.String(64), primary_key=True),
        sa.Column("isp", sa.String(64), primary_key=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detector", sa.JSON, nullable=False),
        sa.Column("candidates", sa.JSON, nullable=False),
    )
    op.create_table(
        "share_partner_imports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("imported", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objects", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("errors", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_share_partner_imports_source", "share_partner_imports", ["source", "imported"]
    )


def downgrade() -> None:
    op.drop_index("ix_share_partner_imports_source", "share_partner_imports")
    op.drop_table("share_partner_imports")
    op.drop_table("share_answers")
    op.drop_index("ix_share_published_type", "share_published")
    op.drop_table("share_published")
