"""The JC-STAR label registry (issue 10, manufacturers and labels).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jcstar_labels",
        sa.Column("registration", sa.String(64), primary_key=True),
        sa.Column("vendor", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("vendor_key", sa.String(200), nullable=False),
        sa.Column("model_key", sa.String(200), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("registered", sa.Date, nullable=False),
        sa.Column("expires", sa.Date),
        sa.Column("brand", sa.String(200)),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("imported", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_jcstar_labels_product", "jcstar_labels", ["vendor_key", "model_key"])


def downgrade() -> None:
    op.drop_index("ix_jcstar_labels_product", "jcstar_labels")
    op.drop_table("jcstar_labels")
