"""API tokens and tenants (the service's auth layer).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(128)),
        sa.Column("label", sa.String(200)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.DateTime(timezone=True)),
    )
    op.create_index("ux_api_tokens_hash", "api_tokens", ["hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_api_tokens_hash", "api_tokens")
    op.drop_table("api_tokens")
