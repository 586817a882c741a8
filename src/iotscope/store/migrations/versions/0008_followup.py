"""Follow-up rounds, device states, refusal cases and their audit log (issue 8).

``cases`` and ``case_events`` are append-only: triggers refuse UPDATE and DELETE on both
SQLite and PostgreSQL, so an audit row once written stays as written.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APPEND_ONLY = ("cases", "case_events")


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "followup_subjects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("trial", sa.String(128), nullable=False),
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("subscriber_id", sa.String(128), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("finding_time", tz, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("identity", sa.JSON, nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("notice_id", sa.String(64)),
        sa.Column("channel", sa.String(16)),
        sa.Column("variant", sa.String(8)),
        sa.Column("notified", tz),
        sa.Column("notify_after", tz),
        sa.Column("assigned", tz, nullable=False),
    )
    op.create_index("ix_followup_subjects_isp", "followup_subjects", ["isp", "trial"])
    op.create_index("ix_followup_subjects_notice", "followup_subjects", ["notice_id"])
    op.create_table(
        "followup_checks",
        sa.Column("subject_id", sa.String(64), primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True),
        sa.Column("checked", tz, nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("address", sa.String(45)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("subscriber_id", sa.String(128), nullable=False),
        sa.Column("criteria", sa.String(64), nullable=False),
        sa.Column("opened", tz, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_index("ix_cases_isp", "cases", ["isp"])
    op.create_table(
        "case_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("isp", sa.String(128), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("deadline", tz),
    )
    op.create_index("ix_case_events_case", "case_events", ["case_id", "seq"])
    for table in APPEND_ONLY:
        _append_only(table)


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` (a trigger per dialect)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION iotscope_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP; "
            "END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION iotscope_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: {verb} refused'); END"
        )


def downgrade() -> None:
    for table in ("case_events", "cases", "followup_checks", "followup_subjects"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS iotscope_append_only()")
