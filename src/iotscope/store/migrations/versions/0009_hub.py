"""TAXII 2.1 hub: collections, objects and their versions, status, webhooks (issue 9).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hub_collections",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hub_objects",
        sa.Column("rid", _ROWID, primary_key=True, autoincrement=True),
        sa.Column("collection_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("spec_version", sa.String(8), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("version_us", sa.BigInteger, nullable=False),
        sa.Column("added_us", sa.BigInteger, nullable=False),
        sa.Column("is_last", sa.Boolean, nullable=False),
        sa.Column("is_first", sa.Boolean, nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index(
        "ux_hub_objects_version", "hub_objects", ["collection_id", "id", "version_us"], unique=True
    )
    op.create_index("ix_hub_objects_page", "hub_objects", ["collection_id", "added_us", "rid"])
    op.create_index(
        "ix_hub_objects_last", "hub_objects", ["collection_id", "is_last", "added_us", "rid"]
    )
    clock = op.create_table(
        "hub_clock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_us", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(clock, [{"id": 1, "last_us": 0}])
    op.create_table(
        "hub_status",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("collection_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(128)),
        sa.Column("request_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_count", sa.Integer, nullable=False),
        sa.Column("success_count", sa.Integer, nullable=False),
        sa.Column("failure_count", sa.Integer, nullable=False),
        sa.Column("pending_count", sa.Integer, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_table(
        "hub_webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(128)),
        sa.Column("collection_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cursor_added_us", sa.BigInteger, nullable=False),
        sa.Column("cursor_rid", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_hub_webhooks_collection", "hub_webhooks", ["collection_id"])
    op.create_table(
        "hub_dead_letters",
        sa.Column("rid", _ROWID, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.String(36), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_hub_dead_letters_webhook", "hub_dead_letters", ["webhook_id"])


def downgrade() -> None:
    for name in ("hub_dead_letters", "hub_webhooks", "hub_status", "hub_clock", "hub_objects"):
        op.drop_table(name)
    op.drop_table("hub_collections")
