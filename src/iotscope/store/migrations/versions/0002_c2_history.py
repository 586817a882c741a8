"""C2 detection history and merged sightings.

* ``c2_runs``: one row per detection run and site; ``c2_candidates`` gains ``run_id`` in its key
  (it kept only the last run). The old rows become a synthetic run ``migrated-0001`` per site.
* ``captures`` and ``sighting_parts``: what each capture contributed per source; ``sightings``
  keeps its shape and becomes the merge of the parts. Each old sighting becomes the part of a
  synthetic capture ``migrated-0001:<n>`` (n: its rank among the source's rows by time).

Revision ID: 0002
Revises: 0001
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MIGRATED = "migrated-0001"
_CANDIDATE_COLS = (
    "site", "ip", "port", "proto", "score", "clients", "infected_clients", "first_seen",
    "last_seen", "reasons",
)  # fmt: skip
_SIGHTING_COLS = (
    "sensor", "src", "first_seen", "last_seen", "packets", "targets", "ports",
    "mirai_fingerprint", "classification",
)  # fmt: skip


def _candidate_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("proto", sa.String(8), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("clients", sa.Integer, nullable=False),
        sa.Column("infected_clients", sa.Integer, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
    ]


def _sighting_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("src", sa.String(45), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("packets", sa.Integer, nullable=False),
        sa.Column("targets", sa.Integer, nullable=False),
        sa.Column("ports", sa.JSON, nullable=False),
        sa.Column("mirai_fingerprint", sa.Float, nullable=False),
        sa.Column("classification", sa.String(16), nullable=False),
    ]


_TYPES: dict[str, Any] = {
    "first_seen": TS, "last_seen": TS, "started": TS, "reasons": sa.JSON, "ports": sa.JSON,
}  # fmt: skip


def _rows(table: str, cols: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of ``table`` (typed where the type matters: times and JSON)."""
    t = sa.table(table, *(sa.column(c, _TYPES.get(c)) for c in cols))
    return [dict(r._mapping) for r in op.get_bind().execute(sa.select(t))]


def _insert(table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        op.bulk_insert(table, rows)


def _upgrade_c2() -> None:
    runs = op.create_table(
        "c2_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("since", TS),
        sa.Column("until", TS),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("started", TS, nullable=False),
        sa.Column("finished", TS),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", "site", name="pk_c2_runs"),
    )
    op.create_index("ix_c2_runs_site_started", "c2_runs", ["site", "started"])
    old = _rows("c2_candidates", _CANDIDATE_COLS)
    op.drop_table("c2_candidates")
    new = op.create_table(
        "c2_candidates",
        sa.Column("run_id", sa.String(64), nullable=False),
        *_candidate_columns(),
        sa.PrimaryKeyConstraint(
            "run_id", "site", "ip", "port", "proto", name="pk_c2_run_candidates"
        ),
    )
    op.create_index("ix_c2_candidates_endpoint", "c2_candidates", ["ip", "port", "proto"])
    _insert(new, [{**r, "run_id": MIGRATED} for r in old])
    _insert(runs, _synthetic_runs(old))


def _synthetic_runs(old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One run per site for the candidates 0001 kept (window and parameters unknown)."""
    by_site: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in old:
        by_site[r["site"]].append(r)
    return [
        {
            "id": MIGRATED, "site": site, "since": None, "until": None, "engine": "unknown",
            "params": {}, "started": max(r["last_seen"] for r in rows), "finished": None,
            "counts": {"candidates": len(rows)},
        }
        for site, rows in by_site.items()
    ]  # fmt: skip


def _upgrade_sightings() -> None:
    captures = op.create_table(
        "captures",
        sa.Column("sensor", sa.String(64), nullable=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("sources", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("sensor", "id", name="pk_captures"),
    )
    parts = op.create_table(
        "sighting_parts",
        sa.Column("sensor", sa.String(64), nullable=False),
        sa.Column("capture_id", sa.String(128), nullable=False),
        *_sighting_columns(),
        sa.PrimaryKeyConstraint("sensor", "capture_id", "src", name="pk_sighting_parts"),
    )
    op.create_index("ix_sighting_parts_src", "sighting_parts", ["sensor", "src"])
    old = sorted(_rows("sightings", _SIGHTING_COLS), key=lambda r: (r["sensor"], r["src"]))
    rank: dict[tuple[str, str], int] = defaultdict(int)
    spans: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    rows = []
    for r in sorted(old, key=lambda r: (r["sensor"], r["src"], r["first_seen"])):
        n = rank[(r["sensor"], r["src"])]
        rank[(r["sensor"], r["src"])] += 1
        cid = f"{MIGRATED}:{n}"
        rows.append({**r, "capture_id": cid})
        spans[(r["sensor"], cid)] += [r["first_seen"], r["last_seen"]]
    _insert(parts, rows)
    _insert(
        captures,
        [
            {"sensor": k[0], "id": k[1], "first_seen": min(v), "last_seen": max(v),
             "sources": len(v) // 2}
            for k, v in spans.items()
        ],
    )  # fmt: skip


def upgrade() -> None:
    _upgrade_c2()
    _upgrade_sightings()


def downgrade() -> None:
    """Back to 0001: the newest run's candidates per site; sightings keep their merged rows."""
    op.drop_index("ix_sighting_parts_src", "sighting_parts")
    op.drop_table("sighting_parts")
    op.drop_table("captures")
    runs = _rows("c2_runs", ("id", "site", "started"))
    latest: dict[str, tuple[datetime, str]] = {}
    for r in runs:
        mine = (r["started"], r["id"])
        latest[r["site"]] = max(latest.get(r["site"], mine), mine)
    keep = {(site, rid) for site, (_, rid) in latest.items()}
    rows = [
        {c: r[c] for c in _CANDIDATE_COLS}
        for r in _rows("c2_candidates", ("run_id", *_CANDIDATE_COLS))
        if (r["site"], r["run_id"]) in keep
    ]
    op.drop_index("ix_c2_candidates_endpoint", "c2_candidates")
    op.drop_table("c2_candidates")
    op.drop_index("ix_c2_runs_site_started", "c2_runs")
    op.drop_table("c2_runs")
    old = op.create_table(
        "c2_candidates",
        *_candidate_columns(),
        sa.PrimaryKeyConstraint("site", "ip", "port", "proto", name="pk_c2_candidates"),
    )
    _insert(old, rows)
