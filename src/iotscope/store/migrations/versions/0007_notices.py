"""Subscriber notices, their events, ISP notice profiles, contacts, protections (issue 8).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("subscriber_id", sa.String(128), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("finding_time", _TZ, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("kinds", sa.JSON, nullable=False),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("device", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("variant", sa.String(8), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created", _TZ, nullable=False),
        sa.Column("sent", _TZ),
        sa.Column("delivered", _TZ),
        sa.Column("viewed", _TZ),
        sa.Column("fixed_reported", _TZ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(255)),
    )
    op.create_index(
        "ux_notices_natural", "notices", ["isp", "subscriber_id", "ip", "finding_time"], unique=True
    )
    op.create_index("ux_notices_token", "notices", ["token_hash"], unique=True)
    op.create_index("ix_notices_isp_created", "notices", ["isp", "created"])
    op.create_table(
        "notice_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(32), nullable=False),
        sa.Column("event", sa.String(24), nullable=False),
        sa.Column("time", _TZ, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_notice_events_notice", "notice_events", ["notice_id", "time"])
    op.create_table(
        "notice_profiles",
        sa.Column("isp", sa.String(128), primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
    )
    op.create_table(
        "notice_contacts",
        sa.Column("isp", sa.String(128), nullable=False, primary_key=True),
        sa.Column("subscriber_id", sa.String(128), nullable=False, primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("postal", sa.Text),
        sa.Column("language", sa.String(8)),
        sa.Column("managed_cpe", sa.Boolean, nullable=False),
    )
    op.create_table(
        "protections",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("subscriber_id", sa.String(128), nullable=False),
        sa.Column("notice_id", sa.String(32)),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("finding_time", _TZ, nullable=False),
        sa.Column("measure", sa.String(24), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("proposed", _TZ, nullable=False),
        sa.Column("applied", _TZ),
        sa.Column("applied_by", sa.String(128)),
        sa.Column("lifted", _TZ),
        sa.Column("lifted_by", sa.String(128)),
    )
    op.create_index("ix_protections_isp_state", "protections", ["isp", "state"])
    op.create_table(
        "protection_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("protection_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("time", _TZ, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index(
        "ix_protection_events_protection", "protection_events", ["protection_id", "time"]
    )


def downgrade() -> None:
    op.drop_index("ix_protection_events_protection", "protection_events")
    op.drop_table("protection_events")
    op.drop_index("ix_protections_isp_state", "protections")
    op.drop_table("protections")
    op.drop_table("notice_contacts")
    op.drop_table("notice_profiles")
    op.drop_index("ix_notice_events_notice", "notice_events")
    op.drop_table("notice_events")
    op.drop_index("ix_notices_isp_created", "notices")
    op.drop_index("ux_notices_token", "notices")
    op.drop_index("ux_notices_natural", "notices")
    op.drop_table("notices")
