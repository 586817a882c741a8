"""Routing prefixes, ISP registry, lease logs, ISP reports (issue 8, who must act).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_tables",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("prefixes", sa.Integer, nullable=False),
        sa.Column("imported", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "isps",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("asns", sa.JSON, nullable=False),
        sa.Column("prefixes", sa.JSON, nullable=False),
        sa.Column("abuse_email", sa.String(254)),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("report_format", sa.String(32), nullable=False),
        sa.Column("interval", sa.String(8), nullable=False),
        sa.Column("domain", sa.String(253)),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True)),
        sa.Column("subscriber_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("isp", "address", "start", name="pk_leases"),
    )
    op.create_index("ix_leases_subscriber", "leases", ["isp", "subscriber_id"])
    op.create_table(
        "isp_reports",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("report_type", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("isp", "filename", name="pk_isp_reports"),
    )
    op.create_index("ix_isp_reports_period", "isp_reports", ["isp", "period"])
    op.create_table(
        "report_deliveries",
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(500), nullable=False),
        sa.Column("delivered", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(500)),
        sa.PrimaryKeyConstraint(
            "isp", "filename", "channel", "destination", name="pk_report_deliveries"
        ),
    )


def downgrade() -> None:
    op.drop_table("report_deliveries")
    op.drop_index("ix_isp_reports_period", "isp_reports")
    op.drop_table("isp_reports")
    op.drop_index("ix_leases_subscriber", "leases")
    op.drop_table("leases")
    op.drop_table("isps")
    op.drop_table("route_tables")
