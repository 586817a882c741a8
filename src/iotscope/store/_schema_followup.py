"""Tables for follow-up rounds, device states, refusal cases and their audit log (issue 8).

Created by migration 0008; ``_schema.py`` imports this module so that ``metadata`` holds them.

- ``followup_subjects``: one row per finding enrolled in a follow-up trial, with its
  randomised arm (``notified`` now, or ``holdout``: deliberately notified later, the
  comparison group) and, for the notified, the notice's channel and variant.
- ``followup_checks``: one row per subject and re-check round: the address the subscriber had
  then (from the lease log), the backend that looked (``survey`` or ``simulated``) and the
  state it concluded.
- ``cases`` and ``case_events``: connection-refusal cases and their audit log. Both are
  append-only: the migration installs triggers that refuse UPDATE and DELETE (SQLite and
  PostgreSQL), and the store offers no function that would try. A case's status is the fold
  of its events.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from iotscope.store._schema import metadata

followup_subjects = Table(
    "followup_subjects",
    metadata,
    Column("id", String(64), primary_key=True),  # digest of trial, isp, ip, port, finding time
    Column("trial", String(128), nullable=False),
    Column("isp", String(128), nullable=False),
    Column("subscriber_id", String(128), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("finding_time", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identity", JSON, nullable=False),
    Column("arm", String(16), nullable=False),  # notified | holdout
    Column("notice_id", String(64)),
    Column("channel", String(16)),
    Column("variant", String(8)),
    Column("notified", DateTime(timezone=True)),
    Column("notify_after", DateTime(timezone=True)),
    Column("assigned", DateTime(timezone=True), nullable=False),
    Index("ix_followup_subjects_isp", "isp", "trial"),
    Index("ix_followup_subjects_notice", "notice_id"),
)

followup_checks = Table(
    "followup_checks",
    metadata,
    Column("subject_id", String(64), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("checked", DateTime(timezone=True), nullable=False),
    Column("backend", String(16), nullable=False),  # survey | simulated
    Column("address", String(45)),
    Column("state", String(16), nullable=False),
    Column("evidence", JSON, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("isp", String(128), nullable=False),
    Column("subscriber_id", String(128), nullable=False),
    Column("criteria", String(64), nullable=False),
    Column("opened", DateTime(timezone=True), nullable=False),
    Column("evidence", JSON, nullable=False),
    Index("ix_cases_isp", "isp"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("isp", String(128), nullable=False),
    Column("step", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("deadline", DateTime(timezone=True)),
    Index("ix_case_events_case", "case_id", "seq"),
)
